import Foundation
import Linalg
import MallocInterposerSwift
@testable import NN

/// Conv2d forward + backward with one gemm per sample (the alternative to `NN.Conv2d`'s one
/// gemm per batch): the patch matrix of sample s is the contiguous `K x positions` block s of
/// `col`; `W col_s` goes to a scratch `O x positions` matrix, copied with the bias into the
/// output row; backward `dW += dy_s col_sᵀ`, `dcol = Wᵀ dy_s`, col2im, per sample. Same
/// im2col/col2im as `Conv2d`.
final class PerSampleConv {
    let g: ConvGeometry, o: Int
    let w: Matrix, b: Matrix
    var dW: Matrix, db: Matrix
    var col = Matrix.empty, tmp = Matrix.empty, out = Matrix.empty, dcol = Matrix.empty, dx = Matrix.empty

    init(_ layer: Conv2d) {
        g = layer.geometry; o = layer.outChannels
        w = layer.weight.value; b = layer.bias!.value
        dW = Matrix(rows: w.rows, cols: w.cols); db = Matrix(rows: 1, cols: o)
    }

    func forward(_ x: Matrix) -> Matrix {
        let n = x.rows, k = g.patchSize, q = g.positions
        col.resize(rows: n * k, cols: q)
        x.withUnsafeBufferPointer { xs in
            col.withUnsafeMutableBufferPointer { c in
                for s in 0..<n { g.im2col(xs.baseAddress! + s * g.inputSize, batch: 1, into: c.baseAddress! + s * k * q) }
            }
        }
        tmp.resize(rows: o, cols: q)
        out.resize(rows: n, cols: o * q)
        for s in 0..<n {
            gemm(w, col.view(offset: s * k * q, rows: k, cols: q), into: &tmp)
            tmp.withUnsafeBufferPointer { t in
                b.withUnsafeBufferPointer { bb in
                    out.withUnsafeMutableBufferPointer { y in
                        let row = y.baseAddress! + s * o * q
                        for c in 0..<o { for i in 0..<q { row[c &* q &+ i] = t[c &* q &+ i] + bb[c] } }
                    }
                }
            }
        }
        return out
    }

    func backward(_ dy: Matrix) -> Matrix {
        let n = dy.rows, k = g.patchSize, q = g.positions
        dcol.resize(rows: k, cols: q)
        dx.resize(rows: n, cols: g.inputSize)
        dx.fill(0)
        for s in 0..<n {
            let dys = dy.view(offset: s * o * q, rows: o, cols: q)
            gemm(dys, col.view(offset: s * k * q, rows: k, cols: q), into: &dW, transposeB: true, beta: 1)
            gemm(w, dys, into: &dcol, transposeA: true)
            dcol.withUnsafeBufferPointer { d in
                dx.withUnsafeMutableBufferPointer { p in g.col2im(d.baseAddress!, batch: 1, into: p.baseAddress! + s * g.inputSize) }
            }
        }
        dy.withUnsafeBufferPointer { d in
            db.withUnsafeMutableBufferPointer { p in
                ChannelMajor.accumulateChannelSums(d.baseAddress!, into: p.baseAddress!, batch: n, channels: o, positions: q)
            }
        }
        return dx
    }
}

func seconds(_ body: () -> Void) -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}

func median(_ v: [Double]) -> Double { v.sorted()[v.count / 2] }

struct Shape { let c, o, k, s, p, h: Int }
let shapes = [
    Shape(c: 1, o: 64, k: 4, s: 2, p: 1, h: 28), Shape(c: 64, o: 128, k: 4, s: 2, p: 1, h: 14),
    Shape(c: 1, o: 64, k: 5, s: 2, p: 2, h: 28), Shape(c: 64, o: 128, k: 5, s: 2, p: 2, h: 14),
    Shape(c: 64, o: 128, k: 3, s: 1, p: 1, h: 7), Shape(c: 32, o: 64, k: 4, s: 2, p: 1, h: 28),
]
let batch = 128, iterations = 5, repetitions = 5
let threadCounts = CommandLine.arguments.dropFirst().compactMap { Int($0) }.filter { $0 > 0 }
let timing = !CommandLine.arguments.contains("allocations-only") && !CommandLine.arguments.contains("kernels")
for threads in !timing ? [] : threadCounts.isEmpty ? [2, 1] : threadCounts {
    BLASThreads.set(threads)
    print("threads \(threads) (OpenBLAS), batch \(batch), ms per forward+backward, median of \(repetitions) alternating runs")
    for sh in shapes {
        var rng = Xoshiro256(seed: 1)
        let layer = Conv2d(inChannels: sh.c, outChannels: sh.o, kernel: sh.k, stride: sh.s, padding: sh.p,
                           inputHeight: sh.h, inputWidth: sh.h, rng: &rng)
        let perSample = PerSampleConv(layer)
        let x = Matrix.uniform(rows: batch, cols: sh.c * sh.h * sh.h, low: -1, high: 1, using: &rng)
        let dy = Matrix.uniform(rows: batch, cols: layer.outputFeatures(for: x.cols)!, low: -1, high: 1, using: &rng)
        // Same results first (the two strategies must agree).
        let y1 = layer.forward(x, training: true).elements, dx1 = layer.backward(dy).elements
        let y2 = perSample.forward(x).elements, dx2 = perSample.backward(dy).elements
        let err = zip(y1 + dx1, y2 + dx2).map { abs($0 - $1) }.max()!
        var tb: [Double] = [], ts: [Double] = []
        for _ in 0..<repetitions {
            tb.append(seconds { for _ in 0..<iterations { _ = layer.forward(x, training: true); _ = layer.backward(dy) } })
            ts.append(seconds { for _ in 0..<iterations { _ = perSample.forward(x); _ = perSample.backward(dy) } })
        }
        let b = median(tb) / Double(iterations) * 1e3, s = median(ts) / Double(iterations) * 1e3
        let gflop = Double(3 * layer.forwardFLOPsPerSample * batch) / 1e9
        print(String(format: "  %3d->%3d k%d s%d p%d %2dx%-2d  per batch (Conv2d) %7.2f ms (%5.1f GFLOP/s)  per sample %7.2f ms (%5.1f GFLOP/s)  per-sample/per-batch %.2f  max|diff| %.1e",
                     sh.c, sh.o, sh.k, sh.s, sh.p, sh.h, sh.h, b, gflop / b * 1e3, s, gflop / s * 1e3, s / b, err))
    }
}

/// Heap allocations per steady-state forward+backward of a small DCGAN-like stack holding every
/// new layer (after two warm-up steps at the same batch size).
func allocationsPerStep(_ mode: GEMMThreading) -> Double {
    BLASThreads.set(mode)
    var rng = Xoshiro256(seed: 1)
    let net = Sequential([
        Dense(inputSize: 16, outputSize: 32 * 7 * 7, rng: &rng), BatchNorm1d(features: 32 * 7 * 7),
        ActivationLayer(.relu), Unflatten(channels: 32, height: 7, width: 7),
        ConvTranspose2d(inChannels: 32, outChannels: 16, kernel: 4, stride: 2, padding: 1, inputHeight: 7, inputWidth: 7, rng: &rng),
        BatchNorm2d(channels: 16, height: 14, width: 14), ActivationLayer(.relu),
        ConvTranspose2d(inChannels: 16, outChannels: 1, kernel: 5, stride: 2, padding: 2, outputPadding: 1,
                        inputHeight: 14, inputWidth: 14, rng: &rng),
        Conv2d(inChannels: 1, outChannels: 16, kernel: 4, stride: 2, padding: 1, inputHeight: 28, inputWidth: 28, rng: &rng),
        ActivationLayer(.leakyReLU(negativeSlope: 0.2)), Dropout(probability: 0.3, seed: 2),
        Conv2d(inChannels: 16, outChannels: 32, kernel: 3, stride: 1, padding: 1, inputHeight: 14, inputWidth: 14, rng: &rng),
        Flatten(), Dense(inputSize: 32 * 14 * 14, outputSize: 1, rng: &rng),
    ])
    let group = ParameterGroup(net)
    let x = Matrix.uniform(rows: 32, cols: 16, using: &rng), g = Matrix.uniform(rows: 32, cols: 1, using: &rng)
    func step() { group.zeroGradients(); _ = net.forward(x, training: true); _ = net.backward(g) }
    step(); step()
    MallocInterposerSwift.initialize()
    MallocInterposerSwift.reset()
    MallocInterposerSwift.hook()
    for _ in 0..<10 { step() }
    MallocInterposerSwift.unhook()
    let count = MallocInterposerSwift.getStatistics().mallocCount
    // Positive control: the counter must see this allocation.
    MallocInterposerSwift.reset()
    MallocInterposerSwift.hook()
    let control = Matrix(rows: 8, cols: 8)
    MallocInterposerSwift.unhook()
    precondition(MallocInterposerSwift.getStatistics().mallocCount > 0 && control.count == 64, "malloc counter inactive")
    return Double(count) / 10
}
// OpenBLAS 0.3.21 mallocs a job array on every multi-threaded level-3 call (engineering notes),
// so only single-threaded OpenBLAS (alone or under our row split) can reach 0.
for mode in CommandLine.arguments.contains("kernels") ? [] : [GEMMThreading.openBLAS(threads: 1), .rowSplit(threads: 2), .openBLAS(threads: 2)] {
    print("heap allocations per steady-state step, \(mode): \(allocationsPerStep(mode))")
}

/// im2col and col2im alone, over a batch (ms), at each shape: the non-gemm part of Conv2d.
if CommandLine.arguments.contains("kernels") {
    for sh in shapes {
        var rng = Xoshiro256(seed: 1)
        let g = ConvGeometry(channels: sh.c, height: sh.h, width: sh.h, kernel: sh.k, stride: sh.s, padding: sh.p, layer: "bench")
        let q = g.positions, n = batch
        let x = Matrix.uniform(rows: n, cols: g.inputSize, low: -1, high: 1, using: &rng)
        var col = Matrix(rows: g.patchSize, cols: n * q), dx = Matrix(rows: n, cols: g.inputSize)
        let tIm2col = median((0..<7).map { _ in seconds {
            x.withUnsafeBufferPointer { xs in col.withUnsafeMutableBufferPointer { c in
                g.im2col(xs.baseAddress!, batch: n, into: c.baseAddress!) } }
        } })
        let tCol2im = median((0..<7).map { _ in seconds {
            col.withUnsafeBufferPointer { c in dx.withUnsafeMutableBufferPointer { p in
                p.baseAddress!.update(repeating: 0, count: p.count)
                g.col2im(c.baseAddress!, batch: n, into: p.baseAddress!) } }
        } })
        print(String(format: "  %3d->%3d k%d s%d p%d %2dx%-2d  im2col %6.2f ms  col2im %6.2f ms  (checksum %.3f)",
                     sh.c, sh.o, sh.k, sh.s, sh.p, sh.h, sh.h, tIm2col * 1e3, tCol2im * 1e3, dx.sum() + col.sum()))
    }
}
