import Actors
import NIOCore
import TestSupport
import Testing
import Trading

@testable import API

@Suite("Event stream")
struct StreamRoutesTests {
    @Test func deliversEventsAndHeartbeatsOverH2C() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("sam")
            let exchange = server.exchange
            let lines = try await server.client.streamingRequest(
                method: .get, path: "/v1/stream?channels=trades:BTC-USD,orders",
                headers: [.authorization: "Bearer \(token)"]
            ) { head, body in
                #expect(head.status == .ok)
                #expect(head.headerFields[.contentType] == "text/event-stream")
                let trade = PublicTrade(
                    tradeID: 5, price: Price(ticks: 100), quantity: Quantity(lots: 3), takerSide: .sell,
                    timestampMillis: 0)
                Task {
                    while await exchange.subscriptionCount == 0 { try await Task.sleep(for: .milliseconds(10)) }
                    await exchange.publish(
                        StreamEvent(channel: "trades:BTC-USD", sequence: 1, payload: .trade(trade, symbol: "BTC-USD")))
                    await exchange.publish(
                        StreamEvent(channel: "ticker:ETH-USD", sequence: 1, payload: .trade(trade, symbol: "ETH-USD")))
                }
                var text = ""
                for try await chunk in body {
                    text += String(buffer: chunk)
                    if text.contains(": heartbeat\n\n") && text.contains("data: ") { break }
                }
                return text
            }
            let events = lines.split(separator: "\n\n").filter { $0.hasPrefix("data: ") }
            #expect(events.count == 1)
            let event = try JSONParser().parse(String(events[0].dropFirst(6)))
            #expect(event["channel"] == "trades:BTC-USD")
            #expect(event["sequence"] == 1)
            #expect(
                event["data"] == [
                    "symbol": "BTC-USD", "trade_id": "5", "price": "1.00", "quantity": "0.00003", "taker_side": "sell",
                    "timestamp": "1970-01-01T00:00:00.000Z",
                ])
            #expect(lines.contains(": heartbeat\n\n"))
            let subscription = await exchange.subscriptions.first
            #expect(subscription?.user == 1)
            #expect(subscription?.channels == [.trades("BTC-USD"), .orders])
        }
    }

    @Test func ordersChannelNeedsAToken() async throws {
        try await TestServer.run { server in
            let response = try await server.call(.get, "/v1/stream?channels=orders")
            #expect(response.status == 401)
            #expect(response.errorCode == "UNAUTHORIZED")
        }
    }

    @Test(arguments: [
        "/v1/stream", "/v1/stream?channels=candles:BTC-USD", "/v1/stream?channels=ticker",
        "/v1/stream?channels=ticker:BTC-USD,,orders",
    ])
    func unknownChannelsAre400(path: String) async throws {
        try await TestServer.run { server in
            let response = try await server.call(.get, path)
            #expect(response.status == 400)
            #expect(response.errorCode == "VALIDATION_ERROR")
        }
    }

    @Test func unknownSymbolIs404() async throws {
        try await TestServer.run { server in
            let response = try await server.call(.get, "/v1/stream?channels=ticker:XRP-USD")
            #expect(response.status == 404)
        }
    }
}

/// Streams end when the client leaves and when the server shuts down, and their head is not held back.
@Suite("Event stream lifecycle")
struct StreamLifecycleTests {
    @Test func headArrivesAtOnceAndLeavingEndsTheSubscription() async throws {
        // Nothing is published on this channel, so a head held back until the stream's first bytes would arrive
        // with the first heartbeat, two minutes in; a starved machine may still take a while to send it at once.
        try await TestServer.run(configure: { $0.heartbeatInterval = .seconds(120) }) { server in
            let exchange = server.exchange
            let started = ContinuousClock.now
            let status = try await server.client.streamingRequest(
                method: .get, path: "/v1/stream?channels=ticker:BTC-USD"
            ) {
                head, _ in head.status.code
            }
            #expect(status == 200)
            #expect(ContinuousClock.now - started < .seconds(60), "the head waited for the first heartbeat")
            try #require(await eventually(within: .seconds(10)) { exchange.endedSubscriptions.value == 1 })
        }
    }

    @Test(.timeLimit(.minutes(1))) func gracefulShutdownEndsOpenStreams() async throws {
        let (client, stream) = try await TestServer.run(configure: { $0.heartbeatInterval = .seconds(60) }) { server in
            let client = try await H2Client.connect(host: "127.0.0.1", port: server.port)
            let stream = Task {
                try await client.streamingRequest(method: .get, path: "/v1/stream?channels=ticker:BTC-USD") { _, body in
                    var chunks = 0
                    for try await _ in body { chunks += 1 }
                    return chunks
                }
            }
            let exchange = server.exchange
            try #require(await eventually(within: .seconds(10)) { await exchange.subscriptionCount == 1 })
            return (client, stream)
        }
        // The server has shut down with the stream open: the stream ended cleanly.
        #expect(try await stream.value == 0)
        try? await client.close()
    }
}
