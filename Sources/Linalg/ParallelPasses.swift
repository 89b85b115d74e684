import CVectorMath

// The passes over a whole gradient buffer that a training step makes between its products
// (zeroing, the non-finite check), split over the row-split threads: run by the caller alone
// they left the other threads waiting (measured: ~3 % of a large GAN step for these two).

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
