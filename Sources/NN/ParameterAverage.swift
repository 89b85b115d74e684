import Linalg

/// An exponential moving average of a network's parameters, for sampling from a GAN's
/// generator: after every optimiser step `update(step:)` sets `avg ← d · avg + (1 − d) · θ`,
/// `d` rising to `decay`.
///
/// Sources: Yazıcı et al. 2019, "The Unusual Effectiveness of Averaging in GAN Training"
/// (ICLR), and Karras et al. 2018 (ProGAN), who sample from such an average; the same update as
/// PyTorch's `torch.optim.swa_utils.AveragedModel` with `get_ema_multi_avg_fn(decay)`, with
/// TensorFlow's warm-up of the decay (`update(step:)`). Only parameters are averaged; buffers
/// (BatchNorm's running statistics) stay the network's own, as in `AveragedModel`'s default
/// `use_buffers=False`.
///
/// The average lives in one contiguous `1 x count` buffer in the group's parameter order;
/// `update(step:)` and `withAveragedParameters(_:)` allocate nothing.
public final class ParameterAverage {
    /// The weight of the old average in each update, in [0, 1).
    public let decay: Float
    /// The parameters being averaged.
    public let group: ParameterGroup
    /// `1 x group.count`: the averaged values, each parameter row-major at `group.offsets[i]`.
    public private(set) var values: Matrix

    /// An average of `group`'s parameters starting at their current values.
    /// - Precondition: `0 <= decay < 1`.
    public init(_ group: ParameterGroup, decay: Float) {
        precondition(decay >= 0 && decay < 1, "ParameterAverage: decay \(decay) is not in [0, 1)")
        self.decay = decay
        self.group = group
        values = Matrix(rows: 1, cols: group.count)
        forEachAverage { avg, p in
            p.value.withUnsafeBufferPointer { theta in
                for i in 0..<theta.count { avg[i] = theta[i] }
            }
        }
    }

    /// `avg ← d · avg + (1 − d) · θ` for every parameter (frozen ones too: they do not change,
    /// so their average stays them), with `d = min(decay, (1 + step) / (10 + step))` as
    /// TensorFlow's `tf.train.ExponentialMovingAverage(decay, num_updates=step)`: early updates
    /// weigh more, so the random initial weights leave the average within tens of steps instead
    /// of lingering (with 0.999 alone they would still weigh 0.999^1000 ≈ 0.37 after 1,000 steps).
    /// - Parameter step: the number of optimiser steps taken so far, this one included.
    public func update(step: Int) {
        let d = Swift.min(decay, Float(1 + step) / Float(10 + step))
        let w = 1 - d
        // θ is only read here: mutable access would mark every packed weight stale each step.
        forEachAverage { avg, p in
            p.value.withUnsafeBufferPointer { theta in
                for i in 0..<theta.count { avg[i] = d * avg[i] + w * theta[i] }
            }
        }
    }

    /// Runs `body` with the averaged values in the parameters (what the network computes
    /// during `body` is the averaged network's), then puts the trained values back. Swaps
    /// element by element, so it allocates nothing; not reentrant.
    public func withAveragedParameters<R>(_ body: () throws -> R) rethrows -> R {
        swapValues()
        defer { swapValues() }
        return try body()
    }

    private func swapValues() {
        forEachAverage { avg, p in
            p.value.withUnsafeMutableBufferPointer { theta in
                for i in 0..<theta.count { (avg[i], theta[i]) = (theta[i], avg[i]) }
            }
        }
    }

    /// Calls `body` with each parameter's slice of the average and the parameter.
    private func forEachAverage(_ body: (UnsafeMutableBufferPointer<Float>, Parameter) -> Void) {
        values.withUnsafeMutableBufferPointer { all in
            for (p, o) in zip(group.parameters, group.offsets) {
                body(UnsafeMutableBufferPointer(rebasing: all[o..<(o + p.value.count)]), p)
            }
        }
    }
}
