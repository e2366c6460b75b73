import Foundation
import Logging
import Synchronization
import Testing
import Trading

@testable import Actors

/// Strategies in their market: rules evaluated at candle closes, signals placing market orders for their
/// owners through the order flow, cooldowns, pause and resume, and restarts (journal replay and snapshot).
///
/// Trades are driven one a minute, a second into the minute, with a clock the test sets: the trade of minute
/// k closes the candle of minute k − 1, whose close time is the start of minute k.
@Suite("Strategy evaluation")
struct StrategyEvaluationTests {
    /// BTC-USD without fees, so that every amount can be worked out by hand.
    static let market = try! MarketSpec(
        symbol: "BTC-USD", base: "BTC", quote: "USD", tickSize: "0.01", lotSize: "0.00001", minQuantity: "0.00001",
        makerFeeBps: 0, takerFeeBps: 0)
    /// 2024-05-01T12:00:00Z, on a minute.
    static let start: Int64 = 1_714_564_800_000
    static let minute: Int64 = 60_000

    static let maker: UserID = 1
    static let taker: UserID = 2
    static let owner: UserID = 3
    static let poorOwner: UserID = 4

    /// A clock the test sets.
    final class Clock: Sendable {
        private let millis = Atomic<Int64>(StrategyEvaluationTests.start)
        var nowMillis: Int64 { millis.load(ordering: .relaxed) }
        func set(_ value: Int64) { millis.store(value, ordering: .relaxed) }
    }

    static func quantity(_ text: String) -> Quantity { try! market.quantity(parsing: text) }
    static func amount(_ text: String) -> Amount { try! Amount(parsing: text) }

    static func withExchange<T>(
        directory: String? = nil, snapshotEvery: Int64 = 1_000, clock: Clock, _ body: (Exchange) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return try await TestExchange.run(
            directory: directory, markets: [market], accountShards: 4, snapshotEvery: snapshotEvery, logger: logger,
            clock: { clock.nowMillis }, body)
    }

    /// Money for the maker (both sides), the taker and the strategy owner; the poor owner has only cash.
    static func fund(_ exchange: Exchange) async throws {
        _ = try await exchange.deposit(user: maker, currency: "BTC", amount: amount("100"), idempotencyKey: nil)
        _ = try await exchange.deposit(user: taker, currency: "USD", amount: amount("100000"), idempotencyKey: nil)
        _ = try await exchange.deposit(user: owner, currency: "USD", amount: amount("1000"), idempotencyKey: nil)
        _ = try await exchange.deposit(user: poorOwner, currency: "USD", amount: amount("1000"), idempotencyKey: nil)
    }

    /// At a second into minute `index`: the maker offers 1 BTC at `price` (its previous offer cancelled) and
    /// the taker buys 0.01 of it, so the market trades at `price` and the offer's rest is there for the
    /// strategies' market buys. Then waits until every signal the trade fired is placed or refused.
    static func trade(
        _ exchange: Exchange, _ clock: Clock, minute index: Int64, at price: String, settle: Bool = true
    ) async throws {
        clock.set(start + index * minute + 1_000)
        _ = try await exchange.cancelAll(user: maker, symbol: "BTC-USD")
        let price = try market.price(parsing: price)
        _ = try await exchange.placeOrder(
            user: maker,
            request: OrderRequest(symbol: "BTC-USD", side: .sell, type: .limit, quantity: quantity("1"), price: price))
        let (order, _) = try await exchange.placeOrder(
            user: taker,
            request: OrderRequest(
                symbol: "BTC-USD", side: .buy, type: .limit, quantity: quantity("0.01"), price: price))
        #expect(order.status == .filled)
        if settle { try await Self.settle(exchange) }
    }

    /// Waits until no strategy of the owners has a pending signal.
    static func settle(_ exchange: Exchange) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            var pending = false
            for user in [owner, poorOwner] {
                for strategy in try await exchange.strategies(user: user) {
                    let signals = try await exchange.strategySignals(
                        user: user, strategyID: strategy.strategyID, limit: 500)
                    pending = pending || signals.contains { $0.outcome == .pending }
                }
            }
            if !pending { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        Issue.record("signals still pending after 10 s")
    }

    static func price() -> Operand { .indicator(IndicatorOperand(.price)) }

    /// `price crosses_above sma(3)` on 1m → buy 0.001.
    static let smaCross = StrategyDefinition(
        name: "sma cross", symbol: "BTC-USD",
        rules: [
            StrategyRule(
                when: .comparison(
                    Comparison(price(), .crossesAbove, .indicator(IndicatorOperand(.sma(period: 3))))),
                action: StrategyAction(side: .buy, quantity: quantity("0.001")))
        ])

    /// `price > 150` → `side` 0.001, with a cooldown.
    static func above150(_ side: Side = .buy, cooldown: Int = 0) -> StrategyDefinition {
        StrategyDefinition(
            name: "above 150", symbol: "BTC-USD",
            rules: [
                StrategyRule(
                    when: .comparison(Comparison(price(), .greaterThan, .value(150))),
                    action: StrategyAction(side: side, quantity: quantity("0.001")))
            ], cooldownSeconds: cooldown)
    }

    static func signals(_ exchange: Exchange, _ strategy: StrategyView, user: UserID = owner) async throws
        -> [SignalView]
    {
        try await exchange.strategySignals(user: user, strategyID: strategy.strategyID, limit: 500)
    }

    /// The close times of the signals, in minutes from the start.
    static func closes(_ signals: [SignalView]) -> [Int64] {
        signals.map { ($0.candleCloseMillis - start) / minute }
    }

    // MARK: - Firing

    @Test("price crossing above its SMA(3) fires once, at the close where it crosses, and buys for the owner")
    func crossFiresWhenExpected() async throws {
        let clock = Clock()
        try await Self.withExchange(clock: clock) { exchange in
            try await Self.fund(exchange)
            let strategy = try await exchange.createStrategy(user: Self.owner, definition: Self.smaCross)
            #expect(strategy.strategyID == "st_BTC-USD_1")
            #expect(strategy.status == .active)
            // Closes 100, 99, 98, 97 (SMA 99, 98: below), then 110 (SMA 101.67: crossed), 111 (SMA 106: above).
            for (minute, price) in ["100", "99", "98", "97", "110"].enumerated() {
                try await Self.trade(exchange, clock, minute: Int64(minute), at: price)
                #expect(try await Self.signals(exchange, strategy).isEmpty, "minute \(minute)")
            }
            try await Self.trade(exchange, clock, minute: 5, at: "111")
            try await Self.trade(exchange, clock, minute: 6, at: "112")
            try await Self.trade(exchange, clock, minute: 7, at: "100")

            let signals = try await Self.signals(exchange, strategy)
            #expect(Self.closes(signals) == [5])
            let signal = try #require(signals.first)
            #expect(signal.firedAtMillis == Self.start + 5 * Self.minute + 1_000)
            #expect(signal.ruleIndex == 0)
            #expect(signal.side == .buy)
            #expect(signal.clientOrderID == "st_BTC-USD_1_\(Self.start + 5 * Self.minute)_0")
            guard case .placed(let orderID) = signal.outcome else {
                Issue.record("not placed: \(signal.outcome)")
                return
            }
            // A market buy for the owner, filled at the maker's offer of minute 5, visible in the owner's orders.
            let order = try await exchange.order(user: Self.owner, orderID: orderID)
            #expect(order.clientOrderID == signal.clientOrderID)
            #expect(order.type == .market)
            #expect(order.status == .filled)
            #expect(order.fills.map(\.price) == [try Self.market.price(parsing: "111")])
            #expect(try await exchange.orders(user: Self.owner, filter: .init()).map(\.orderID) == [orderID])
            // Reserved first (LOCK), the unused part released; 0.111 USD spent.
            let types = try await exchange.transactions(user: Self.owner, limit: 100).map(\.entry.type)
            #expect(types.contains(.lock))
            let balances = try await exchange.balances(user: Self.owner)
            #expect(balances.first { $0.currency == "USD" }?.available == Self.amount("999.889"))
            #expect(balances.first { $0.currency == "USD" }?.locked == .zero)
            #expect(balances.first { $0.currency == "BTC" }?.available == Self.amount("0.001"))
            #expect(
                try await exchange.strategy(user: Self.owner, strategyID: strategy.strategyID).lastFiredMillis
                    == Self.start + 5 * Self.minute)
        }
    }

    @Test("a cooldown suppresses firing until it has passed; signals are newest first")
    func cooldown() async throws {
        let clock = Clock()
        try await Self.withExchange(clock: clock) { exchange in
            try await Self.fund(exchange)
            let strategy = try await exchange.createStrategy(user: Self.owner, definition: Self.above150(cooldown: 120))
            for minute in 0...5 { try await Self.trade(exchange, clock, minute: Int64(minute), at: "200") }
            // Closes at minutes 1-5: fires at 1, not at 2 (60 s < 120 s), at 3, not at 4, at 5.
            let signals = try await Self.signals(exchange, strategy)
            #expect(Self.closes(signals) == [5, 3, 1])
            #expect(signals.allSatisfy { if case .placed = $0.outcome { true } else { false } })
            #expect(try await exchange.orders(user: Self.owner, filter: .init()).count == 3)
            // The limit asks for the newest.
            let newest = try await exchange.strategySignals(user: Self.owner, strategyID: strategy.strategyID, limit: 1)
            #expect(Self.closes(newest) == [5])
        }
    }

    @Test("a paused strategy does not fire; resumed, it fires again")
    func pauseAndResume() async throws {
        let clock = Clock()
        try await Self.withExchange(clock: clock) { exchange in
            try await Self.fund(exchange)
            let strategy = try await exchange.createStrategy(user: Self.owner, definition: Self.above150())
            for minute in 0...2 { try await Self.trade(exchange, clock, minute: Int64(minute), at: "200") }
            let paused = try await exchange.pauseStrategy(user: Self.owner, strategyID: strategy.strategyID)
            #expect(paused.status == .paused)
            // Pausing again changes nothing.
            #expect(try await exchange.pauseStrategy(user: Self.owner, strategyID: strategy.strategyID) == paused)
            for minute in 3...4 { try await Self.trade(exchange, clock, minute: Int64(minute), at: "200") }
            #expect(Self.closes(try await Self.signals(exchange, strategy)) == [2, 1])
            let resumed = try await exchange.resumeStrategy(user: Self.owner, strategyID: strategy.strategyID)
            #expect(resumed.status == .active)
            try await Self.trade(exchange, clock, minute: 5, at: "200")
            #expect(Self.closes(try await Self.signals(exchange, strategy)) == [5, 2, 1])
        }
    }

    @Test("a sell without holdings is refused by the order flow, and the reason is recorded")
    func sellWithoutHoldings() async throws {
        let clock = Clock()
        try await Self.withExchange(clock: clock) { exchange in
            try await Self.fund(exchange)
            let strategy = try await exchange.createStrategy(user: Self.poorOwner, definition: Self.above150(.sell))
            for minute in 0...1 { try await Self.trade(exchange, clock, minute: Int64(minute), at: "200") }
            let signals = try await Self.signals(exchange, strategy, user: Self.poorOwner)
            #expect(Self.closes(signals) == [1])
            guard case .refused(let code, let reason) = signals.first?.outcome else {
                Issue.record("not refused: \(String(describing: signals.first?.outcome))")
                return
            }
            #expect(code == .insufficientFunds)
            #expect(reason.contains("insufficient BTC"))
            #expect(try await exchange.orders(user: Self.poorOwner, filter: .init()).isEmpty)
        }
    }

    @Test("strategies are the owner's: another user's is not found; deleted ones are gone")
    func ownership() async throws {
        let clock = Clock()
        try await Self.withExchange(clock: clock) { exchange in
            let first = try await exchange.createStrategy(user: Self.owner, definition: Self.above150())
            clock.set(Self.start + 1_000)
            let second = try await exchange.createStrategy(user: Self.owner, definition: Self.smaCross)
            #expect(second.strategyID == "st_BTC-USD_2")
            #expect(
                try await exchange.strategies(user: Self.owner).map(\.strategyID) == [second, first].map(\.strategyID))
            for call in [
                { try await exchange.strategy(user: Self.taker, strategyID: first.strategyID) },
                { try await exchange.pauseStrategy(user: Self.taker, strategyID: first.strategyID) },
                { try await exchange.deleteStrategy(user: Self.taker, strategyID: first.strategyID) },
                { try await exchange.strategy(user: Self.owner, strategyID: "st_BTC-USD_01") },
                { try await exchange.strategy(user: Self.owner, strategyID: "st_ETH-USD_1") },
            ] as [() async throws -> StrategyView] {
                await #expect { _ = try await call() } throws: { ($0 as? BourseError)?.code == .notFound }
            }
            let deleted = try await exchange.deleteStrategy(user: Self.owner, strategyID: first.strategyID)
            #expect(deleted.status == .deleted)
            #expect(try await exchange.strategies(user: Self.owner).map(\.strategyID) == [second.strategyID])
            await #expect { _ = try await exchange.strategy(user: Self.owner, strategyID: first.strategyID) } throws: {
                ($0 as? BourseError)?.code == .notFound
            }
        }
    }

    @Test("a user holds at most 50 strategies")
    func strategiesPerUser() async throws {
        let clock = Clock()
        try await Self.withExchange(clock: clock) { exchange in
            for _ in 0..<Exchange.strategiesPerUser {
                _ = try await exchange.createStrategy(user: Self.owner, definition: Self.above150())
            }
            await #expect {
                _ = try await exchange.createStrategy(user: Self.owner, definition: Self.above150())
            } throws: { ($0 as? BourseError)?.code == .conflict }
            // Another user is not concerned.
            _ = try await exchange.createStrategy(user: Self.taker, definition: Self.above150())
        }
    }

    @Test("a signal delivered twice places one order")
    func redeliveredSignalPlacesOnce() async throws {
        let clock = Clock()
        try await Self.withExchange(clock: clock) { exchange in
            try await Self.fund(exchange)
            let strategy = try await exchange.createStrategy(user: Self.owner, definition: Self.above150())
            for minute in 0...1 { try await Self.trade(exchange, clock, minute: Int64(minute), at: "200") }
            let signal = try #require(try await Self.signals(exchange, strategy).first)
            let fired = FiredSignal(
                symbol: "BTC-USD", sequence: 1, owner: Self.owner, candleCloseMillis: signal.candleCloseMillis,
                ruleIndex: 0, action: StrategyAction(side: .buy, quantity: Self.quantity("0.001")))
            await exchange.execute(fired)
            await exchange.execute(fired)
            #expect(try await exchange.orders(user: Self.owner, filter: .init()).count == 1)
            #expect(try await Self.signals(exchange, strategy) == [signal])
        }
    }

    // MARK: - Restarts

    /// Run 1 makes three strategies (one paused): closes 200, 199, 198, 197, 196 fire the cooldown strategy at
    /// 1 and 3; then the consumer stops and the close at 5 (195) fires it again, left pending. Run 2 restarts
    /// from the journal (a crash) or from snapshots (a graceful stop): strategies, statuses and signals are
    /// back, the pending signal is placed once, and the SMA(3) cross fires at the close at 7 (220 over
    /// 203.67, after 195 under 196) — which needs the closes before the restart, so the indicators were
    /// rebuilt. Run 3 places nothing more.
    @Test("a restart restores strategies, statuses and signals, and places no order twice", arguments: [false, true])
    func restart(fromSnapshot: Bool) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-\(UUID())").path
        let clock = Clock()
        let (before, cooldownID, crossID) = try await Self.withExchange(directory: directory, clock: clock) {
            exchange in
            try await Self.fund(exchange)
            let cooldown = try await exchange.createStrategy(
                user: Self.owner, definition: Self.above150(cooldown: 120))
            let cross = try await exchange.createStrategy(user: Self.owner, definition: Self.smaCross)
            let paused = try await exchange.createStrategy(user: Self.owner, definition: Self.above150())
            _ = try await exchange.pauseStrategy(user: Self.owner, strategyID: paused.strategyID)
            for (minute, price) in ["200", "199", "198", "197", "196"].enumerated() {
                try await Self.trade(exchange, clock, minute: Int64(minute), at: price)
            }
            #expect(Self.closes(try await Self.signals(exchange, cooldown)) == [3, 1])
            await exchange.stopSignalConsumer()
            try await Self.trade(exchange, clock, minute: 5, at: "195", settle: false)
            #expect(try await Self.signals(exchange, cooldown).map(\.outcome).first == .pending)
            if fromSnapshot { await exchange.stop() }
            return (try await exchange.strategies(user: Self.owner), cooldown.strategyID, cross.strategyID)
        }
        #expect(before.map(\.status) == [.paused, .active, .active])
        #expect(before.map(\.signalCount) == [0, 0, 3])

        let after = try await Self.withExchange(directory: directory, clock: clock) { exchange in
            try await Self.settle(exchange)
            #expect(try await exchange.strategies(user: Self.owner) == before)
            let cooldown = try await exchange.strategy(user: Self.owner, strategyID: cooldownID)
            let signals = try await Self.signals(exchange, cooldown)
            #expect(Self.closes(signals) == [5, 3, 1])
            #expect(signals.allSatisfy { if case .placed = $0.outcome { true } else { false } })
            #expect(try await exchange.orders(user: Self.owner, filter: .init()).count == 3)
            try await Self.trade(exchange, clock, minute: 6, at: "220")
            try await Self.trade(exchange, clock, minute: 7, at: "221")
            let cross = try await exchange.strategy(user: Self.owner, strategyID: crossID)
            #expect(Self.closes(try await Self.signals(exchange, cross)) == [7])
            #expect(Self.closes(try await Self.signals(exchange, cooldown)) == [7, 5, 3, 1])
            return try await exchange.orders(user: Self.owner, filter: .init())
        }
        #expect(after.count == 5)
        #expect(Set(after.compactMap(\.clientOrderID)).count == 5)

        try await Self.withExchange(directory: directory, clock: clock) { exchange in
            try await Self.settle(exchange)
            try await Task.sleep(for: .milliseconds(100))
            #expect(try await exchange.orders(user: Self.owner, filter: .init()) == after)
            #expect(try await exchange.strategies(user: Self.owner).map(\.signalCount) == [0, 1, 4])
        }
    }
}
