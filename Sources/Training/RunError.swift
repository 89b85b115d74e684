/// A failure of a run that a user can act on (bad run directory contents, data that does not
/// fit the run): `description` is one line naming the file and the problem.
public struct RunError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
