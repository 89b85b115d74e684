import Datasets
import Foundation
import Generative
import Linalg
import Training

// The names gen's evaluation files (Eval*.swift, Sample.swift, ClassifierTraining.swift) used
// before the training code moved into the Training and Datasets libraries. They keep those
// files compiling unchanged while evaluation moves into the library in parallel; drop each
// once no gen file uses it.
typealias RunConfig = Training.RunConfig
typealias RunError = Training.RunError
typealias TrainingJob = Training.TrainingJob
typealias GANJob = Training.GANJob
typealias VAEJob = Training.VAEJob
typealias TrainingData = Datasets.Dataset

/// `Checkpoint.load(stem, in: dir, body)` under its former name.
func load(_ dir: URL, _ stem: String, _ body: ([String: Matrix]) throws -> Void) throws {
    try Checkpoint.load(stem, in: dir, body)
}

/// Formats a Double for console lines and JSON: `digits` decimals, `nan` for NaN.
func fmt(_ x: Double, _ digits: Int = 4) -> String {
    x.isNaN ? "nan" : String(format: "%.\(digits)f", x)
}
