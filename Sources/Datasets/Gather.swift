import CVectorMath
import Linalg

/// How byte pixels (0...255) become Float inputs.
public enum PixelScaling: String, Sendable, CaseIterable {
    /// `[0, 1]`: `b / 255` (the scale of a sigmoid output / BCE target).
    case unit
    /// `[-1, 1]`: `b / 127.5 - 1` (the scale of a tanh output, as in DCGAN).
    case symmetric

    /// The Float value of byte `b` under this scaling.
    @inlinable
    public func value(_ b: UInt8) -> Float {
        switch self {
        case .unit: return Float(b) / 255
        case .symmetric: return Float(b) / 127.5 - 1
        }
    }

    /// The value range this scaling produces (for `PNGImage.writeGrid`'s `range`).
    public var range: ClosedRange<Float> { self == .unit ? 0...1 : -1...1 }
}

/// Fills `batch` with samples `indices` of a byte dataset, converted to Float with `scaling`.
///
/// `bytes` holds samples of `sampleSize` bytes one after another (`LabeledImages.images`);
/// `batch` becomes `indices.count x sampleSize` (row `k` = sample `indices[k]`), reusing its
/// storage when unshared and large enough: no allocation in steady state.
/// - Precondition: every index addresses a whole sample in `bytes`.
public func gatherBatch(from bytes: [UInt8], sampleSize: Int, indices: ArraySlice<Int>,
                        scaling: PixelScaling, into batch: inout Matrix) {
    precondition(sampleSize > 0, "gatherBatch: sampleSize \(sampleSize)")
    let samples = bytes.count / sampleSize
    batch.resize(rows: indices.count, cols: sampleSize)
    // Division (not a reciprocal multiply) so values equal the documented formulas exactly.
    let divisor: Float = scaling == .unit ? 255 : 127.5
    let shift: Float = scaling == .unit ? 0 : 1
    bytes.withUnsafeBufferPointer { src in
        indices.withUnsafeBufferPointer { idx in
            batch.withUnsafeMutableBufferPointer { dst in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                for k in 0..<idx.count {
                    let i = idx[k]
                    precondition(i >= 0 && i < samples, "gatherBatch: index \(i) out of 0..<\(samples)")
                    let row = s + i &* sampleSize
                    let out = d + k &* sampleSize
                    // Samples are drawn at random from a dataset larger than the caches: ask for
                    // a later sample's lines while this one converts.
                    if k + 3 < idx.count, idx[k + 3] >= 0 && idx[k + 3] < samples {
                        cvm_prefetch(s + idx[k + 3] &* sampleSize, sampleSize)
                    }
                    // AVX-512: the same division and subtraction, 16 lanes wide (division-bound).
                    if ElementwiseKernels.isAvailable {
                        ew_bytes_to_float(row, out, sampleSize, divisor, shift)
                    } else {
                        for j in 0..<sampleSize { out[j] = Float(row[j]) / divisor - shift }
                    }
                }
            }
        }
    }
}

/// Fills `batch` with rows `indices` of `data` (`samples x features`, one sample per row), so
/// `batch` becomes `indices.count x data.cols`; no allocation in steady state.
/// - Precondition: every index is in `0..<data.rows`.
public func gatherBatch(from data: Matrix, indices: ArraySlice<Int>, into batch: inout Matrix) {
    let cols = data.cols, rows = data.rows
    batch.resize(rows: indices.count, cols: cols)
    data.withUnsafeBufferPointer { src in
        indices.withUnsafeBufferPointer { idx in
            batch.withUnsafeMutableBufferPointer { dst in
                guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                for k in 0..<idx.count {
                    let i = idx[k]
                    precondition(i >= 0 && i < rows, "gatherBatch: index \(i) out of 0..<\(rows)")
                    (d + k &* cols).update(from: s + i &* cols, count: cols)
                }
            }
        }
    }
}
