import Linalg

/// The processes of a data-parallel run, as PyTorch's `torch.distributed` process group:
/// each process (rank `0..<size`) trains a replica of the same model on its share of every
/// global batch, and the gradients are summed across processes (`allreduce`) before each
/// update. The library defines the interface; the `Distributed` module implements it over
/// MPI, so code that imports `NN`, `Generative` or `Training` needs no MPI.
///
/// Every process must make the same calls in the same order (collective operations).
public protocol ProcessGroup: AnyObject {
    /// This process's index, `0..<size`; rank 0 writes the run's files.
    var rank: Int { get }
    /// Number of processes.
    var size: Int { get }
    /// Replaces `buffer` by its elementwise sum over all processes (MPI_Allreduce, MPI_SUM);
    /// every process receives the same values.
    /// - Throws: when the transport fails.
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws
    /// As `allreduceSum(_:)` for Double values (metrics, flags).
    func allreduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws
    /// Returns once every process has called it.
    func barrier() throws
    /// True when the ranks are threads of this process (`ThreadProcessGroup`): each replica's
    /// gemm then runs single-threaded. Default: false (separate processes).
    var isInProcess: Bool { get }
}

extension ProcessGroup {
    public var isInProcess: Bool { false }
}

extension GradientHook {
    /// Data parallelism's reduction: turns this process's gradients (the mean over its rows of
    /// the global batch, `ParameterGroup.shard`) into the gradients of the mean over the
    /// whole global batch, the same on every process: each is scaled by its share
    /// (`RowShard.weight`) and the results are summed by one allreduce over the contiguous
    /// gradient buffer (`count * 4` bytes). Put it first, so the non-finite check and a clip
    /// see the reduced gradients and every process decides alike. A collective hook: a
    /// trainer runs it even after a non-finite loss (with NaN gradients), so no process is
    /// left waiting.
    ///
    /// With `checkingFinite`, it is also `nonFiniteCheck` on the reduced gradients (throws
    /// `NonFiniteGradientError` on every process alike). Threads of one process
    /// (`ThreadProcessGroup`) then scale, sum and check in one pass over each rank's chunk
    /// instead of three over the whole buffer; every non-NaN value is the same bits either way.
    public static func allreduce(_ group: any ProcessGroup, checkingFinite: Bool = false) -> GradientHook {
        GradientHook(name: checkingFinite ? "allreduce + non-finite check" : "allreduce", isCollective: true) { parameters in
            let weight = parameters.shard.map { $0.rows.count != $0.globalRows ? $0.weight : 1 } ?? 1
            let finite: Bool
            if let member = group as? ThreadProcessGroup.Member {
                finite = parameters.withMutableGradients {
                    member.group.weightedAllreduce($0, weight: weight, rank: member.rank)
                }
            } else {
                if weight != 1 { parameters.scaleGradients(by: weight) }
                try parameters.withMutableGradients { try group.allreduceSum($0) }
                finite = !checkingFinite || parameters.gradients.allFinite()
            }
            if checkingFinite && !finite {
                throw NonFiniteGradientError(parameter: parameters.firstNonFiniteGradient() ?? "?")
            }
        }
    }

    /// `hooks` made data-parallel over `group`: the allreduce first; when `hooks` starts with
    /// `nonFiniteCheck` (the trainers' default), the allreduce takes its place and checks the
    /// reduced gradients itself (`allreduce(_:checkingFinite:)`), the same check in one pass.
    public static func distributing(_ hooks: [GradientHook], over group: any ProcessGroup) -> [GradientHook] {
        if let first = hooks.first, first.isNonFiniteCheck {
            return [.allreduce(group, checkingFinite: true)] + hooks.dropFirst()
        }
        return [.allreduce(group)] + hooks
    }
}
