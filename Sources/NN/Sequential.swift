import Linalg

/// Layers applied in order: `layers[0]` first. Shapes chain `batch x features` through them.
public final class Sequential: Layer, CacheReleasing {
    /// The layers, first applied first.
    public let layers: [any Layer]

    public init(_ layers: [any Layer]) {
        self.layers = layers
    }

    /// All layers' parameters, in layer order.
    public var parameters: [Parameter] { layers.flatMap { $0.parameters } }

    /// True when every layer is frozen; setting it freezes or unfreezes every layer.
    public var isFrozen: Bool {
        get { layers.allSatisfy { $0.isFrozen } }
        set { for l in layers { l.isFrozen = newValue } }
    }

    /// The first layer's flag (only the first layer's input gradient is the network's).
    public var computesInputGradient: Bool {
        get { layers.first?.computesInputGradient ?? true }
        set { layers.first?.computesInputGradient = newValue }
    }

    /// Runs every layer. First releases all layers' caches, so each layer's buffers are uniquely
    /// referenced when rewritten (no copy-on-write copies).
    public func forward(_ x: Matrix, training: Bool) -> Matrix {
        releaseCaches()
        var h = x
        for l in layers { h = l.forward(h, training: training) }
        return h
    }

    /// Backward through the layers in reverse. Stops early when a layer returns `Matrix.empty`
    /// (its input gradient is switched off); earlier layers' caches are then released.
    public func backward(_ gradOutput: Matrix) -> Matrix {
        var g = gradOutput
        var i = layers.count - 1
        while i >= 0 {
            g = layers[i].backward(g)
            if g.rows == 0 && g.cols == 0 && i > 0 {
                for j in 0..<i { (layers[j] as? CacheReleasing)?.releaseCaches() }
                return .empty
            }
            i -= 1
        }
        return g
    }

    public func releaseCaches() {
        for l in layers { (l as? CacheReleasing)?.releaseCaches() }
    }

    /// Zeroes every parameter's gradient in place.
    public func zeroGradients() {
        for l in layers { l.zeroGradients() }
    }

    /// One entry per tensor of the equivalent PyTorch state_dict, with the parameter it maps to.
    private struct Entry {
        let name: String
        let parameter: Parameter
        /// Dense weights are stored transposed (`out x in`, like `nn.Linear.weight`).
        let transposed: Bool
        /// PyTorch's shape (a bias is 1-D).
        let torchShape: [Int]
    }

    /// Module indices as in an equivalent `nn.Sequential`: a Dense with a non-identity activation
    /// is two modules (Linear, activation); every other layer is one (a nested Sequential's names
    /// get its index as prefix).
    private var entries: [Entry] {
        var result: [Entry] = []
        var index = 0
        for layer in layers {
            if let d = layer as? Dense {
                result.append(Entry(name: "\(index).weight", parameter: d.weight, transposed: true,
                                    torchShape: [d.outputSize, d.inputSize]))
                result.append(Entry(name: "\(index).bias", parameter: d.bias, transposed: false,
                                    torchShape: [d.outputSize]))
                index += d.activation == .identity ? 1 : 2
            } else if let inner = layer as? Sequential {
                // Nested nn.Sequential: names are "<index>.<inner name>", as in PyTorch.
                for e in inner.entries {
                    result.append(Entry(name: "\(index).\(e.name)", parameter: e.parameter,
                                        transposed: e.transposed, torchShape: e.torchShape))
                }
                index += 1
            } else {
                for p in layer.parameters {
                    result.append(Entry(name: "\(index).\(p.name)", parameter: p, transposed: false,
                                        torchShape: [p.value.rows, p.value.cols]))
                }
                index += 1
            }
        }
        return result
    }

    /// Names and tensors as an equivalent PyTorch `nn.Sequential`'s `state_dict()`: a Dense with a
    /// fused non-identity activation counts as two modules, so G 100-128-784 (ReLU, then sigmoid)
    /// gives `0.weight`, `0.bias`, `2.weight`, `2.bias`. Dense weights are transposed
    /// (`out x in`, like `nn.Linear.weight`); biases are `1 x out` (see `stateDictShapes()`).
    /// Allocates copies.
    public func stateDict() -> [(name: String, tensor: Matrix)] {
        entries.map { e in (e.name, e.transposed ? e.parameter.value.transposed() : e.parameter.value) }
    }

    /// The `stateDict()` name of the first parameter whose gradient holds a NaN or inf (e.g.
    /// `2.weight`), or nil when all are finite. One pass over the gradients; allocates only
    /// when one is not finite (to build the name).
    public func firstNonFiniteGradient() -> String? {
        func finite(_ layer: any Layer) -> Bool {
            if let d = layer as? Dense { return d.weight.gradient.allFinite() && d.bias.gradient.allFinite() }
            if let s = layer as? Sequential { return s.firstNonFiniteGradient() == nil }
            return layer.parameters.allSatisfy { $0.gradient.allFinite() }
        }
        if layers.allSatisfy(finite) { return nil }
        return entries.first { !$0.parameter.gradient.allFinite() }?.name ?? "?"
    }

    /// PyTorch's shapes for `stateDict()`'s names (biases are 1-D `[out]`), for
    /// `SafeTensors.write(_:metadata:to:shapes:)` so that `torch`'s `load_state_dict` accepts the file.
    public func stateDictShapes() -> [String: [Int]] {
        Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.torchShape) })
    }

    /// Loads tensors named as by `stateDict()` (weights `out x in`; biases `1 x out`, which is
    /// what a 1-D bias read by `SafeTensors.read` becomes).
    /// - Throws: `StateDictError` naming the first missing key or mismatched shape (in
    ///   `stateDict()` order), or the first unexpected key (in sorted order). Nothing is changed
    ///   when it throws.
    public func loadStateDict(_ tensors: [String: Matrix]) throws {
        let es = entries
        for e in es {
            guard let t = tensors[e.name] else { throw StateDictError.missingKey(e.name) }
            let v = e.parameter.value
            let expected = e.transposed ? [v.cols, v.rows] : [v.rows, v.cols]
            if [t.rows, t.cols] != expected {
                throw StateDictError.shapeMismatch(name: e.name, expected: expected, actual: [t.rows, t.cols])
            }
        }
        let known = Set(es.map(\.name))
        if let extra = tensors.keys.sorted().first(where: { !known.contains($0) }) {
            throw StateDictError.unexpectedKey(extra)
        }
        for e in es {
            let t = tensors[e.name]!
            e.parameter.value.assign(e.transposed ? t.transposed() : t)
        }
    }
}

/// A state dict that does not fit a network.
public enum StateDictError: Error, Equatable, CustomStringConvertible {
    /// The network has a tensor with this name that the state dict lacks.
    case missingKey(String)
    /// The state dict has a tensor with this name that the network lacks.
    case unexpectedKey(String)
    /// Shapes as `[rows, cols]` in the state dict's layout (Dense weights `out x in`).
    case shapeMismatch(name: String, expected: [Int], actual: [Int])

    public var description: String {
        switch self {
        case .missingKey(let n): return "state dict: missing key \"\(n)\""
        case .unexpectedKey(let n): return "state dict: unexpected key \"\(n)\""
        case .shapeMismatch(let n, let e, let a):
            return "state dict: \"\(n)\" has shape \(a) but the network expects \(e)"
        }
    }
}
