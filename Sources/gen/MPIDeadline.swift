import Foundation

/// Ctrl-C to mpirun reaches mpirun alone (the ranks run in their own process groups); Open MPI
/// then sends the ranks SIGTERM after its deadline and SIGKILL one deadline later
/// (`odls_base_sigkill_timeout`, whole seconds, 1 unless `mpirun --mca odls_base_sigkill_timeout
/// T` or the environment sets it, which the ranks see as `OMPI_MCA_odls_base_sigkill_timeout`;
/// a value from an MCA parameter file is not visible to them, and the note may then be given
/// needlessly). A rank stops at the end of its
/// step and rank 0 then writes a checkpoint, so when a step takes more than about half the
/// deadline, an interrupt kills the ranks mid-step and nothing of it is saved. This notices
/// that once, from the first steps' speed, and says how to give the ranks time.
struct MPIDeadlineWatch {
    /// Seconds between SIGTERM and SIGKILL under mpirun; nil when not under mpirun.
    let deadline: Double?
    /// Steps seen (the check is made at the third: a resumed run's step count starts higher).
    private var seen = 0

    /// - Parameter environment: the process's (read for Open MPI's deadline).
    init(isMPI: Bool, environment: [String: String] = ProcessInfo.processInfo.environment) {
        deadline = isMPI ? environment["OMPI_MCA_odls_base_sigkill_timeout"].map(Self.openMPIInteger) ?? 1 : nil
    }

    /// An integer MCA value as Open MPI reads it (`strtol`: leading blanks, an optional sign, the
    /// leading digits; "2.5" is 2, "abc" and "" are 0), negative taken as 0.
    static func openMPIInteger(_ text: String) -> Double {
        Double(max(0, strtol(text, nil, 10)))
    }

    /// Once, at the third step this process trains: a note when `secondsPerStep` leaves no time
    /// after SIGTERM to finish the step and write the checkpoint (nil otherwise, and on every
    /// other call).
    mutating func check(secondsPerStep: Double) -> String? {
        seen += 1
        guard let deadline, seen == 3 else { return nil }
        guard secondsPerStep.isFinite && secondsPerStep > deadline / 2 else { return nil }
        let suggested = Int((3 * secondsPerStep).rounded(.up)) + 5
        let step = secondsPerStep >= 1 ? String(format: "%.1f s", secondsPerStep)
                                        : String(format: "%.0f ms", 1000 * secondsPerStep)
        return "note: a step takes \(step); after Ctrl-C mpirun allows the ranks \(Int(deadline)) s from SIGTERM to SIGKILL, too little to finish a step and write the checkpoint: start mpirun with --mca odls_base_sigkill_timeout \(suggested) to keep interrupts (or stop the run with kill -INT on one of its gen processes)"
    }
}
