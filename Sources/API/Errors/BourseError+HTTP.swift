import Hummingbird
import Trading

/// The one place where error codes become HTTP statuses (api.md, "Errors").
extension BourseError.Code {
    /// The status a response with this code carries; unknown codes are server errors.
    public var httpStatus: HTTPResponse.Status {
        switch self {
        case .validation: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .payloadTooLarge: .contentTooLarge
        case .insufficientFunds, .orderRejected, .invalidStrategy: .unprocessableContent
        case .rateLimited: .tooManyRequests
        case .unavailable: .serviceUnavailable
        default: .internalServerError
        }
    }
}

extension BourseError {
    /// The HTTP status of this error.
    public var httpStatus: HTTPResponse.Status { code.httpStatus }

    static func unauthorized(_ message: String = "authentication required") -> BourseError {
        BourseError(.unauthorized, message)
    }

    static func forbidden(_ message: String = "not allowed") -> BourseError { BourseError(.forbidden, message) }

    static func notFound(_ message: String) -> BourseError { BourseError(.notFound, message) }
}
