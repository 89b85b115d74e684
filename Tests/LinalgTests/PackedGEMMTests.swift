import XCTest
import Linalg

/// The packed-weight kernels (`gemm(_:packed:into:)`, and `gemmTransposedB` for `dZ Wᵀ`)
/// against the naive Double product, at shapes that hit every edge of their tiles (64-column
/// panels: 6-row tiles, then 4, 2 and 1 rows — 3, 8, 29, 32, 35 rows; a last panel of at most 32
/// columns: 12-row tiles, then 8, then single rows — 12, 20, 29, 76 rows; last panels of 1 to 63
/// columns), and what packing promises: a copy, so the bits do not depend on how the panels
/// were filled or how the rows are split.
final class PackedGEMMTests: XCTestCase {
    /// (m, k, n) of `C = A W`, W `k x n`.
    private let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (8, 3, 32), (9, 5, 33), (7, 17, 16), (17, 33, 31), (64, 40, 70), (3, 64, 1), (16, 2, 65),
        (12, 7, 40), (20, 11, 32), (29, 19, 33), (76, 9, 70), (32, 6, 64), (35, 13, 127), (8, 70, 97), (3, 5, 40),
        (13, 4, 200),
    ]

    override func tearDown() { BLASThreads.set(.openBLAS(threads: 1)) }

    override func setUpWithError() throws {
        try XCTSkipUnless(PackedPanels.isAvailable, "no AVX-512F on this CPU: the packed kernels are not used")
    }

    private func packed(_ w: Matrix) -> PackedPanels {
        let p = PackedPanels(rows: w.rows, cols: w.cols)
        p.pack(w, elements: 0..<w.count)
        return p
    }

    func testProductsAgainstNaiveLoop() {
        var seed: UInt64 = 40
        for (m, k, n) in shapes {
            seed += 3
            let a = randomMatrix(m, k, seed: seed), w = randomMatrix(k, n, seed: seed + 1)
            let panels = packed(w)
            // NaN in C must not survive: beta is 0.
            var c = Matrix(rows: m, cols: n, repeating: .nan)
            gemm(a, packed: panels, into: &c)
            assertClose(c, naiveProduct(a, w, transposeA: false, transposeB: false), tol: 1e-5, "A W m=\(m) k=\(k) n=\(n)")
        }
    }

    /// `C = A Wᵀ` by `gemmTransposedB` against the Double product, at shapes where `A`'s rows
    /// (the panels' columns) fill 1 to 3 panels, partly, and `W`'s rows (the kernel's rows) end
    /// inside a tile and inside a block of 48; the same bits on 1 and 3 row-split threads.
    func testTransposedBProductAgainstNaiveLoop() {
        var seed: UInt64 = 70
        for (m, k, n) in shapes + [(65, 50, 20), (100, 203, 33), (128, 97, 64), (130, 49, 17), (64, 1, 300)] {
            seed += 3
            let a = randomMatrix(m, n, seed: seed), w = randomMatrix(k, n, seed: seed + 1)
            var results: [Matrix] = []
            for threads in [1, 3] {
                BLASThreads.set(.rowSplit(threads: threads))
                // NaN in C must not survive: beta is 0.
                var c = Matrix(rows: m, cols: k, repeating: .nan)
                gemmTransposedB(a, w, into: &c, scratch: TransposedBScratch())
                assertClose(c, naiveProduct(a, w, transposeA: false, transposeB: true), tol: 1e-5,
                            "A Wᵀ m=\(m) k=\(k) n=\(n) threads \(threads)")
                results.append(c)
            }
            BLASThreads.set(.openBLAS(threads: 1))
            XCTAssertEqual(results[0], results[1], "split m=\(m) k=\(k) n=\(n)")
        }
    }

    /// Every element of `gemmTransposedB`'s `A Wᵀ` is the in-order chain of fused multiply-adds
    /// over `n` from 0, `fma(A[i, n], W[k, n], acc)`, bit for bit: the sum the kernel over the
    /// panels of `Wᵀ` computed before it (so the change of method changed no result), and one
    /// that does not depend on the tile or block an element falls in. A view at an offset, and
    /// one scratch reused by larger and smaller products.
    func testTransposedBIsTheInOrderFusedChain() {
        let scratch = TransposedBScratch()
        for (m, k, n, seed) in [(70, 101, 90, UInt64(5)), (9, 13, 200, 6), (130, 50, 7, 7)] {
            let tall = randomMatrix(m + 1, n, seed: seed), w = randomMatrix(k, n, seed: seed + 1)
            let a = tall.rows(1..<m + 1)
            var c = Matrix(rows: m, cols: k)
            gemmTransposedB(a, w, into: &c, scratch: scratch)
            var mismatches = 0
            for i in 0..<m {
                for j in 0..<k {
                    var acc: Float = 0
                    for t in 0..<n { acc = acc.addingProduct(a[i, t], w[j, t]) }
                    if acc.bitPattern != c[i, j].bitPattern { mismatches += 1 }
                }
            }
            XCTAssertEqual(mismatches, 0, "m=\(m) k=\(k) n=\(n)")
        }
    }

    /// `gemmTransposedB` with `W` read from its panels, chunk by chunk (64 of `W`'s columns a
    /// panel), against the Double product and, to the bit, the same product over `W` row-major:
    /// `W`'s columns (the sum's length) within one chunk, exactly one, one past it and several
    /// with a partial last; `A`'s rows (the panels' lanes) in a last panel of at most 32 columns
    /// (12-, 8- and 1-row tiles) or wider (6, 4, 2, 1), over one or two panels; `W`'s rows ending
    /// inside a tile and a block of 48; on 1 and 3 row-split threads (the last two shapes are
    /// large enough to be split: `W`'s rows at least 3 parts of max(16, 500,000 / (M N))).
    func testTransposedBFromPanelsEqualsRowMajorW() {
        var seed: UInt64 = 120
        for (m, k, n) in [(20, 29, 63), (29, 101, 64), (40, 50, 65), (64, 97, 130), (100, 13, 200), (3, 7, 1),
                          (130, 49, 17), (33, 64, 128), (64, 301, 256), (100, 350, 200)] {
            seed += 3
            let a = randomMatrix(m, n, seed: seed), w = randomMatrix(k, n, seed: seed + 1)
            let panels = packed(w)
            var rowMajor = Matrix(rows: m, cols: k)
            gemmTransposedB(a, w, into: &rowMajor, scratch: TransposedBScratch())
            for threads in [1, 3] {
                BLASThreads.set(.rowSplit(threads: threads))
                var c = Matrix(rows: m, cols: k, repeating: .nan)
                gemmTransposedB(a, packed: panels, into: &c, scratch: TransposedBScratch())
                assertClose(c, naiveProduct(a, w, transposeA: false, transposeB: true), tol: 1e-5,
                            "A Wᵀ from panels m=\(m) k=\(k) n=\(n) threads \(threads)")
                XCTAssertEqual(c, rowMajor, "panels against row-major W, m=\(m) k=\(k) n=\(n) threads \(threads)")
            }
            BLASThreads.set(.openBLAS(threads: 1))
        }
    }

    /// Packing in pieces (partial rows, any order, as ranks of a shared update do) gives the
    /// same panels as packing at once: the products agree to the bit.
    func testPackingInPiecesEqualsPackingAtOnce() {
        let w = randomMatrix(37, 45, seed: 5), a = randomMatrix(9, 37, seed: 6)
        let whole = packed(w)
        let pieces = PackedPanels(rows: 37, cols: 45)
        let cuts = [0, 1, 44, 46, 500, 1000, 1001, 37 * 45]
        for i in stride(from: cuts.count - 2, through: 0, by: -1) { pieces.pack(w, elements: cuts[i]..<cuts[i + 1]) }
        var c1 = Matrix(rows: 9, cols: 45), c2 = c1
        gemm(a, packed: whole, into: &c1)
        gemm(a, packed: pieces, into: &c2)
        XCTAssertEqual(c1, c2)
    }

    /// The panels follow the layout `panels` documents — element (r, c) at
    /// `(c / width) * rows * width + r * width + c % width`, which NN's Adam relies on to update
    /// a weight kept only there — and `unpackAll` gives the packed weight back to the bit.
    func testPanelsLayoutAndUnpacking() {
        let width = PackedPanels.width
        for (rows, cols) in [(1, 1), (3, 64), (5, 65), (7, 130), (2, 31), (4, 192)] {
            let w = randomMatrix(rows, cols, seed: UInt64(1000 * rows + cols)), elements = w.elements
            let p = packed(w)
            var misplaced = 0
            for r in 0..<rows {
                for c in 0..<cols where p.panels[(c / width) * rows * width + r * width + c % width] != elements[r * cols + c] {
                    misplaced += 1
                }
            }
            XCTAssertEqual(misplaced, 0, "\(rows)x\(cols)")
            var back = Matrix(rows: rows, cols: cols)
            p.unpackAll(into: &back)
            XCTAssertEqual(back.elements.map(\.bitPattern), elements.map(\.bitPattern), "\(rows)x\(cols)")
        }
    }

    /// `C += Xᵀ B` (a Dense layer's `dW`) against the Double product added to C's old values,
    /// at shapes with partial tiles and panels, and the same bits whatever the thread split.
    func testWeightGradientProductAccumulatesXTransposeB() {
        var seed: UInt64 = 90
        for (m, k, n) in shapes + [(203, 64, 70), (784, 64, 128)] {
            seed += 3
            let x = randomMatrix(k, m, seed: seed), b = randomMatrix(k, n, seed: seed + 1)
            let c0 = randomMatrix(m, n, seed: seed + 2)
            var expected = naiveProduct(x, b, transposeA: true, transposeB: false)
            for i in 0..<m { for j in 0..<n { expected[i][j] += Double(c0[i, j]) } }
            var results: [Matrix] = []
            for threads in [1, 3] {
                BLASThreads.set(.rowSplit(threads: threads))
                var c = c0
                gemmTransposedA(x, b, into: &c, accumulate: true, scratch: PanelScratch())
                assertClose(c, expected, tol: 1e-5, "C + Xᵀ B m=\(m) k=\(k) n=\(n) threads \(threads)")
                results.append(c)
                // Without accumulate C is not read (NaN there does not survive): C = Xᵀ B.
                var assigned = Matrix(rows: m, cols: n, repeating: .nan)
                gemmTransposedA(x, b, into: &assigned, accumulate: false, scratch: PanelScratch())
                assertClose(assigned, naiveProduct(x, b, transposeA: true, transposeB: false), tol: 1e-5,
                            "Xᵀ B m=\(m) k=\(k) n=\(n) threads \(threads)")
            }
            BLASThreads.set(.openBLAS(threads: 1))
            XCTAssertEqual(results[0], results[1], "split m=\(m) k=\(k) n=\(n)")
        }
    }

    /// Each row of C is the same sum whichever tile it falls in, so a product of one row equals
    /// that row of the whole product to the bit (what makes a split over threads harmless).
    func testRowsDoNotDependOnTheirTile() {
        // 29 rows. A W's first panel (64 columns): tiles of 6, 6, 6, 6, 4 rows, then a single
        // row; its last panel (16 columns): tiles of 12, 8, 8, then a single row. In dZ Wᵀ
        // (gemmTransposedB) dZ's rows are the lanes of one panel of 29 columns.
        let a = randomMatrix(29, 50, seed: 8), w = randomMatrix(50, 80, seed: 9), dz = randomMatrix(29, 80, seed: 10)
        let panels = packed(w)
        var all = Matrix(rows: 29, cols: 80), allT = Matrix(rows: 29, cols: 50)
        gemm(a, packed: panels, into: &all)
        gemmTransposedB(dz, w, into: &allT, scratch: TransposedBScratch())
        for i in [0, 5, 6, 7, 11, 12, 19, 20, 23, 24, 27, 28] {
            var one = Matrix(rows: 1, cols: 80), oneT = Matrix(rows: 1, cols: 50)
            gemm(a.rows(i..<i + 1), packed: panels, into: &one)
            gemmTransposedB(dz.rows(i..<i + 1), w, into: &oneT, scratch: TransposedBScratch())
            XCTAssertEqual(one, all.rows(i..<i + 1), "row \(i)")
            XCTAssertEqual(oneT, allT.rows(i..<i + 1), "row \(i), transposed")
        }
    }

    /// `PackedWeight` repacks after any change to the weight, whoever made it, and not after a
    /// change to a copy of it.
    func testPackedWeightFollowsChanges() {
        var w = randomMatrix(20, 24, seed: 11)
        let a = randomMatrix(5, 20, seed: 12)
        var cache = PackedWeight()
        func product(_ w: Matrix) -> Matrix {
            var c = Matrix(rows: 5, cols: 24)
            gemm(a, packed: cache.panels(for: w), into: &c)
            return c
        }
        func expected(_ w: Matrix) -> [[Double]] { naiveProduct(a, w, transposeA: false, transposeB: false) }
        assertClose(product(w), expected(w), tol: 1e-5, "first use")
        let first = cache.panels(for: w)
        XCTAssertTrue(first === cache.panels(for: w), "unchanged: no repack")

        w[3, 4] = 9
        assertClose(product(w), expected(w), tol: 1e-5, "after a subscript write")
        w.withUnsafeMutableBufferPointer { $0[0] = -7 }
        assertClose(product(w), expected(w), tol: 1e-5, "after a pointer write")
        w = randomMatrix(20, 24, seed: 13)
        assertClose(product(w), expected(w), tol: 1e-5, "after assigning another matrix")

        var copy = w
        copy[0, 0] = 100   // copy-on-write: w keeps its storage and values
        let before = product(w)
        assertClose(before, expected(w), tol: 1e-5, "a copy's change does not reach w")
        assertClose(product(copy), expected(copy), tol: 1e-5, "the copy itself")
    }
}
