import API
import Testing

/// `GET /v1/stream` over HTTP/2 delivers the real exchange's trades and the caller's order updates.
@Suite("End to end: streams")
struct StreamTests {
    // Generous: with the process tests' nodes running beside it, the whole suite can stall for tens of seconds.
    @Test(.timeLimit(.minutes(3))) func tradesAndOrdersArriveAfterAnOrder() async throws {
        try await InProcessNode.run { node in
            let api = node.api
            let maker = try await node.trader("maker")
            let taker = try await node.trader("taker")
            _ = try await api.placed(maker, order("sell", "0.1", at: "50000"))
            let (events, buy) = try await api.h2.streamingRequest(
                method: .get, path: "/v1/stream?channels=trades:BTC-USD,orders",
                headers: [.authorization: "Bearer \(taker.token)"]
            ) { head, body in
                #expect(head.status == .ok)
                #expect(head.headerFields[.contentType] == "text/event-stream")
                // The subscription exists once the head has arrived.
                let buy = try await api.placed(taker, order("buy", "0.1", at: "50000"))
                var text = ""
                var events: [JSONValue] = []
                for try await chunk in body {
                    text += String(buffer: chunk)
                    while let end = text.range(of: "\n\n") {
                        let line = String(text[..<end.lowerBound])
                        text.removeSubrange(..<end.upperBound)
                        if line.hasPrefix("data: ") { events.append(try JSONParser().parse(String(line.dropFirst(6)))) }
                    }
                    let channels = events.compactMap { $0["channel"]?.stringValue }
                    if channels.contains("trades:BTC-USD"), events.contains(where: Self.isFilledOrder) { break }
                }
                return (events, buy)
            }
            let trade = try #require(events.first { $0["channel"] == "trades:BTC-USD" })
            expectJSON(
                trade,
                [
                    "channel": "trades:BTC-USD", "sequence": 1,
                    "data": [
                        "symbol": "BTC-USD", "trade_id": "1", "price": "50000.00", "quantity": "0.10000",
                        "taker_side": "buy", "timestamp": InProcessNode.time(),
                    ],
                ])
            let update = try #require(events.last(where: Self.isFilledOrder))
            #expect(update["channel"] == "orders")
            expectJSON(update["data"], buy)
            // Only the caller's orders: never the maker's.
            let orderIDs = Set(events.filter { $0["channel"] == "orders" }.compactMap { $0["data"]?["order_id"] })
            #expect(orderIDs == [buy["order_id"]!])
        }
    }

    static func isFilledOrder(_ event: JSONValue) -> Bool {
        event["channel"] == "orders" && event["data"]?["status"] == "filled"
    }
}
