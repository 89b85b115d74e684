import CZlibFuzz

enum Gzip {
    /// Writes `bytes` gzip-compressed to `path` (zlib's gz* API).
    static func write(_ bytes: UnsafePointer<UInt8>, _ size: Int, to path: String) {
        let g = gzopen(path, "wb1")!
        if size > 0 { precondition(gzwrite(g, bytes, UInt32(size)) == Int32(size), "gzwrite failed") }
        gzclose(g)
    }
}
