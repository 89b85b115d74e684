import Linalg

extension Layer {
    /// Names and tensors as the equivalent PyTorch module's `state_dict()` (see `stateEntries`):
    /// a `Sequential` of a Dense with ReLU and a Dense gives `0.weight`, `0.bias`, `2.weight`,
    /// `2.bias`, weights `out x in` like `nn.Linear.weight`, biases `1 x out` here (`[out]` in
    /// `stateDictShapes()`). Parameters and buffers alike. Allocates copies where layouts differ.
    public func stateDict() -> [(name: String, tensor: Matrix)] {
        NN.stateDict(stateEntries)
    }

    /// PyTorch's shapes for `stateDict()`'s names (a bias is 1-D `[out]`), for
    /// `SafeTensors.write(_:metadata:to:shapes:)` so that `torch`'s `load_state_dict` accepts the file.
    public func stateDictShapes() -> [String: [Int]] {
        NN.stateDictShapes(stateEntries)
    }

    /// Loads tensors named as by `stateDict()` (a 1-D tensor read by `SafeTensors.read` is
    /// `1 x n`, which is what a bias entry expects).
    /// - Throws: `StateDictError` naming the first missing key or mismatched shape (in
    ///   `stateDict()` order), or the first unexpected key (in sorted order). Nothing is changed
    ///   when it throws.
    public func loadStateDict(_ tensors: [String: Matrix]) throws {
        try NN.loadStateDict(tensors, into: stateEntries)
    }
}

/// The tensors of `entries` in their state-dict layout (see `Layer.stateDict()`).
public func stateDict(_ entries: [StateEntry]) -> [(name: String, tensor: Matrix)] {
    entries.map { ($0.name, $0.read()) }
}

/// PyTorch's shapes of `entries`, by name (see `Layer.stateDictShapes()`).
public func stateDictShapes(_ entries: [StateEntry]) -> [String: [Int]] {
    Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.shape) })
}

/// Loads `tensors` into `entries` (see `Layer.loadStateDict(_:)`).
/// - Throws: `StateDictError` naming the first missing key or mismatched shape (in `entries`
///   order), or the first unexpected key (in sorted order). Nothing is changed when it throws.
public func loadStateDict(_ tensors: [String: Matrix], into entries: [StateEntry]) throws {
    try validateStateDict(tensors, for: entries)
    for e in entries { e.write(tensors[e.name]!) }
}

/// Checks that `tensors` fit `entries` exactly, changing nothing.
/// - Throws: `StateDictError` as `loadStateDict(_:into:)`.
public func validateStateDict(_ tensors: [String: Matrix], for entries: [StateEntry]) throws {
    for e in entries {
        guard let t = tensors[e.name] else { throw StateDictError.missingKey(e.name) }
        if [t.rows, t.cols] != e.matrixShape {
            throw StateDictError.shapeMismatch(name: e.name, expected: e.matrixShape, actual: [t.rows, t.cols])
        }
    }
    let known = Set(entries.map(\.name))
    if let extra = tensors.keys.sorted().first(where: { !known.contains($0) }) {
        throw StateDictError.unexpectedKey(extra)
    }
}

/// `entries` with `prefix` put before every name (a container's module index, `encoder.`).
public func prefixed(_ entries: [StateEntry], _ prefix: String) -> [StateEntry] {
    entries.map { e in
        var e = e
        e.name = prefix + e.name
        return e
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
