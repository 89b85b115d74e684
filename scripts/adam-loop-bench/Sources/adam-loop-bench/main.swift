import Foundation
import Linalg

/// The square root Adam used before: bit-trick start, three Newton steps (2.2e-7 relative).
@inline(__always) func newtonSqrt(_ v: Float) -> Float {
    let h = 0.5 * v
    var y = Float(bitPattern: 0x5F37_59DF &- (v.bitPattern >> 1))
    y = y * (1.5 - (h * y) * y)
    y = y * (1.5 - (h * y) * y)
    y = y * (1.5 - (h * y) * y)
    return v * y
}

typealias P = UnsafeMutablePointer<Float>

/// Adam's update without weight decay, as NN's `adamUpdateNoDecay`, with either square root.
@inline(never) func update(_ x: P, _ g: P, _ m: P, _ v: P, _ n: Int, newton: Bool) {
    let b1: Float = 0.9, b2: Float = 0.999, c1 = 1 - b1, c2 = 1 - b2
    let stepSize: Float = 1e-4, inv: Float = 1.0005, e: Float = 1e-8
    if newton {
        for i in 0..<n {
            let gi = g[i], mi = b1 * m[i] + c1 * gi, vi = b2 * v[i] + c2 * gi * gi
            m[i] = mi; v[i] = vi
            x[i] = x[i] - stepSize * mi / (newtonSqrt(vi) * inv + e)
        }
    } else {
        for i in 0..<n {
            let gi = g[i], mi = b1 * m[i] + c1 * gi, vi = b2 * v[i] + c2 * gi * gi
            m[i] = mi; v[i] = vi
            x[i] = x[i] - stepSize * mi / (fastSqrt(vi) * inv + e)
        }
    }
}

let sizes = CommandLine.arguments.dropFirst().compactMap { Int($0) }
for n in sizes.isEmpty ? [327_680, 4_194_304] : sizes {
    let buffers = (0..<4).map { _ in P.allocate(capacity: n) }
    for i in 0..<n {
        buffers[0][i] = Float(i % 97) * 0.01
        buffers[1][i] = Float(i % 13) * 1e-3 - 6e-3
        buffers[2][i] = 0; buffers[3][i] = 0
    }
    let reps = max(3, 50_000_000 / n)
    var times: [Bool: [Double]] = [true: [], false: []]
    for _ in 0..<9 {
        for newton in [true, false] {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<reps { update(buffers[0], buffers[1], buffers[2], buffers[3], n, newton: newton) }
            times[newton]!.append(Double(DispatchTime.now().uptimeNanoseconds - start) / Double(reps * n))
        }
    }
    let old = times[true]!.sorted()[4], new = times[false]!.sorted()[4]
    print(String(format: "%9d elements: Newton steps %.3f ns/element, fastSqrt %.3f ns/element (%.2fx)", n, old, new, old / new))
    buffers.forEach { $0.deallocate() }
}
