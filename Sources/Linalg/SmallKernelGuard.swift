import COpenBLAS

/// Keeps gemm off OpenBLAS's allocating "small matrix" kernel on AVX-512 cores.
///
/// OpenBLAS (since 0.3.18; Debian's DYNAMIC_ARCH build compiles them in, `SMALL_MATRIX_OPT`) sends
/// small products (on SkylakeX and Cooperlake: M·N·K ≤ 1e6, whatever alpha and beta) to
/// dedicated kernels, and the column-major NN one `malloc`s and `free`s a packing buffer on
/// every call when M mod 16 is 1 to 8 and K ≥ 32
/// (`kernel/x86_64/sgemm_small_kernel_nn_skylakex.c`, lines 333 and 610 in 0.3.21; still there
/// upstream). Counted on a Zen 4 (Cooperlake kernels): 2 allocations per MLP GAN step (D's
/// 128 -> 1 layer, twice) and 4 per VAE step (the 400 -> 20 heads split in two row parts), 0
/// under Haswell or Zen kernels, whose permit function always refuses.
///
/// A row-major NoTrans/NoTrans product is a column-major NN one with the operands swapped, so
/// its M there is our `n`. On an AVX-512 core such a product with `n % 16` in 1...8 and
/// `k >= 32` runs as one gemm over the columns in whole 16s plus one sgemv per leftover column
/// (at most 8): neither allocates. Any M·N·K is treated alike (the permit's size limit is a
/// tuning choice later versions may move; the kernel's branch is what allocates).
/// Other cores call sgemm unchanged.
enum SmallKernelGuard {
    /// True when OpenBLAS runs AVX-512 kernels (its core name, which follows
    /// `OPENBLAS_CORETYPE`).
    static var isActive: Bool { OpenBLASCore.isAVX512 }

    /// Whether `call` would reach the allocating kernel on such a core.
    @inline(__always)
    static func applies(to call: GEMMCall) -> Bool {
        let leftover = call.n & 15
        return !call.transA && !call.transB && leftover >= 1 && leftover <= 8 && call.k >= 32
    }

    /// `call` as a gemm over its first `n - n % 16` columns and an sgemv per other column
    /// (`c[:, j] = alpha A b[:, j] + beta c[:, j]`, strided). Same product, rounded per
    /// column by sgemv.
    static func runSplit(_ call: GEMMCall) {
        let wide = call.n & ~15
        if wide > 0 {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, blasint(call.m), blasint(wide), blasint(call.k),
                        call.alpha, call.a, blasint(call.lda), call.b, blasint(call.ldb), call.beta, call.c, blasint(call.ldc))
        }
        for j in wide..<call.n {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, blasint(call.m), blasint(call.k), call.alpha, call.a,
                        blasint(call.lda), call.b + j, blasint(call.ldb), call.beta, call.c + j, blasint(call.ldc))
        }
    }
}
