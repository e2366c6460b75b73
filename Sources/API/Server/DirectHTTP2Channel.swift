import HTTPTypes
public import HummingbirdCore
import HummingbirdHTTP2
import Logging
public import NIOCore
import NIOHTTP2
import NIOHTTPTypes
import NIOHTTPTypesHTTP2

/// What serves the requests of ``DirectHTTP2Channel``: the whole request in (its body already read), the
/// response out.
public struct HTTP2StreamService: Sendable {
    /// Answers one request; `channel` is the request's HTTP/2 stream. Errors must already be responses.
    public var respond: @Sendable (Request, any Channel) async -> Response
    /// Bytes of a request body kept: a longer body is cut just past this many, so a route reading it with this
    /// limit still sees that it is too long (413), without the rest being held in memory.
    public var bodyLimit: Int

    /// - Parameters:
    ///   - bodyLimit: the largest request body any route accepts.
    ///   - respond: answers one request.
    public init(bodyLimit: Int, respond: @escaping @Sendable (Request, any Channel) async -> Response) {
        self.bodyLimit = bodyLimit
        self.respond = respond
    }
}

/// HTTP/2 connections whose streams are each served by one channel handler instead of Hummingbird's
/// `NIOAsyncChannel` per stream: the handler reads the request into memory and hands it to the connection's
/// task, which answers it in a child task (so the request runs in the server's task tree and sees its graceful
/// shutdown, as a server-sent event stream must), and the response's parts are written to the stream in one
/// event-loop hop (each part flushed as it comes for a body of unknown length). Connection handling — idle and
/// max-age timeouts, graceful close with GOAWAY when the server stops — is Hummingbird's
/// (`HTTP2ServerConnectionManager`); the connection's flushes are coalesced (`FlushCoalescingHandler`).
///
/// Per request this saves the asynchronous inbound sequence, the outbound writer and their state machines and
/// the handlers that bridge them: on a 2-core machine they were the largest part of the node's CPU per order
/// after the journal (see BENCHMARKS.md).
struct DirectHTTP2Channel: Sendable {
    let service: HTTP2StreamService
    let configuration: HTTP2ChannelConfiguration

    /// A connection and the requests its streams have read.
    struct Connection: Sendable {
        let channel: any Channel
        let requests: AsyncStream<StreamRequest>
    }

    /// A request read from a stream, to be answered on it.
    struct StreamRequest: Sendable {
        let request: Request
        let stream: any Channel
    }

    /// Adds the HTTP/2 handler, whose streams get a ``HTTP2RequestHandler`` each, and the connection manager.
    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Connection> {
        channel.eventLoop.makeCompletedFuture {
            let manager = HTTP2ServerConnectionManager(
                eventLoop: channel.eventLoop,
                idleTimeout: configuration.idleTimeout,
                maxAgeTimeout: configuration.maxAgeTimeout,
                gracefulCloseTimeout: configuration.gracefulCloseTimeout)
            let (requests, continuation) = AsyncStream.makeStream(of: StreamRequest.self)
            channel.closeFuture.whenComplete { _ in continuation.finish() }
            let bodyLimit = service.bodyLimit
            try channel.pipeline.syncOperations.addHandler(FlushCoalescingHandler())
            _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                mode: .server, connectionConfiguration: .init(), streamConfiguration: .init(),
                streamDelegate: manager.streamDelegate
            ) { stream in
                stream.eventLoop.makeCompletedFuture {
                    try stream.pipeline.syncOperations.addHandler(HTTP2FramePayloadToHTTPServerCodec())
                    try stream.pipeline.syncOperations.addHandler(
                        HTTP2RequestHandler(bodyLimit: bodyLimit, requests: continuation))
                }
            }
            try channel.pipeline.syncOperations.addHandler(manager)
            return Connection(channel: channel, requests: requests)
        }
    }

    /// Answers the connection's requests, each in a child task; returns when the connection has closed and
    /// its requests are answered.
    func handle(connection: Connection, logger: Logger) async {
        let service = self.service
        await withDiscardingTaskGroup { group in
            for await next in connection.requests {
                group.addTask {
                    let response = await service.respond(next.request, next.stream)
                    await StreamResponseBodyWriter.write(response, to: next.stream)
                }
            }
        }
    }
}

/// Reads one HTTP/2 stream's request — its body up to just past the limit — and hands it to the connection.
final class HTTP2RequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPRequestPart

    private let bodyLimit: Int
    private let requests: AsyncStream<DirectHTTP2Channel.StreamRequest>.Continuation
    private var head: HTTPRequest?
    private var body: ByteBuffer?

    init(bodyLimit: Int, requests: AsyncStream<DirectHTTP2Channel.StreamRequest>.Continuation) {
        self.bodyLimit = bodyLimit
        self.requests = requests
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(var part):
            guard var body = self.body else {
                self.body = part
                return
            }
            self.body = nil  // one reference while appending, so the buffer grows in place
            // Past the limit the rest is dropped: the route still sees more than it accepts and answers 413.
            if body.readableBytes <= bodyLimit { body.writeBuffer(&part) }
            self.body = body
        case .end:
            guard let head else {
                context.close(promise: nil)
                return
            }
            let request = Request(head: head, body: RequestBody(buffer: body ?? ByteBuffer()))
            self.head = nil
            self.body = nil
            if case .terminated = requests.yield(.init(request: request, stream: context.channel)) {
                context.close(promise: nil)
            }
        }
    }
}

/// Writes a response to an HTTP/2 stream channel from outside its event loop. A body of known length is
/// gathered and written with the head and the end of the stream in one hop; otherwise the head and each body
/// part are written and flushed as they come, each part waiting for its write (server-sent events need each
/// event sent at once, and a client that has gone away fails the next write).
struct StreamResponseBodyWriter: ResponseBodyWriter {
    let channel: any Channel
    let gathers: Bool
    var pending: [HTTPResponsePart]

    /// Writes `response` to `channel`, closing the stream when its body fails. The head of a body of unknown
    /// length leaves at once: a stream's client learns its status before the first event.
    static func write(_ response: consuming Response, to channel: any Channel) async {
        var writer = StreamResponseBodyWriter(
            channel: channel, gathers: response.body.contentLength != nil, pending: [.head(response.head)])
        if !writer.gathers { writer.send(promise: nil) }
        do {
            try await response.body.write(writer)
        } catch {
            channel.close(promise: nil)
        }
    }

    mutating func write(_ buffer: ByteBuffer) async throws {
        pending.append(.body(buffer))
        guard !gathers else { return }
        let promise = channel.eventLoop.makePromise(of: Void.self)
        send(promise: promise)
        try await promise.futureResult.get()
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        pending.append(.end(trailingHeaders))
        send(promise: nil)
    }

    /// Writes and flushes the pending parts in one hop to the event loop.
    private mutating func send(promise: EventLoopPromise<Void>?) {
        let parts = pending
        pending = []
        let channel = self.channel
        channel.eventLoop.execute {
            for part in parts.dropLast() {
                channel.write(part, promise: nil)
            }
            channel.writeAndFlush(parts[parts.count - 1], promise: promise)
        }
    }
}
