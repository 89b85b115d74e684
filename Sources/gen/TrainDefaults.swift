/// `gen train`'s defaults for the flags every model shares: the one place they are set, used
/// by `Train.makeConfig` and shown in `gen train --help`.
enum TrainDefaults {
    static let batchSize = 128
    static let seed: UInt64 = 1
    static let sampleEvery = 1
    static let logEvery = 100
    static let keepCheckpoints = 3
}
