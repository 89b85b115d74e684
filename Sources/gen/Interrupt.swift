import Foundation
import Synchronization

/// The signal that asked training to stop (SIGINT or SIGTERM), 0 while none has.
let stopSignal = Atomic<Int32>(0)

/// Makes SIGINT and SIGTERM set `stopSignal` instead of killing the process, so the training
/// loop can finish its step and write a checkpoint. A second signal kills as usual.
func installStopHandlers() {
    for sig in [SIGINT, SIGTERM] {
        signal(sig) { s in
            // Async-signal-safe: one atomic store, then the default action for a second signal.
            stopSignal.store(s, ordering: .relaxed)
            signal(s, SIG_DFL)
        }
    }
}
