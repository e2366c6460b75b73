import Hummingbird
import Trading

/// A `BourseError` that carries response headers too (`Retry-After` on 429 and 503).
struct APIError: Error, Sendable {
    var error: BourseError
    var headers: HTTPFields

    init(_ error: BourseError, headers: HTTPFields = [:]) {
        self.error = error
        self.headers = headers
    }

    /// 429 with the seconds after which a retry can succeed.
    static func rateLimited(retryAfterSeconds: Int, _ message: String = "rate limit exceeded") -> APIError {
        APIError(BourseError(.rateLimited, message), headers: [.retryAfter: String(max(1, retryAfterSeconds))])
    }
}
