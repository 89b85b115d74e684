import Linalg

/// A first-order optimiser over a fixed list of parameters.
///
/// `step()` updates every non-frozen parameter's `value` in place from its `gradient` and
/// performs no heap allocation (state buffers are allocated in `init`). Gradients are not
/// cleared by `step()`: call `zeroGradients()` (as with PyTorch's `optimizer.zero_grad()`).
public protocol Optimizer: AnyObject {
    /// The parameters updated, in order (state tensor `i` belongs to `parameters[i]`).
    var parameters: [Parameter] { get }
    /// The step size (may be changed between steps, e.g. by a schedule).
    var learningRate: Float { get set }
    /// Number of `step()` calls so far (restored by `loadState`).
    var stepCount: Int { get }
    /// One update of every non-frozen parameter; no heap allocation.
    func step()
    /// Sets every parameter's gradient to zero in place.
    func zeroGradients()
    /// The optimiser's state (moments etc.) for a checkpoint, named like `adam.m.3`
    /// (`<optimizer>.<buffer>.<parameter index>`).
    func stateTensors() -> [(name: String, tensor: Matrix)]
    /// Restores `stateTensors()` output and the step count.
    /// - Throws: `OptimizerStateError` naming the first missing/unexpected name or bad shape;
    ///   nothing is changed when it throws.
    func loadState(_ tensors: [String: Matrix], stepCount: Int) throws
}

/// Optimiser state that does not fit the optimiser.
public enum OptimizerStateError: Error, Equatable, CustomStringConvertible {
    case missingTensor(String)
    case unexpectedTensor(String)
    case shapeMismatch(name: String, expected: [Int], actual: [Int])
    case negativeStepCount(Int)

    public var description: String {
        switch self {
        case .missingTensor(let n): return "optimizer state: missing tensor \"\(n)\""
        case .unexpectedTensor(let n): return "optimizer state: unexpected tensor \"\(n)\""
        case .shapeMismatch(let n, let e, let a):
            return "optimizer state: \"\(n)\" has shape \(a) but the parameter has \(e)"
        case .negativeStepCount(let s): return "optimizer state: negative step count \(s)"
        }
    }
}

/// Helpers for per-parameter state buffers, kept by each optimiser as separate `[Matrix]`
/// properties (separate properties so nested mutable accesses in `step()` do not overlap).
enum OptimizerState {
    /// One zero matrix shaped like each parameter.
    static func zeros(like parameters: [Parameter]) -> [Matrix] {
        parameters.map { Matrix(rows: $0.value.rows, cols: $0.value.cols) }
    }

    /// `prefix.i` names for every buffer of every group.
    static func tensors(_ groups: [(prefix: String, buffers: [Matrix])]) -> [(name: String, tensor: Matrix)] {
        groups.flatMap { g in g.buffers.enumerated().map { ("\(g.prefix).\($0.offset)", $0.element) } }
    }

    /// Checks names and shapes of `tensors` against the groups (throws on the first problem).
    static func validate(_ tensors: [String: Matrix], _ groups: [(prefix: String, buffers: [Matrix])],
                         stepCount: Int) throws {
        if stepCount < 0 { throw OptimizerStateError.negativeStepCount(stepCount) }
        var known = Set<String>()
        for g in groups {
            for (i, b) in g.buffers.enumerated() {
                let name = "\(g.prefix).\(i)"
                known.insert(name)
                guard let t = tensors[name] else { throw OptimizerStateError.missingTensor(name) }
                if t.rows != b.rows || t.cols != b.cols {
                    throw OptimizerStateError.shapeMismatch(name: name, expected: [b.rows, b.cols],
                                                            actual: [t.rows, t.cols])
                }
            }
        }
        if let extra = tensors.keys.sorted().first(where: { !known.contains($0) }) {
            throw OptimizerStateError.unexpectedTensor(extra)
        }
    }

    /// Copies validated tensors `prefix.i` into `buffers`.
    static func copy(_ tensors: [String: Matrix], prefix: String, into buffers: inout [Matrix]) {
        for i in buffers.indices { buffers[i].assign(tensors["\(prefix).\(i)"]!) }
    }
}
