import Hummingbird
import Trading

/// A strategy request refused with every problem found: `{"error": {"code", "message", "details": [{path,
/// message}]}}`. The code is `VALIDATION_ERROR` (400) when the request is not shaped like a strategy (a
/// missing or mistyped member, an unknown side, a quantity off the lot grid) and `INVALID_STRATEGY` (422)
/// when it is, but a rule tree is impossible or meaningless; the details list the problems of both kinds.
struct StrategyValidationError: Error, Sendable {
    var code: BourseError.Code
    var problems: [RuleProblem]

    /// The first problem, and how many more there are.
    var message: String {
        guard let first = problems.first else { return "invalid strategy" }
        let more = problems.count - 1
        return more == 0 ? first.description : "\(first) (and \(more) more problem\(more == 1 ? "" : "s"))"
    }

    var error: BourseError { BourseError(code, message) }

    /// The error response, with `details`.
    var response: Response {
        let details = problems.map { problem -> JSONValue in
            ["path": .string(problem.path.description), "message": .string(problem.message)]
        }
        let body: JSONValue = [
            "error": ["code": .string(code.rawValue), "message": .string(message), "details": .array(details)]
        ]
        return .json(body, status: code.httpStatus)
    }
}
