import Storage
import Testing
import Trading

@testable import Actors

/// A user's history in memory keeps their last 5,000–10,000 orders (`UserAccount.historyCapacity`); an older
/// order is still the user's: it is answered from the read models, and it can no longer change (409).
@Suite("Orders older than the history in memory, from the read models")
struct ArchivedOrderTests {
    typealias Flow = ReadModelFlowTests

    /// An exchange on a `kind` store that has traded (`Flow.trade`) and whose read models have caught up.
    static func withTradedExchange(_ kind: Flow.Kind, _ body: (Exchange) async throws -> Void) async throws {
        try await Flow.withStore(kind) { store in
            try await Flow.withExchange(store: store, projecting: true) { exchange, _ in
                try await Flow.trade(exchange)
                try await Flow.waitForProjection(store)
                try await body(exchange)
            }
        }
    }

    @Test(
        "an order gone from memory is answered as it was, fills included; cancel and amend are 409, others 404",
        arguments: Flow.Kind.allCases)
    func archivedOrders(_ kind: Flow.Kind) async throws {
        try await Self.withTradedExchange(kind) { exchange in
            // The sellers' closed orders: filled ones (with fills) and a cancelled one.
            var closed: [(user: UserID, order: OrderView)] = []
            for user in Flow.users.prefix(3) {
                for order in try await exchange.orders(user: user, filter: OrderFilter(status: .closed)) {
                    closed.append((user, order))
                }
            }
            #expect(closed.contains { $0.order.status == .filled && !$0.order.fills.isEmpty })
            #expect(closed.contains { $0.order.status == .cancelled })
            // What trimming a long history does to an old closed order: gone from the shard's memory.
            for (user, order) in closed {
                await exchange.accounts.shard(ofUser: user)._mutateStateForTesting { state in
                    state.users[user]!.orders[order.orderID] = nil
                    state.users[user]!.orderIDs.removeAll { $0 == order.orderID }
                }
            }
            let stranger: UserID = 6
            for (user, order) in closed {
                #expect(try await exchange.order(user: user, orderID: order.orderID) == order)
                let cancel = await #expect(throws: BourseError.self) {
                    try await exchange.cancelOrder(user: user, orderID: order.orderID)
                }
                #expect(cancel?.code == .conflict)
                #expect(cancel?.message == "order is \(order.status.rawValue)")
                let amend = await #expect(throws: BourseError.self) {
                    try await exchange.amendOrder(
                        user: user, orderID: order.orderID, price: nil, quantity: ExchangeFlowTests.quantity("0.01")
                    )
                }
                #expect(amend?.code == .conflict)
                let other = await #expect(throws: BourseError.self) {
                    try await exchange.order(user: stranger, orderID: order.orderID)
                }
                #expect(other?.code == .notFound)
            }
            let unknown = await #expect(throws: BourseError.self) {
                try await exchange.order(user: 1, orderID: closed[0].order.orderID + 1_000_000)
            }
            #expect(unknown?.code == .notFound)
        }
    }

    @Test(
        "lists reach past the history in memory: the same orders and fills, newest first, whatever the filter",
        arguments: Flow.Kind.allCases)
    func listsReadOlderHistoryFromTheReadModels(_ kind: Flow.Kind) async throws {
        try await Self.withTradedExchange(kind) { exchange in
            let filters = [OrderFilter.Status.all, .closed, .open].flatMap { status in
                [nil, "BTC-USD"].flatMap { symbol in
                    [1_000, 3].map { OrderFilter(status: status, symbol: symbol, limit: $0) }
                }
            }
            func fillOrder(_ a: UserTrade, _ b: UserTrade) -> Bool {
                (a.timestampMillis, a.tradeID, a.orderID) > (b.timestampMillis, b.tradeID, b.orderID)
            }
            for user in Flow.users {
                var lists: [[OrderView]] = []
                for filter in filters { lists.append(try await exchange.orders(user: user, filter: filter)) }
                let fills = try await exchange.userTrades(user: user, symbol: nil, limit: 1_000)
                #expect(!fills.isEmpty)
                // What trimming does: closed orders and the older half of the fills gone from memory.
                await exchange.accounts.shard(ofUser: user)._mutateStateForTesting { state in
                    var account = state.users[user]!
                    for (id, record) in account.orders where !record.view.status.isOpen {
                        account.orders[id] = nil
                    }
                    account.ordersTrimmedThrough = account.orderIDs.filter { account.orders[$0] == nil }.max() ?? 0
                    account.orderIDs.removeAll { account.orders[$0] == nil }
                    account.trades.removeFirst(account.trades.count / 2)
                    account.tradesTrimmed = true
                    state.users[user] = account
                }
                let account = try #require(await exchange.accounts.shard(ofUser: user).account(user))
                #expect(account.orders.values.allSatisfy { $0.view.status.isOpen })
                for (filter, before) in zip(filters, lists) {
                    #expect(try await exchange.orders(user: user, filter: filter) == before, "\(filter)")
                }
                #expect(
                    try await exchange.userTrades(user: user, symbol: nil, limit: 1_000)
                        == fills.sorted(by: fillOrder))
                #expect(
                    try await exchange.userTrades(user: user, symbol: "BTC-USD", limit: 2)
                        == Array(fills.sorted(by: fillOrder).prefix(2)))
                #expect(try await exchange.userTrades(user: user, symbol: "ETH-USD", limit: 1_000).isEmpty)
            }
        }
    }
}
