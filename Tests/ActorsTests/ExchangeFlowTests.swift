import Actors
import Foundation
import Logging
import Storage
import Testing
import Trading

/// The place-order flow end to end on one node, over the real SQLite store.
@Suite("Exchange flows (SQLite)")
struct ExchangeFlowTests {
    static let btc = try! MarketSpec(
        symbol: "BTC-USD", base: "BTC", quote: "USD", tickSize: "0.01", lotSize: "0.00001", minQuantity: "0.00001",
        makerFeeBps: 10, takerFeeBps: 20)

    /// Runs `body` against a fresh exchange on a fresh SQLite directory (or `directory`), then shuts down.
    static func withExchange<T>(
        directory: String? = nil, snapshotEvery: Int64 = 1_000, _ body: (Exchange) async throws -> T
    ) async throws -> T {
        try await TestExchange.run(directory: directory, snapshotEvery: snapshotEvery, body)
    }

    static func price(_ text: String) -> Price { try! btc.price(parsing: text) }
    static func quantity(_ text: String) -> Quantity { try! btc.quantity(parsing: text) }
    static func amount(_ text: String) -> Amount { try! Amount(parsing: text) }

    /// A GTC limit order on BTC-USD.
    static func limit(_ side: Side, _ quantity: String, at price: String) -> OrderRequest {
        OrderRequest(
            symbol: "BTC-USD", side: side, type: .limit, quantity: Self.quantity(quantity), price: Self.price(price))
    }

    /// A buy stop on BTC-USD (a market order once triggered).
    static func buyStop(_ quantity: String, at stop: String) -> OrderRequest {
        OrderRequest(
            symbol: "BTC-USD", side: .buy, type: .stop, quantity: Self.quantity(quantity), stopPrice: Self.price(stop))
    }

    /// A limit order reads the local book's halt without a hop to it: that flag must follow halts, resumes and
    /// a restart, and a refused order must leave nothing behind (no reservation, no order, no row).
    @Test("an order on a halted market is refused before anything is reserved, also after a restart")
    func haltedMarketRefusesOrdersUnchanged() async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("bourse-halted-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let limitBuy = OrderRequest(
            symbol: "BTC-USD", side: .buy, type: .limit, quantity: Self.quantity("0.1"), price: Self.price("50000"))
        let refusals: [OrderRequest] = [
            limitBuy,
            OrderRequest(
                symbol: "BTC-USD", side: .sell, type: .limit, quantity: Self.quantity("0.1"),
                price: Self.price("60000")),
            OrderRequest(
                symbol: "BTC-USD", side: .buy, type: .stop, quantity: Self.quantity("0.1"),
                stopPrice: Self.price("55000")),
            OrderRequest(symbol: "BTC-USD", side: .sell, type: .market, quantity: Self.quantity("0.1")),
        ]
        let expectRefused: @Sendable (Exchange, OrderRequest) async -> Void = { exchange, request in
            await #expect {
                try await exchange.placeOrder(user: 3, request: request)
            } throws: {
                ($0 as? BourseError)?.code == .orderRejected
            }
        }
        try await Self.withExchange(directory: directory) { exchange in
            _ = try await exchange.deposit(user: 3, currency: "USD", amount: Self.amount("100000"), idempotencyKey: nil)
            _ = try await exchange.deposit(user: 3, currency: "BTC", amount: Self.amount("1"), idempotencyKey: nil)
            let rows = try await exchange.transactions(user: 3, limit: 100).count
            try await exchange.setHalted(symbol: "BTC-USD", halted: true)
            for request in refusals { await expectRefused(exchange, request) }
            #expect(try await exchange.transactions(user: 3, limit: 100).count == rows)
            #expect(try await exchange.orders(user: 3, filter: OrderFilter()).isEmpty)
            #expect(try await exchange.balances(user: 3).allSatisfy { $0.locked == .zero })
        }
        try await Self.withExchange(directory: directory) { exchange in
            await expectRefused(exchange, limitBuy)
            #expect(try await exchange.orders(user: 3, filter: OrderFilter()).isEmpty)
            try await exchange.setHalted(symbol: "BTC-USD", halted: false)
            let (order, created) = try await exchange.placeOrder(user: 3, request: limitBuy)
            #expect(created && order.status == .new)
        }
    }

    @Test("a crossing order trades at the maker's price and settles both sides with fees")
    func crossingTrade() async throws {
        try await Self.withExchange { exchange in
            _ = try await exchange.deposit(user: 1, currency: "BTC", amount: Self.amount("1"), idempotencyKey: nil)
            _ = try await exchange.deposit(user: 2, currency: "USD", amount: Self.amount("100000"), idempotencyKey: nil)
            let (sell, _) = try await exchange.placeOrder(
                user: 1,
                request: OrderRequest(
                    symbol: "BTC-USD", side: .sell, type: .limit, quantity: Self.quantity("0.5"),
                    price: Self.price("50000")))
            #expect(sell.status == .new)
            let (buy, created) = try await exchange.placeOrder(
                user: 2,
                request: OrderRequest(
                    symbol: "BTC-USD", side: .buy, type: .limit, quantity: Self.quantity("0.2"),
                    price: Self.price("51000")))
            #expect(created)
            #expect(buy.status == .filled)
            #expect(buy.fills.count == 1)
            #expect(buy.fills.first?.price == Self.price("50000"))
            // Taker fee 20 bps of 10,000 = 20 USD.
            #expect(buy.fills.first?.fee == Self.amount("20"))
            let buyer = try await exchange.balances(user: 2)
            #expect(buyer.first { $0.currency == "USD" }?.available == Self.amount("89980"))
            #expect(buyer.first { $0.currency == "USD" }?.locked == .zero)
            #expect(buyer.first { $0.currency == "BTC" }?.available == Self.amount("0.2"))
            let seller = try await exchange.balances(user: 1)
            // Maker fee 10 bps of 10,000 = 10 USD; 0.3 BTC still locked in the resting order.
            #expect(seller.first { $0.currency == "USD" }?.available == Self.amount("9990"))
            #expect(seller.first { $0.currency == "BTC" }?.locked == Self.amount("0.3"))
            let makerOrder = try await exchange.order(user: 1, orderID: sell.orderID)
            #expect(makerOrder.status == .partiallyFilled)
            #expect(makerOrder.filledQuantity == Self.quantity("0.2"))
            // Another user's order is not found.
            await #expect(throws: BourseError.self) { try await exchange.order(user: 2, orderID: sell.orderID) }
        }
    }

    /// api.md: a market order is protected 5% through the best opposite price when it reaches the book. A buy
    /// stop that the last trade has already reached reaches the book at once, so it is protected (and reserves)
    /// from the best ask, not from its stop price far below it.
    @Test("a buy stop the last trade already reached trades as a market buy; a resting one reserves from its stop")
    func stopBuyProtection() async throws {
        try await Self.withExchange { exchange in
            _ = try await exchange.deposit(user: 1, currency: "BTC", amount: Self.amount("1"), idempotencyKey: nil)
            _ = try await exchange.deposit(user: 2, currency: "USD", amount: Self.amount("100000"), idempotencyKey: nil)
            _ = try await exchange.deposit(user: 3, currency: "USD", amount: Self.amount("100000"), idempotencyKey: nil)
            _ = try await exchange.placeOrder(user: 1, request: Self.limit(.sell, "1", at: "50000"))
            // A trade at 50000: the last price is now above a stop at 40000.
            _ = try await exchange.placeOrder(user: 2, request: Self.limit(.buy, "0.5", at: "50000"))
            let (triggered, _) = try await exchange.placeOrder(user: 3, request: Self.buyStop("0.1", at: "40000"))
            #expect(triggered.status == .filled)
            #expect(triggered.fills.map(\.price) == [Self.price("50000")])
            // 5,000 for the coin and 10 of taker fee; the rest of the reservation (at 52,500) went back.
            let after = try await exchange.balances(user: 3)
            #expect(after.first { $0.currency == "USD" }?.available == Self.amount("94990"))
            #expect(after.first { $0.currency == "USD" }?.locked == .zero)
            // A stop above the last trade rests, holding its quantity at 5% over its stop price plus the fee.
            let (resting, _) = try await exchange.placeOrder(user: 3, request: Self.buyStop("0.1", at: "60000"))
            #expect(resting.status == .pendingTrigger)
            let held = try await exchange.balances(user: 3).first { $0.currency == "USD" }?.locked
            #expect(held == Self.amount("6312.6"), "0.1 × 63,000 + 20 bps")
        }
    }

    /// api.md: a cancel answers 200 with the cancelled order, or 409 if the order was already cancelled — also
    /// when several cancels of one order race: one of them cancelled it, the others found it cancelled.
    @Test("of concurrent cancels of one order exactly one succeeds; the others are 409")
    func concurrentCancels() async throws {
        try await Self.withExchange { exchange in
            _ = try await exchange.deposit(user: 4, currency: "USD", amount: Self.amount("100000"), idempotencyKey: nil)
            for round in 0..<5 {
                let (order, _) = try await exchange.placeOrder(user: 4, request: Self.limit(.buy, "0.1", at: "40000"))
                let outcomes = await withTaskGroup(of: BourseError.Code?.self) { group in
                    for _ in 0..<8 {
                        group.addTask {
                            do {
                                let view = try await exchange.cancelOrder(user: 4, orderID: order.orderID)
                                return view.status == .cancelled ? nil : .internal
                            } catch {
                                return (error as? BourseError)?.code ?? .internal
                            }
                        }
                    }
                    var codes: [BourseError.Code?] = []
                    for await code in group { codes.append(code) }
                    return codes
                }
                #expect(outcomes.filter { $0 == nil }.count == 1, "round \(round): \(outcomes)")
                #expect(outcomes.filter { $0 == .conflict }.count == 7, "round \(round): \(outcomes)")
            }
            let usd = try await exchange.balances(user: 4).first { $0.currency == "USD" }
            #expect(usd?.locked == .zero && usd?.available == Self.amount("100000"))
        }
    }

    @Test("insufficient funds changes nothing; cancel releases the reservation")
    func fundsAndCancel() async throws {
        try await Self.withExchange { exchange in
            _ = try await exchange.deposit(user: 5, currency: "USD", amount: Self.amount("1000"), idempotencyKey: "k1")
            // The same idempotency key does not deposit twice.
            _ = try await exchange.deposit(user: 5, currency: "USD", amount: Self.amount("1000"), idempotencyKey: "k1")
            let request = OrderRequest(
                symbol: "BTC-USD", side: .buy, type: .limit, quantity: Self.quantity("1"), price: Self.price("50000"))
            await #expect {
                try await exchange.placeOrder(user: 5, request: request)
            } throws: { ($0 as? BourseError)?.code == .insufficientFunds }
            #expect(
                try await exchange.balances(user: 5) == [
                    BalanceView(currency: "USD", available: Self.amount("1000"), locked: .zero)
                ])
            #expect(try await exchange.orders(user: 5, filter: .init()).isEmpty)

            let (order, _) = try await exchange.placeOrder(
                user: 5,
                request: OrderRequest(
                    symbol: "BTC-USD", side: .buy, type: .limit, quantity: Self.quantity("0.01"),
                    price: Self.price("40000"), clientOrderID: "c-1"))
            let locked = try await exchange.balances(user: 5).first!.locked
            // 400 USD + 20 bps max fee = 400.80
            #expect(locked == Self.amount("400.8"))
            let (again, created) = try await exchange.placeOrder(
                user: 5,
                request: OrderRequest(
                    symbol: "BTC-USD", side: .buy, type: .limit, quantity: Self.quantity("0.01"),
                    price: Self.price("40000"), clientOrderID: "c-1"))
            #expect(!created)
            #expect(again.orderID == order.orderID)
            let cancelled = try await exchange.cancelOrder(user: 5, orderID: order.orderID)
            #expect(cancelled.status == .cancelled)
            #expect(try await exchange.balances(user: 5).first!.locked == .zero)
            await #expect {
                try await exchange.cancelOrder(user: 5, orderID: order.orderID)
            } throws: { ($0 as? BourseError)?.code == .conflict }
        }
    }

    @Test(
        "state survives a restart: orders, fills and balances come back from snapshots and the journal",
        arguments: [1_000, 3] as [Int64])
    func recovery(snapshotEvery: Int64) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-\(UUID())").path
        let before = try await Self.withExchange(directory: dir, snapshotEvery: snapshotEvery) { exchange in
            _ = try await exchange.deposit(user: 1, currency: "BTC", amount: Self.amount("2"), idempotencyKey: nil)
            _ = try await exchange.deposit(user: 2, currency: "USD", amount: Self.amount("100000"), idempotencyKey: nil)
            for step in 0..<20 {
                let price = Self.price(String(49_990 + step))
                _ = try await exchange.placeOrder(
                    user: 1,
                    request: OrderRequest(
                        symbol: "BTC-USD", side: .sell, type: .limit, quantity: Self.quantity("0.05"), price: price))
            }
            _ = try await exchange.placeOrder(
                user: 2,
                request: OrderRequest(symbol: "BTC-USD", side: .buy, type: .market, quantity: Self.quantity("0.42")))
            return (
                try await exchange.balances(user: 1), try await exchange.balances(user: 2),
                try await exchange.orders(user: 1, filter: .init()),
                try await exchange.orderBook(symbol: "BTC-USD", depth: 50)
            )
        }
        let after = try await Self.withExchange(directory: dir, snapshotEvery: snapshotEvery) { exchange in
            (
                try await exchange.balances(user: 1), try await exchange.balances(user: 2),
                try await exchange.orders(user: 1, filter: .init()),
                try await exchange.orderBook(symbol: "BTC-USD", depth: 50)
            )
        }
        #expect(before.0 == after.0)
        #expect(before.1 == after.1)
        #expect(before.2 == after.2)
        #expect(before.3 == after.3)
        #expect(before.3.asks.count == 12)
    }
}
