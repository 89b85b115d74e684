import Datasets
import Foundation
import Linalg
import NN

/// The reference MNIST classifier, the fixed feature extractor of FID and class coverage
/// (`FIDReference`): a ReLU MLP `784 -> hidden... -> 10` (logits), stored as safetensors in
/// PyTorch `nn.Sequential` naming (`0.weight` is `out x in`, biases 1-D, Linear modules at even
/// indices with ReLU between them; see `Sequential.stateDict`).
///
/// Inputs are `n x 784` images in [0, 1] (MNIST bytes / 255). The *features* are the
/// penultimate layer's activations (after its ReLU), `n x hidden.last`, as FID uses
/// Inception's pool3 features (Heusel et al. 2017).
public final class MNISTClassifier {
    /// The layers: `Dense(ReLU)` per hidden width, then a linear `Dense` to `classes` logits.
    public let network: Sequential
    /// Hidden layer widths, input side first (at least one).
    public let hidden: [Int]
    /// Values per input row (784 for MNIST).
    public let inputSize: Int
    /// Number of classes (logits per row).
    public let classes: Int
    /// `__metadata__` of the file it was loaded from (empty for a fresh one).
    public var metadata: [String: String] = [:]

    /// The committed reference weights, relative to the repository root.
    public static let defaultPath = "models/mnist-classifier.safetensors"

    /// The committed reference weights found from any working directory (`ShippedFiles.locate`:
    /// $GEN_HOME, the current directory, the executable's location, the source tree), or nil.
    public static func defaultURL() -> URL? {
        ShippedFiles.locate(defaultPath, directory: false)
    }

    /// A freshly initialised network: He-uniform weights for the ReLU layers, Glorot-uniform for
    /// the logits layer, drawn from `rng`.
    /// - Precondition: `hidden` is not empty; all sizes are positive.
    public init(inputSize: Int = 784, hidden: [Int], classes: Int = 10, rng: inout Xoshiro256) {
        precondition(!hidden.isEmpty, "MNISTClassifier: needs at least one hidden layer")
        var layers: [any Layer] = []
        var width = inputSize
        for h in hidden {
            layers.append(Dense(inputSize: width, outputSize: h, activation: .relu, initializer: .heUniform, rng: &rng))
            width = h
        }
        layers.append(Dense(inputSize: width, outputSize: classes, initializer: .glorotUniform, rng: &rng))
        network = Sequential(layers)
        network.computesInputGradient = false
        self.hidden = hidden
        self.inputSize = inputSize
        self.classes = classes
    }

    /// Loads a classifier written by `save(to:metadata:)`; the layer sizes come from the tensor
    /// shapes (`0.weight`, `2.weight`, ...).
    /// - Throws: `EvaluationError` naming the file when it is missing (`.fileNotFound`) or not an
    ///   MLP of this layout, has a layer of no units or a NaN or infinite weight
    ///   (`.malformedFile`); the safetensors reader's error when it does not parse.
    public static func load(_ url: URL) throws -> MNISTClassifier {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw EvaluationError(.fileNotFound, "\(url.path): classifier weights not found")
        }
        let file = try SafeTensors.read(from: url)
        let sizes = try layerSizes(file.tensors, path: url.path)
        var rng = Xoshiro256(seed: 0)   // overwritten by the loaded weights
        let c = MNISTClassifier(inputSize: sizes[0], hidden: Array(sizes[1..<(sizes.count - 1)]),
                                classes: sizes.last!, rng: &rng)
        do {
            try c.network.loadStateDict(file.tensors)
        } catch {
            throw EvaluationError(.malformedFile, "\(url.path): \(error)")
        }
        // NaN or inf weights would surface later as a LAPACK error about the FID's covariance.
        for entry in c.network.stateEntries {
            if let p = entry.parameter, !p.value.allFinite() {
                throw EvaluationError(.malformedFile, "\(url.path): \(entry.name) holds NaN or infinite values")
            }
        }
        c.metadata = file.metadata
        return c
    }

    /// `[input, hidden..., classes]` from the weight shapes; Dense layers with ReLU are two
    /// modules each, so weights sit at 0, 2, 4, ...
    private static func layerSizes(_ tensors: [String: Matrix], path: String) throws -> [Int] {
        var sizes: [Int] = []
        var index = 0
        while let w = tensors["\(index).weight"] {
            if sizes.isEmpty { sizes.append(w.cols) }
            // A layer of no units cannot be built (Dense requires positive sizes).
            guard w.rows > 0 && w.cols > 0 else {
                throw EvaluationError(.malformedFile, "\(path): \(index).weight is \(w.rows)x\(w.cols): a layer needs at least one unit and one input")
            }
            guard w.cols == sizes.last! else {
                throw EvaluationError(.malformedFile, "\(path): \(index).weight is \(w.rows)x\(w.cols), expected \(sizes.last!) inputs")
            }
            sizes.append(w.rows)
            index += 2
        }
        guard sizes.count >= 3 else {
            throw EvaluationError(.malformedFile, "\(path): not an MLP classifier (needs 0.weight, 2.weight, ... with at least one hidden layer)")
        }
        return sizes
    }

    /// Writes the weights (PyTorch layout) with `metadata`, atomically.
    /// - Throws: the file system's error when the file cannot be written (nothing half-written).
    public func save(to url: URL, metadata: [String: String]) throws {
        try SafeTensors.write(network.stateDict(), metadata: metadata, to: url,
                              shapes: network.stateDictShapes())
    }

    /// Runs `body` on chunks of at most `chunk` rows of `x` (`n x inputSize`) and collects the
    /// outputs row-wise into one `n x width` matrix (bounded memory for any `n`).
    private func chunked(_ x: Matrix, width: Int, chunk: Int = 1000, _ body: (Matrix) -> Matrix) -> Matrix {
        precondition(x.cols == inputSize, "classifier: input is \(x.rows)x\(x.cols), expected \(inputSize) columns")
        var out = Matrix(rows: x.rows, cols: width)
        var start = 0
        while start < x.rows {
            let end = min(start + chunk, x.rows)
            out.setRows(body(x.rows(start..<end)), at: start)
            start = end
        }
        return out
    }

    /// Penultimate-layer activations (after ReLU), `n x hidden.last`, for images `x`
    /// (`n x inputSize`, in [0, 1]).
    /// - Precondition: `x.cols == inputSize` (callers taking user data check it first, as
    ///   `FIDReference` and `accuracy` do).
    public func features(_ x: Matrix) -> Matrix {
        chunked(x, width: hidden.last!) { part in
            network.releaseCaches()
            var h = part
            for l in network.layers.dropLast() { h = l.forward(h, training: false) }
            return h
        }
    }

    /// Logits, `n x classes`, for images `x` (`n x inputSize`, in [0, 1]).
    /// - Precondition: `x.cols == inputSize`.
    public func logits(_ x: Matrix) -> Matrix {
        chunked(x, width: classes) { network.forward($0, training: false) }
    }

    /// The last layer's logits, `n x classes`, for penultimate `features` (`n x hidden.last`),
    /// so features and predictions of the same images cost one pass.
    /// - Precondition: `f.cols == hidden.last`.
    public func logits(fromFeatures f: Matrix) -> Matrix {
        network.layers.last!.forward(f, training: false)
    }

    /// The predicted class (arg-max logit, the first on ties) of each image of `x`.
    /// - Precondition: `x.cols == inputSize`.
    public func predictions(_ x: Matrix) -> [Int] {
        Self.predictions(logits(x))
    }

    /// The arg-max column (the first on ties) of each row of `logits`.
    public static func predictions(_ logits: Matrix) -> [Int] {
        var out = [Int](repeating: 0, count: logits.rows)
        logits.withUnsafeBufferPointer { p in
            let c = logits.cols
            for i in 0..<logits.rows {
                var best = 0
                for j in 1..<c where p[i &* c &+ j] > p[i &* c &+ best] { best = j }
                out[i] = best
            }
        }
        return out
    }

    /// Fraction (in [0, 1]) of the images `x` (`n x inputSize`, in [0, 1]) whose predicted class
    /// is their label; 0 for no images.
    /// - Throws: `EvaluationError.shapeMismatch` when `x` has the wrong width or `labels.count != n`.
    public func accuracy<Label: BinaryInteger>(_ x: Matrix, labels: [Label]) throws -> Double {
        guard x.cols == inputSize, labels.count == x.rows else {
            throw EvaluationError(.shapeMismatch, "accuracy: \(x.rows)x\(x.cols) images with \(labels.count) labels; the classifier expects \(inputSize) columns")
        }
        let pred = predictions(x)
        var right = 0
        for i in 0..<pred.count where pred[i] == Int(labels[i]) { right += 1 }
        return Double(right) / Double(max(pred.count, 1))
    }
}
