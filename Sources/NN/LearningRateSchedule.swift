import Foundation

/// A learning rate as a function of the epoch, passed to an optimiser as a value
/// (`optimizer.schedule = CosineAnnealing(epochs: 15)`; the loop calls `startEpoch(_:)`).
public protocol LearningRateSchedule: Sendable {
    /// The learning rate for 0-based `epoch`, given the optimiser's base rate.
    func learningRate(base: Float, epoch: Int) -> Float
}

/// Cosine annealing without restarts (Loshchilov & Hutter 2017, SGDR, eq. 5 with
/// `eta_min = 0` and one period of `epochs`): `lr_e = base / 2 * (1 + cos(pi * e / epochs))`,
/// computed in Double.
public struct CosineAnnealing: LearningRateSchedule {
    /// The period: epoch `epochs` would reach 0.
    public let epochs: Int

    /// - Precondition: `epochs >= 1`.
    public init(epochs: Int) {
        precondition(epochs >= 1, "CosineAnnealing: epochs must be at least 1, got \(epochs)")
        self.epochs = epochs
    }

    public func learningRate(base: Float, epoch: Int) -> Float {
        Float(Double(base) * 0.5 * (1 + cos(Double.pi * Double(epoch) / Double(epochs))))
    }
}
