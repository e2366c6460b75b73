public import NIOCore

/// What a caller sends to a peer: the transport adds the message id, the sender and the deadline.
public struct PeerMessage: Sendable, Equatable {
    /// What the payload is; opaque to the transport.
    public var kind: UInt16
    /// The caller's view of the ring.
    public var ringVersion: UInt64
    /// The message; opaque to the transport.
    public var payload: ByteBuffer

    /// Creates a message.
    /// - Parameters:
    ///   - kind: What the payload is.
    ///   - ringVersion: The caller's view of the ring.
    ///   - payload: The message.
    public init(kind: UInt16, ringVersion: UInt64 = 0, payload: ByteBuffer) {
        self.kind = kind
        self.ringVersion = ringVersion
        self.payload = payload
    }
}
