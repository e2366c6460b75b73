import TestSupport
import Testing
import Trading

/// The hand-written matching scenarios against `ReferenceBook`, plus checks of its queries and state hash.
///
/// `OrderBookDifferentialTests` runs the same scenarios against the fast `OrderBook`.
@Suite("ReferenceBook scenarios")
struct ReferenceBookScenarioTests {
    @Test("scenario", arguments: MatchingScenario.all)
    func scenario(_ scenario: MatchingScenario) {
        scenario.run(on: ReferenceBook.self)
    }

    @Test("scenario names are unique")
    func scenarioNamesAreUnique() {
        #expect(Set(MatchingScenario.all.map(\.name)).count == MatchingScenario.all.count)
    }

    @Test("depth, resting orders and stop orders")
    func queries() {
        var book = ReferenceBook()
        let commands: [BookCommand] = [
            limit(1, owner: 1, .buy, price: 100, quantity: 5),
            limit(2, owner: 2, .buy, price: 99, quantity: 3),
            limit(3, owner: 3, .buy, price: 100, quantity: 2),
            limit(4, owner: 1, .sell, price: 102, quantity: 4),
            limit(5, owner: 2, .sell, price: 103, quantity: 1),
            limit(6, owner: 3, .sell, price: 101, quantity: 2, postOnly: true),
            stop(7, owner: 4, .buy, stopPrice: 110, quantity: 1),
            stop(8, owner: 4, .sell, stopPrice: 90, quantity: 2, limitPrice: 89),
            limit(9, owner: 4, .sell, price: 100, quantity: 1),
        ]
        for command in commands { _ = book.apply(command) }
        #expect(book.bestBid == Price(ticks: 100))
        #expect(book.bestAsk == Price(ticks: 101))
        #expect(book.lastTradePrice == Price(ticks: 100))
        #expect(book.sequence == 10)
        #expect(book.depth(.buy, levels: 5).map { [$0.price.ticks, $0.quantity.lots] } == [[100, 6], [99, 3]])
        #expect(book.depth(.sell, levels: 2).map { [$0.price.ticks, $0.quantity.lots] } == [[101, 2], [102, 4]])
        #expect(book.depth(.buy, levels: 0).isEmpty)
        let resting = book.restingOrders.map {
            "\($0.id)/\($0.owner)/\($0.side)/\($0.price.ticks)/\($0.quantity.lots)/\($0.remaining.lots)"
        }
        #expect(
            resting == [
                "1/1/buy/100/5/4", "3/3/buy/100/2/2", "2/2/buy/99/3/3", "6/3/sell/101/2/2", "4/1/sell/102/4/4",
                "5/2/sell/103/1/1",
            ])
        #expect(book.stopOrders.map(\.id) == [7, 8])
    }

    @Test("state hash feeds the documented words in the documented order")
    func stateHashWords() {
        var book = ReferenceBook()
        _ = book.apply(limit(1, owner: 1, .buy, price: 100, quantity: 5, postOnly: true))
        _ = book.apply(limit(2, owner: 2, .sell, price: 105, quantity: 3))
        _ = book.apply(stop(3, owner: 3, .buy, stopPrice: 110, quantity: 2, limitPrice: 111, .ioc))
        _ = book.apply(stop(4, owner: 4, .sell, stopPrice: 90, quantity: 1))
        _ = book.apply(stop(5, owner: 4, .sell, stopPrice: 95, quantity: 1))
        let words: [UInt64] = [
            5, 1, 0, 0,
            1, 1, 1, 100, 5, 5, 1,
            1, 2, 2, 105, 3, 3, 0,
            1, 3, 3, 0, 3, 110, 1, 111, 2, 1, 0,
            2, 5, 4, 1, 2, 95, 0, 0, 1, 0, 0, 4, 4, 1, 2, 90, 0, 0, 1, 0, 0,
        ]
        var hasher = StateHasher()
        for word in words { hasher.combine(word) }
        #expect(book.stateHash == hasher.value)

        // A trade: last trade price 105, next trade id 2, order 2 gone.
        _ = book.apply(limit(6, owner: 5, .buy, price: 105, quantity: 3))
        let afterTrade: [UInt64] = [
            7, 2, 1, 105,
            1, 1, 1, 100, 5, 5, 1,
            0,
            1, 3, 3, 0, 3, 110, 1, 111, 2, 1, 0,
            2, 5, 4, 1, 2, 95, 0, 0, 1, 0, 0, 4, 4, 1, 2, 90, 0, 0, 1, 0, 0,
        ]
        hasher = StateHasher()
        for word in afterTrade { hasher.combine(word) }
        #expect(book.stateHash == hasher.value)
    }
}
