/// One reason a strategy is refused, at the node that has it.
public struct RuleProblem: Hashable, Sendable, CustomStringConvertible {
    public var path: RulePath
    public var message: String

    public init(_ path: RulePath, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.components.isEmpty ? message : "\(path): \(message)" }
}
