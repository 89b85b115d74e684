import CVectorMath
import Foundation

/// A general `gemm` on our AVX-512 kernel, for a machine where OpenBLAS runs narrower kernels
/// than ours (`OpenBLASCore.isNarrowerThanOurs`): `op(B)` is packed here, 512 columns at a
/// time, into this thread's scratch panels, then `pg_gemm_rows_general` runs over them.
///
/// Why: OpenBLAS 0.3.21 runs its SSE3 `Prescott` kernels on a CPU it does not know (an Intel
/// model 207), where a DCGAN step (its convolutions are products of patches) ran 2.7x slower
/// than with `OPENBLAS_CORETYPE=Cooperlake` forced. Dense layers already run ours over weights
/// packed once per change; this serves every other product (convolutions, unpacked layers).
/// Only `alpha` 1 and `beta` 0 or 1 (what the layers pass), at least 16 columns (narrower
/// products would waste most of the kernel's 32 to 64 lanes), and a `Bᵀ` stored without
/// padding; other calls stay on OpenBLAS.
enum OwnKernelGEMM {
    /// Columns of `op(B)` packed per block: `K x 512` panels (3 MB at K = 1,600) stay in L2/L3.
    static let columnsPerBlock = 512

    static func applies(to call: GEMMCall) -> Bool {
        OpenBLASCore.isNarrowerThanOurs && call.alpha == 1 && (call.beta == 0 || call.beta == 1)
            && call.n >= 16 && call.k >= 1 && (!call.transB || call.ldb == call.k)
    }

    /// Runs `call` (rows of C as given; a row-split thread's share packs `op(B)` itself).
    static func run(_ call: GEMMCall) {
        let scratch = PanelScratch.forCurrentThread()
        var start = 0
        while start < call.n {
            let width = Swift.min(columnsPerBlock, call.n - start)
            let panels = scratch.panels(rows: call.k, cols: width)
            if call.transB {
                // op(B)'s columns start..<start+width are B's rows: a width x K block, transposed.
                tr_pack_transposed(call.b + start * call.ldb, Int32(call.ldb), Int32(width), Int32(call.k), 0, Int32(call.k),
                                   panels)
            } else {
                pg_pack_rows_cached(call.b + start, Int32(call.ldb), Int32(call.k), Int32(width), 0, Int32(call.k), panels)
            }
            pg_gemm_rows_general(0, Int32(call.m), Int32(width), Int32(call.k), call.a, Int32(call.lda),
                                 call.transA ? 1 : 0, panels, call.c + start, Int32(call.ldc), call.beta == 1 ? 1 : 0)
            start += width
        }
    }
}

extension PanelScratch {
    /// This thread's scratch panels (made at its first call, freed when the thread ends).
    static func forCurrentThread() -> PanelScratch {
        if let raw = pthread_getspecific(threadKey) {
            return Unmanaged<PanelScratch>.fromOpaque(raw).takeUnretainedValue()
        }
        let scratch = PanelScratch()
        pthread_setspecific(threadKey, Unmanaged.passRetained(scratch).toOpaque())
        return scratch
    }

    private static let threadKey: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { raw in
            if let raw { Unmanaged<PanelScratch>.fromOpaque(raw).release() }
        }
        precondition(status == 0, "OwnKernelGEMM: pthread_key_create failed (\(status))")
        return key
    }()
}
