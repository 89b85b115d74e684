import Foundation
import Synchronization

/// The time one cache line takes to travel from one thread's core to another's and back, in
/// nanoseconds: two threads hand a counter back and forth `trips` times (spinning, so each
/// occupies a core), and the median of `repetitions` such runs is returned.
///
/// Why a benchmark reports it: on a virtual machine the host decides where the virtual CPUs
/// run, and may move them. On the 2-vCPU Zen 4 guests this project is measured on it reads
/// about 65 ns when the host has put both on one die and about 330 ns when not, and changes
/// between the two within minutes; two threads that share data every step (batch split) run
/// at different speeds in the two cases (README, Performance, Our spread), which the figure
/// lets a reader tell apart. The threads are not pinned: with as many busy threads as cores
/// the scheduler gives them different cores, which is the case measured. Nil when this process
/// may run on only one CPU (its affinity mask).
/// - Precondition: `trips >= 1`, `repetitions >= 1`.
public func measureCoreRoundTrip(trips: Int = 20_000, repetitions: Int = 3) -> Double? {
    precondition(trips >= 1 && repetitions >= 1, "measureCoreRoundTrip: \(trips) trips, \(repetitions) repetitions")
    // Bound to one CPU (taskset, mpirun's default binding of a rank to a core), the two threads
    // would take turns on it: each handoff a time slice, not a cache line's travel.
    guard allowedCPUCount() >= 2 else { return nil }
    let times = (0..<repetitions).map { _ in pingPong(trips: trips) }.sorted()
    return times[times.count / 2]
}

/// One run: the counter goes 1, 2, 3, … with odd values written here and even ones by the
/// partner thread; timed from the partner's first answer. Stops early after 50 ms (when the
/// cores are oversubscribed each handoff waits for a time slice) and averages the trips done.
private func pingPong(trips: Int) -> Double {
    let counter = CounterBox()
    let done = DispatchSemaphore(value: 0)
    let stop = -2
    Thread {
        // -1 tells the caller the partner runs; it answers each odd value with the next one.
        counter.value.store(-1, ordering: .releasing)
        while true {
            let v = counter.value.load(ordering: .acquiring)
            if v == stop { break }
            if v > 0 && v & 1 == 1 { counter.value.store(v + 1, ordering: .releasing) }
        }
        done.signal()
    }.start()
    while counter.value.load(ordering: .acquiring) != -1 {}
    let t0 = DispatchTime.now().uptimeNanoseconds
    var completed = 0
    while completed < trips {
        counter.value.store(2 * completed + 1, ordering: .releasing)
        while counter.value.load(ordering: .acquiring) != 2 * completed + 2 {}
        completed += 1
        if completed & 15 == 0 && DispatchTime.now().uptimeNanoseconds - t0 > 50_000_000 { break }
    }
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - t0)
    counter.value.store(stop, ordering: .releasing)
    done.wait()
    return elapsed / Double(completed)
}

/// The CPUs this process may run on: the bits of `Cpus_allowed` in /proc/self/status (its
/// affinity mask), or 2 when that cannot be read.
private func allowedCPUCount() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") })
    else { return 2 }
    let digits = line.dropFirst("Cpus_allowed:".count).filter { $0.isHexDigit }
    return digits.reduce(0) { $0 + (Int(String($1), radix: 16) ?? 0).nonzeroBitCount }
}

/// The shared counter, in a class so both threads see one atomic.
private final class CounterBox: Sendable {
    let value = Atomic<Int>(0)
}
