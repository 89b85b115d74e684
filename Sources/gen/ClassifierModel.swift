import Foundation
import Linalg
import NN

/// The reference MNIST classifier used as the fixed feature extractor of `gen eval`: a ReLU MLP
/// `784 -> hidden... -> 10` (logits), stored as safetensors in PyTorch `nn.Sequential` naming
/// (`0.weight` is `out x in`, biases 1-D; see `Sequential.stateDict`).
///
/// Inputs are `n x 784` images in [0, 1] (MNIST bytes / 255). The *features* are the
/// penultimate layer's activations (after its ReLU), `n x hidden.last`, as FID uses Inception's
/// pool3 features (Heusel et al. 2017).
final class MNISTClassifier {
    let network: Sequential
    let hidden: [Int]
    let inputSize: Int
    let classes: Int
    /// `__metadata__` of the file it was loaded from (empty for a fresh one).
    var metadata: [String: String] = [:]

    /// The committed reference weights, relative to the repository root.
    static let defaultPath = "models/mnist-classifier.safetensors"

    /// A freshly initialised network (He-uniform weights for the ReLU layers).
    init(inputSize: Int = 784, hidden: [Int], classes: Int = 10, rng: inout Xoshiro256) {
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

    /// Loads a classifier written by `save`; the layer sizes come from the tensor shapes.
    /// - Throws: `RunError` naming the file when it is missing, malformed or not an MLP of
    ///   this layout.
    static func load(_ url: URL) throws -> MNISTClassifier {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw RunError("\(url.path): classifier weights not found (train them with `gen train classifier`, or pass --classifier FILE)")
        }
        let file = try SafeTensors.read(from: url)
        // Dense layers with ReLU are two modules each: weights at 0, 2, 4, ...
        var sizes: [Int] = []
        var index = 0
        while let w = file.tensors["\(index).weight"] {
            if sizes.isEmpty { sizes.append(w.cols) }
            guard w.cols == sizes.last! else {
                throw RunError("\(url.path): \(index).weight is \(w.rows)x\(w.cols), expected \(sizes.last!) inputs")
            }
            sizes.append(w.rows)
            index += 2
        }
        guard sizes.count >= 3 else {
            throw RunError("\(url.path): not an MLP classifier (needs 0.weight, 2.weight, ... with at least one hidden layer)")
        }
        var rng = Xoshiro256(seed: 0)
        let c = MNISTClassifier(inputSize: sizes[0], hidden: Array(sizes[1..<(sizes.count - 1)]),
                                classes: sizes.last!, rng: &rng)
        do {
            try c.network.loadStateDict(file.tensors)
        } catch {
            throw RunError("\(url.path): \(error)")
        }
        c.metadata = file.metadata
        return c
    }

    /// Writes the weights (PyTorch layout) with `metadata`, atomically.
    func save(to url: URL, metadata: [String: String]) throws {
        try SafeTensors.write(network.stateDict(), metadata: metadata, to: url,
                              shapes: network.stateDictShapes())
    }

    /// Runs `body` on chunks of at most `chunk` rows of `x` (`n x inputSize`) and collects the
    /// outputs row-wise into one `n x width` matrix.
    private func chunked(_ x: Matrix, width: Int, chunk: Int = 1000, _ body: (Matrix) -> Matrix) -> Matrix {
        precondition(x.cols == inputSize, "classifier: input is \(x.rows)x\(x.cols), expected \(inputSize) columns")
        var out = Matrix(rows: x.rows, cols: width)
        var start = 0
        while start < x.rows {
            let end = min(start + chunk, x.rows)
            let y = body(x.rows(start..<end))
            y.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    (dst.baseAddress! + start &* width).update(from: src.baseAddress!, count: y.count)
                }
            }
            start = end
        }
        return out
    }

    /// Penultimate-layer activations, `n x hidden.last`, for images `x` (`n x 784`, in [0, 1]).
    func features(_ x: Matrix) -> Matrix {
        chunked(x, width: hidden.last!) { part in
            network.releaseCaches()
            var h = part
            for l in network.layers.dropLast() { h = l.forward(h, training: false) }
            return h
        }
    }

    /// Logits, `n x classes`, for images `x` (`n x 784`, in [0, 1]).
    func logits(_ x: Matrix) -> Matrix {
        chunked(x, width: classes) { network.forward($0, training: false) }
    }

    /// The logits of the last layer for given penultimate `features` (`n x hidden.last`).
    func logits(fromFeatures f: Matrix) -> Matrix {
        (network.layers.last as! Dense).forward(f, training: false)
    }

    /// The arg-max class of each row of `logits`.
    static func predictions(_ logits: Matrix) -> [Int] {
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
}
