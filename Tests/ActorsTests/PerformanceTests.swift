import Foundation
import Logging
import Storage
import Synchronization
import Testing
import Trading

@testable import Actors

/// `Exchange.performance(user:)` from the daily series of the account: trades over several days with a
/// clock the test moves, on a zero-fee market so that every figure can be worked out by hand.
@Suite("Performance from daily equity")
struct PerformanceTests {
    /// BTC-USD without fees.
    static let market = try! MarketSpec(
        symbol: "BTC-USD", base: "BTC", quote: "USD", tickSize: "0.01", lotSize: "0.00001", minQuantity: "0.00001",
        makerFeeBps: 0, takerFeeBps: 0)
    static let dayMillis = DailyBalances.millisPerDay

    /// A clock moved by hand; starts at 2024-05-01T12:00:00Z.
    final class ManualClock: Sendable {
        static let start: Int64 = 1_714_564_800_000
        private let millis = Atomic<Int64>(ManualClock.start)
        var nowMillis: Int64 { millis.load(ordering: .relaxed) }
        func advance(days: Int64) { millis.add(days * DailyBalances.millisPerDay, ordering: .relaxed) }
        var day: Int64 { DailyBalances.day(ofMillis: nowMillis) }
    }

    static func amount(_ text: String) -> Amount { try! Amount(parsing: text) }

    /// Runs `body` against an exchange on `directory` (a fresh one by default) with `clock`.
    static func withExchange<T>(
        directory: String? = nil, snapshotEvery: Int64 = 1_000, clock: ManualClock,
        _ body: (Exchange) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        return try await TestExchange.run(
            directory: directory, markets: [market], accountShards: 4, snapshotEvery: snapshotEvery, logger: logger,
            clock: { clock.nowMillis }, body)
    }

    /// `seller` rests a limit order; `buyer` takes it at the same price.
    static func trade(_ exchange: Exchange, seller: UserID, buyer: UserID, _ quantity: String, at price: String)
        async throws
    {
        let quantity = try market.quantity(parsing: quantity)
        let price = try market.price(parsing: price)
        _ = try await exchange.placeOrder(
            user: seller,
            request: OrderRequest(symbol: "BTC-USD", side: .sell, type: .limit, quantity: quantity, price: price))
        let (order, _) = try await exchange.placeOrder(
            user: buyer,
            request: OrderRequest(symbol: "BTC-USD", side: .buy, type: .limit, quantity: quantity, price: price))
        #expect(order.status == .filled)
    }

    static let trader: UserID = 1
    static let maker: UserID = 2
    static let other: UserID = 3

    /// The trader over days 0-4 (2 is the counterparty, 3 moves the price):
    /// - day 0: deposits 10 000 USD, buys 0.1 BTC at 50 000 (equity 5 000 + 5 000 = 10 000);
    /// - day 1: the market trades at 55 000 (equity 10 500, +5 %);
    /// - day 2: at 44 000 (equity 9 400, −10.476 %);
    /// - day 3: sells 0.05 at 48 000, realizing −100 (cash 7 400 + 2 400 = 9 800, +4.255 %);
    /// - day 4: deposits 5 000 and sells 0.05 at 52 000, realizing +100 (15 000; the return is
    ///   (15 000 − 5 000) / 9 800 − 1 = +2.041 %, not +53 %);
    /// - day 5 (the query): nothing happens (15 000, 0 %).
    static func tradeAcrossDays(_ exchange: Exchange, _ clock: ManualClock) async throws {
        _ = try await exchange.deposit(user: trader, currency: "USD", amount: amount("10000"), idempotencyKey: nil)
        _ = try await exchange.deposit(user: maker, currency: "BTC", amount: amount("10"), idempotencyKey: nil)
        _ = try await exchange.deposit(user: maker, currency: "USD", amount: amount("1000000"), idempotencyKey: nil)
        _ = try await exchange.deposit(user: other, currency: "USD", amount: amount("100000"), idempotencyKey: nil)
        try await trade(exchange, seller: maker, buyer: trader, "0.1", at: "50000")
        clock.advance(days: 1)
        try await trade(exchange, seller: maker, buyer: other, "0.01", at: "55000")
        clock.advance(days: 1)
        try await trade(exchange, seller: maker, buyer: other, "0.01", at: "44000")
        clock.advance(days: 1)
        try await trade(exchange, seller: trader, buyer: maker, "0.05", at: "48000")
        clock.advance(days: 1)
        _ = try await exchange.deposit(user: trader, currency: "USD", amount: amount("5000"), idempotencyKey: nil)
        try await trade(exchange, seller: trader, buyer: maker, "0.05", at: "52000")
        clock.advance(days: 1)
    }

    @Test("drawdown, Sharpe, Sortino and win rate of trades over several days")
    func performanceOverSeveralDays() async throws {
        let clock = ManualClock()
        try await Self.withExchange(clock: clock) { exchange in
            try await Self.tradeAcrossDays(exchange, clock)
            let first = DailyBalances.day(ofMillis: ManualClock.start)
            let curve = try await exchange.equityCurve(user: Self.trader)
            #expect(curve.map(\.day) == Array(first...first + 5))
            #expect(curve.map(\.equity) == ["10000", "10500", "9400", "9800", "15000", "15000"].map(Self.amount))
            #expect(curve.map(\.netDeposit) == ["10000", "0", "0", "0", "5000", "0"].map(Self.amount))
            // Today's point is the portfolio's total value.
            #expect(curve.last?.equity == (try await exchange.portfolio(user: Self.trader)).totalValue)

            let performance = try await exchange.performance(user: Self.trader)
            // Peak 10 500 (day 1), trough 9 400 (day 2): 1 100 / 10 500 = 10.476 %.
            #expect(performance.maxDrawdownPercent == 10.48)
            // Returns +5 %, −10.476 %, +4.255 %, +2.041 %, 0 %: mean 0.16399 %, sample deviation 6.26276 %,
            // downside deviation √(0.104762² / 5) = 4.68511 %; × √365.
            #expect(performance.sharpe == 0.5003)
            #expect(performance.sortino == 0.6687)
            // Two sells: −100 and +100.
            #expect(performance.winRate == 0.5)
            #expect(performance.tradeCount == 3)
            #expect(performance.realizedPnL == .zero && performance.unrealizedPnL == .zero)
        }
    }

    @Test("deposits and withdrawals on later days are neither gains nor losses")
    func flowsAreNotReturns() async throws {
        let clock = ManualClock()
        try await Self.withExchange(clock: clock) { exchange in
            _ = try await exchange.deposit(user: 7, currency: "USD", amount: Self.amount("1000"), idempotencyKey: nil)
            clock.advance(days: 2)
            _ = try await exchange.deposit(user: 7, currency: "USD", amount: Self.amount("1000"), idempotencyKey: nil)
            clock.advance(days: 1)
            _ = try await exchange.withdraw(user: 7, currency: "USD", amount: Self.amount("500"), idempotencyKey: nil)
            clock.advance(days: 1)
            let curve = try await exchange.equityCurve(user: 7)
            #expect(curve.map(\.equity) == ["1000", "1000", "2000", "1500", "1500"].map(Self.amount))
            #expect(PerformanceStatistics.dailyReturns(curve) == [0, 0, 0, 0])
            let performance = try await exchange.performance(user: 7)
            #expect(performance.maxDrawdownPercent == 0)
            #expect(performance.sharpe == nil && performance.sortino == nil && performance.winRate == nil)
            // A user with no history has no curve.
            #expect(try await exchange.equityCurve(user: 99).isEmpty)
            #expect(try await exchange.performance(user: 99).maxDrawdownPercent == 0)
        }
    }

    /// A base asset paid in joins the position at the market's last price and counts in the total value; paid
    /// out, it takes its share of the cost; both are flows, not returns. Day 0: the market trades at 50 000 and
    /// the trader deposits 1 BTC (and, for the journal's sake, 1 ETH, which no market trades); day 1: the market
    /// trades at 55 000; day 2: the trader withdraws 0.5 BTC. (Before, the deposited coin was left out of the
    /// position and of `total_value`, 0 here.)
    @Test("a base asset deposited or withdrawn is valued at the market, as a flow")
    func depositedBaseAssetIsHeld() async throws {
        let clock = ManualClock()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-\(UUID())").path
        let trader = Self.trader
        try await Self.withExchange(directory: dir, snapshotEvery: 3, clock: clock) { exchange in
            _ = try await exchange.deposit(
                user: Self.maker, currency: "BTC", amount: Self.amount("10"), idempotencyKey: nil)
            _ = try await exchange.deposit(
                user: Self.other, currency: "USD", amount: Self.amount("100000"), idempotencyKey: nil)
            try await Self.trade(exchange, seller: Self.maker, buyer: Self.other, "0.01", at: "50000")
            _ = try await exchange.deposit(user: trader, currency: "BTC", amount: Self.amount("1"), idempotencyKey: "b")
            _ = try await exchange.deposit(user: trader, currency: "ETH", amount: Self.amount("1"), idempotencyKey: nil)
            var portfolio = try await exchange.portfolio(user: trader)
            var position = try #require(portfolio.positions.first)
            #expect(portfolio.positions.count == 1 && position.symbol == "BTC-USD")
            #expect(position.quantity == Self.amount("1") && position.averagePrice == Self.amount("50000"))
            #expect(position.costBasis == Self.amount("50000") && position.unrealizedPnL == .zero)
            #expect(portfolio.totalValue == Self.amount("50000") && portfolio.cash == .zero)

            clock.advance(days: 1)
            try await Self.trade(exchange, seller: Self.maker, buyer: Self.other, "0.01", at: "55000")
            clock.advance(days: 1)
            _ = try await exchange.withdraw(
                user: trader, currency: "BTC", amount: Self.amount("0.5"), idempotencyKey: nil)
            portfolio = try await exchange.portfolio(user: trader)
            position = try #require(portfolio.positions.first)
            #expect(position.quantity == Self.amount("0.5") && position.costBasis == Self.amount("25000"))
            #expect(position.averagePrice == Self.amount("50000") && position.marketValue == Self.amount("27500"))
            #expect(position.unrealizedPnL == Self.amount("2500") && position.realizedPnL == .zero)
            #expect(portfolio.totalValue == Self.amount("27500"))

            let curve = try await exchange.equityCurve(user: trader)
            #expect(curve.map(\.equity) == ["50000", "55000", "27500"].map(Self.amount))
            #expect(curve.map(\.netDeposit) == ["50000", "0", "-27500"].map(Self.amount))
            let returns = PerformanceStatistics.dailyReturns(curve)
            #expect(returns.count == 2 && abs(returns[0] - 0.1) < 1e-12 && returns[1] == 0)
        }
        // A restart replays the deposit at the price the journal kept, not at the market's price now (55 000).
        try await Self.withExchange(directory: dir, snapshotEvery: 3, clock: clock) { exchange in
            let position = try #require(try await exchange.portfolio(user: trader).positions.first)
            #expect(position.quantity == Self.amount("0.5") && position.costBasis == Self.amount("25000"))
        }
    }

    /// Before a market's first trade a deposit is valued, and the position marked, at the middle of the best bid and
    /// ask (a demo market quoted by paper liquidity has no trade of its own yet). A system account's inventory
    /// deposit (`accountOwner`, paper liquidity's) joins no position.
    @Test("before the first trade, deposits are valued at the middle of the book")
    func depositBeforeTheFirstTrade() async throws {
        try await Self.withExchange(clock: ManualClock()) { exchange in
            _ = try await exchange.deposit(
                user: Self.maker, currency: "BTC", amount: Self.amount("1"), idempotencyKey: nil)
            _ = try await exchange.deposit(
                user: Self.other, currency: "USD", amount: Self.amount("100000"), idempotencyKey: nil)
            let quantity = try Self.market.quantity(parsing: "0.1")
            for (user, side, price) in [(Self.maker, Side.sell, "50001.01"), (Self.other, .buy, "49998.98")] {
                _ = try await exchange.placeOrder(
                    user: user,
                    request: OrderRequest(
                        symbol: "BTC-USD", side: side, type: .limit, quantity: quantity,
                        price: try Self.market.price(parsing: price)))
            }
            _ = try await exchange.deposit(
                user: Self.trader, currency: "BTC", amount: Self.amount("2"), idempotencyKey: nil)
            let portfolio = try await exchange.portfolio(user: Self.trader)
            let position = try #require(portfolio.positions.first)
            #expect(position.averagePrice == Self.amount("49999.995") && position.marketPrice == position.averagePrice)
            #expect(portfolio.totalValue == Self.amount("99999.99") && position.unrealizedPnL == .zero)

            try await exchange.accountOwner.deposit(
                user: 9, currency: "BTC", amount: Self.amount("5"), idempotencyKey: "inventory")
            #expect(try await exchange.portfolio(user: 9).positions.isEmpty)
            #expect(try await exchange.balances(user: 9).map(\.available) == [Self.amount("5")])
        }
    }

    @Test("the daily series survives a restart from snapshots and the journal", arguments: [1_000, 3] as [Int64])
    func seriesSurvivesRestart(snapshotEvery: Int64) async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-\(UUID())").path
        let clock = ManualClock()
        let before = try await Self.withExchange(directory: dir, snapshotEvery: snapshotEvery, clock: clock) {
            exchange in
            try await Self.tradeAcrossDays(exchange, clock)
            return (
                try await exchange.equityCurve(user: Self.trader), try await exchange.performance(user: Self.trader)
            )
        }
        let after = try await Self.withExchange(directory: dir, snapshotEvery: snapshotEvery, clock: clock) {
            exchange in
            (try await exchange.equityCurve(user: Self.trader), try await exchange.performance(user: Self.trader))
        }
        #expect(before.0.count == 6)
        #expect(after.0 == before.0)
        #expect(after.1 == before.1)
    }

    // MARK: The account shard's snapshot

    /// User 1 deposits USD and user 2 deposits BTC on day 0; on day 1 user 1 buys 0.1 BTC from user 2.
    static func shardAcrossDays() throws -> AccountShardState {
        var state = AccountShardState(index: 0, markets: ["BTC-USD": market])
        let start = ManualClock.start
        func apply(_ command: AccountShardState.Command, day: Int64) throws {
            _ = try state.apply(.init(timestampMillis: start + day * dayMillis, command: command))
        }
        try apply(.deposit(user: 1, currency: "USD", amount: amount("10000"), key: nil), day: 0)
        try apply(.deposit(user: 2, currency: "BTC", amount: amount("1"), key: nil), day: 0)
        let quantity = try market.quantity(parsing: "0.1")
        let price = try market.price(parsing: "50000")
        try apply(
            .place(
                user: 2,
                request: OrderRequest(symbol: "BTC-USD", side: .sell, type: .limit, quantity: quantity, price: price),
                protection: nil), day: 1)
        try apply(
            .place(
                user: 1,
                request: OrderRequest(symbol: "BTC-USD", side: .buy, type: .limit, quantity: quantity, price: price),
                protection: nil), day: 1)
        let sell = OrderIDs.make(shard: 0, counter: 1)
        let buy = OrderIDs.make(shard: 0, counter: 2)
        let trade = Trade(
            id: 1, price: price, quantity: quantity, takerSide: .buy, makerOrderID: sell, makerOwner: 2,
            makerRemaining: .zero, takerOrderID: buy, takerOwner: 1, takerRemaining: .zero)
        try apply(
            .bookEvents(
                symbol: "BTC-USD",
                events: [
                    BookEvent(sequence: 1, kind: .accepted(sell)), BookEvent(sequence: 2, kind: .accepted(buy)),
                    BookEvent(sequence: 3, kind: .trade(trade)),
                ]), day: 1)
        return state
    }

    @Test func theSnapshotCarriesTheDailySeries() throws {
        let state = try Self.shardAcrossDays()
        let series = try #require(state.account(1)?.daily)
        let first = DailyBalances.day(ofMillis: ManualClock.start)
        #expect(series.days.map(\.day) == [first, first + 1])
        #expect(series.days[1].holdings["BTC-USD"]?.quantity == Self.amount("0.1"))
        // The seller sold deposited BTC, which has no cost: a positive realized P&L.
        let sellerCounts = try #require(state.account(2)?.daily.sellCounts)
        #expect(sellerCounts == (1, 1))
        let bytes = state.snapshot()
        #expect(bytes.starts(with: Array("BAS3".utf8)))
        let restored = try AccountShardState(index: 0, markets: state.markets, snapshot: bytes)
        #expect(restored.account(1)?.daily == series)
        #expect(restored.account(2)?.daily == state.account(2)?.daily)
        #expect(restored.snapshot() == bytes)
    }

    /// A snapshot written before the series existed still reads: each user's series starts from the ledger
    /// as it stands, on the day of its newest transaction row, with that day's deposits.
    @Test func aVersion1SnapshotStartsTheSeriesFromTheLedger() throws {
        let state = try Self.shardAcrossDays()
        let old = state.snapshot(layout: .v1)
        let restored = try AccountShardState(index: 0, markets: state.markets, snapshot: old)
        let first = DailyBalances.day(ofMillis: ManualClock.start)
        let series = try #require(restored.account(1)?.daily)
        #expect(series.days == [state.account(1)!.daily.days[1]])
        // The seller's newest row is the sale on day 1; its sell count is not known any more.
        var seller = try #require(state.account(2)?.daily.days.last)
        seller.sells = 0
        seller.winningSells = 0
        #expect(restored.account(2)?.daily.days == [seller])
        #expect(seller.day == first + 1)
        // Everything else is as it was; written again, it is a version-2 snapshot.
        #expect(restored.account(1)?.ledger == state.account(1)?.ledger)
        #expect(restored.snapshot().starts(with: Array("BAS3".utf8)))
        #expect(throws: BourseError.self) {
            try AccountShardState(index: 0, markets: state.markets, snapshot: Array("BAS3".utf8) + old.dropFirst(4))
        }
    }
}
