public import NIOCore

/// One message on the wire: a request or a reply, with its routing fields and an opaque payload.
public struct PeerEnvelope: Sendable, Equatable {
    /// What an envelope is.
    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }

        /// A request: the receiver hands it to its handler.
        public static let request = Flags(rawValue: 1 << 0)
        /// A reply: `id` is the id of the request it answers.
        public static let reply = Flags(rawValue: 1 << 1)
        /// A reply that reports a failure.
        public static let error = Flags(rawValue: 1 << 2)
        /// An error produced by the transport rather than the handler: `kind` holds a
        /// ``PeerTransportError/Code`` and the payload is empty.
        public static let transport = Flags(rawValue: 1 << 3)

        static let all: Flags = [.request, .reply, .error, .transport]

        /// Exactly one of request and reply; error only on replies; transport only with error.
        public var isValid: Bool {
            guard Flags.all.isSuperset(of: self) else { return false }
            if contains(.request) { return self == .request }
            guard contains(.reply) else { return false }
            return !contains(.transport) || contains(.error)
        }
    }

    /// The message id: unique per sender incarnation. A reply carries the id of its request.
    public var id: UInt64
    /// The node that wrote this envelope.
    public var sender: PeerIdentity
    /// The sender's view of the ring when it wrote the envelope.
    public var ringVersion: UInt64
    /// What the payload is; opaque to the transport.
    public var kind: UInt16
    /// Request, reply, error.
    public var flags: Flags
    /// Time left until the request's deadline when the envelope was written; 0 on replies.
    public var timeoutMilliseconds: UInt32
    /// The message; opaque to the transport.
    public var payload: ByteBuffer

    /// Creates an envelope.
    public init(
        id: UInt64, sender: PeerIdentity, ringVersion: UInt64, kind: UInt16, flags: Flags,
        timeoutMilliseconds: UInt32, payload: ByteBuffer
    ) {
        self.id = id
        self.sender = sender
        self.ringVersion = ringVersion
        self.kind = kind
        self.flags = flags
        self.timeoutMilliseconds = timeoutMilliseconds
        self.payload = payload
    }
}
