import Foundation
import Synchronization

/// The signal that asked training to stop (SIGINT or SIGTERM), 0 while none has.
let stopSignal = Atomic<Int32>(0)

/// Makes SIGINT and SIGTERM set `stopSignal` instead of killing the process, so the training
/// loop can finish its step, write a checkpoint and exit with 128 + signal (130 or 143).
/// A second signal kills as usual (the handler restores the default action).
func installStopHandlers() {
    for sig in [SIGINT, SIGTERM] {
        signal(sig) { s in
            // Async-signal-safe: one atomic store, then the default action for a second signal.
            stopSignal.store(s, ordering: .relaxed)
            signal(s, SIG_DFL)
        }
    }
}

/// Test hook: `GEN_TEST_SIGNAL_AT_STEP=N[:TERM][@RANK]` raises SIGINT (or SIGTERM) in this
/// process right after step N, through the real handler, so tests can interrupt at an exact
/// step; with `@RANK`, only in that rank of a data-parallel run.
private let testSignal: (step: Int, signal: Int32)? = {
    guard var v = ProcessInfo.processInfo.environment["GEN_TEST_SIGNAL_AT_STEP"] else { return nil }
    if let at = v.firstIndex(of: "@") {
        guard Int(v[v.index(after: at)...]) == Launch.rank else { return nil }
        v = String(v[..<at])
    }
    let parts = v.split(separator: ":")
    guard let step = parts.first.flatMap({ Int($0) }) else { return nil }
    return (step, parts.count > 1 && parts[1] == "TERM" ? SIGTERM : SIGINT)
}()

/// Raises the test hook's signal when `step` is the one it names (no-op otherwise).
func raiseTestSignalIfDue(step: Int) {
    if let t = testSignal, t.step == step { raise(t.signal) }
}
