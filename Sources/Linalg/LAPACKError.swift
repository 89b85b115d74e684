/// A failure reported by a LAPACK routine through its `info` result (or found before the call).
///
/// Every case names the routine (`"ssyevd"`, `"dpotrf"`, ...) so that a message points at the
/// computation that failed. Indices are 1-based, as LAPACK reports them.
public enum LAPACKError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `info < 0`: argument number `argument` (1-based, LAPACKE's argument list) had an illegal
    /// value.
    case illegalArgument(routine: String, argument: Int)
    /// The input contains NaN or ±inf (checked before calling LAPACK).
    case nonFiniteInput(routine: String)
    /// Cholesky (`?potrf`), `info > 0`: the leading minor of order `order` is not positive
    /// definite, so the factorisation could not be completed.
    case notPositiveDefinite(routine: String, order: Int)
    /// LU solve (`?gesv`), `info > 0`: `U(index, index)` is exactly zero, so the matrix is
    /// singular and no solution was computed.
    case singular(routine: String, index: Int)
    /// Symmetric eigen-solver (`?syevd`), `info > 0`: the algorithm failed to converge
    /// (`info` is LAPACK's code, see the routine's documentation).
    case noConvergence(routine: String, info: Int)
    /// LAPACKE could not allocate its work or transpose buffer (`LAPACK_WORK_MEMORY_ERROR`,
    /// `LAPACK_TRANSPOSE_MEMORY_ERROR`).
    case outOfMemory(routine: String)

    public var description: String {
        switch self {
        case let .illegalArgument(r, a): return "\(r): argument \(a) had an illegal value"
        case let .nonFiniteInput(r): return "\(r): input contains NaN or infinity"
        case let .notPositiveDefinite(r, o):
            return "\(r): matrix is not positive definite (leading minor of order \(o))"
        case let .singular(r, i): return "\(r): matrix is singular (U(\(i),\(i)) is exactly zero)"
        case let .noConvergence(r, i): return "\(r): failed to converge (info = \(i))"
        case let .outOfMemory(r): return "\(r): LAPACKE could not allocate its work memory"
        }
    }

    /// Maps a LAPACKE `info` to an error; `positive` builds the routine-specific `info > 0` case.
    static func check(_ info: Int32, _ routine: String,
                      positive: (Int) -> LAPACKError) throws(LAPACKError) {
        if info == 0 { return }
        // -1010 and -1011 are LAPACK_WORK_MEMORY_ERROR and LAPACK_TRANSPOSE_MEMORY_ERROR.
        if info == -1010 || info == -1011 { throw .outOfMemory(routine: routine) }
        if info < 0 { throw .illegalArgument(routine: routine, argument: Int(-info)) }
        throw positive(Int(info))
    }
}
