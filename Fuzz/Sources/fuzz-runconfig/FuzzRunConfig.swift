import Foundation
import FuzzSupport
import Generative
import Training

/// The two JSON files `gen train --resume` reads: the run's `config.json` (Training's RunConfig)
/// and a checkpoint's `state.json` (Training's TrainingState). The same bytes go to both.
/// The libFuzzer callback, for builds where libFuzzer's own `main` is linked (debug).
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzRunConfig(data ?? UnsafePointer(bitPattern: 1)!, size)
}

/// Entry point where SwiftPM links `main` to `<module>_main` (release): hands over to libFuzzer.
@_cdecl("fuzz_runconfig_main")
public func fuzzRunConfigMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    FuzzInput.runDriver(argc, argv) { data, size in fuzzRunConfig(data ?? UnsafePointer(bitPattern: 1)!, size) }
}

func fuzzRunConfig(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let config = FuzzInput.file(bytes, size, name: "config.json")
    do {
        let c = try RunConfig.read(runDirectory: FuzzInput.directory)
        // What read() promises the training loop.
        precondition(c.epochs >= 1 && c.batchSize >= 1 && c.threads >= 1 && c.logEvery >= 1
                     && c.sampleEvery >= 1 && c.keepCheckpoints >= 1 && (c.limit ?? 1) >= 1)
        precondition((c.model == "gan") == (c.gan != nil) && (c.model == "vae") == (c.vae != nil))
        try c.gan?.validate()
        try c.vae?.validate()
    } catch let e as RunError {
        FuzzInput.checkError(e.description, names: config)
    } catch {
        fatalError("unexpected error: \(error)")
    }
    // The same file as a checkpoint's config.json (gen sample / eval read it this way).
    do {
        _ = try RunConfig.read(checkpoint: FuzzInput.directory)
    } catch let e as RunError {
        FuzzInput.checkError(e.description, names: config)
    } catch let e as CheckpointError {
        FuzzInput.checkError(e.description, names: config)
    } catch {
        fatalError("unexpected error type: \(error)")
    }
    let state = FuzzInput.file(bytes, size, name: "state.json")
    do {
        let s = try Checkpoint.readState(in: FuzzInput.directory)
        precondition(s.problem == nil)
    } catch let e as CheckpointError {
        FuzzInput.checkError(e.description, names: state)
    } catch {
        fatalError("unexpected error type: \(error)")
    }
    return 0
}
