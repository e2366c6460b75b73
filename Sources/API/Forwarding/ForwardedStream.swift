public import NIOCore

/// An answer whose body arrives piece by piece: a server-sent event stream that the active node serves,
/// relayed by a standby for as long as the client listens.
public struct ForwardedStream: Sendable {
    /// The status the serving node answered with.
    public var status: Int
    /// Its header fields (relayed as for ``ForwardedResponse``).
    public var headers: [ForwardedHeader]
    /// The body as it arrives; ends when the serving node ends it, throws when the connection to it fails.
    /// Dropping the iterator (the client left) must close that connection.
    public var body: AsyncThrowingStream<ByteBuffer, any Error>

    public init(status: Int, headers: [ForwardedHeader], body: AsyncThrowingStream<ByteBuffer, any Error>) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// A forwarder that cannot relay streams.
public struct StreamForwardingUnsupported: Error, CustomStringConvertible {
    public var description: String { "this node cannot relay event streams" }
}

extension RequestForwarder {
    /// Streams are not relayed unless the forwarder says how.
    public func forwardStream(_ request: ForwardedRequest) async throws -> ForwardedStream {
        throw StreamForwardingUnsupported()
    }
}
