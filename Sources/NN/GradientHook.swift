import Linalg

/// Work done on a network's gradients between "gradients ready" and "apply the update" of a
/// training step: a check, a clip, a reduction across processes. A plain value: a name and a
/// function of the network's `ParameterGroup`. Trainers run their hooks in order for every
/// update; a hook that throws stops that update (nothing is applied).
public struct GradientHook {
    /// Shown in messages.
    public let name: String
    public let body: (ParameterGroup) throws -> Void
    /// A hook every process of a data-parallel run must run at every update (an allreduce):
    /// a trainer that meets a non-finite loss still runs the hooks, with NaN gradients, when
    /// one is collective, so the other processes are not left waiting and all stop alike.
    public let isCollective: Bool
    /// True for `nonFiniteCheck` (which `distributing(_:over:)` folds into the allreduce).
    let isNonFiniteCheck: Bool

    public init(name: String, isCollective: Bool = false, _ body: @escaping (ParameterGroup) throws -> Void) {
        self.init(name: name, isCollective: isCollective, isNonFiniteCheck: false, body)
    }

    private init(name: String, isCollective: Bool, isNonFiniteCheck: Bool,
                 _ body: @escaping (ParameterGroup) throws -> Void) {
        self.name = name
        self.isCollective = isCollective
        self.isNonFiniteCheck = isNonFiniteCheck
        self.body = body
    }

    /// Throws `NonFiniteGradientError` naming the first parameter whose gradient holds a NaN or
    /// inf (one pass over the contiguous gradients).
    public static var nonFiniteCheck: GradientHook {
        GradientHook(name: "non-finite check", isCollective: false, isNonFiniteCheck: true) { group in
            if let name = group.firstNonFiniteGradient() { throw NonFiniteGradientError(parameter: name) }
        }
    }

    /// Clips the total gradient norm to `maxNorm` with the semantics of PyTorch's
    /// `torch.nn.utils.clip_grad_norm_` (see `clipGradientNorm`).
    /// - Precondition: `maxNorm` is positive and finite.
    public static func clipNorm(_ maxNorm: Float) -> GradientHook {
        precondition(maxNorm > 0 && maxNorm.isFinite, "clipNorm: max norm must be positive, got \(maxNorm)")
        return GradientHook(name: "clip-norm \(maxNorm)") { NN.clipGradientNorm($0, maxNorm: maxNorm) }
    }
}

/// Scales all gradients of `group` so that their total L2 norm is at most `maxNorm`, as
/// PyTorch's `clip_grad_norm_` (norm_type 2): `total = sqrt(sum over all parameters of |g|²)`,
/// `coef = maxNorm / (total + 1e-6)`, and when `coef < 1` every gradient is multiplied by
/// `coef`. The norm is of all parameters together, not of each tensor.
/// - Returns: the total norm before clipping.
@discardableResult
public func clipGradientNorm(_ group: ParameterGroup, maxNorm: Float) -> Double {
    let total = group.gradientNorm()
    let coef = Double(maxNorm) / (total + 1e-6)
    if coef < 1 { group.scaleGradients(by: Float(coef)) }
    return total
}

/// A gradient holding a NaN or inf; the parameter is named as in the state dict.
public struct NonFiniteGradientError: Error, CustomStringConvertible, Sendable {
    public let parameter: String
    public init(parameter: String) { self.parameter = parameter }
    public var description: String { "non-finite gradient of \(parameter)" }
}
