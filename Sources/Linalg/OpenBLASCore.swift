import COpenBLAS

/// The kernels OpenBLAS runs in this process: the core it picked when it was loaded (its own
/// CPU detection, or `OPENBLAS_CORETYPE`).
public enum OpenBLASCore {
    /// OpenBLAS's name for the core (`Cooperlake`, `SkylakeX`, `Haswell`, `Zen`, `Prescott`, …).
    public static let name: String = {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }()

    /// True when OpenBLAS runs AVX-512 kernels (`SkylakeX`, `Cooperlake`, `SapphireRapids`).
    public static let isAVX512: Bool = ["skylakex", "cooperlake", "sapphirerapids"].contains(name.lowercased())

    /// True when this CPU runs our AVX-512 kernels (`PackedPanels.isAvailable`) while OpenBLAS
    /// runs narrower ones. OpenBLAS 0.3.21 falls back to its SSE3 `Prescott` kernels on a CPU
    /// it does not know (an Intel model 207: 32 GFLOP/s per core on 1024³ against 160 with
    /// `Cooperlake` forced), and `OPENBLAS_CORETYPE=Haswell` picks AVX2 ones. Products that
    /// would go to OpenBLAS for speed go to our kernels instead on such a machine.
    public static var isNarrowerThanOurs: Bool { PackedPanels.isAvailable && !isAVX512 }
}
