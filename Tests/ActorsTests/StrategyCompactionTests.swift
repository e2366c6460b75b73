import Testing
import Trading

@testable import Actors

/// Deleted strategies' rules stay in the market's shared rule program until they are half of it, then the
/// program is compacted: the strategies left (and those added after) must still fire as before.
@Suite("Strategy rule program compaction")
struct StrategyCompactionTests {
    typealias Base = StrategyEvaluationTests

    @Test("after deletes compact the program, the remaining and the new strategies fire, the deleted never")
    func deletesThenCloses() async throws {
        let clock = Base.Clock()
        try await Base.withExchange(clock: clock) { exchange in
            try await Base.fund(exchange)
            _ = try await exchange.placeOrder(
                user: Base.maker,
                request: OrderRequest(
                    symbol: "BTC-USD", side: .sell, type: .limit, quantity: Base.quantity("1"),
                    price: try Base.market.price(parsing: "201")))
            // Five strategies of the owner; four are deleted (more than half the program: compacted).
            var made: [StrategyView] = []
            for _ in 0..<5 {
                made.append(try await exchange.createStrategy(user: Base.owner, definition: Base.above150()))
            }
            for strategy in made.dropLast() {
                _ = try await exchange.deleteStrategy(user: Base.owner, strategyID: strategy.strategyID)
            }
            let kept = try #require(made.last)
            let added = try await exchange.createStrategy(user: Base.owner, definition: Base.above150())

            _ = try await ReferenceFeedTests.tick(exchange, clock, minute: 0, at: "200")
            _ = try await ReferenceFeedTests.tick(exchange, clock, minute: 1, at: "200")
            try await Base.settle(exchange)

            #expect(Base.closes(try await Base.signals(exchange, kept)) == [1])
            #expect(Base.closes(try await Base.signals(exchange, added)) == [1])
            let listed = try await exchange.strategies(user: Base.owner).map(\.strategyID)
            #expect(Set(listed) == Set([kept, added].map(\.strategyID)), "\(listed)")
            #expect(try await exchange.orders(user: Base.owner, filter: .init()).count == 2)
        }
    }
}
