import Linalg
import NN

/// Runs `hooks` on `group` in order; a non-finite gradient becomes a `NonFiniteError` naming
/// `network` and the parameter.
func runHooks(_ hooks: [GradientHook], on group: ParameterGroup, network: String, step: Int) throws {
    for hook in hooks {
        do {
            try hook.body(group)
        } catch let e as NonFiniteGradientError {
            throw NonFiniteError(step: step, location: "\(network) \(e.parameter) gradient")
        }
    }
}

/// Phases 1 and 2 of an update: `gradients` computes a loss and `group`'s gradients (the
/// mean over the rows `shard` of the global batch, recorded in `group.shard`), then the hooks
/// run. A non-finite loss (`NonFiniteError` from `gradients`) is thrown at once — or, when a
/// hook is collective (an allreduce), after the hooks have run on NaN gradients: every
/// process of a data-parallel run then takes part in the same reductions, sees NaN, and
/// stops at the same update.
func gradientsThenHooks<T>(_ hooks: [GradientHook], on group: ParameterGroup, network: String, step: Int,
                           shard: RowShard?, _ gradients: () throws -> T) throws -> T {
    group.shard = shard
    let result: T
    do {
        result = try gradients()
    } catch let e as NonFiniteError {
        guard hooks.contains(where: { $0.isCollective }) else { throw e }
        group.withMutableGradients { $0.update(repeating: .nan) }
        // The non-finite check throws after the reduction, as it should; the loss is the news.
        try? runHooks(hooks, on: group, network: network, step: step)
        throw e
    }
    try runHooks(hooks, on: group, network: network, step: step)
    return result
}
