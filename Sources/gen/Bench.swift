import ArgumentParser
import Datasets
import Foundation
import Generative
import Linalg
import MallocInterposerSwift
import NN
import Synchronization
import Training

/// `gen bench`: steady-state training throughput of the three reference models.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure steady-state training samples/s and GFLOP/s on real MNIST batches.",
        discussion: """
            A sample is one real image through one full D+G step (GAN) or one image through \
            forward+backward+Adam (VAE). GFLOP/s counts 2*m*n*k per gemm this implementation \
            runs in a step (forward and backward, skipping the products it does not need: no \
            dW for the frozen discriminator, no dX for first layers); element-wise work is not \
            counted. The N-core roofline is N single-threaded sgemm streams on 1024x1024x1024, \
            one per thread, running at once (what the cores do together), by the faster of \
            OpenBLAS's kernels and ours (AVX-512 CPUs), measured before and after each model \
            (the higher reading counts: one taken while the host runs other work reads low); \
            OpenBLAS's own N-thread sgemm on one such product is shown beside it, with the \
            kernels OpenBLAS picked (e.g. Cooperlake, or Prescott, its SSE3 fallback on CPUs it \
            does not know). Heap allocations per step \
            are counted with malloc-interposer over 50 extra steps (all threads, OpenBLAS's \
            included). With 2 or more threads, the core round trip (two threads handing a cache \
            line back and forth) is measured before and after each model: on a virtual machine \
            it shows where the host has put the cores (e.g. ~65 ns on one die, ~330 ns apart), \
            which moves two-thread speeds (not measured when the process is bound to one CPU).
            """)

    typealias Model = StepBenchmark.Model

    @Argument(help: "gan (G 100-128-784, D 784-128-1), vae (784-400-20), gan-large (G 100-256-512-1024-784, D 784-512-256-1), dcgan (GANConfig.dcgan(): G channels 128,64, D 64,128), vae-conv (VAEConfig.conv(): channels 32,64, latent 20), gan-conditional or vae-conditional (the MLP GAN and VAE conditioned on MNIST's 10 labels). Default: gan vae gan-large.")
    var models: [Model] = [.gan, .vae, .ganLarge]
    @Option(parsing: .unconditional, help: "Timed steps.") var steps: Int = 200
    @Option(parsing: .unconditional, help: "Untimed warm-up steps.") var warmup: Int = 20
    @Option(name: .customLong("threads"), parsing: .unconditional,
            help: "Threads for gemm. Default: 2 (under mpirun: the processors divided by the processes on the host).")
    var threadsOption: Int?
    var threads: Int { threadsOption ?? (Launch.isMPI ? Launch.defaultThreads : 2) }
    @Option(help: "How gemm uses the threads: split (rows of each product over our own threads, OpenBLAS single-threaded), openblas (OpenBLAS's pool), or batch-split (data parallelism in one process: each thread a model replica on its share of the batch, single-threaded gemm, gradients summed through shared memory; ThreadProcessGroup).")
    var threading: ThreadingChoice = .split
    @Option(parsing: .unconditional, help: "Batch size.") var batchSize: Int = 128
    @Option(help: "MNIST directory. Default: the shipped data/mnist, found from any directory (see README).") var data: String?
    @Flag(help: "Print one JSON object per model instead of a table line.") var json = false

    func validate() throws {
        if steps < 1 { throw ValidationError("--steps must be at least 1, got \(steps)") }
        if warmup < 0 { throw ValidationError("--warmup must be at least 0, got \(warmup)") }
        if !(1...RunConfig.maxThreads).contains(threads) {
            throw ValidationError("--threads must be in 1...\(RunConfig.maxThreads), got \(threads)")
        }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1, got \(batchSize)") }
    }

    func run() throws {
        BLASThreads.set(threading.mode(threads))
        let train = try MNIST.load(.train, from: InputPaths.mnist(data))
        // Full batches only (dropLast): a larger batch would leave no batch to time.
        guard batchSize <= train.count else {
            throw ValidationError("--batch-size \(batchSize) exceeds the \(train.count) training samples")
        }
        // Where the host has put the cores, before the rooflines (OpenBLAS's threads spin for a
        // while after its threaded call) and after each model: the host may move them, and the
        // batch-split speed depends on it (measureCoreRoundTrip).
        var trip = coreRoundTrip()
        var rooflines = measureRooflines()
        let group = try Launch.start()
        if let g = group, batchSize < g.size {
            throw ValidationError("--batch-size \(batchSize) is smaller than the \(g.size) processes")
        }
        for model in models {
            let tripBefore = trip
            let r = threading == .batchSplit
                ? try batchSplit(model, train: train)
                : try StepBenchmark.run(model, train: train, batchSize: batchSize, warmup: warmup, steps: steps,
                                        processGroup: group, countAllocations: Self.countAllocations)
            trip = coreRoundTrip()
            let trips = tripBefore.flatMap { before in trip.map { (before, $0) } }
            // The rooflines again (after the round trip, as before the first model): the model's
            // reference is the higher reading around it (`BenchRooflines.higher`).
            let after = measureRooflines()
            report(model, r, rooflines: rooflines.higher(after), trips: trips, processes: group?.size)
            rooflines = after
            fflush(nil)
        }
    }

    /// The rooflines (`BenchRooflines.measure`), with this run's gemm threading restored after.
    private func measureRooflines() -> BenchRooflines {
        defer { BLASThreads.set(threading.mode(threads)) }
        return BenchRooflines.measure(threads: threads)
    }

    /// The core round trip in ns, measured when this run has two threads or more to place.
    private func coreRoundTrip() -> Double? { threads > 1 ? measureCoreRoundTrip() : nil }

    /// One result line (or JSON object). `rooflines`: per process; `trips`: the core round
    /// trip before and after, in ns.
    private func report(_ model: Model, _ r: StepBenchmark.Result, rooflines: BenchRooflines,
                        trips: (Double, Double)?, processes: Int?) {
        let roofline = rooflines.openBLASThreaded, cores = rooflines.cores
        // Several processes: against the roofline of one times their number.
        let fraction = r.gflops / (roofline * Double(processes ?? 1))
        let coresFraction = r.gflops / (cores * Double(processes ?? 1))
        if json {
            let tripFields = trips.map { ", \"core_round_trip_ns_before\": \(fmt($0.0, 0)), \"core_round_trip_ns_after\": \(fmt($0.1, 0))" } ?? ""
            print("{\"model\": \"\(model.rawValue)\", \"framework\": \"swift-generative\", \"samples_per_sec\": \(fmt(r.samplesPerSec, 1)), \"threads\": \(threads), \"processes\": \(processes ?? 1), \"threading\": \"\(threading.rawValue)\", \"batch_size\": \(batchSize), \"steps\": \(steps), \"gflops\": \(fmt(r.gflops, 2)), \"roofline_gflops\": \(fmt(roofline, 2)), \"roofline_fraction\": \(fmt(fraction, 3)), \"cores_roofline_gflops\": \(fmt(cores, 2)), \"cores_roofline_fraction\": \(fmt(coresFraction, 3)), \"cores_roofline_kernel\": \"\(rooflines.coresKernel.rawValue)\", \"openblas_core\": \"\(OpenBLASCore.name)\", \"mflop_per_step\": \(fmt(r.flopsPerStep / 1e6, 2)), \"allocations_per_step\": \(r.allocationsPerStep.map { fmt($0, 2) } ?? "null"), \"allreduce_bytes_per_step\": \(r.allreduceBytesPerStep)\(tripFields)}")
        } else {
            let by = processes.map { " x \($0) processes" } ?? ""
            let tripText = trips.map { "  core round trip \(fmt($0.0, 0)) → \(fmt($0.1, 0)) ns" } ?? ""
            print("\(model.rawValue.padding(toLength: max(10, model.rawValue.count), withPad: " ", startingAt: 0)) \(String(format: "%9.0f", r.samplesPerSec)) samples/s  \(fmt(r.gflops, 1)) GFLOP/s  \(fmt(100 * coresFraction, 1))% of \(processes.map { "\($0) x " } ?? "")the \(threads)-core roofline \(fmt(cores, 1)) GFLOP/s (\(rooflines.coresKernelName); \(fmt(100 * fraction, 1))% of OpenBLAS's \(threads)-thread sgemm \(fmt(roofline, 1)), \(OpenBLASCore.name) kernels)  threads \(threads) (\(threading.rawValue))\(by)  batch \(batchSize)  \(steps) steps  \(r.allocationsPerStep.map { fmt($0, 2) } ?? "?") allocations/step\(tripText)")
        }
    }

    enum ThreadingChoice: String, ExpressibleByArgument, CaseIterable {
        case split, openblas, batchSplit = "batch-split"
        func mode(_ t: Int) -> GEMMThreading {
            switch self {
            case .split: return .rowSplit(threads: t)
            case .openblas: return .openBLAS(threads: t)
            case .batchSplit: return .rowSplit(threads: 1)   // each replica's gemm on its own thread
            }
        }
    }

    /// `StepBenchmark.run` on `threads` threads at once, rank r of a `ThreadProcessGroup` on
    /// each (this thread is rank 0 and counts allocations, of all threads); rank 0's result.
    private func batchSplit(_ model: Model, train: LabeledImages) throws -> StepBenchmark.Result {
        let group = ThreadProcessGroup(size: threads)
        let failures = Mutex<[Error]>([])
        let done = DispatchGroup()
        for rank in 1..<threads {
            done.enter()
            let (steps, warmup, batchSize) = (self.steps, self.warmup, self.batchSize)
            Thread {
                defer { done.leave() }
                do {
                    let member = group.member(rank)
                    _ = try StepBenchmark.run(model, train: train, batchSize: batchSize, warmup: warmup, steps: steps,
                                              processGroup: member, countAllocations: { body in
                                                  try body()
                                                  try member.barrier()
                                                  return nil
                                              })
                } catch {
                    failures.withLock { $0.append(error) }
                }
            }.start()
        }
        // Rank 0 counts the allocations of every thread; the others wait at a barrier until it
        // has stopped counting, so their ends (returning, thread exit) fall outside the window.
        let first = group.member(0)
        let r = try StepBenchmark.run(model, train: train, batchSize: batchSize, warmup: warmup, steps: steps,
                                      processGroup: first, countAllocations: { body in
                                          let n = try Self.countAllocations(body)
                                          try first.barrier()
                                          return n
                                      })
        done.wait()
        if let e = failures.withLock({ $0.first }) { throw e }
        return r
    }

    /// Heap allocations (all threads, OpenBLAS's included) made by `body`, counted with
    /// malloc-interposer; nil when the interposer is not active (its positive control counted
    /// nothing).
    static func countAllocations(_ body: () throws -> Void) throws -> Int? {
        MallocInterposerSwift.initialize()
        MallocInterposerSwift.reset()
        MallocInterposerSwift.hook()
        try body()
        MallocInterposerSwift.unhook()
        let allocations = MallocInterposerSwift.getStatistics().mallocCount
        // Positive control: an allocation the counter must see.
        MallocInterposerSwift.reset()
        MallocInterposerSwift.hook()
        let control = Matrix(rows: 8, cols: 8)
        MallocInterposerSwift.unhook()
        let active = MallocInterposerSwift.getStatistics().mallocCount > 0 && control.count == 64
        return active ? allocations : nil
    }
}

extension StepBenchmark.Model: ExpressibleByArgument {}
