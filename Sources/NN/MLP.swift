import Linalg

extension Sequential {
    /// Dense layers of `sizes[i] -> sizes[i + 1]`, each followed by `hidden` except the last,
    /// followed by `output` (PyTorch's `nn.Linear` default initialisation, from `rng`).
    public static func mlp(sizes: [Int], hidden: Activation, output: Activation,
                           initializer: Initializer = .pytorchDefault,
                           outputInitializer: Initializer? = nil, rng: inout Xoshiro256) -> Sequential {
        var layers: [any Layer] = []
        for i in 0..<(sizes.count - 1) {
            let last = i == sizes.count - 2
            layers.append(Dense(inputSize: sizes[i], outputSize: sizes[i + 1], activation: last ? output : hidden,
                                initializer: last ? (outputInitializer ?? initializer) : initializer, rng: &rng))
        }
        return Sequential(layers)
    }
}
