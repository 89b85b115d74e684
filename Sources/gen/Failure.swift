import ArgumentParser
import Datasets
import Distributed
import FileIO
import Foundation
import Generative
import NN
import Training

/// gen's exit codes: sysexits(3) values where one fits (documented in the README).
enum ExitStatus {
    /// Training failed: a NaN/inf loss or gradient under `--on-nonfinite stop`, a diverging
    /// classifier; also any failure that fits no other code.
    static let failure: Int32 = 1
    /// EX_USAGE: a bad flag or argument (unknown, missing, malformed or out of range value).
    static let usage: Int32 = 64
    /// EX_DATAERR: an input exists but is malformed or does not fit (data file, run files,
    /// checkpoint, classifier weights, samples).
    static let dataError: Int32 = 65
    /// EX_NOINPUT: an input file or directory does not exist or cannot be read.
    static let noInput: Int32 = 66
    /// EX_CANTCREAT: an output cannot be written (run directory, checkpoint, PNG, NPY, JSON):
    /// a missing or read-only directory, no permission, a full disk, a run already there.
    static let cannotCreate: Int32 = 73
    /// 128 + signal: stopped by SIGINT (130) or SIGTERM (143) after writing a checkpoint.
    static func interrupted(by signal: Int32) -> Int32 { 128 + signal }
}

/// A failure `gen` reports as one line with a chosen exit code.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    let code: Int32

    init(_ code: Int32, _ description: String) {
        self.code = code
        self.description = description
    }

    /// An output that cannot be written: "cannot write <path>: <cause>" (exit 73).
    static func cannotWrite(_ path: String, _ error: Error) -> CLIError {
        CLIError(ExitStatus.cannotCreate, "cannot write \(path): \(SystemErrorText.describe(error, path: path))")
    }
}

/// Every failure of every subcommand ends here: one line `gen: error: <sentence>` on standard
/// error and the exit code of `ExitStatus`.
enum Failure {
    /// Prints `error` and returns the process exit code (help and --version print to standard
    /// output and return 0).
    static func report(_ error: Error) -> Int32 {
        // Already reported (an interrupt's lines, another rank's error): the code alone.
        if error is ExitCode || error is QuietExit { return status(error) }
        let code = Gen.exitCode(for: error)
        if code == .success || isParserError(error) {
            guard code != .success else { Gen.exit(withError: error) }
            printError("gen: error: \(Gen.message(for: error))\(helpHint(error))")
            return ExitStatus.usage
        }
        let (message, status) = classify(error)
        printError("gen: error: \(message)")
        return status
    }

    /// The exit code `report` would return for `error`, without printing.
    static func status(_ error: Error) -> Int32 {
        if let e = error as? ExitCode { return e.rawValue }
        if let e = error as? QuietExit { return e.code }
        if isParserError(error) { return ExitStatus.usage }
        return classify(error).1
    }

    /// True for argument-parser's own errors and `ValidationError` (flag errors, exit 64).
    static func isParserError(_ error: Error) -> Bool {
        // argument-parser's parse errors are internal types; it maps them all to EX_USAGE.
        error is ValidationError || (!(error is CLIError) && Gen.exitCode(for: error) == .validationFailure)
    }

    /// " (see 'gen train --help')", naming the subcommand given on the command line.
    static func helpHint(_ error: Error) -> String {
        let names = Gen.configuration.subcommands.map { $0._commandName }
        let sub = CommandLine.arguments.dropFirst().first { names.contains($0) }
        return " (see 'gen\(sub.map { " " + $0 } ?? "") --help')"
    }

    /// The message and exit code of a library or Foundation error.
    static func classify(_ error: Error) -> (String, Int32) {
        switch error {
        case let e as CLIError: return (e.description, e.code)
        case let e as NonFiniteStop: return (e.description, ExitStatus.failure)
        case let e as MPIError: return (e.description, ExitStatus.failure)
        case let e as DatasetError:
            if e.isWriteFailure { return (e.description, ExitStatus.cannotCreate) }
            let exists = FileManager.default.fileExists(atPath: e.path)
            return (e.description, exists ? ExitStatus.dataError : ExitStatus.noInput)
        case let e as FileIOError: return (e.description, ExitStatus.cannotCreate)
        case let e as RunDirectoryError: return (TrainRun.outMessage(e), ExitStatus.cannotCreate)
        case let e as EvaluationError:
            return (e.description, e.kind == .fileNotFound ? ExitStatus.noInput : ExitStatus.dataError)
        case let e as SafeTensorsError:
            let reading = e.kind != .io || e.message.hasPrefix("cannot read")
            return (e.description, reading ? ExitStatus.dataError : ExitStatus.cannotCreate)
        case is DecodingError: return (describeDecoding(error), ExitStatus.dataError)
        case is RunError, is CheckpointError, is ConfigError, is StateDictError, is OptimizerStateError:
            return ("\(error)", ExitStatus.dataError)
        case let e as CocoaError:
            let writing = (CocoaError.Code.fileWriteUnknown.rawValue...CocoaError.Code.fileWriteVolumeReadOnly.rawValue)
                .contains(e.code.rawValue)
            let path = e.filePath ?? e.url?.path
            let what = (writing ? "cannot write " : "cannot read ") + (path ?? "a file")
            return ("\(what): \(SystemErrorText.describe(e, path: path))",
                    writing ? ExitStatus.cannotCreate : ExitStatus.noInput)
        default:
            return ("\(error)", ExitStatus.failure)
        }
    }
}

/// Prints `message` on standard error.
/// Under mpirun, ranks other than 0 print nothing until training starts (rank 0 reports for
/// the run: every rank builds the same one), and then prefix their lines with their rank.
func printError(_ message: String) {
    if Launch.isQuiet { return }
    let line = Launch.rank == 0 ? message : "[rank \(Launch.rank)] \(message)"
    FileHandle.standardError.write((line + "\n").data(using: .utf8)!)
}

/// Prints `gen: warning: <message>` on standard error.
func printWarning(_ message: String) {
    printError("gen: warning: \(message)")
}
