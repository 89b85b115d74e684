import ArgumentParser
import Foundation
import NN
import Training

/// `gen train --threading`: split (each gemm's rows over the threads, the default) or
/// batch-split (data parallelism inside the process, `ThreadProcessGroup`): the values
/// config.json records.
extension RunConfig.Threading: ExpressibleByArgument {}

/// The replicas of a batch-split run other than rank 0 (which the main thread trains with the
/// console): each a `TrainingLoop` on its own thread, over the same data and directory, with
/// its member of the `ThreadProcessGroup`. Rank 0 writes everything.
final class BatchSplitReplicas: @unchecked Sendable {
    let group: ThreadProcessGroup
    private let loops: [TrainingLoop]
    private let done = DispatchGroup()

    /// Builds ranks 1..<size beside `first` (rank 0, built by the caller over `group.member(0)`),
    /// continuing the same checkpoint when `first` resumed one. Nothing is written.
    /// - Throws: as `TrainingLoop`'s initialisers.
    init(group: ThreadProcessGroup, first: TrainingLoop) throws {
        self.group = group
        loops = try (1..<group.size).map { rank in
            let member = group.member(rank)
            let loop = first.resumedFrom == nil
                ? try TrainingLoop(config: first.config, directory: first.directory.url, data: first.data,
                                   processGroup: member)
                : try TrainingLoop.resume(first.directory.url, config: first.config, data: first.data,
                                          processGroup: member)
            loop.nonFinitePolicy = first.nonFinitePolicy
            return loop
        }
    }

    /// Starts every replica's loop on its own thread. A replica that fails where rank 0 cannot
    /// know (anything but the non-finite stop every rank meets alike) ends the process with
    /// its error: rank 0 would otherwise wait for it forever.
    func start() {
        for index in loops.indices {
            done.enter()
            // Each loop is used by its thread alone from here on.
            Thread { [self] in
                defer { done.leave() }
                do {
                    _ = try loops[index].run(TrainConsole.secondaryCallbacks(ownProcess: false))
                } catch is NonFiniteStop {
                    // Rank 0 stops on the same reduced value and reports it.
                } catch {
                    Foundation.exit(Failure.report(error))
                }
            }.start()
        }
    }

    /// Returns when every replica's loop has returned.
    func wait() { done.wait() }
}
