import CVectorMath

/// CVectorMath's AVX-512 element-wise kernels (`Sources/CVectorMath/include/elementwise.h`: Adam's
/// update, BCE with logits, bias + activation, pixel conversion), which compute what NN's and
/// Datasets' portable Swift loops compute, the same operations in the same order, 16 lanes at
/// a time instead of SSE's 4.
public enum ElementwiseKernels {
    /// True when this CPU has AVX-512F, so the callers run the kernels instead of their loops.
    public static let isAvailable: Bool = ew_available() != 0
}
