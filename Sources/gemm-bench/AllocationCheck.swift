import Linalg
import MallocInterposerSwift

/// Counts heap allocations (malloc, calloc, realloc, posix_memalign, ... on every thread,
/// OpenBLAS's included) during gemm calls into a preallocated `Matrix`, using
/// ordo-one/malloc-interposer. A positive control (`matmul`, which allocates its result) shows
/// that interposition is really active: if it counts nothing, the check is reported as not run.
struct AllocationReport {
    let calls: Int
    let gemmAllocations: Int
    /// The same number of direct `cblas_sgemm` calls: what OpenBLAS itself allocates.
    let cblasAllocations: Int
    let gemmBytes: Int, cblasBytes: Int
    /// Allocations the `Matrix` wrapper adds on top of OpenBLAS's own: the figure that must be 0.
    var wrapperAllocations: Int { gemmAllocations - cblasAllocations }
    let controlAllocations: Int
    var interposerActive: Bool { controlAllocations > 0 }
}

func checkGemmAllocations(rng: inout Xoshiro256) -> AllocationReport {
    let shapes = [Shape.dense[0], Shape.dense[1], Shape.dense[2], Shape.square(256)]
    var operands = shapes.map { Operands($0, rng: &rng) }
    for o in operands { _ = o.timeMatrix(2) }   // warm up outside the counted region
    let callsPerShape = 25

    MallocInterposerSwift.initialize()
    MallocInterposerSwift.reset()
    MallocInterposerSwift.hook()
    for o in operands { _ = o.timeMatrix(callsPerShape) }
    MallocInterposerSwift.unhook()
    let gemmStats = MallocInterposerSwift.getStatistics()

    MallocInterposerSwift.reset()
    MallocInterposerSwift.hook()
    for o in operands { _ = o.timeCBLAS(callsPerShape) }
    MallocInterposerSwift.unhook()
    let cblasStats = MallocInterposerSwift.getStatistics()

    MallocInterposerSwift.reset()
    MallocInterposerSwift.hook()
    let control = matmul(operands[0].a, operands[0].b)
    MallocInterposerSwift.unhook()
    let controlCount = MallocInterposerSwift.getStatistics().mallocCount
    precondition(control.count == operands[0].c.count)
    operands.removeAll()
    return AllocationReport(calls: callsPerShape * shapes.count, gemmAllocations: gemmStats.mallocCount,
                            cblasAllocations: cblasStats.mallocCount,
                            gemmBytes: gemmStats.mallocBytesCount, cblasBytes: cblasStats.mallocBytesCount,
                            controlAllocations: controlCount)
}
