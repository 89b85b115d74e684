/// One gemm problem: `C (m x n) = op(A) (m x k) * op(B) (k x n)`.
struct Shape {
    let name: String
    let m: Int, n: Int, k: Int
    let transposeA: Bool, transposeB: Bool

    /// Floating-point operations of one call: a multiply and an add per inner-product term.
    var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
    /// Stored shapes of A and B (before `op`).
    var aShape: (Int, Int) { transposeA ? (k, m) : (m, k) }
    var bShape: (Int, Int) { transposeB ? (n, k) : (k, n) }

    static func square(_ s: Int) -> Shape {
        Shape(name: "square \(s)", m: s, n: s, k: s, transposeA: false, transposeB: false)
    }

    /// The Dense-layer products at batch 128 (X is batch x in, W is in x out, as in NN.Dense).
    static let dense: [Shape] = [
        Shape(name: "dense fwd X W 128x784·784x400", m: 128, n: 400, k: 784,
              transposeA: false, transposeB: false),
        Shape(name: "dense dW=Xᵀ dY 784x128·128x400", m: 784, n: 400, k: 128,
              transposeA: true, transposeB: false),
        Shape(name: "dense dX=dY Wᵀ 128x400·400x784", m: 128, n: 784, k: 400,
              transposeA: false, transposeB: true),
        Shape(name: "128x100·100x128", m: 128, n: 128, k: 100, transposeA: false, transposeB: false),
        Shape(name: "gen fwd 128x100·100x256", m: 128, n: 256, k: 100, transposeA: false, transposeB: false),
        Shape(name: "gen fwd 128x256·256x512", m: 128, n: 512, k: 256, transposeA: false, transposeB: false),
        Shape(name: "gen fwd 128x512·512x1024", m: 128, n: 1024, k: 512, transposeA: false, transposeB: false),
        Shape(name: "gen fwd 128x1024·1024x784", m: 128, n: 784, k: 1024, transposeA: false, transposeB: false),
    ]
}
