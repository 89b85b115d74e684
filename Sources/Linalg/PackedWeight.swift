import Foundation

/// Which packed copy of one weight holds its current values, for the layer that multiplies by
/// it: the panels shared with other replicas (packed or updated in place by their shared
/// optimiser update, never written here) or panels of its own, packed at the first product
/// after `W` changed or kept by an optimiser that updates `W` in them.
///
/// A change is seen through `W`'s storage (its identity and the version every mutable access
/// bumps), so any writer — an optimiser, a loaded checkpoint, `value = …` — makes the next
/// product repack; nothing has to announce it.
public struct PackedWeight {
    /// This layer's own panels: allocated at its first repack (or the first update that keeps
    /// the weight in them, `ownPanels(for:)`), kept for the next (a replica keeps them beside
    /// the shared ones, for products before the first shared update or after a write outside
    /// it).
    private var own: PackedPanels?
    private var current: PackedPanels?
    private var source = MatrixStamp(identity: -1, version: 0, offset: 0, rows: 0, cols: 0)

    public init() {}

    /// Panels holding `w`'s current values: the last ones packed if `w` has not changed since,
    /// else this layer's own, packed now (allocated at the first call, reused after; the rows
    /// are split over the threads of row-split gemm threading).
    /// - Precondition: `w` is not a view of a shared buffer (`writesThrough`).
    public mutating func panels(for w: Matrix) -> PackedPanels {
        let stamp = w.stamp
        if let current, stamp == source { return current }
        let panels = ownPanels(for: w)
        panels.packAll(w)
        current = panels
        source = stamp
        return panels
    }

    /// This layer's own panels for `w`'s shape, not packed here (allocated at the first call,
    /// reused after): for a writer of `w` to pack as it writes, then record with
    /// `packed(by:for:)`.
    public mutating func ownPanels(for w: Matrix) -> PackedPanels {
        if own == nil || own!.rows != w.rows || own!.cols != w.cols {
            own = PackedPanels(rows: w.rows, cols: w.cols)
        }
        return own!
    }

    /// Records that `panels`, filled by the writer of `w` (the ranks of a shared optimiser
    /// update, or an optimiser updating `w` in `ownPanels(for:)`), hold `w`'s current
    /// values; products use them until `w` changes again.
    /// - Precondition: `panels` has `w`'s shape; `w` is not a view of a shared buffer.
    public mutating func packed(by panels: PackedPanels, for w: Matrix) {
        precondition(panels.rows == w.rows && panels.cols == w.cols,
                     "PackedWeight: \(panels.rows)x\(panels.cols) panels for a \(w.rows)x\(w.cols) weight")
        current = panels
        source = w.stamp
    }

    /// Forgets which panels hold the weight's values: the next product packs its own, and
    /// `holds` answers false until `packed(by:for:)` records panels again. For a writer the
    /// stamp cannot reveal (a weight whose values lived only in shared panels, given back a
    /// matrix whose storage and version are the ones recorded).
    public mutating func invalidate() {
        current = nil
    }

    /// True when `panels` hold `w`'s current values as far as this weight knows: they were
    /// recorded by `packed(by:for:)` and `w` has not changed since.
    public func holds(_ panels: PackedPanels, for w: Matrix) -> Bool {
        current === panels && w.stamp == source
    }

    /// True when the current panels are others' (`packed(by:for:)`), not this layer's own.
    public var usesOthersPanels: Bool { current != nil && current !== own }
}

/// What identifies a matrix's current elements: storage, its version, and the window onto it.
struct MatrixStamp: Equatable {
    var identity: Int, version: Int, offset: Int, rows: Int, cols: Int
}

extension Matrix {
    var stamp: MatrixStamp {
        precondition(!storage.writesThrough, "PackedWeight: a shared buffer's view cannot be packed")
        return MatrixStamp(identity: storage.identity, version: storage.version, offset: offset,
                           rows: rows, cols: cols)
    }
}
