import NIOCore
import NIOHTTP1
import NIOPosix

/// A response read whole.
struct AdminHTTPResponse: Sendable {
    var status: Int
    var body: [UInt8]
}

/// The smallest HTTP/1.1 client that `bourse admin` needs: one request per connection
/// (`Connection: close`), the whole response collected, over cleartext TCP (the client port accepts
/// HTTP/1.1 next to h2c).
struct AdminHTTPClient: Sendable {
    let endpoint: AdminEndpoint
    /// How long one request may take, connection included.
    var timeout: TimeAmount = .seconds(60)

    /// Sends `method path` with an optional JSON body and bearer token; returns the response.
    ///
    /// - Throws: `AdminFailure` when the node cannot be reached or answers nothing complete in time.
    func send(_ method: HTTPMethod, _ path: String, json body: [UInt8]? = nil, token: String? = nil) async throws
        -> AdminHTTPResponse
    {
        let group = MultiThreadedEventLoopGroup.singleton
        let loop = group.next()
        let promise = loop.makePromise(of: AdminHTTPResponse.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(.seconds(10))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise))
                    }
                }
                .connect(host: endpoint.host, port: endpoint.port).get()
        } catch {
            promise.fail(AdminFailure.unreachable(endpoint, error))
            throw AdminFailure.unreachable(endpoint, error)
        }
        let deadline = loop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        defer { deadline.cancel() }
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: endpoint.hostHeader)
        head.headers.add(name: "User-Agent", value: "bourse-admin")
        head.headers.add(name: "Accept", value: "application/json")
        head.headers.add(name: "Connection", value: "close")
        if let token { head.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: String(body.count))
        } else if method == .POST {
            head.headers.add(name: "Content-Length", value: "0")
        }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        do {
            let response = try await promise.futureResult.get()
            channel.close(promise: nil)
            return response
        } catch {
            channel.close(promise: nil)
            throw error
        }
    }
}

/// Collects one response and completes the promise with it; a connection that ends first fails it.
private final class ResponseCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<AdminHTTPResponse>
    private var status: Int?
    private var body: [UInt8] = []
    private var done = false

    init(promise: EventLoopPromise<AdminHTTPResponse>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
        case .body(let buffer):
            body.append(contentsOf: buffer.readableBytesView)
        case .end:
            finish(.success(AdminHTTPResponse(status: status ?? 0, body: body)))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(
            .failure(
                AdminFailure(
                    message: "the node closed the connection without a complete response (or it took too long)")))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(AdminFailure(message: "connection failed: \(error)")))
        context.close(promise: nil)
    }

    private func finish(_ result: Result<AdminHTTPResponse, any Error>) {
        guard !done else { return }
        done = true
        promise.completeWith(result)
    }
}
