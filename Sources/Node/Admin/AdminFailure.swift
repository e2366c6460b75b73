import API

/// Why a `bourse admin` command failed, and the exit status it ends with.
///
/// Exit statuses: 1 when `verify` found violations, 2 when a request failed (the node unreachable, a login
/// refused, an error answer), 64 for bad usage (swift-argument-parser).
struct AdminFailure: Error, Sendable, CustomStringConvertible {
    static let verifyFailed: Int32 = 1
    static let requestFailed: Int32 = 2
    /// Bad usage (`EX_USAGE`): a malformed `--node`, no credentials, a symbol the command cannot split.
    static let badUsage: Int32 = 64

    /// A mistake in the command line, told apart from a request that failed (exit 64, not 2).
    static func usage(_ message: String) -> AdminFailure { AdminFailure(message: message, exitCode: badUsage) }

    /// Shown on standard error; never carries a password or a token.
    var message: String
    var exitCode: Int32 = AdminFailure.requestFailed
    /// The API's error body, printed with `--json`.
    var body: JSONValue?

    var description: String { message }

    static func unreachable(_ endpoint: AdminEndpoint, _ error: any Error) -> AdminFailure {
        AdminFailure(message: "cannot reach \(endpoint) (is the node running there?)")
    }

    /// An error answer of the API: its code and message (api.md's envelope), or the bare status.
    static func api(status: Int, body: JSONValue?) -> AdminFailure {
        if let code = body?["error"]?["code"]?.stringValue {
            let message = body?["error"]?["message"]?.stringValue ?? ""
            return AdminFailure(message: "\(code): \(message) (HTTP \(status))", body: body)
        }
        return AdminFailure(message: "the node answered HTTP \(status)", body: body)
    }
}
