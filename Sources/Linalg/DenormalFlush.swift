import CVectorMath

/// Runs `body` with denormals flushed to zero on the calling thread, then restores the thread's
/// floating-point mode (also when `body` throws).
///
/// Under the flush (x86's MXCSR flags FTZ and DAZ) a Float result below
/// `Float.leastNormalMagnitude` (2⁻¹²⁶) becomes ±0 and such an input counts as ±0; elsewhere
/// IEEE gradual underflow. On CPUs without SSE, `body` runs unchanged.
///
/// Why: Intel cores take a microcode assist (~100+ cycles) for each vector operation that makes
/// or reads a denormal, and an optimiser's moments decay into that range for parameters whose
/// gradient is rarely non-zero (e.g. a first layer's weights from MNIST's border pixels): on an
/// Intel Xeon family 6 model 207 the VAE's Adam update took a fifth of a batch-split step after
/// 3,000 steps and its step rate fell by 40 %. TensorFlow sets the same flags on its CPU threads
/// (`tensorflow/core/platform/denormal.h`); PyTorch offers `torch.set_flush_denormal(True)`.
public func withDenormalsFlushed<R>(_ body: () throws -> R) rethrows -> R {
    let mode = cvm_denormals_flush()
    defer { cvm_denormals_restore(mode) }
    return try body()
}
