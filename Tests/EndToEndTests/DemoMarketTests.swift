import API
import Foundation
import TestSupport
import Testing

/// `bourse start` with its defaults: the demo markets replay the bundled reference sample, so their candles
/// move, and a paper-liquidity account quotes around the price, so a user's market order fills at once.
@Suite("End to end: demo markets move", .serialized)
struct DemoMarketTests {
    @Test(.timeLimit(.minutes(3)))
    func demoMarketsMoveAndFill() async throws {
        try await ProcessRestartTests.withNodes(.sqlite, timeout: .seconds(170)) { storage, nodes in
            let storage = try AdminCLITests.withAdminConfiguration(storage)
            let node = nodes.track(try await NodeProcess.start(storage, name: "demo", feeds: true))
            try await ProcessRestartTests.with(node) { api in
                let user = try await api.signUp("demo-buyer")
                try await api.deposit(user, "USD", "100000")
                // The provider's ladder: 5 bids and 5 asks (`[price, quantity]`), 10 bps apart at the top.
                var bids: [JSONValue] = []
                var asks: [JSONValue] = []
                let deadline = ContinuousClock.now + .seconds(60)
                while ContinuousClock.now < deadline {
                    let book = try await api.json(.get, "/v1/markets/BTC-USD/orderbook?depth=10")
                    bids = book["bids"]?.arrayValue ?? []
                    asks = book["asks"]?.arrayValue ?? []
                    if bids.count == 5 && asks.count == 5 { break }
                    try await Task.sleep(for: .milliseconds(250))
                }
                try #require(bids.count == 5 && asks.count == 5, "no paper liquidity: \(bids) \(asks)")
                let bestBid = Double(bids[0].arrayValue?.first?.stringValue ?? "") ?? 0
                let bestAsk = Double(asks[0].arrayValue?.first?.stringValue ?? "") ?? 0
                #expect(bestBid > 0 && bestAsk > bestBid)
                let spread = (bestAsk - bestBid) / ((bestAsk + bestBid) / 2)
                #expect(spread > 0.0009 && spread < 0.0012, "spread \(spread)")

                // Once there is liquidity: a strategy that fires at the next candle close (built from the feed's
                // ticks, at most a minute away) places its market buy, which fills against the provider.
                let strategyID = try await api.alwaysBuyingStrategy(user)

                // Candles built from the reference ticks, and they change as the sample plays.
                let first = try await api.json(.get, "/v1/markets/BTC-USD/candles?interval=1m&limit=5")
                #expect(!(first.arrayValue ?? []).isEmpty)
                var moved = false
                let moveDeadline = ContinuousClock.now + .seconds(30)
                while !moved, ContinuousClock.now < moveDeadline {
                    try await Task.sleep(for: .milliseconds(500))
                    let now = try await api.json(.get, "/v1/markets/BTC-USD/candles?interval=1m&limit=5")
                    moved = now != first
                }
                #expect(moved, "the candles did not change in 30 s")

                // A user's market buy fills against the provider at once, at or above the best bid. The provider
                // requotes make before break, so its asks are never all gone at once; a 422 ("no liquidity",
                // nothing placed) would still be answered if its inventory were spent, so the buy is retried then,
                // as a client would, for a few seconds.
                var response = try await api.place(
                    user, ["symbol": "BTC-USD", "side": "buy", "type": "market", "quantity": "0.01"])
                let retryDeadline = ContinuousClock.now + .seconds(10)
                while response.status == 422, ContinuousClock.now < retryDeadline {
                    try await Task.sleep(for: .milliseconds(100))
                    response = try await api.place(
                        user, ["symbol": "BTC-USD", "side": "buy", "type": "market", "quantity": "0.01"])
                }
                try #require(response.status == 201, "\(response)")
                let bought = response.json
                #expect(bought["status"] == "filled", "\(bought)")
                let fills = bought["fills"]?.arrayValue ?? []
                #expect(!fills.isEmpty)
                for fill in fills {
                    #expect((Double(fill["price"]?.stringValue ?? "") ?? 0) >= bestBid)
                }

                // The strategy fires at the first candle close after it was made (at most a minute later).
                var placed: JSONValue?
                let signalDeadline = ContinuousClock.now + .seconds(100)
                while placed == nil, ContinuousClock.now < signalDeadline {
                    try await Task.sleep(for: .seconds(1))
                    let signals = try await api.json(
                        .get, "/v1/strategies/\(strategyID)/signals", token: user.token)
                    placed = signals.arrayValue?.first { $0["status"] != "pending" }
                }
                let signal = try #require(placed, "no signal was placed or refused within 100 s")
                #expect(signal["status"] == "placed", "\(signal)")
                let orderID = try #require(signal["order_id"]?.stringValue)
                let signalOrder = try await api.json(.get, "/v1/orders/\(orderID)", token: user.token)
                #expect(signalOrder["status"] == "filled", "\(signalOrder)")
                #expect(signalOrder["type"] == "market")

                // The provider's account cannot log in.
                let login = try await api.call(
                    .post, "/v1/auth/login", json: ["username": "system:liquidity", "password": "anything-at-all"])
                #expect(login.status == 401)
            }
            let verify = try await CLI.run(["admin", "--node", "http://127.0.0.1:\(node.port)", "verify"])
            #expect(verify.status == 0, "\(verify)")
            #expect(await node.terminate(within: .seconds(20)) == 0)
        }
    }
}
