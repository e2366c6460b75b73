/// A failure of the peer transport: a ``Code`` and a short reason.
///
/// The reason is fixed text chosen by the transport; it never carries payloads, secrets, signatures or
/// anything a peer sent, so errors are safe to log and to show.
public struct PeerTransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        enum Base: UInt16, Sendable {
            case timeout = 1
            case unavailable = 2
            case unauthenticated = 3
            case cancelled = 4
            case shutdown = 5
            case malformedFrame = 6
            case frameTooLarge = 7
            case messageTooLarge = 8
            case protocolViolation = 9
            case staleIncarnation = 10
            case noReply = 11
            case permissionDenied = 12
            case invalidArgument = 13
        }

        let base: Base

        init(_ base: Base) { self.base = base }

        /// The deadline passed before a reply arrived (or, at the receiver, before the request was handled).
        public static let timeout = Code(.timeout)
        /// The peer could not be reached.
        public static let unavailable = Code(.unavailable)
        /// The peer refused the stream: missing or wrong signature, or a timestamp too far off.
        public static let unauthenticated = Code(.unauthenticated)
        /// The calling task was cancelled.
        public static let cancelled = Code(.cancelled)
        /// The client or server was shut down.
        public static let shutdown = Code(.shutdown)
        /// Bytes that are not a valid frame: truncated, unknown version, bad flags, trailing bytes.
        public static let malformedFrame = Code(.malformedFrame)
        /// A frame announced more bytes than the configured maximum.
        public static let frameTooLarge = Code(.frameTooLarge)
        /// One message alone does not fit in a frame.
        public static let messageTooLarge = Code(.messageTooLarge)
        /// The peer broke the stream protocol (e.g. sent a request where a reply was expected).
        public static let protocolViolation = Code(.protocolViolation)
        /// The request came from an older incarnation of its sender than the receiver has already seen.
        public static let staleIncarnation = Code(.staleIncarnation)
        /// The receiver's handler returned no reply for the request.
        public static let noReply = Code(.noReply)
        /// The request claimed a sender other than the authenticated peer.
        public static let permissionDenied = Code(.permissionDenied)
        /// An argument or configuration value is not acceptable (e.g. an invalid node id).
        public static let invalidArgument = Code(.invalidArgument)

        /// The value carried in the `kind` field of a transport-error reply.
        var wireValue: UInt16 { base.rawValue }

        /// The code for a wire value; unknown values read as ``protocolViolation``.
        init(wireValue: UInt16) {
            self.base = Base(rawValue: wireValue) ?? .protocolViolation
        }

        public var description: String {
            switch base {
            case .timeout: "timeout"
            case .unavailable: "unavailable"
            case .unauthenticated: "unauthenticated"
            case .cancelled: "cancelled"
            case .shutdown: "shutdown"
            case .malformedFrame: "malformedFrame"
            case .frameTooLarge: "frameTooLarge"
            case .messageTooLarge: "messageTooLarge"
            case .protocolViolation: "protocolViolation"
            case .staleIncarnation: "staleIncarnation"
            case .noReply: "noReply"
            case .permissionDenied: "permissionDenied"
            case .invalidArgument: "invalidArgument"
            }
        }
    }

    /// What went wrong.
    public var code: Code
    /// Fixed, data-free explanation.
    public var reason: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: What went wrong.
    ///   - reason: Fixed explanation; never put payloads or secrets in it.
    public init(code: Code, reason: String = "") {
        self.code = code
        self.reason = reason
    }

    public var description: String {
        reason.isEmpty ? "PeerTransportError(\(code))" : "PeerTransportError(\(code): \(reason))"
    }
}
