public import NIOCore

/// A request as a ``PeerHandler`` sees it.
public struct PeerRequest: Sendable {
    /// The message id, unique per sender incarnation; the reply must carry it.
    public var id: UInt64
    /// The node that sent the request (authenticated for the stream it came on).
    public var sender: PeerIdentity
    /// The sender's view of the ring.
    public var ringVersion: UInt64
    /// What the payload is.
    public var kind: UInt16
    /// When the sender stops waiting, on this process's clock.
    public var deadline: ContinuousClock.Instant
    /// The message.
    public var payload: ByteBuffer

    /// Creates a request.
    public init(
        id: UInt64, sender: PeerIdentity, ringVersion: UInt64, kind: UInt16, deadline: ContinuousClock.Instant,
        payload: ByteBuffer
    ) {
        self.id = id
        self.sender = sender
        self.ringVersion = ringVersion
        self.kind = kind
        self.deadline = deadline
        self.payload = payload
    }

    /// A successful reply to this request.
    /// - Parameters:
    ///   - kind: What the reply payload is.
    ///   - ringVersion: The replier's view of the ring.
    ///   - payload: The reply.
    public func reply(kind: UInt16, ringVersion: UInt64 = 0, payload: ByteBuffer = ByteBuffer()) -> PeerReply {
        PeerReply(requestID: id, kind: kind, ringVersion: ringVersion, isError: false, payload: payload)
    }

    /// A reply that reports an application-level failure (e.g. "not the owner of this shard").
    /// - Parameters:
    ///   - kind: What the error payload is.
    ///   - ringVersion: The replier's view of the ring.
    ///   - payload: The error details.
    public func failure(kind: UInt16, ringVersion: UInt64 = 0, payload: ByteBuffer = ByteBuffer()) -> PeerReply {
        PeerReply(requestID: id, kind: kind, ringVersion: ringVersion, isError: true, payload: payload)
    }
}

extension PeerRequest {
    /// The request an envelope carries, with its deadline placed on this process's clock.
    init(_ envelope: PeerEnvelope, receivedAt now: ContinuousClock.Instant) {
        self.init(
            id: envelope.id, sender: envelope.sender, ringVersion: envelope.ringVersion, kind: envelope.kind,
            deadline: now + .milliseconds(Int64(envelope.timeoutMilliseconds)), payload: envelope.payload)
    }
}
