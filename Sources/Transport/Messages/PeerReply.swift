public import NIOCore

/// The answer to one request.
///
/// `isError` marks an application-level failure chosen by the handler; failures of the transport itself are
/// thrown as ``PeerTransportError`` by ``PeerChannel/send(_:deadline:)`` instead.
public struct PeerReply: Sendable, Equatable {
    /// The id of the request this answers.
    public var requestID: UInt64
    /// What the payload is; opaque to the transport.
    public var kind: UInt16
    /// The replier's view of the ring.
    public var ringVersion: UInt64
    /// Whether the handler reports a failure.
    public var isError: Bool
    /// The reply; opaque to the transport.
    public var payload: ByteBuffer
    /// Set when the transport at the receiver answered instead of the handler.
    var transportFailure: PeerTransportError.Code?

    /// Creates a reply; handlers usually call ``PeerRequest/reply(kind:ringVersion:payload:)`` instead.
    public init(requestID: UInt64, kind: UInt16, ringVersion: UInt64 = 0, isError: Bool = false, payload: ByteBuffer) {
        self.requestID = requestID
        self.kind = kind
        self.ringVersion = ringVersion
        self.isError = isError
        self.payload = payload
        self.transportFailure = nil
    }

    /// A reply made by the receiving transport: the request was not (or not validly) handled.
    static func transportFailure(_ code: PeerTransportError.Code, requestID: UInt64) -> PeerReply {
        var reply = PeerReply(requestID: requestID, kind: code.wireValue, isError: true, payload: ByteBuffer())
        reply.transportFailure = code
        return reply
    }

    /// The reply as the caller receives it: transport failures become errors.
    var result: Result<PeerReply, PeerTransportError> {
        if let transportFailure {
            return .failure(PeerTransportError(code: transportFailure, reason: "reported by the receiver"))
        }
        return .success(self)
    }
}

extension PeerReply {
    /// The reply as an envelope written by `sender`.
    func envelope(from sender: PeerIdentity) -> PeerEnvelope {
        var flags: PeerEnvelope.Flags = .reply
        if isError { flags.insert(.error) }
        if transportFailure != nil { flags.formUnion([.error, .transport]) }
        return PeerEnvelope(
            id: requestID, sender: sender, ringVersion: ringVersion, kind: kind, flags: flags, timeoutMilliseconds: 0,
            payload: payload)
    }

    /// The reply an envelope carries (the envelope must have the reply flag).
    init(_ envelope: PeerEnvelope) {
        self.init(
            requestID: envelope.id, kind: envelope.kind, ringVersion: envelope.ringVersion,
            isError: envelope.flags.contains(.error), payload: envelope.payload)
        if envelope.flags.contains(.transport) {
            self.transportFailure = PeerTransportError.Code(wireValue: envelope.kind)
        }
    }
}
