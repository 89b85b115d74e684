import Foundation

/// Ctrl-C to mpirun reaches mpirun alone (the ranks run in their own process groups); Open MPI
/// then sends the ranks SIGTERM after its deadline and SIGKILL one deadline later
/// (`odls_base_sigkill_timeout`, 1 s unless `mpirun --mca odls_base_sigkill_timeout T` sets it,
/// which the ranks see as `OMPI_MCA_odls_base_sigkill_timeout`). A rank stops at the end of its
/// step and rank 0 then writes a checkpoint, so when a step takes more than about half the
/// deadline, an interrupt kills the ranks mid-step and nothing of it is saved. This notices
/// that once, from the first steps' speed, and says how to give the ranks time.
struct MPIDeadlineWatch {
    /// Seconds between SIGTERM and SIGKILL under mpirun; nil when not under mpirun.
    let deadline: Double?
    private var checked = false

    /// - Parameter environment: the process's (read for Open MPI's deadline).
    init(isMPI: Bool, environment: [String: String] = ProcessInfo.processInfo.environment) {
        deadline = isMPI ? Double(environment["OMPI_MCA_odls_base_sigkill_timeout"] ?? "1") ?? 1 : nil
    }

    /// Once, at the third step: a note when `secondsPerStep` leaves no time after SIGTERM to
    /// finish the step and write the checkpoint (nil otherwise, and on every later call).
    mutating func check(step: Int, secondsPerStep: Double) -> String? {
        guard let deadline, !checked, step >= 3 else { return nil }
        checked = true
        guard secondsPerStep.isFinite && secondsPerStep > deadline / 2 else { return nil }
        let suggested = Int((3 * secondsPerStep).rounded(.up)) + 5
        return "note: a step takes \(String(format: "%.1f", secondsPerStep)) s; after Ctrl-C mpirun allows the ranks \(String(format: "%g", deadline)) s from SIGTERM to SIGKILL, too little to finish a step and write the checkpoint: start mpirun with --mca odls_base_sigkill_timeout \(suggested) to keep interrupts (or stop the run with kill -INT on one of its gen processes)"
    }
}
