import CVectorMath

// The passes over a whole buffer that a training step makes between its products (zeroing the
// gradients, the non-finite check, stacking D's real and fake batches, the bias gradients'
// column sums), split over the row-split threads: run by the caller alone they left the other
// threads waiting (measured: ~3 % of a large GAN step for the first two).

/// The arguments of a split `fill`, passed to `ParallelFor`'s C-convention body.
private struct FillJob {
    var x: UnsafeMutablePointer<Float>
    var value: Float
}

/// Sets `count` elements at `x` to `value`, split over the row-split threads when large.
func parallelFill(_ x: UnsafeMutablePointer<Float>, count: Int, _ value: Float) {
    var job = FillJob(x: x, value: value)
    withUnsafeMutablePointer(to: &job) { ctx in
        ParallelFor.run(count: count, context: ctx) { raw, start, end in
            let j = raw.assumingMemoryBound(to: FillJob.self).pointee
            (j.x + start).update(repeating: j.value, count: end - start)
        }
    }
}

/// The arguments of a split finiteness check; `nonFinite` is set (atomically) by any part
/// that finds a NaN or inf.
private struct FiniteJob {
    var x: UnsafePointer<Float>
    var nonFinite: Int32 = 0
}

/// `allFinite(_:)` split over the row-split threads when `p` is large.
func parallelAllFinite(_ p: UnsafeBufferPointer<Float>) -> Bool {
    guard let base = p.baseAddress else { return true }
    var job = FiniteJob(x: base)
    withUnsafeMutablePointer(to: &job) { ctx in
        ParallelFor.run(count: p.count, context: ctx) { raw, start, end in
            let j = raw.assumingMemoryBound(to: FiniteJob.self)
            if !allFinitePart(j.pointee.x + start, count: end - start) { cvm_set_flag(&j.pointee.nonFinite) }
        }
    }
    // ParallelFor returns after every part has finished (its completion is a seq-cst store).
    return job.nonFinite == 0
}

/// `allFinite(_:)` as a function of its own: inlined into the closure above, the OR reduction
/// compiled to a scalar loop with a branch per element (4x slower, measured).
@inline(never)
private func allFinitePart(_ p: UnsafePointer<Float>, count: Int) -> Bool {
    allFinite(UnsafeBufferPointer(start: p, count: count))
}

/// The arguments of a split copy.
private struct CopyJob {
    var source: UnsafePointer<Float>
    var target: UnsafeMutablePointer<Float>
}

/// Copies `count` elements from `source` to `target`, split over the row-split threads when
/// large and the two do not overlap (overlapping ranges are copied in one call, as memmove).
func parallelCopy(from source: UnsafePointer<Float>, to target: UnsafeMutablePointer<Float>, count: Int) {
    if source < UnsafePointer(target) + count && UnsafePointer(target) < source + count {
        return target.update(from: source, count: count)
    }
    var job = CopyJob(source: source, target: target)
    withUnsafeMutablePointer(to: &job) { ctx in
        ParallelFor.run(count: count, context: ctx) { raw, start, end in
            let j = raw.assumingMemoryBound(to: CopyJob.self).pointee
            (j.target + start).update(from: j.source + start, count: end - start)
        }
    }
}

/// The arguments of split column sums.
private struct ColumnSumJob {
    var a: UnsafePointer<Float>, rows: Int, cols: Int
    var out: UnsafeMutablePointer<Float>
}

/// `out[j] += sum over rows of a[i, j]` for a `rows x cols` row-major `a`, in row order for
/// every column (the bits do not depend on the split), columns split over the row-split
/// threads when the matrix is large.
func parallelColumnSums(_ a: UnsafePointer<Float>, rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>) {
    var job = ColumnSumJob(a: a, rows: rows, cols: cols, out: out)
    withUnsafeMutablePointer(to: &job) { ctx in
        let minimumColumns = Swift.max(16, 32_768 / Swift.max(1, rows))
        ParallelFor.run(count: cols, minimumPerThread: minimumColumns, context: ctx) { raw, start, end in
            let j = raw.assumingMemoryBound(to: ColumnSumJob.self).pointee
            columnSumsPart(j.a, rows: j.rows, cols: j.cols, columns: start..<end, into: j.out)
        }
    }
}

/// Columns `columns` of `parallelColumnSums`, on the calling thread.
@inline(never)
private func columnSumsPart(_ a: UnsafePointer<Float>, rows: Int, cols: Int, columns: Range<Int>,
                            into out: UnsafeMutablePointer<Float>) {
    let z = out + columns.lowerBound, width = columns.count
    for i in 0..<rows {
        let row = a + (i &* cols &+ columns.lowerBound)
        for j in 0..<width { z[j] += row[j] }
    }
}
