import Linalg

/// Layers applied in order: `layers[0]` first. Shapes chain `batch x features` through them.
///
/// State-dict names follow an equivalent `nn.Sequential`: each layer's entries are prefixed by
/// its module index, and a layer that stands for several modules (`moduleCount`, e.g. a Dense
/// with a fused activation) advances the index by that many.
public final class Sequential: Layer {
    /// The layers, first applied first.
    public let layers: [any Layer]
    /// `layers` as `InputGradientDifferentiable` (cast once here, so the double backward casts
    /// nothing per step), or nil when one of them is not.
    let secondOrderLayers: [any InputGradientDifferentiable]?

    public init(_ layers: [any Layer]) {
        self.layers = layers
        let cast = layers.compactMap { $0 as? any InputGradientDifferentiable }
        secondOrderLayers = cast.count == layers.count ? cast : nil
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
                for j in 0..<i { layers[j].releaseCaches() }
                return .empty
            }
            i -= 1
        }
        return g
    }

    public func releaseCaches() {
        for l in layers { l.releaseCaches() }
    }

    /// Zeroes every parameter's gradient in place.
    public func zeroGradients() {
        for l in layers { l.zeroGradients() }
    }

    /// The layers' entries named `<module index>.<name>`, as in `nn.Sequential`.
    public var stateEntries: [StateEntry] {
        var result: [StateEntry] = []
        var index = 0
        for layer in layers {
            result += prefixed(layer.stateEntries, "\(index).")
            index += layer.moduleCount
        }
        return result
    }

    /// Chains every layer's output size.
    public func outputFeatures(for inputFeatures: Int) -> Int? {
        var n = inputFeatures
        for l in layers {
            guard let next = l.outputFeatures(for: n) else { return nil }
            n = next
        }
        return n
    }

    /// True when any layer uses batch statistics.
    public var usesBatchStatistics: Bool { layers.contains { $0.usesBatchStatistics } }

    public var forwardFLOPsPerSample: Int { layers.reduce(0) { $0 + $1.forwardFLOPsPerSample } }

    public func backwardFLOPsPerSample(inputGradient: Bool, weightGradient: Bool) -> Int {
        layers.enumerated().reduce(0) { sum, l in
            sum + l.element.backwardFLOPsPerSample(inputGradient: l.offset > 0 || inputGradient,
                                                   weightGradient: weightGradient)
        }
    }
}
