import Linalg

/// A layer that can drop the references it cached in a training `forward` without running
/// `backward`. `Sequential.forward` calls this on every layer first, so that the buffers the
/// layers are about to rewrite are uniquely referenced (no copy-on-write copy, no allocation).
public protocol CacheReleasing: AnyObject {
    /// Drops cached references (assigning `Matrix.empty`, which does not allocate).
    func releaseCaches()
}
