import CMPI
import Foundation
import NN

/// A failed MPI call: the function and MPI's error string.
public struct MPIError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// The processes started by `mpirun` (MPI_COMM_WORLD) as a `ProcessGroup`, over Open MPI.
///
/// `initialize()` calls `MPI_Init_thread` asking for `MPI_THREAD_FUNNELED`: only the thread
/// that initialised MPI calls it (the training loop's); the gemm worker threads never do.
/// Errors are returned (`MPI_ERRORS_RETURN`) and thrown as `MPIError`. A process that dies
/// makes `mpirun` stop the others (Open MPI's default), so no process waits forever.
public final class MPIProcessGroup: ProcessGroup {
    public let rank: Int
    public let size: Int
    private let comm: MPI_Comm

    private init(rank: Int, size: Int) {
        self.rank = rank
        self.size = size
        comm = cmpi_comm_world()
    }

    /// Whether this process was started by an MPI launcher (`mpirun`/`mpiexec`, which set
    /// `OMPI_COMM_WORLD_SIZE`, or `PMI_SIZE`/`PMIX_RANK` for other launchers). Without one,
    /// programs should train as one process and not initialise MPI at all.
    public static var isLaunchedByMPI: Bool {
        let env = ProcessInfo.processInfo.environment
        return env["OMPI_COMM_WORLD_SIZE"] != nil || env["PMI_SIZE"] != nil || env["PMIX_RANK"] != nil
    }

    /// The rank `mpirun` gave this process, read from the environment before MPI is
    /// initialised (Open MPI's `OMPI_COMM_WORLD_RANK`, else `PMI_RANK`/`PMIX_RANK`); nil without one.
    public static var launcherRank: Int? {
        let env = ProcessInfo.processInfo.environment
        return (env["OMPI_COMM_WORLD_RANK"] ?? env["PMI_RANK"] ?? env["PMIX_RANK"]).flatMap { Int($0) }
    }

    /// Initialises MPI once per process (`MPI_Init_thread`, funneled) and returns the world group.
    /// - Throws: `MPIError` when MPI cannot start or grants less than funneled threading.
    public static func initialize() throws -> MPIProcessGroup {
        var provided: Int32 = 0
        try check(MPI_Init_thread(nil, nil, Int32(cmpi_thread_funneled()), &provided), "MPI_Init_thread")
        guard provided >= Int32(cmpi_thread_funneled()) else {
            throw MPIError(description: "MPI_Init_thread: this MPI provides thread level \(provided), below MPI_THREAD_FUNNELED")
        }
        try check(MPI_Comm_set_errhandler(cmpi_comm_world(), cmpi_errors_return()), "MPI_Comm_set_errhandler")
        var rank: Int32 = 0, size: Int32 = 0
        try check(MPI_Comm_rank(cmpi_comm_world(), &rank), "MPI_Comm_rank")
        try check(MPI_Comm_size(cmpi_comm_world(), &size), "MPI_Comm_size")
        return MPIProcessGroup(rank: Int(rank), size: Int(size))
    }

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try allreduce(UnsafeMutableRawPointer(buffer.baseAddress), count: buffer.count, type: cmpi_float())
    }

    public func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {
        try allreduce(UnsafeMutableRawPointer(buffer.baseAddress), count: buffer.count, type: cmpi_double())
    }

    /// MPI_Allreduce in place with MPI_SUM, in chunks of at most 2^30 elements (MPI counts are `int`).
    private func allreduce(_ base: UnsafeMutableRawPointer?, count: Int, type: MPI_Datatype) throws {
        guard let base, count > 0 else { return }
        var width: Int32 = 0
        try Self.check(MPI_Type_size(type, &width), "MPI_Type_size")
        var done = 0
        while done < count {
            let n = min(count - done, 1 << 30)
            try Self.check(MPI_Allreduce(cmpi_in_place(), base + done * Int(width), Int32(n), type, cmpi_sum(), comm),
                           "MPI_Allreduce")
            done += n
        }
    }

    public func barrier() throws { try Self.check(MPI_Barrier(comm), "MPI_Barrier") }

    /// Shuts MPI down (MPI_Finalize); call once, after the last collective, before exiting.
    public func finalize() { _ = MPI_Finalize() }

    /// Stops every process of the run with `code` (MPI_Abort): for a failure some processes
    /// cannot know about.
    public func abort(code: Int32) -> Never {
        _ = MPI_Abort(comm, code)
        exit(code)
    }

    private static func check(_ result: Int32, _ function: String) throws {
        guard result != Int32(cmpi_success()) else { return }
        var text = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
        var length: Int32 = 0
        _ = MPI_Error_string(result, &text, &length)
        let bytes = text.prefix(Int(length)).map { UInt8(bitPattern: $0) }
        throw MPIError(description: "\(function) failed: \(String(decoding: bytes, as: UTF8.self))")
    }
}
