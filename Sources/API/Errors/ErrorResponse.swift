import Hummingbird
import Logging
import NIOCore
import Trading

/// Turns any error into the API's error response: `{"error": {"code", "message"}}`.
///
/// `BourseError`s keep their code and message (safe to show by construction); Hummingbird's own
/// errors (unknown route, body too large) get the matching code; anything else is a 500 whose
/// details go to the log only.
enum ErrorResponse {
    static func make(for error: any Error, logger: Logger) -> Response {
        let (error, headers) = resolve(error, logger: logger)
        return make(error, headers: headers)
    }

    /// The `BourseError` (with any headers) that `error` is shown as; unexpected errors are logged and
    /// become a bare INTERNAL.
    static func resolve(_ error: any Error, logger: Logger) -> (error: BourseError, headers: HTTPFields) {
        switch error {
        case let error as APIError:
            return (error.error, error.headers)
        case let error as BourseError:
            if error.code == .unavailable { return (error, [.retryAfter: "1"]) }
            guard error.httpStatus == .internalServerError else { return (error, [:]) }
            logger.error("request failed", metadata: ["error": "\(error)"])
            return (BourseError(.internal, "internal error"), [:])
        case let error as any HTTPResponseError:
            return (bourseError(for: error, logger: logger), retryAfter((error as? HTTPError)?.headers ?? [:]))
        default:
            logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            return (BourseError(.internal, "internal error"), [:])
        }
    }

    /// The response for `error`, with extra headers.
    static func make(_ error: BourseError, headers: HTTPFields = [:]) -> Response {
        let body: JSONValue = ["error": ["code": .string(error.code.rawValue), "message": .string(error.message)]]
        return Response.json(body, status: error.httpStatus, headers: headers)
    }

    private static func retryAfter(_ headers: HTTPFields) -> HTTPFields {
        guard let value = headers[.retryAfter] else { return [:] }
        return [.retryAfter: value]
    }

    private static func bourseError(for error: any HTTPResponseError, logger: Logger) -> BourseError {
        switch error.status {
        case .notFound: return .notFound("no such route")
        case .contentTooLarge: return BourseError(.payloadTooLarge, "request body is too large")
        case .unauthorized: return .unauthorized()
        case .forbidden: return .forbidden()
        case .tooManyRequests: return BourseError(.rateLimited, "rate limit exceeded")
        case .serviceUnavailable: return BourseError(.unavailable, "service unavailable")
        case .methodNotAllowed: return .notFound("no such route")
        default:
            if error.status.kind == .clientError { return .validation((error as? HTTPError)?.body ?? "bad request") }
            logger.error("request failed", metadata: ["status": "\(error.status.code)"])
            return BourseError(.internal, "internal error")
        }
    }
}

/// Renders errors for every route, the unknown-route responder included.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            return ErrorResponse.make(for: error, logger: context.logger)
        }
    }
}
