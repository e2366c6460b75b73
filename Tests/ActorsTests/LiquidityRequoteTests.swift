import Logging
import TestSupport
import Testing
import Trading

@testable import Actors

/// The paper-liquidity provider replaces its ladder make before break: a side never empties on a requote, and
/// its own quotes never cross each other (it never trades with itself), however far the price moves.
@Suite("Liquidity requote")
struct LiquidityRequoteTests {
    typealias Base = StrategyEvaluationTests
    static let lp: UserID = 9

    static func price(_ text: String) -> Price { try! Base.market.price(parsing: text) }

    /// Runs `plan` over `resting`, one order at a time, and checks after every step that each side the provider
    /// quoted before (or has placed since) still has a quote and that no bid is at or above an ask. Returns the
    /// quotes left.
    static func execute(_ plan: RequotePlan, on resting: [RequotePlan.Resting], seed: UInt64) -> [RequotePlan.Resting] {
        var book = resting
        var nextID = (resting.map(\.orderID).max() ?? 0) + 1
        var quotedBefore = Set(resting.map(\.side))
        func check(_ what: String) {
            let bids = book.filter { $0.side == .buy }.map(\.price.ticks)
            let asks = book.filter { $0.side == .sell }.map(\.price.ticks)
            if let bid = bids.max(), let ask = asks.min() {
                #expect(bid < ask, "seed \(seed), after \(what): own bid \(bid) at or above own ask \(ask)")
            }
            for side in quotedBefore {
                #expect(book.contains { $0.side == side }, "seed \(seed), after \(what): no \(side) quote left")
            }
        }
        for step in plan.steps {
            for quote in step.quotes {
                book.append(RequotePlan.Resting(orderID: nextID, side: quote.side, price: quote.price))
                nextID += 1
                quotedBefore.insert(quote.side)
                check("placing \(quote.side) at \(quote.price.ticks)")
            }
            for id in step.cancels {
                book.removeAll { $0.orderID == id }
                check("cancelling \(id)")
            }
        }
        return book
    }

    @Test(
        "a requote never leaves a side empty nor crosses the provider's own quotes (seeded random moves)",
        arguments: [1 as UInt64, 2, 3, 4, 5])
    func planKeepsBothSides(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        for _ in 0..<500 {
            let configuration = LiquidityConfiguration(
                spreadBps: random.int(in: 1...200), levels: Int(random.int(in: 1...8)),
                stepBps: random.int(in: 1...100),
                size: Quantity(lots: 1), baseInventory: .zero, quoteInventory: .zero)
            let before = Price(ticks: random.int(in: 100...10_000_000))
            // From no move to a jump of ±60%.
            let move = random.int(in: -6_000...6_000)
            let after = Price(ticks: max(100, before.ticks + before.ticks * move / 10_000))
            // What still rests of the old ladder: some levels filled or cancelled meanwhile.
            var resting: [RequotePlan.Resting] = []
            for (index, quote) in QuoteLadder(reference: before, configuration: configuration).quotes.enumerated()
            where random.int(in: 0...3) > 0 {
                resting.append(RequotePlan.Resting(orderID: OrderID(index + 1), side: quote.side, price: quote.price))
            }
            let ladder = QuoteLadder(reference: after, configuration: configuration)
            let plan = RequotePlan(resting: resting, ladder: ladder)
            let left = Self.execute(plan, on: resting, seed: seed)
            // Exactly the new ladder is left.
            #expect(
                Set(left.map { QuoteLadder.Quote(side: $0.side, price: $0.price, quantity: Quantity(lots: 1)) })
                    == Set(ladder.quotes))
            #expect(left.count == ladder.quotes.count)
        }
    }

    @Test("after a rise the asks go first, after a fall the bids")
    func sideOrder() {
        let configuration = LiquidityConfiguration(
            spreadBps: 20, levels: 3, stepBps: 10, size: Quantity(lots: 1), baseInventory: .zero,
            quoteInventory: .zero)
        let old = QuoteLadder(reference: Self.price("1000"), configuration: configuration).quotes.enumerated().map {
            RequotePlan.Resting(orderID: OrderID($0.offset + 1), side: $0.element.side, price: $0.element.price)
        }
        // New bids at 1998 would meet the old asks at 1001–1003.
        let rise = RequotePlan(
            resting: old, ladder: QuoteLadder(reference: Self.price("2000"), configuration: configuration))
        #expect(rise.steps.map(\.side) == [.sell, .buy])
        #expect(rise.steps[0].cancels == old.filter { $0.side == .sell }.map(\.orderID))
        let fall = RequotePlan(
            resting: old, ladder: QuoteLadder(reference: Self.price("500"), configuration: configuration))
        #expect(fall.steps.map(\.side) == [.buy, .sell])
        #expect(fall.steps[0].cancels == old.filter { $0.side == .buy }.map(\.orderID))
    }

    @Test("through requotes up and down, every state of the book has bids and asks (order book stream)")
    func bookNeverEmptiesASide() async throws {
        let clock = Base.Clock()
        try await Base.withExchange(clock: clock) { exchange in
            let configuration = LiquidityConfiguration(
                spreadBps: 20, levels: 3, stepBps: 10, size: Base.quantity("0.1"),
                baseInventory: try Amount(parsing: "10"), quoteInventory: try Amount(parsing: "100000"))
            let provider = LiquidityProvider(
                exchange: exchange, user: Self.lp, symbol: "BTC-USD", configuration: configuration,
                logger: Logger(label: "test"))
            try await provider.fund()
            #expect(await provider.requote(at: Self.price("1000")))
            let depths = try await exchange.subscribe(channels: [.orderbook("BTC-USD")], user: nil)
            for reference in ["1001", "2000", "1990", "900", "1500"] {
                #expect(await provider.requote(at: Self.price(reference)))
            }
            let final = QuoteLadder(reference: Self.price("1500"), configuration: configuration).quotes
            let finalBids = final.filter { $0.side == .buy }.map(\.price)
            let finalAsks = final.filter { $0.side == .sell }.map(\.price)
            var seen = 0
            for await event in depths {
                guard case .orderbook(let depth) = event.payload else { continue }
                seen += 1
                #expect(!depth.bids.isEmpty && !depth.asks.isEmpty, "state \(seen): \(depth)")
                if let bid = depth.bids.first?.price, let ask = depth.asks.first?.price {
                    #expect(bid < ask, "state \(seen): crossed")
                }
                if depth.bids.map(\.price) == finalBids, depth.asks.map(\.price) == finalAsks { break }
            }
            // Five requotes of three levels a side: a place and a cancel each.
            #expect(seen == 5 * 12)
        }
    }

    @Test("when the inventory holds one ladder only, the provider makes room and still quotes the whole ladder")
    func tightInventory() async throws {
        let clock = Base.Clock()
        try await Base.withExchange(clock: clock) { exchange in
            // Three asks of 0.1 BTC: 0.3 BTC is one ladder's worth, so the new asks fit only once the old are gone.
            let provider = LiquidityProvider(
                exchange: exchange, user: Self.lp, symbol: "BTC-USD",
                configuration: LiquidityConfiguration(
                    spreadBps: 20, levels: 3, stepBps: 10, size: Base.quantity("0.1"),
                    baseInventory: try Amount(parsing: "0.3"), quoteInventory: try Amount(parsing: "100000")),
                logger: Logger(label: "test"))
            try await provider.fund()
            #expect(await provider.requote(at: Self.price("1000")))
            #expect(await provider.requote(at: Self.price("1100")))
            let book = try await exchange.orderBook(symbol: "BTC-USD", depth: 10)
            #expect(book.bids.map(\.price) == ["1098.9", "1097.8", "1096.7"].map(Self.price))
            #expect(book.asks.map(\.price) == ["1101.1", "1102.2", "1103.3"].map(Self.price))
            #expect(try await exchange.orders(user: Self.lp, filter: .init(status: .open)).count == 6)
            // No order of the provider traded: nothing crossed its own quotes.
            #expect(try await exchange.userTrades(user: Self.lp, symbol: nil, limit: 100).isEmpty)
            let report = await exchange.verify()
            #expect(report.ok, "\(report.checks.filter { !$0.passed })")
        }
    }
}
