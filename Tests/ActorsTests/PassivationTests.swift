import Foundation
import Storage
import TestSupport
import Testing
import Trading

@testable import Actors

/// Users passivated when idle and activated on demand (`AccountShardState+Passivation`): a passivated user
/// must behave exactly as an active one, in every command, query, snapshot, audit and restart.
@Suite struct PassivationTests {
    /// The property: every account shard's journal of a random trading run, replayed twice — once as it is,
    /// once with idle users passivated and users read back at random points (seeded) — gives the same
    /// snapshot, byte for byte, at every checkpoint and at the end.
    @Test("passivating users at random points changes no state", arguments: [UInt64(7), 8, 9])
    func passivationChangesNothing(seed: UInt64) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-passive-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journals = try await TestExchange.run(directory: directory, markets: VerifyTests.markets) {
            exchange in
            try await RandomTrading.run(exchange, users: 16, orders: 1_200, seed: seed)
            return try await Self.accountJournals(directory: directory, shards: 8)
        }
        var random = SeededRandom(seed: seed)
        var passivated = 0
        var activatedBack = 0
        var records = 0
        for (index, journal) in journals.enumerated() {
            let markets = Dictionary(uniqueKeysWithValues: VerifyTests.markets.map { ($0.symbol, $0) })
            var plain = AccountShardState(index: index, markets: markets)
            var passivating = AccountShardState(index: index, markets: markets)
            for record in journal {
                let outcome = try? plain.apply(record)
                let other = try? passivating.apply(record)
                #expect(String(describing: outcome) == String(describing: other))
                records += 1
                if random.chance(15) {
                    passivated += passivating.passivateIdle(limit: Int(random.int(in: 1...4))).passivated
                }
                if random.chance(10), !passivating.passive.isEmpty {
                    let users = passivating.passive.keys.sorted()  // a dictionary's order differs per process
                    passivating.activate(users[Int(random.int(in: 0...Int64(users.count - 1)))])
                    activatedBack += 1
                }
                if random.chance(5) {
                    let same = plain.snapshot() == passivating.snapshot()
                    #expect(same, "shard \(index): snapshots differ after record \(records)")
                }
            }
            let same = plain.snapshot() == passivating.snapshot()
            #expect(same, "shard \(index): snapshots differ at the end")
            #expect(plain.audit(progress: Self.progress).users == passivating.audit(progress: Self.progress).users)
        }
        // Not vacuous: the run traded, users were passivated and brought back.
        #expect(records > 1_000)
        #expect(passivated > 20 && activatedBack > 20, "passivated \(passivated), activated back \(activatedBack)")
    }

    @Test("a user with an order its book has not answered yet stays active")
    func unansweredOrdersKeepTheUserActive() throws {
        var state = AccountShardState(index: 0, markets: [ExchangeFlowTests.btc.symbol: ExchangeFlowTests.btc])
        _ = try state.apply(
            .init(
                timestampMillis: 1,
                command: .deposit(user: 1, currency: "USD", amount: ExchangeFlowTests.amount("1000"), key: nil)))
        _ = try state.apply(
            .init(
                timestampMillis: 2,
                command: .deposit(user: 2, currency: "USD", amount: ExchangeFlowTests.amount("1000"), key: nil)))
        _ = try state.apply(
            .init(
                timestampMillis: 3,
                command: .place(
                    user: 1,
                    request: OrderRequest(
                        symbol: ExchangeFlowTests.btc.symbol, side: .buy, type: .limit,
                        quantity: ExchangeFlowTests.quantity("0.01"), price: ExchangeFlowTests.price("50000")),
                    protection: nil)))
        state.passivateIdle()  // both were used in this period
        #expect(state.passive.isEmpty)
        #expect(state.passivateIdle() == (passivated: 1, done: true))
        #expect(state.users.keys.sorted() == [1] && state.passive.keys.sorted() == [2])
        #expect(state.userCount == 2)
    }

    @Test("a sweep in slices passivates every idle user, then starts a new period")
    func slices() throws {
        var state = AccountShardState(index: 0, markets: [:])
        for user: UserID in 1...5 {
            _ = try state.apply(
                .init(
                    timestampMillis: 1,
                    command: .deposit(user: user, currency: "USD", amount: ExchangeFlowTests.amount("1"), key: nil)))
        }
        #expect(state.passivateIdle(limit: 2) == (passivated: 0, done: true))  // all used in this period
        state.activate(5)
        #expect(state.passivateIdle(limit: 2) == (passivated: 2, done: false))
        #expect(state.passivateIdle(limit: 2) == (passivated: 2, done: true))
        #expect(state.users.keys.sorted() == [5] && state.passive.count == 4)
        #expect(state.passivateIdle(limit: 2) == (passivated: 1, done: true))
        #expect(state.users.isEmpty && state.userCount == 5)
    }

    /// Through the exchange: a passivated maker is filled (the book's events activate it), passivated users
    /// answer every query as before, `verify` counts them, and a restart (snapshot + journal) brings back
    /// the same state.
    @Test("passivated users trade, answer queries, verify and survive a restart")
    func passivatedUsersThroughTheExchange() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-passive-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let btc = ExchangeFlowTests.btc.symbol
        let before = try await TestExchange.run(directory: directory, snapshotEvery: 5) { exchange in
            for user: UserID in 1...6 {
                _ = try await exchange.deposit(
                    user: user, currency: "USD", amount: ExchangeFlowTests.amount("100000"), idempotencyKey: nil)
                _ = try await exchange.deposit(
                    user: user, currency: "BTC", amount: ExchangeFlowTests.amount("2"), idempotencyKey: nil)
            }
            let resting = try await exchange.placeOrder(
                user: 1,
                request: OrderRequest(
                    symbol: btc, side: .sell, type: .limit, quantity: ExchangeFlowTests.quantity("0.5"),
                    price: ExchangeFlowTests.price("50000"), clientOrderID: "rest-1")
            ).order
            let views = try await Self.views(of: Array(1...6), exchange)
            await exchange.passivateIdleUsers()
            let swept = await exchange.passivateIdleUsers()
            #expect(swept == (active: 0, passive: 6))
            // Reads see the passivated users as they were.
            let read = try await Self.views(of: Array(1...6), exchange)
            #expect(read == views)
            await exchange.passivateIdleUsers()
            await exchange.passivateIdleUsers()
            // A retry of the resting order (same client order id) is found in the passivated account.
            let retried = try await exchange.placeOrder(
                user: 1,
                request: OrderRequest(
                    symbol: btc, side: .sell, type: .limit, quantity: ExchangeFlowTests.quantity("0.5"),
                    price: ExchangeFlowTests.price("50000"), clientOrderID: "rest-1"))
            #expect(!retried.created && retried.order.orderID == resting.orderID)
            await exchange.passivateIdleUsers()
            await exchange.passivateIdleUsers()
            // User 2 takes 0.2 from passivated user 1: the fill activates and settles the maker.
            let taker = try await exchange.placeOrder(
                user: 2,
                request: OrderRequest(
                    symbol: btc, side: .buy, type: .limit, quantity: ExchangeFlowTests.quantity("0.2"),
                    price: ExchangeFlowTests.price("50000"))
            ).order
            #expect(taker.status == .filled)
            let maker = try await exchange.order(user: 1, orderID: resting.orderID)
            #expect(maker.status == .partiallyFilled && maker.filledQuantity == ExchangeFlowTests.quantity("0.2"))
            let fee = try #require(maker.fills.first).fee
            let usd = try await exchange.balances(user: 1).first { $0.currency == "USD" }
            #expect(usd?.available.units == ExchangeFlowTests.amount("110000").units - fee.units)
            await exchange.passivateIdleUsers()
            let report = await exchange.verify()
            #expect(report.ok, "\(report.checks.filter { !$0.passed })")
            #expect(report.users == 6)
            return try await Self.views(of: Array(1...6), exchange)
        }
        // The store was shut down without `Exchange.stop()`: recovery is the latest snapshot (written while
        // users were passivated) and the journal after it.
        try await TestExchange.run(directory: directory, snapshotEvery: 5) { exchange in
            let after = try await Self.views(of: Array(1...6), exchange)
            #expect(after == before)
            let report = await exchange.verify()
            #expect(report.ok && report.users == 6, "\(report.checks.filter { !$0.passed })")
        }
    }

    // MARK: Helpers

    static let progress = ShardProgress(
        shard: "accounts/test", epoch: 1, journalSequence: 0, durableSequence: 0, lastSnapshotSequence: 0)

    /// What a user sees of their account: balances, orders, transaction rows and fills.
    struct AccountViews: Equatable {
        var balances: [BalanceView]
        var orders: [OrderView]
        var transactions: [TimedEntry]
        var trades: [UserTrade]
    }

    static func views(of users: [UserID], _ exchange: Exchange) async throws -> [AccountViews] {
        var views: [AccountViews] = []
        for user in users {
            views.append(
                AccountViews(
                    balances: try await exchange.balances(user: user).sorted { $0.currency < $1.currency },
                    orders: try await exchange.orders(user: user, filter: OrderFilter(status: .all, limit: 1_000)),
                    transactions: try await exchange.transactions(user: user, limit: 1_000),
                    trades: try await exchange.userTrades(user: user, symbol: nil, limit: 1_000)))
        }
        return views
    }

    /// Every account shard's journal, decoded, from the SQLite store the exchange wrote.
    static func accountJournals(directory: String, shards: Int) async throws -> [[AccountShardState.Record]] {
        let store = try await SQLiteStore(directory: directory, logger: .init(label: "test"))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            var journals: [[AccountShardState.Record]] = []
            for index in 0..<shards {
                var records: [AccountShardState.Record] = []
                var after: Int64 = 0
                while true {
                    let batch = try await store.records(shard: ShardKey.account(index: index), after: after, limit: 500)
                    guard let last = batch.last else { break }
                    records += try batch.map { try AccountShardState.Record(decoding: $0.payload) }
                    after = last.sequence
                }
                journals.append(records)
            }
            await store.shutdown()
            return journals
        }
    }
}
