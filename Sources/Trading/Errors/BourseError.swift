/// The one error type of Bourse: a machine-readable code and a message that is safe to show a client.
///
/// The message never carries secrets or whole payloads. The API module maps `code` to an HTTP status;
/// nothing below it knows about HTTP.
public struct BourseError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, RawRepresentable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        public static let validation = Code(rawValue: "VALIDATION_ERROR")
        public static let unauthorized = Code(rawValue: "UNAUTHORIZED")
        public static let forbidden = Code(rawValue: "FORBIDDEN")
        public static let notFound = Code(rawValue: "NOT_FOUND")
        public static let conflict = Code(rawValue: "CONFLICT")
        public static let payloadTooLarge = Code(rawValue: "PAYLOAD_TOO_LARGE")
        public static let insufficientFunds = Code(rawValue: "INSUFFICIENT_FUNDS")
        public static let orderRejected = Code(rawValue: "ORDER_REJECTED")
        public static let invalidStrategy = Code(rawValue: "INVALID_STRATEGY")
        public static let rateLimited = Code(rawValue: "RATE_LIMITED")
        public static let unavailable = Code(rawValue: "UNAVAILABLE")
        public static let `internal` = Code(rawValue: "INTERNAL")
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    public static func validation(_ message: String) -> BourseError { BourseError(.validation, message) }
    public static func overflow(_ what: String) -> BourseError { BourseError(.validation, "\(what) is out of range") }
}
