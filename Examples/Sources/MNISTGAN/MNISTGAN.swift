import Datasets
import Foundation
import Generative
import Linalg
import NN
import Training

/// A GAN `gen` does not offer: G 64-128-256-512-784 (ReLU, then LeakyReLU(0.2) fused and as
/// a layer of its own, tanh output); D 784-512-256-1 (LeakyReLU(0.2)). Weights from `seed`.
func makeGAN(seed: UInt64) throws -> GAN {
    var rng = Xoshiro256(seed: seed)
    let generator = Sequential([
        Dense(inputSize: 64, outputSize: 128, activation: .relu, rng: &rng),
        Dense(inputSize: 128, outputSize: 256, activation: .leakyReLU(negativeSlope: 0.2), rng: &rng),
        Dense(inputSize: 256, outputSize: 512, rng: &rng), ActivationLayer(.leakyReLU(negativeSlope: 0.2)),
        Dense(inputSize: 512, outputSize: 784, activation: .tanh, rng: &rng),
    ])
    let discriminator = Sequential([
        Dense(inputSize: 784, outputSize: 512, activation: .leakyReLU(negativeSlope: 0.2), rng: &rng),
        Dense(inputSize: 512, outputSize: 256, activation: .leakyReLU(negativeSlope: 0.2), rng: &rng),
        Dense(inputSize: 256, outputSize: 1, rng: &rng),
    ])
    return try GAN(generator: generator, discriminator: discriminator, latentDim: 64, outputRange: -1...1)
}

/// Trains one epoch on the first `limit` MNIST images (all when nil) of `repository`
/// (a swift-generative clone), saves the model under `output`, reloads it, writes 64 samples
/// to `output/samples.png` and measures FID and class coverage of 10,000 samples.
func trainMNISTGAN(repository: URL, output: URL, limit: Int? = nil) throws -> QualityMeasurement {
    let mnist = repository.appendingPathComponent("data/mnist")
    let config = RunConfig.gan(epochs: 1, batchSize: 32)  // loss and Adam settings: GANConfig.standard()
    let gan = try makeGAN(seed: 1)
    let loop = try TrainingLoop(config: config, directory: output.appendingPathComponent("run"),
                                data: Dataset.load(path: mnist.path, limit: limit),
                                job: GANJob(model: gan, config: config))
    _ = try loop.run()

    try gan.save(to: output.appendingPathComponent("model"))   // generator/discriminator.safetensors
    let reloaded = try makeGAN(seed: 2)                         // same layers, other weights,
    try reloaded.load(from: output.appendingPathComponent("model"))  // replaced by the trained ones

    var rng = Xoshiro256(seed: 3)
    try PNGImage.writeGrid(reloaded.sample(count: 64, rng: &rng), height: 28, width: 28, columns: 8,
                           range: reloaded.outputRange, to: output.appendingPathComponent("samples.png"))
    let reference = try FIDReference(classifier: repository.appendingPathComponent(MNISTClassifier.defaultPath),
                                     testImages: MNIST.load(.test, from: mnist))
    return try QualityEvaluator(reference: reference, gan: reloaded, seed: 1).evaluate()
}
