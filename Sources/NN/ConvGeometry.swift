import Linalg

/// The geometry of a 2-D convolution over one sample in NCHW order, and its im2col / col2im
/// kernels (Chellapilla, Puri & Simard 2006, "High performance convolutional neural networks for
/// document processing"; the layout of Caffe's and PyTorch's CPU `im2col`).
///
/// A sample is `channels x height x width` (contiguous, row-major). The patch matrix ("col") of
/// a sample is `patchSize x positions`, `patchSize = channels * kernel * kernel` (row index
/// `(c * kernel + i) * kernel + j`, the order of a PyTorch weight `[out, in, kh, kw]` row) and
/// `positions = outputHeight * outputWidth` (column `oh * outputWidth + ow`), with
/// `col[(c, i, j), (oh, ow)] = x[c, oh * stride - padding + i, ow * stride - padding + j]`,
/// or 0 where that index falls in the zero padding. Output size (PyTorch's `nn.Conv2d`, no
/// dilation): `outputHeight = (height + 2 * padding - kernel) / stride + 1` (floor).
struct ConvGeometry: Equatable, Sendable {
    let channels: Int, height: Int, width: Int
    let kernel: Int, stride: Int, padding: Int
    let outputHeight: Int, outputWidth: Int

    /// - Precondition: positive sizes, `padding >= 0`, and a kernel that fits the padded input.
    init(channels: Int, height: Int, width: Int, kernel: Int, stride: Int, padding: Int, layer: String) {
        precondition(channels > 0 && height > 0 && width > 0 && kernel > 0 && stride > 0 && padding >= 0,
                     "\(layer): channels, size, kernel and stride must be positive and padding >= 0")
        precondition(height + 2 * padding >= kernel && width + 2 * padding >= kernel,
                     "\(layer): kernel \(kernel) is larger than the padded input \(height)x\(width) + 2*\(padding)")
        self.channels = channels; self.height = height; self.width = width
        self.kernel = kernel; self.stride = stride; self.padding = padding
        outputHeight = (height + 2 * padding - kernel) / stride + 1
        outputWidth = (width + 2 * padding - kernel) / stride + 1
        sourceIndex = Self.sourceIndices(height: height, width: width, kernel: kernel, stride: stride, padding: padding,
                                         outputHeight: outputHeight, outputWidth: outputWidth)
    }

    /// For kernel offset `(i, j)` (block `i * kernel + j`) and output position `q`: the input
    /// element patch row `(c, i, j)` reads at `q`, as an offset in channel `c`'s plane
    /// (`ih * width + iw`), or -1 where it reads the zero padding. With it `im2col`/`col2im`
    /// run one flat loop of `positions` per patch row and sample, instead of one short loop per
    /// output row with its bounds (in the DCGAN step, im2col and col2im together ran 1.6x faster).
    let sourceIndex: [Int32]

    private static func sourceIndices(height: Int, width: Int, kernel: Int, stride: Int, padding: Int,
                                      outputHeight: Int, outputWidth: Int) -> [Int32] {
        let positions = outputHeight * outputWidth
        var table = [Int32](repeating: -1, count: kernel * kernel * positions)
        for i in 0..<kernel {
            for j in 0..<kernel {
                for y in 0..<outputHeight {
                    for o in 0..<outputWidth {
                        let ih = y * stride - padding + i, iw = o * stride - padding + j
                        guard ih >= 0 && ih < height && iw >= 0 && iw < width else { continue }
                        table[(i * kernel + j) * positions + y * outputWidth + o] = Int32(ih * width + iw)
                    }
                }
            }
        }
        return table
    }

    /// Rows of a sample's patch matrix, `channels * kernel²` (the fan-in).
    var patchSize: Int { channels * kernel * kernel }
    /// Columns of a sample's patch matrix, `outputHeight * outputWidth`.
    var positions: Int { outputHeight * outputWidth }
    /// Features of one input sample, `channels * height * width`.
    var inputSize: Int { channels * height * width }

    /// The patch matrices of `batch` samples side by side, `patchSize x (batch * positions)`:
    /// sample `n` (at `x + n * inputSize`) fills columns `n * positions ..< (n + 1) * positions`.
    /// Loops row by row, so the writes stream through `col` (a sample-by-sample order scatters
    /// them over `patchSize` rows).
    ///
    /// Split by samples over the row-split gemm threads (`ParallelFor`: each part writes its own
    /// columns of every row, so the parts touch disjoint memory and the result is the same for
    /// any split).
    func im2col(_ x: UnsafePointer<Float>, batch: Int, into col: UnsafeMutablePointer<Float>) {
        var job = SampleJob(geometry: self, source: x, destination: col, batch: batch)
        withUnsafeMutablePointer(to: &job) { p in
            ParallelFor.run(count: batch, minimumPerThread: minimumSamplesPerThread, context: UnsafeMutableRawPointer(p)) {
                let j = $0.assumingMemoryBound(to: SampleJob.self).pointee
                j.geometry.im2col(j.source, samples: $1..<$2, batch: j.batch, into: j.destination)
            }
        }
    }

    /// `im2col` of samples `samples` only (their columns of every patch row).
    func im2col(_ x: UnsafePointer<Float>, samples: Range<Int>, batch: Int, into col: UnsafeMutablePointer<Float>) {
        forEachPatchRow(samples: samples, batch: batch) { image, patch, t, q in
            let src = x + image, d = col + patch
            for p in 0..<q {
                let s = Int(t[p])
                d[p] = s >= 0 ? src[s] : 0
            }
        }
    }

    /// Calls `body(image, patch, table, positions)` for every patch row `(c, i, j)` and sample
    /// `n` of `samples`, in that order: `image` is the offset of sample n's channel c plane in
    /// the images, `patch` the offset of that row's columns for sample n in the patch matrices
    /// of `batch` samples, `table` the `sourceIndex` block of `(i, j)`.
    @inline(__always)
    private func forEachPatchRow(samples: Range<Int>, batch: Int,
                                 _ body: (Int, Int, UnsafePointer<Int32>, Int) -> Void) {
        let (k, q, size, plane) = (kernel, positions, inputSize, height &* width)
        sourceIndex.withUnsafeBufferPointer { table in
            for c in 0..<channels {
                for ij in 0..<(k &* k) {
                    let r: Int = (c &* k &* k &+ ij) &* batch &* q
                    let t = table.baseAddress! + ij &* q
                    for n in samples { body(n &* size &+ c &* plane, r &+ n &* q, t, q) }
                }
            }
        }
    }

    /// Samples per thread below which `im2col`/`col2im` stay on one thread: about 32k patch
    /// values per part (a part's work must outweigh waking a worker, ~1-2 µs).
    var minimumSamplesPerThread: Int { Swift.max(1, 32_768 / Swift.max(1, patchSize &* positions)) }

    /// The adjoint of `im2col(_:batch:into:)`: adds every patch-matrix entry to the input
    /// element it was read from (`x`, `batch` samples, must be zeroed by the caller; padding
    /// entries are dropped).
    ///
    /// Split by samples over the row-split gemm threads like `im2col` (each part adds into its
    /// own samples only; every element sums its patch entries in the same order for any split).
    func col2im(_ col: UnsafePointer<Float>, batch: Int, into x: UnsafeMutablePointer<Float>) {
        var job = SampleJob(geometry: self, source: col, destination: x, batch: batch)
        withUnsafeMutablePointer(to: &job) { p in
            ParallelFor.run(count: batch, minimumPerThread: minimumSamplesPerThread, context: UnsafeMutableRawPointer(p)) {
                let j = $0.assumingMemoryBound(to: SampleJob.self).pointee
                j.geometry.col2im(j.source, samples: $1..<$2, batch: j.batch, into: j.destination)
            }
        }
    }

    /// `col2im` of samples `samples` only.
    func col2im(_ col: UnsafePointer<Float>, samples: Range<Int>, batch: Int, into x: UnsafeMutablePointer<Float>) {
        forEachPatchRow(samples: samples, batch: batch) { image, patch, t, q in
            // One patch row reads each input element at most once: no two p add to one.
            let dst = x + image, d = col + patch
            for p in 0..<q {
                let s = Int(t[p])
                if s >= 0 { dst[s] += d[p] }
            }
        }
    }
}

/// What one `ParallelFor` part of `im2col`/`col2im` needs, passed by pointer (no allocation).
struct SampleJob {
    let geometry: ConvGeometry
    let source: UnsafePointer<Float>
    let destination: UnsafeMutablePointer<Float>
    let batch: Int
}

/// Moves between the batch layout `batch x (channels * positions)` (NCHW rows) and the
/// channel-major layout `channels x (batch * positions)` that one gemm per batch produces and
/// consumes: `cm[c, n * positions + q] = rows[n, c * positions + q]`. Block copies of
/// `positions` floats.
enum ChannelMajor {
    /// `rows` (NCHW) to `cm`, adding nothing.
    static func gather(_ rows: UnsafePointer<Float>, into cm: UnsafeMutablePointer<Float>,
                       batch: Int, channels: Int, positions: Int) {
        let ld = batch &* positions
        for n in 0..<batch {
            for c in 0..<channels {
                let to: Int = c &* ld &+ n &* positions, from: Int = (n &* channels &+ c) &* positions
                (cm + to).update(from: rows + from, count: positions)
            }
        }
    }

    /// `cm` to `rows` (NCHW), adding `bias[c]` to every element of channel `c` when given.
    static func scatter(_ cm: UnsafePointer<Float>, into rows: UnsafeMutablePointer<Float>,
                        batch: Int, channels: Int, positions: Int, bias: UnsafePointer<Float>?) {
        let ld = batch &* positions
        for n in 0..<batch {
            for c in 0..<channels {
                let from: Int = c &* ld &+ n &* positions, to: Int = (n &* channels &+ c) &* positions
                let src = cm + from, dst = rows + to
                guard let bias else { dst.update(from: src, count: positions); continue }
                let b = bias[c]
                for q in 0..<positions { dst[q] = src[q] + b }
            }
        }
    }

    /// Adds `bias[c]` to every element of channel `c` of NCHW `rows`, in place.
    static func addChannelBias(_ bias: UnsafePointer<Float>, to rows: UnsafeMutablePointer<Float>,
                               batch: Int, channels: Int, positions: Int) {
        for n in 0..<batch {
            for c in 0..<channels {
                let to: Int = (n &* channels &+ c) &* positions
                let dst = rows + to, b = bias[c]
                for q in 0..<positions { dst[q] += b }
            }
        }
    }

    /// `sums[c] += sum over the batch and positions of channel c` of NCHW `rows` (a bias
    /// gradient).
    static func accumulateChannelSums(_ rows: UnsafePointer<Float>, into sums: UnsafeMutablePointer<Float>,
                                      batch: Int, channels: Int, positions: Int) {
        for c in 0..<channels {
            var total = 0.0
            for n in 0..<batch {
                let from: Int = (n &* channels &+ c) &* positions
                total += sumOfElements(rows + from, count: positions)
            }
            sums[c] += Float(total)
        }
    }
}
