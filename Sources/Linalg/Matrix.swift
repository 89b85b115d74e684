import Foundation
import Synchronization

/// Source of `MatrixStorage.identity`: never reused, unlike an address.
private let storageIdentities = Atomic<Int>(0)

/// Heap block behind a `Matrix`: 64-byte aligned Float32 storage that is never resized.
@usableFromInline
final class MatrixStorage: @unchecked Sendable {
    @usableFromInline let base: UnsafeMutablePointer<Float>
    @usableFromInline let capacity: Int
    /// True for storage shared on purpose by several matrices (`Matrix.sharedBuffer`): writes
    /// through any of them go to the shared memory instead of copying it first.
    @usableFromInline let writesThrough: Bool
    /// Unique for the process's lifetime (a freed block's address may come back; this may not).
    let identity: Int
    /// Bumped whenever a `Matrix` takes mutable access to the elements (`makeUnique`), so a copy
    /// derived from them (`PackedWeight`) can tell it is stale. Not kept for `writesThrough`
    /// storage, which several threads may write at once: such storage is never packed.
    @usableFromInline var version = 0

    @usableFromInline
    init(capacity: Int, writesThrough: Bool = false) {
        self.capacity = capacity
        self.writesThrough = writesThrough
        identity = storageIdentities.add(1, ordering: .relaxed).newValue
        var raw: UnsafeMutableRawPointer?
        // 64-byte alignment: one cache line, and what AVX loads like.
        let bytes = Swift.max(capacity, 1) * MemoryLayout<Float>.stride
        guard posix_memalign(&raw, 64, bytes) == 0, let raw else {
            preconditionFailure("Matrix: cannot allocate \(bytes) bytes")
        }
        base = raw.bindMemory(to: Float.self, capacity: Swift.max(capacity, 1))
    }

    deinit { free(base) }
}

/// A dense Float32 matrix in row-major order with value semantics (copy-on-write).
///
/// Shape is `rows x cols`; for activations and mini-batches `rows` is the batch dimension
/// (one sample per row), as in PyTorch's `(N, features)`. Rows are always contiguous with a
/// leading dimension equal to `cols`, so a range of rows (`rows(_:)`) is a view that shares
/// storage with its parent until either is mutated.
public struct Matrix: @unchecked Sendable {
    /// Number of rows (the batch dimension for activations).
    public private(set) var rows: Int
    /// Number of columns (features).
    public private(set) var cols: Int
    @usableFromInline var storage: MatrixStorage
    @usableFromInline var offset: Int

    /// Number of elements, `rows * cols`.
    @inlinable public var count: Int { rows &* cols }
    /// `(rows, cols)`.
    public var shape: (rows: Int, cols: Int) { (rows, cols) }
    /// Leading dimension for BLAS (`lda`): the distance between two rows, always `cols` here.
    @inlinable public var leadingDimension: Int { Swift.max(cols, 1) }

    @usableFromInline
    init(rows: Int, cols: Int, storage: MatrixStorage, offset: Int) {
        self.rows = rows
        self.cols = cols
        self.storage = storage
        self.offset = offset
    }

    /// A `rows x cols` matrix of zeros.
    public init(rows: Int, cols: Int) {
        self.init(rows: rows, cols: cols, repeating: 0)
    }

    /// A `rows x cols` matrix with every element equal to `value`.
    public init(rows: Int, cols: Int, repeating value: Float) {
        precondition(rows >= 0 && cols >= 0, "Matrix: negative shape \(rows)x\(cols)")
        let n = rows * cols
        self.init(rows: rows, cols: cols, storage: MatrixStorage(capacity: n), offset: 0)
        storage.base.initialize(repeating: value, count: n)
    }

    /// A `rows x cols` matrix whose elements, row after row, are `elements`.
    /// - Precondition: `elements.count == rows * cols`.
    public init(rows: Int, cols: Int, elements: [Float]) {
        precondition(rows >= 0 && cols >= 0, "Matrix: negative shape \(rows)x\(cols)")
        precondition(elements.count == rows * cols,
                     "Matrix: \(elements.count) elements cannot fill \(rows)x\(cols)")
        self.init(rows: rows, cols: cols, storage: MatrixStorage(capacity: elements.count), offset: 0)
        elements.withUnsafeBufferPointer { src in
            if let s = src.baseAddress { storage.base.initialize(from: s, count: elements.count) }
        }
    }

    /// A matrix from nested rows, `[[1, 2], [3, 4]]`; every row must have the same length.
    public init(_ nested: [[Float]]) {
        let r = nested.count
        let c = nested.first?.count ?? 0
        precondition(nested.allSatisfy { $0.count == c }, "Matrix: ragged rows")
        self.init(rows: r, cols: c, elements: nested.flatMap { $0 })
    }

    /// The `n x n` identity matrix.
    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, cols: n)
        m.withUnsafeMutableBufferPointer { p in
            for i in 0..<n { p[i &* n &+ i] = 1 }
        }
        return m
    }

    /// A `rows x cols` matrix of independent uniform samples in `[low, high)`.
    public static func uniform(rows: Int, cols: Int, low: Float = 0, high: Float = 1,
                               using rng: inout Xoshiro256) -> Matrix {
        var m = Matrix(rows: rows, cols: cols)
        m.withUnsafeMutableBufferPointer { rng.fillUniform($0, low: low, high: high) }
        return m
    }

    /// A `rows x cols` matrix of independent normal samples `N(mean, std^2)`.
    public static func normal(rows: Int, cols: Int, mean: Float = 0, std: Float = 1,
                              using rng: inout Xoshiro256) -> Matrix {
        var m = Matrix(rows: rows, cols: cols)
        m.withUnsafeMutableBufferPointer { rng.fillNormal($0, mean: mean, std: std) }
        return m
    }

    // MARK: - Element access

    /// Element at row `r`, column `c` (bounds-checked).
    @inlinable
    public subscript(r: Int, c: Int) -> Float {
        get {
            precondition(r >= 0 && r < rows && c >= 0 && c < cols,
                         "Matrix: index (\(r), \(c)) out of \(rows)x\(cols)")
            return storage.base[offset &+ r &* cols &+ c]
        }
        set {
            precondition(r >= 0 && r < rows && c >= 0 && c < cols,
                         "Matrix: index (\(r), \(c)) out of \(rows)x\(cols)")
            makeUnique()
            storage.base[offset &+ r &* cols &+ c] = newValue
        }
    }

    /// Rows `range` as a `range.count x cols` view that shares storage (no copy until mutated).
    public func rows(_ range: Range<Int>) -> Matrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows,
                     "Matrix: rows \(range) out of \(rows)x\(cols)")
        return Matrix(rows: range.count, cols: cols, storage: storage,
                      offset: offset + range.lowerBound * cols)
    }

    /// Row `r` as a `1 x cols` view.
    public func row(_ r: Int) -> Matrix { rows(r..<(r + 1)) }

    /// The same elements seen as `rows x cols` (row-major order is kept; no copy).
    /// - Precondition: `rows * cols == count`.
    public func reshaped(rows newRows: Int, cols newCols: Int) -> Matrix {
        precondition(newRows >= 0 && newCols >= 0 && newRows * newCols == count,
                     "Matrix: cannot reshape \(rows)x\(cols) to \(newRows)x\(newCols)")
        return Matrix(rows: newRows, cols: newCols, storage: storage, offset: offset)
    }

    /// The elements, row after row.
    public var elements: [Float] {
        withUnsafeBufferPointer { Array($0) }
    }

    /// The `cols x rows` transpose (a copy).
    public func transposed() -> Matrix {
        var t = Matrix(rows: cols, cols: rows)
        let r = rows, c = cols
        withUnsafeBufferPointer { src in
            t.withUnsafeMutableBufferPointer { dst in
                for i in 0..<r {
                    for j in 0..<c { dst[j &* r &+ i] = src[i &* c &+ j] }
                }
            }
        }
        return t
    }

    // MARK: - Raw access

    /// Calls `body` with the elements (row-major, `count` of them).
    @inlinable
    public func withUnsafeBufferPointer<R>(
        _ body: (UnsafeBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.base + offset, count: count))
    }

    /// Calls `body` with mutable elements, first copying the storage if it is shared.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        makeUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.base + offset, count: count))
    }

    /// True when no other `Matrix` shares this one's storage.
    @inlinable
    public mutating func isUniquelyReferenced() -> Bool {
        isKnownUniquelyReferenced(&storage)
    }

    @inlinable
    mutating func makeUnique() {
        if storage.writesThrough { return }
        if !isKnownUniquelyReferenced(&storage) { copyStorage() }
        storage.version &+= 1
    }

    @usableFromInline
    mutating func copyStorage() {
        let n = count
        let fresh = MatrixStorage(capacity: n)
        fresh.base.initialize(from: storage.base + offset, count: n)
        storage = fresh
        offset = 0
    }

    /// Makes this matrix `rows x cols`, reusing its storage when it is unshared and large enough
    /// (no allocation), otherwise allocating. Element values afterwards are unspecified: callers
    /// overwrite them. Used by layers to keep work buffers across batches of different sizes.
    public mutating func resize(rows newRows: Int, cols newCols: Int) {
        precondition(newRows >= 0 && newCols >= 0, "Matrix: negative shape \(newRows)x\(newCols)")
        let n = newRows * newCols
        if newRows == rows && newCols == cols
            && (storage.writesThrough || isKnownUniquelyReferenced(&storage)) { return }
        precondition(!storage.writesThrough,
                     "Matrix: a view of a shared buffer cannot change shape (\(rows)x\(cols) -> \(newRows)x\(newCols))")
        if isKnownUniquelyReferenced(&storage) && offset + n <= storage.capacity {
            rows = newRows
            cols = newCols
            return
        }
        if isKnownUniquelyReferenced(&storage) && n <= storage.capacity {
            offset = 0
            rows = newRows
            cols = newCols
            return
        }
        storage = MatrixStorage(capacity: n)
        storage.base.initialize(repeating: 0, count: n)
        offset = 0
        rows = newRows
        cols = newCols
    }

    /// Sets every element to `value` (no allocation when unshared); a large matrix is split over
    /// the row-split threads (`ParallelFor`).
    public mutating func fill(_ value: Float) {
        withUnsafeMutableBufferPointer { p in
            if let b = p.baseAddress { parallelFill(b, count: p.count, value) }
        }
    }

    /// Copies `other`'s elements into this matrix, resizing it to `other`'s shape first.
    public mutating func assign(_ other: Matrix) {
        resize(rows: other.rows, cols: other.cols)
        let n = other.count
        other.withUnsafeBufferPointer { src in
            withUnsafeMutableBufferPointer { dst in
                if let d = dst.baseAddress, let s = src.baseAddress { d.update(from: s, count: n) }
            }
        }
    }
}

extension Matrix: Equatable {
    /// Equal shapes and equal elements (IEEE `==`, so a NaN makes two matrices unequal).
    public static func == (lhs: Matrix, rhs: Matrix) -> Bool {
        guard lhs.rows == rhs.rows && lhs.cols == rhs.cols else { return false }
        return lhs.withUnsafeBufferPointer { a in
            rhs.withUnsafeBufferPointer { b in
                for i in 0..<a.count where a[i] != b[i] { return false }
                return true
            }
        }
    }
}

extension Matrix: CustomStringConvertible {
    /// Shape and the corner elements, e.g. `Matrix 128x784 [[0.0, 0.1, …], …]`.
    public var description: String {
        let showRows = Swift.min(rows, 4), showCols = Swift.min(cols, 6)
        var lines: [String] = []
        for r in 0..<showRows {
            var vals = (0..<showCols).map { String(format: "%.4g", Double(self[r, $0])) }
            if cols > showCols { vals.append("…") }
            lines.append("[" + vals.joined(separator: ", ") + "]")
        }
        if rows > showRows { lines.append("…") }
        return "Matrix \(rows)x\(cols) [" + lines.joined(separator: ", ") + "]"
    }
}

extension Matrix {
    /// Overwrites rows `start ..< start + src.rows` with `src`'s rows (no allocation when this
    /// matrix is unshared); a large copy is split over the row-split threads.
    /// - Precondition: `src.cols == cols` and the rows fit.
    public mutating func setRows(_ src: Matrix, at start: Int) {
        precondition(src.cols == cols && start >= 0 && start + src.rows <= rows,
                     "Matrix.setRows: \(src.rows)x\(src.cols) does not fit at row \(start) of \(rows)x\(cols)")
        let n = src.count, offset = start &* cols
        src.withUnsafeBufferPointer { s in
            withUnsafeMutableBufferPointer { d in
                if let sb = s.baseAddress, let db = d.baseAddress { parallelCopy(from: sb, to: db + offset, count: n) }
            }
        }
    }
}

extension Matrix {
    /// A `1 x count` zero matrix whose storage is shared *by design*: `view(offset:rows:cols:)`
    /// carves matrices out of it, and a write through any of them (or through this one) changes
    /// the shared memory in place instead of copying it (no copy-on-write). Used to keep all
    /// gradients of a network in one contiguous buffer, so one pass (a norm, a scale, an
    /// allreduce) sees every gradient. Views cannot be resized.
    public static func sharedBuffer(count: Int) -> Matrix {
        precondition(count >= 0, "Matrix.sharedBuffer: negative count \(count)")
        let s = MatrixStorage(capacity: count, writesThrough: true)
        s.base.initialize(repeating: 0, count: count)
        return Matrix(rows: 1, cols: count, storage: s, offset: 0)
    }

    /// True when this matrix is a view of a `sharedBuffer` (writes go through, no copy).
    public var writesThrough: Bool { storage.writesThrough }

    /// A `rows x cols` matrix over elements `offset ..< offset + rows * cols` of this one,
    /// sharing its storage. On a `sharedBuffer` the view writes through; on ordinary storage it
    /// is copy-on-write like `rows(_:)`.
    /// - Precondition: the elements lie inside this matrix.
    public func view(offset start: Int, rows r: Int, cols c: Int) -> Matrix {
        precondition(start >= 0 && r >= 0 && c >= 0 && start + r * c <= count,
                     "Matrix.view: \(r)x\(c) at \(start) is outside \(count) elements")
        return Matrix(rows: r, cols: c, storage: storage, offset: offset + start)
    }
}
