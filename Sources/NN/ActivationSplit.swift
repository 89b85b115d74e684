import Linalg

// The activation passes of a layer, split over the row-split threads when large: run by the
// caller alone, the other threads waited through them between products (measured on the large
// GAN: forward and backward passes ~1 % of the step's samples, as much again idle). Split by
// rows, each thread mostly touches the rows its part of the preceding product wrote.

/// The arguments of a split pass, passed to `ParallelFor`'s C-convention body.
private struct ActivationJob {
    var y: UnsafeMutablePointer<Float>
    var dy: UnsafePointer<Float>?
    var dz: UnsafeMutablePointer<Float>?
    var bias: UnsafePointer<Float>?
    var cols: Int
    var act: Activation
}

/// Elements per thread below which a pass stays on the caller (a hand-off costs about 1 µs).
private let minimumElementsPerThread = 32_768

extension ActivationKernels {
    /// `y[i,j] = f(y[i,j] + bias[j])` over a `rows x cols` buffer (bias may be nil: no bias);
    /// rows split over the row-split threads when the buffer is large.
    static func biasActivate(_ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                             bias: UnsafePointer<Float>?, _ act: Activation) {
        var job = ActivationJob(y: y, dy: nil, dz: nil, bias: bias, cols: cols, act: act)
        withUnsafeMutablePointer(to: &job) { ctx in
            let minimumRows = Swift.max(1, minimumElementsPerThread / Swift.max(1, cols))
            ParallelFor.run(count: rows, minimumPerThread: minimumRows, context: ctx) { raw, start, end in
                let j = raw.assumingMemoryBound(to: ActivationJob.self).pointee
                ActivationKernels.biasActivateSerial(j.y + start * j.cols, rows: end - start, cols: j.cols, bias: j.bias, j.act)
            }
        }
    }

    /// `dz[i] = dy[i] * f'(x)` with the derivative taken from the output `y[i]`; split over the
    /// row-split threads when `n` is large.
    static func backward(gradOutput dy: UnsafePointer<Float>, output y: UnsafePointer<Float>,
                         into dz: UnsafeMutablePointer<Float>, count n: Int, _ act: Activation) {
        var job = ActivationJob(y: UnsafeMutablePointer(mutating: y), dy: dy, dz: dz, bias: nil, cols: 1, act: act)
        withUnsafeMutablePointer(to: &job) { ctx in
            ParallelFor.run(count: n, minimumPerThread: minimumElementsPerThread, context: ctx) { raw, start, end in
                let j = raw.assumingMemoryBound(to: ActivationJob.self).pointee
                ActivationKernels.backwardSerial(gradOutput: j.dy! + start, output: j.y + start, into: j.dz! + start,
                                                 count: end - start, j.act)
            }
        }
    }
}
