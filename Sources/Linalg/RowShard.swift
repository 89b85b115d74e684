/// The rows of a global mini-batch that one process of a data-parallel run works on.
///
/// Every process draws the same random numbers as a single process training on the whole
/// global batch would, and keeps those of its own rows (`Xoshiro256.fillNormal(_:shard:cols:)`),
/// so N processes together compute what one would. Rows are split as evenly as possible: with
/// `B` rows over `N` processes, process `r` gets rows `r*B/N ..< (r+1)*B/N` (integer division),
/// so shares differ by at most one row.
public struct RowShard: Sendable, Equatable {
    /// This process's rows of the global batch.
    public let rows: Range<Int>
    /// Rows in the global batch.
    public let globalRows: Int

    /// - Precondition: `rows` lies in `0..<globalRows`.
    public init(rows: Range<Int>, globalRows: Int) {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= globalRows,
                     "RowShard: rows \(rows) outside a batch of \(globalRows)")
        self.rows = rows
        self.globalRows = globalRows
    }

    /// Process `rank`'s share of a `globalRows`-row batch split over `size` processes.
    /// - Precondition: `0 <= rank < size`.
    public init(rank: Int, of size: Int, globalRows: Int) {
        precondition(size >= 1 && rank >= 0 && rank < size, "RowShard: rank \(rank) of \(size)")
        self.init(rows: rank * globalRows / size ..< (rank + 1) * globalRows / size, globalRows: globalRows)
    }

    /// The share of the global batch's per-sample mean this shard's mean carries:
    /// `rows.count / globalRows` (the factor that turns a mean over the shard's rows into its
    /// term of the mean over the global batch).
    public var weight: Float { Float(rows.count) / Float(globalRows) }
}

extension Xoshiro256 {
    /// Fills `buffer` (`shard.rows.count * cols` values) with the rows `shard.rows` of what
    /// `fillNormal` would write into a `shard.globalRows x cols` buffer, and leaves the
    /// generator where that fill would: every process of a data-parallel run draws the global
    /// batch's noise and keeps its own rows. No allocation.
    /// - Precondition: `buffer.count == shard.rows.count * cols`.
    public mutating func fillNormal(_ buffer: UnsafeMutableBufferPointer<Float>, shard: RowShard, cols: Int) {
        precondition(buffer.count == shard.rows.count * cols,
                     "fillNormal(shard:): \(buffer.count) values for \(shard.rows.count) rows of \(cols)")
        let n = shard.globalRows * cols, start = shard.rows.lowerBound * cols, end = start + buffer.count
        // The same pairs as fillNormal(_:), in the same order; values outside the shard dropped.
        var i = 0
        while i + 1 < n {
            if i + 1 < start || i >= end {
                // A pair outside the shard: advance past its two draws without the transcendentals.
                _ = next()
                _ = next()
                i += 2
                continue
            }
            let (a, b) = normalPair()
            if i >= start && i < end { buffer[i - start] = a }
            if i + 1 >= start && i + 1 < end { buffer[i + 1 - start] = b }
            i += 2
        }
        if i < n {
            let a = nextNormal()
            if i >= start && i < end { buffer[i - start] = a }
        }
    }

    /// Uniform values in [0, 1) of the rows `shard.rows` of a `shard.globalRows x cols` fill
    /// (`fillUniform(_:)` with its defaults), as `fillNormal(_:shard:cols:)`. No allocation.
    /// - Precondition: `buffer.count == shard.rows.count * cols`.
    public mutating func fillUniform(_ buffer: UnsafeMutableBufferPointer<Float>, shard: RowShard, cols: Int) {
        precondition(buffer.count == shard.rows.count * cols,
                     "fillUniform(shard:): \(buffer.count) values for \(shard.rows.count) rows of \(cols)")
        let start = shard.rows.lowerBound * cols
        for _ in 0..<start { _ = nextFloat() }
        // fillUniform(_:) with low 0, high 1: nextFloat() is already below 1.
        fillUniform(buffer)
        for _ in (start + buffer.count)..<(shard.globalRows * cols) { _ = nextFloat() }
    }
}
