public import HTTPTypes
public import NIOCore
import NIOHTTP2
import NIOHTTPTypes
import NIOHTTPTypesHTTP2
public import NIOPosix

/// Minimal HTTP/2 client over cleartext with prior knowledge (h2c), for tests and the load benchmark.
///
/// One TCP connection; every request opens its own HTTP/2 stream on it, so concurrent
/// calls are multiplexed. No TLS, no redirects, no retries.
///
/// ```swift
/// try await H2Client.withConnection(host: "127.0.0.1", port: port) { client in
///     let response = try await client.request(method: .get, path: "/hello")
///     #expect(response.status == .ok)
/// }
/// ```
public final class H2Client: Sendable {
    /// A fully read response.
    public struct Response: Sendable {
        /// Final (non-1xx) response status.
        public var status: HTTPResponse.Status
        /// Response header fields (pseudo-headers excluded).
        public var headers: HTTPFields
        /// Whole response body.
        public var body: ByteBuffer
        /// Trailer fields, if the server sent any.
        public var trailers: HTTPFields?
    }

    /// Errors thrown by ``H2Client``.
    public enum Error: Swift.Error, Sendable {
        /// The stream ended before a final response head arrived.
        case noResponseHead
        /// A response part arrived out of order.
        case unexpectedPart
    }

    /// The connection's channel.
    public let channel: any Channel
    private let multiplexer: NIOHTTP2Handler.AsyncStreamMultiplexer<Void>
    private let authority: String

    private init(channel: any Channel, multiplexer: NIOHTTP2Handler.AsyncStreamMultiplexer<Void>, authority: String) {
        self.channel = channel
        self.multiplexer = multiplexer
        self.authority = authority
    }

    /// Open an h2c connection: the client sends the connection preface at once.
    /// - Parameters:
    ///   - host: Host to connect to.
    ///   - port: Port to connect to.
    ///   - eventLoopGroup: Event loop group for the connection.
    /// - Returns: A connected client; call ``close()`` when done.
    public static func connect(
        host: String,
        port: Int,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> H2Client {
        let (channel, multiplexer) = try await ClientBootstrap(group: eventLoopGroup)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let multiplexer = try channel.pipeline.syncOperations.configureAsyncHTTP2Pipeline(
                        mode: .client
                    ) { inboundStream in
                        // Servers don't open streams towards clients (push is disabled).
                        inboundStream.close()
                    }
                    return (channel, multiplexer)
                }
            }
        return H2Client(channel: channel, multiplexer: multiplexer, authority: "\(host):\(port)")
    }

    /// Run `body` with a connected client and close it afterwards.
    /// - Parameters:
    ///   - host: Host to connect to.
    ///   - port: Port to connect to.
    ///   - body: Work to do with the client.
    /// - Returns: What `body` returns.
    public static func withConnection<Result: Sendable>(
        host: String,
        port: Int,
        _ body: (H2Client) async throws -> Result
    ) async throws -> Result {
        let client = try await H2Client.connect(host: host, port: port)
        do {
            let result = try await body(client)
            try? await client.close()
            return result
        } catch {
            try? await client.close()
            throw error
        }
    }

    /// Send one request on a new stream and read the whole response.
    /// - Parameters:
    ///   - method: Request method.
    ///   - path: Request path and query, e.g. `/items?id=1`.
    ///   - headers: Extra header fields.
    ///   - body: Request body; `nil` for none.
    /// - Returns: Status, headers, body and trailers of the response.
    public func request(
        method: HTTPRequest.Method,
        path: String,
        headers: HTTPFields = [:],
        body: ByteBuffer? = nil
    ) async throws -> Response {
        try await self.exchange(method: method, path: path, headers: headers, body: body) { head, parts in
            var collected = ByteBuffer()
            while let part = try await parts.next() {
                switch part {
                case .body(var chunk):
                    collected.writeBuffer(&chunk)
                case .end(let trailers):
                    return Response(
                        status: head.status, headers: head.headerFields, body: collected, trailers: trailers)
                case .head:
                    throw Error.unexpectedPart
                }
            }
            // Stream closed without END_STREAM on a DATA/HEADERS frame: keep what arrived.
            return Response(status: head.status, headers: head.headerFields, body: collected, trailers: nil)
        }
    }

    /// Send one request on a new stream and hand the response head and body chunks to
    /// `handler` as they arrive (for long-lived bodies such as server-sent events).
    ///
    /// The stream is closed (reset if the server is still sending) when `handler` returns.
    /// - Parameters:
    ///   - method: Request method.
    ///   - path: Request path and query.
    ///   - headers: Extra header fields.
    ///   - body: Request body; `nil` for none.
    ///   - handler: Receives the final response head and the body as it streams in.
    /// - Returns: What `handler` returns.
    public func streamingRequest<Result: Sendable>(
        method: HTTPRequest.Method,
        path: String,
        headers: HTTPFields = [:],
        body: ByteBuffer? = nil,
        _ handler: (HTTPResponse, ResponseBody) async throws -> Result
    ) async throws -> Result {
        try await self.exchange(method: method, path: path, headers: headers, body: body) { head, parts in
            try await handler(head, ResponseBody(parts: parts))
        }
    }

    /// Response body chunks of a ``streamingRequest(method:path:headers:body:_:)``, in order.
    /// Iterate it once.
    public struct ResponseBody: AsyncSequence {
        public typealias Element = ByteBuffer
        fileprivate let parts: NIOAsyncChannelInboundStream<HTTPResponsePart>.AsyncIterator

        /// Make the (single) iterator.
        public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(parts: self.parts) }

        /// Iterator over body chunks; ends at the end of the stream.
        public struct AsyncIterator: AsyncIteratorProtocol {
            fileprivate var parts: NIOAsyncChannelInboundStream<HTTPResponsePart>.AsyncIterator

            /// Next body chunk, or `nil` once the response has ended.
            public mutating func next() async throws -> ByteBuffer? {
                while let part = try await self.parts.next() {
                    switch part {
                    case .body(let chunk): return chunk
                    case .end: return nil
                    case .head: throw H2Client.Error.unexpectedPart
                    }
                }
                return nil
            }
        }
    }

    /// Open a stream, send the request, wait for the final response head, then let
    /// `handler` read the rest of the stream.
    private func exchange<Result: Sendable>(
        method: HTTPRequest.Method,
        path: String,
        headers: HTTPFields,
        body: ByteBuffer?,
        _ handler: (HTTPResponse, inout NIOAsyncChannelInboundStream<HTTPResponsePart>.AsyncIterator) async throws ->
            Result
    ) async throws -> Result {
        let stream = try await self.multiplexer.openStream { streamChannel in
            streamChannel.eventLoop.makeCompletedFuture {
                try streamChannel.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTPClientCodec())
                return try NIOAsyncChannel<HTTPResponsePart, HTTPRequestPart>(
                    wrappingChannelSynchronously: streamChannel)
            }
        }
        let request = HTTPRequest(
            method: method, scheme: "http", authority: self.authority, path: path, headerFields: headers)
        return try await stream.executeThenClose { inbound, outbound in
            try await outbound.write(.head(request))
            if let body, body.readableBytes > 0 {
                try await outbound.write(.body(body))
            }
            try await outbound.write(.end(nil))

            var iterator = inbound.makeAsyncIterator()
            while let part = try await iterator.next() {
                guard case .head(let head) = part else { throw Error.unexpectedPart }
                // Skip interim responses such as 100 Continue.
                if head.status.kind != .informational {
                    return try await handler(head, &iterator)
                }
            }
            throw Error.noResponseHead
        }
    }

    /// Close the connection.
    public func close() async throws {
        try await self.channel.close()
    }
}
