import API
import Actors
import Testing
import Trading

/// Retries that race: the same request sent several times at once must act once.
@Suite("End to end: racing retries")
struct ConcurrencyTests {
    @Test(arguments: ["60000", "50000"])
    func concurrentClientOrderIDRetriesPlaceOneOrder(price: String) async throws {
        try await InProcessNode.run { node in
            let api = node.api
            let maker = try await node.trader("maker")
            let user = try await node.trader("racer")
            _ = try await api.placed(maker, order("buy", "0.1", at: "50000"))
            // A sell that rests (60,000) or fills at once (50,000), sent 8 times at once.
            let request = order("sell", "0.1", at: price, extra: ["client_order_id": "once"])
            let responses = try await withThrowingTaskGroup(of: APIResponse.self) { group in
                for _ in 0..<8 { group.addTask { try await api.place(user, request) } }
                var all: [APIResponse] = []
                for try await response in group { all.append(response) }
                return all
            }
            #expect(responses.map(\.status).sorted() == [200, 200, 200, 200, 200, 200, 200, 201], "\(responses)")
            let ids = Set(responses.compactMap { $0.json["order_id"] })
            #expect(ids.count == 1, "\(responses)")
            let orders = try await api.json(.get, "/v1/orders", token: user.token)
            #expect(orders.arrayValue?.count == 1, "\(orders.compact)")
            let status = price == "60000" ? "new" : "filled"
            #expect(orders.arrayValue?.first?["status"]?.stringValue == status, "\(orders.compact)")
            if price == "60000" {
                #expect(
                    try await api.book()
                        == Expected.book(bids: [("50000.00", "0.10000")], asks: [("60000.00", "0.10000")]))
                #expect(try await api.balances(user)["BTC"] == ["9.90000000", "0.10000000"])
            } else {
                #expect(try await api.book() == Expected.book())
                #expect(try await api.balances(user)["BTC"] == ["9.90000000", "0.00000000"])
                #expect(try await api.balances(user)["USD"] == ["1004990.00000000", "0.00000000"])
            }
            #expect(
                try await api.json(.get, "/v1/markets/BTC-USD/trades").arrayValue?.count == (price == "60000" ? 0 : 1))
            try await ConservationTests.checkHistory(api, user)
        }
    }

    @Test func concurrentDepositRetriesDepositOnce() async throws {
        try await InProcessNode.run { node in
            let api = node.api
            let user = try await api.signUp("saver")
            let responses = try await withThrowingTaskGroup(of: JSONValue.self) { group in
                for _ in 0..<8 { group.addTask { try await api.deposit(user, "USD", "100", key: "same") } }
                var all: [JSONValue] = []
                for try await response in group { all.append(response) }
                return all
            }
            #expect(Set(responses).count == 1, "\(responses.map(\.compact))")
            #expect(try await api.balances(user) == ["USD": ["100.00000000", "0.00000000"]])
            #expect(try await api.json(.get, "/v1/account/transactions", token: user.token).arrayValue?.count == 1)
        }
    }

    /// Regression: a retry that raced the first request past `Exchange.placeOrder`'s client_order_id check
    /// reached the account shard, which handed the first order out again, and the exchange booked it a
    /// second time (a resting duplicate, or a filled order trading again without a reservation). The race
    /// needs two threads to interleave exactly, so it is pinned here on the shard's state machine.
    @Test func theAccountShardNeverPlacesAClientOrderIDTwice() throws {
        var state = AccountShardState(index: 0, markets: ["BTC-USD": InProcessNode.btc])
        _ = try state.apply(
            .init(
                timestampMillis: 0,
                command: .deposit(user: 1, currency: "USD", amount: Amount(units: 10_000_000_000_000), key: nil)))
        let request = OrderRequest(
            symbol: "BTC-USD", side: .buy, type: .limit, quantity: try InProcessNode.btc.quantity(parsing: "0.1"),
            price: try InProcessNode.btc.price(parsing: "50000"), clientOrderID: "once")
        let place = AccountShardState.Record(
            timestampMillis: 0, command: .place(user: 1, request: request, protection: nil))
        guard case .order = try state.apply(place) else {
            Issue.record("the first request places the order")
            return
        }
        let before = state.account(1)?.ledger.balance("USD")
        #expect(throws: BourseError.self) { try state.apply(place) }
        #expect(state.account(1)?.ledger.balance("USD") == before)
        #expect(state.account(1)?.orders.count == 1)
    }
}
