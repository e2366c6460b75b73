import Foundation
import Logging
import Testing
import Trading

@testable import Actors

/// Reference prices from a feed inside the market: on the market's grid, building candles (and closing them,
/// which runs the strategies), journaled and replayed; and the paper-liquidity provider quoting around them.
@Suite("Reference feed and paper liquidity")
struct ReferenceFeedTests {
    typealias Base = StrategyEvaluationTests
    static let market = Base.market
    static let lp: UserID = 9

    static func units(_ text: String) -> Int64 { try! Amount(parsing: text).units }
    static func price(_ text: String) -> Price { try! market.price(parsing: text) }

    /// The tick of minute `index`, a second into it, at `price` (size `quantity`, 0 for a quote).
    static func tick(
        _ exchange: Exchange, _ clock: Base.Clock, minute index: Int64, at price: String, quantity: String = "0"
    ) async throws -> [ReferencePrint] {
        clock.set(Base.start + index * Base.minute + 1_000)
        return try await exchange.referenceTicks(
            symbol: "BTC-USD", [(priceUnits: units(price), quantityUnits: units(quantity))])
    }

    @Test("feed prices go onto the grid: nearest tick (half up), size down to whole lots, nothing at zero")
    func grid() {
        let spec = Self.market
        #expect(
            ReferencePrint(priceUnits: Self.units("100.004"), quantityUnits: Self.units("0.000019"), spec: spec)
                == ReferencePrint(price: Self.price("100"), quantity: Quantity(lots: 1)))
        #expect(
            ReferencePrint(priceUnits: Self.units("100.005"), quantityUnits: 0, spec: spec)?.price
                == Self.price("100.01"))
        #expect(ReferencePrint(priceUnits: Self.units("0.004"), quantityUnits: 0, spec: spec) == nil)
        #expect(ReferencePrint(priceUnits: 0, quantityUnits: 0, spec: spec) == nil)
        #expect(ReferencePrint(priceUnits: Self.units("1"), quantityUnits: -1, spec: spec) == nil)
    }

    @Test("reference ticks build candles without trades and survive a restart (journal replay)")
    func candlesFromTicks() async throws {
        let clock = Base.Clock()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-\(UUID())").path
        try await Base.withExchange(directory: directory, clock: clock) { exchange in
            _ = try await Self.tick(exchange, clock, minute: 0, at: "100", quantity: "0.5")
            clock.set(Base.start + 30_000)
            _ = try await exchange.referenceTicks(
                symbol: "BTC-USD",
                [(Self.units("104.5"), Self.units("0.25")), (Self.units("99.5"), 0), (Self.units("101"), 0)])
            _ = try await Self.tick(exchange, clock, minute: 1, at: "102")
            let candles = try await exchange.candles(symbol: "BTC-USD", interval: .m1, limit: 10)
            #expect(candles.count == 2)
            let first = try #require(candles.first)
            #expect(first.openTimeMillis == Base.start)
            #expect(first.open == Self.price("100"))
            #expect(first.high == Self.price("104.5"))
            #expect(first.low == Self.price("99.5"))
            #expect(first.close == Self.price("101"))
            #expect(first.volume == (try Self.market.quantity(parsing: "0.75")))
            // Not trades: the public trades and the last trade price are untouched.
            #expect(try await exchange.recentTrades(symbol: "BTC-USD", limit: 10).isEmpty)
            #expect(try await exchange.ticker(symbol: "BTC-USD").lastPrice == nil)
            #expect(try await exchange.referencePrice(symbol: "BTC-USD") == Self.price("102"))
        }
        // A restart on the same store replays the reference records into the same candles.
        try await Base.withExchange(directory: directory, clock: clock) { exchange in
            let candles = try await exchange.candles(symbol: "BTC-USD", interval: .m1, limit: 10)
            #expect(candles.map(\.close) == [Self.price("101"), Self.price("102")])
            #expect(candles.first?.high == Self.price("104.5"))
        }
    }

    @Test("a tick that closes a candle runs the strategies; the signal's market order fills for the owner")
    func tickFiresStrategy() async throws {
        let clock = Base.Clock()
        try await Base.withExchange(clock: clock) { exchange in
            try await Base.fund(exchange)
            // Someone to buy from.
            _ = try await exchange.placeOrder(
                user: Base.maker,
                request: OrderRequest(
                    symbol: "BTC-USD", side: .sell, type: .limit, quantity: Base.quantity("1"), price: Self.price("201")
                ))
            let strategy = try await exchange.createStrategy(user: Base.owner, definition: Base.above150())
            _ = try await Self.tick(exchange, clock, minute: 0, at: "140")
            _ = try await Self.tick(exchange, clock, minute: 1, at: "200")  // closes minute 0 at 140: no
            #expect(try await Base.signals(exchange, strategy).isEmpty)
            _ = try await Self.tick(exchange, clock, minute: 2, at: "200")  // closes minute 1 at 200: fires
            try await Base.settle(exchange)
            let signals = try await Base.signals(exchange, strategy)
            #expect(Base.closes(signals) == [2])
            guard case .placed(let orderID) = signals.first?.outcome else {
                Issue.record("not placed: \(String(describing: signals.first?.outcome))")
                return
            }
            let order = try await exchange.order(user: Base.owner, orderID: orderID)
            #expect(order.status == .filled)
            #expect(order.fills.map(\.price) == [Self.price("201")])
        }
    }

    @Test("the quote ladder: bids below and asks above the reference, spread and steps in bps, rounded outwards")
    func ladder() {
        let configuration = LiquidityConfiguration(
            spreadBps: 10, levels: 3, stepBps: 5, size: Quantity(lots: 7), baseInventory: .zero,
            quoteInventory: .zero)
        let quotes = QuoteLadder(reference: Self.price("50000"), configuration: configuration).quotes
        // ±5 bps, ±10 bps, ±15 bps of 50,000.00: 25, 50, 75 USD.
        #expect(quotes.filter { $0.side == .buy }.map(\.price) == ["49975", "49950", "49925"].map(Self.price))
        #expect(quotes.filter { $0.side == .sell }.map(\.price) == ["50025", "50050", "50075"].map(Self.price))
        #expect(quotes.allSatisfy { $0.quantity == Quantity(lots: 7) })
        // 1.00 with 1 bp: half a basis point is a fraction of a tick, so the bid rounds down and the ask up.
        let tight = LiquidityConfiguration(
            spreadBps: 1, levels: 2, stepBps: 1, size: Quantity(lots: 1), baseInventory: .zero, quoteInventory: .zero)
        let small = QuoteLadder(reference: Self.price("1"), configuration: tight).quotes
        #expect(small.filter { $0.side == .buy }.map(\.price) == [Self.price("0.99")])  // levels merged on one tick
        #expect(small.filter { $0.side == .sell }.map(\.price) == [Self.price("1.01")])
    }

    @Test("the provider requotes once the price has moved requote_bps from the price it quoted around")
    func requoteThreshold() {
        var configuration = LiquidityConfiguration(
            size: Quantity(lots: 1), baseInventory: .zero, quoteInventory: .zero)
        #expect(configuration.requoteBps == 1)
        let quoted = Price(ticks: 100_000)  // 1,000.00: 1 bp is 10 ticks
        #expect(configuration.shouldRequote(from: nil, to: quoted))
        #expect(!configuration.shouldRequote(from: quoted, to: quoted))
        #expect(!configuration.shouldRequote(from: quoted, to: Price(ticks: 100_009)))  // 0.9 bp
        #expect(configuration.shouldRequote(from: quoted, to: Price(ticks: 100_010)))  // 1 bp
        #expect(configuration.shouldRequote(from: quoted, to: Price(ticks: 99_990)))
        configuration.requoteBps = 0
        #expect(configuration.shouldRequote(from: quoted, to: Price(ticks: 100_001)))
        #expect(!configuration.shouldRequote(from: quoted, to: quoted))
    }

    @Test("impossible liquidity settings are refused")
    func liquidityValidation() {
        func settings(spread: Int64 = 10, levels: Int = 5, step: Int64 = 5, lots: Int64 = 1) -> LiquidityConfiguration {
            LiquidityConfiguration(
                spreadBps: spread, levels: levels, stepBps: step, size: Quantity(lots: lots), baseInventory: .zero,
                quoteInventory: .zero)
        }
        #expect(throws: BourseError.self) { try settings(spread: 0).validate(symbol: "X") }
        #expect(throws: BourseError.self) { try settings(levels: 0).validate(symbol: "X") }
        #expect(throws: BourseError.self) { try settings(lots: 0).validate(symbol: "X") }
        #expect(throws: BourseError.self) { try settings(spread: 5_000, levels: 50, step: 5_000).validate(symbol: "X") }
        #expect(throws: Never.self) { try settings().validate(symbol: "X") }
    }

    @Test("the provider quotes around the reference, requotes when it moves, and a market buy walks its levels")
    func liquidityProvider() async throws {
        let clock = Base.Clock()
        try await Base.withExchange(clock: clock) { exchange in
            try await Base.fund(exchange)
            let provider = LiquidityProvider(
                exchange: exchange, user: Self.lp, symbol: "BTC-USD",
                configuration: LiquidityConfiguration(
                    spreadBps: 20, levels: 3, stepBps: 10, size: Base.quantity("0.1"),
                    baseInventory: try Amount(parsing: "10"), quoteInventory: try Amount(parsing: "100000")),
                logger: Logger(label: "test"))
            try await provider.fund()
            try await provider.fund()  // already at the inventory: no second deposit
            let deposits = try await exchange.transactions(user: Self.lp, limit: 100).filter {
                $0.entry.type == .deposit
            }
            #expect(deposits.count == 2)

            #expect(await provider.requote(at: Self.price("1000")))
            var book = try await exchange.orderBook(symbol: "BTC-USD", depth: 10)
            #expect(book.bids.map(\.price) == ["999", "998", "997"].map(Self.price))
            #expect(book.asks.map(\.price) == ["1001", "1002", "1003"].map(Self.price))

            #expect(await provider.requote(at: Self.price("2000")))
            book = try await exchange.orderBook(symbol: "BTC-USD", depth: 10)
            #expect(book.bids.map(\.price) == ["1998", "1996", "1994"].map(Self.price))
            #expect(book.asks.map(\.price) == ["2002", "2004", "2006"].map(Self.price))
            #expect(try await exchange.orders(user: Self.lp, filter: .init(status: .open)).count == 6)

            // 0.25 BTC at market: 0.1 at 2002, 0.1 at 2004, 0.05 at 2006 (slippage through the levels).
            let (order, _) = try await exchange.placeOrder(
                user: Base.taker,
                request: OrderRequest(symbol: "BTC-USD", side: .buy, type: .market, quantity: Base.quantity("0.25")))
            #expect(order.status == .filled)
            #expect(order.fills.map(\.price) == ["2002", "2004", "2006"].map(Self.price))
            let report = await exchange.verify()
            #expect(report.ok, "\(report.checks.filter { !$0.passed })")
        }
    }
}
