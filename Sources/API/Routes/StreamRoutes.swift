import Actors
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceLifecycle
import Trading

/// api.md "Streams": `GET /v1/stream?channels=…` as server-sent events.
struct StreamRoutes {
    let services: APIServices
    /// Most channels one stream may subscribe to.
    static let maxChannels = 64

    func register(on table: APIRouteTable) {
        let services = self.services
        table.get("/v1/stream") { request, context in
            // A stream needs the client's connection: streams are never forwarded (see `ForwardingMiddleware`).
            guard let channel = context.channel else {
                throw BourseError(.internal, "an event stream needs a client connection")
            }
            let channels = try Self.channels(request)
            let user: AuthenticatedUser?
            if channels.contains(.orders) {
                user = try context.requireUser()
            } else {
                user = try? context.optionalUser()
            }
            for channel in channels {
                switch channel {
                case .ticker(let symbol), .orderbook(let symbol), .trades(let symbol):
                    _ = try await services.exchange.market(symbol)
                case .orders: break
                }
            }
            let events = try await services.exchange.subscribe(channels: channels, user: user?.id)
            let specs = await services.marketSpecs()
            let heartbeat = services.configuration.heartbeatInterval
            let headers: HTTPFields = [
                .contentType: "text/event-stream", .cacheControl: "no-cache",
                HTTPField.Name("X-Accel-Buffering")!: "no",
            ]
            return Response(
                status: .ok, headers: headers,
                body: ResponseBody { writer in
                    let stream = EventStreamWriter(services: services, specs: specs, heartbeat: heartbeat)
                    try await stream.run(events: events, closing: channel, writer: &writer)
                })
        }
    }

    /// The `channels` query parameter: comma-separated, each known, at least one.
    static func channels(_ request: Request) throws(BourseError) -> [StreamChannel] {
        guard let text = request.query("channels") else { throw .validation("channels is required") }
        var channels: [StreamChannel] = []
        for name in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let channel = StreamChannel(parsing: String(name)) else {
                throw .validation("unknown channel \"\(name.prefix(64))\"")
            }
            if !channels.contains(channel) { channels.append(channel) }
        }
        guard channels.count <= maxChannels else { throw .validation("at most \(maxChannels) channels") }
        return channels
    }
}

/// Writes a subscription's events as `data:` lines and a `: heartbeat` comment every interval,
/// until the subscription ends, the client goes away or the server shuts down gracefully.
struct EventStreamWriter: Sendable {
    private enum Item: Sendable {
        case event(StreamEvent)
        case heartbeat
    }

    let services: APIServices
    let specs: [String: MarketSpec]
    let heartbeat: Duration

    /// Streams until `events` ends, `channel` closes (the client left) or a graceful shutdown.
    func run(events: AsyncStream<StreamEvent>, closing channel: any Channel, writer: inout any ResponseBodyWriter)
        async throws
    {
        let (items, continuation) = AsyncStream.makeStream(of: Item.self, bufferingPolicy: .bufferingNewest(4096))
        // Without this the writer would only notice a departed client at its next write.
        channel.closeFuture.whenComplete { _ in continuation.finish() }
        let heartbeat = self.heartbeat
        // A graceful shutdown (SIGTERM) ends the stream, so that open streams do not hold the drain up.
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in events { continuation.yield(.event(event)) }
                    continuation.finish()
                }
                group.addTask {
                    while true {
                        try await Task.sleep(for: heartbeat)
                        continuation.yield(.heartbeat)
                    }
                }
                var specs = self.specs
                for await item in items { try await write(item, to: &writer, specs: &specs) }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            continuation.finish()
            // A client that stopped reading holds the write under way for good (its flow-control window or socket
            // buffer full): past the grace period its stream is closed, which fails that write.
            channel.eventLoop.scheduleTask(in: Self.shutdownGrace) { channel.close(promise: nil) }
        }
        try await writer.finish(nil)
    }

    /// How long a stream may take to end after a graceful shutdown began.
    static let shutdownGrace: TimeAmount = .seconds(5)

    private func write(_ item: Item, to writer: inout any ResponseBodyWriter, specs: inout [String: MarketSpec])
        async throws
    {
        switch item {
        case .heartbeat:
            try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
        case .event(let event):
            let data = try await render(event.payload, specs: &specs)
            let line: JSONValue = ["channel": .string(event.channel), "sequence": .int(event.sequence), "data": data]
            var bytes = Array("data: ".utf8)
            JSONWriter.write(line, into: &bytes)
            bytes.append(contentsOf: "\n\n".utf8)
            try await writer.write(ByteBuffer(bytes: bytes))
        }
    }

    private func render(_ payload: StreamEvent.Payload, specs: inout [String: MarketSpec]) async throws -> JSONValue {
        func spec(_ symbol: String) async throws -> MarketSpec {
            if let spec = specs[symbol] { return spec }
            let spec = try await services.exchange.market(symbol).spec
            specs[symbol] = spec
            return spec
        }
        switch payload {
        case .ticker(let ticker): return Render.ticker(ticker, try await spec(ticker.symbol))
        case .orderbook(let depth): return Render.orderBook(depth, try await spec(depth.symbol))
        case .trade(let trade, let symbol):
            guard case .object(var object) = Render.publicTrade(trade, try await spec(symbol)) else { return .null }
            object.members.insert(JSONObject.Member(key: "symbol", value: .string(symbol)), at: 0)
            return .object(object)
        case .order(let order): return Render.order(order, try await spec(order.symbol))
        }
    }
}
