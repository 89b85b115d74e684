/// Why an evaluation could not run: a missing or malformed classifier file, or inputs whose
/// shapes do not fit the classifier or each other. `description` is one line naming the file
/// (or the argument) at fault.
public struct EvaluationError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, for callers that react differently (e.g. a CLI adding a hint).
    public enum Kind: Sendable, Equatable {
        /// The classifier weights file does not exist.
        case fileNotFound
        /// The file exists but is not a classifier of the expected layout.
        case malformedFile
        /// An input matrix has the wrong number of rows or columns.
        case shapeMismatch
    }

    public let kind: Kind
    public let description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}
