import Distributed
import Foundation

/// How this `gen` was started: alone, or as one process (rank) of
/// `mpirun -np N gen train …` (data-parallel training, `Distributed`).
///
/// Under mpirun only `gen train gan|vae` and `gen bench` run. Every rank parses the same flags
/// and builds the same run, so rank 0 alone prints (the other ranks' standard output goes to
/// /dev/null) and, until training starts, reports errors: the ranks fail alike, and
/// `agreeing` makes a failure of any rank stop all of them with one exit code.
enum Launch {
    /// The rank `mpirun` gave this process (0 when not started by MPI).
    static let rank: Int = isMPI ? (MPIProcessGroup.launcherRank ?? 0) : 0
    /// Started by mpirun (or another MPI launcher).
    static let isMPI = MPIProcessGroup.isLaunchedByMPI
    /// The world group once `start()` ran (only `gen train` under mpirun).
    nonisolated(unsafe) private(set) static var group: MPIProcessGroup?
    /// Set when training starts: from then on a failure may be rank-specific.
    nonisolated(unsafe) static var training = false

    /// Set by `agreeing` on a rank that failed alone: it reports its own error.
    nonisolated(unsafe) private static var failedAlone = false

    /// A rank other than 0 keeps quiet until training starts (rank 0 reports for all),
    /// unless it failed where rank 0 did not.
    static var isQuiet: Bool { rank != 0 && !training && !failedAlone }

    /// Sends a secondary rank's standard output to /dev/null (rank 0 prints for the run).
    static func silenceSecondaryOutput() {
        guard rank != 0 else { return }
        let null = open("/dev/null", O_WRONLY)
        if null >= 0 { dup2(null, STDOUT_FILENO) }
    }

    /// Initialises MPI for a data-parallel `gen train` (nil when not started by mpirun).
    static func start() throws -> MPIProcessGroup? {
        guard isMPI else { return nil }
        if group == nil { group = try MPIProcessGroup.initialize() }
        return group
    }

    /// Threads per rank when `--threads` is not given: the processors shared by the ranks on
    /// this host (Open MPI's `OMPI_COMM_WORLD_LOCAL_SIZE`), at least 1.
    static var defaultThreads: Int {
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        let local = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_LOCAL_SIZE"].flatMap { Int($0) } ?? 1
        return max(1, cpus / max(local, 1))
    }

    /// Runs `body` (building a rank's part of the run) and then agrees with the other ranks:
    /// when any rank failed, all stop with the first failing rank's code. Each failing rank
    /// rethrows its own error — printed by rank 0, or by the failing rank when rank 0 did
    /// not fail — and a rank that did not fail exits quietly. One allreduce, after `body`
    /// whatever it did, so the ranks' collective calls stay matched.
    static func agreeing<T>(_ body: () throws -> T) throws -> T {
        let result = Result { try body() }
        guard let group else { return try result.get() }
        var codes = [Double](repeating: 0, count: group.size)
        if case .failure(let e) = result { codes[group.rank] = Double(Failure.status(e)) }
        try codes.withUnsafeMutableBufferPointer { try group.allreduceSum($0) }
        if case .failure = result {
            failedAlone = codes[0] == 0
            return try result.get()
        }
        if let first = codes.first(where: { $0 != 0 }) { throw QuietExit(code: Int32(first)) }
        return try result.get()
    }

    /// Ends MPI before the process exits with `code`: MPI_Finalize when every rank is
    /// exiting alike (the run was not started or has ended: completed, interrupted, stopped on
    /// a non-finite value — `training` cleared), else MPI_Abort, which stops the ranks that may
    /// be waiting in a collective for this one.
    /// A failure while `training` is still set is one only this rank may know about.
    static func end(code: Int32) {
        guard let group else { return }
        if training && code != 0 { group.abort(code: code) }
        group.finalize()
    }
}

extension Launch {
    /// The stop signal every rank reports after a coordinated interruption: this rank's, or
    /// (under mpirun) SIGINT when any rank received one, else SIGTERM. One allreduce.
    static func agreedSignal(_ local: Int32) throws -> Int32 {
        guard let group else { return local }
        var seen: [Double] = [local == SIGINT ? 1 : 0, local == SIGTERM ? 1 : 0]
        try seen.withUnsafeMutableBufferPointer { try group.allreduceSum($0) }
        return seen[0] > 0 ? SIGINT : SIGTERM
    }
}

/// Another rank failed while building the run (it reports): exit with its code, silently.
struct QuietExit: Error {
    let code: Int32
}
