import Foundation
import Storage
import Testing
import Trading

@testable import Actors

/// A handoff (`stop(releasingLeases: true)`) saves only the shards with a long journal tail; the next owner
/// replays the short ones and finds exactly the state the old owner had. A stop that keeps its leases (a node
/// alone) still saves every change.
@Suite("Handoff checkpoint")
struct HandoffCheckpointTests {
    typealias Flow = ExchangeFlowTests
    static let accountShards = 8

    /// Two users on different account shards: `busy` trades a lot, `quiet` a little.
    static let busy: UserID = 101
    static let quiet: UserID = {
        let shard = ShardKey.accountShardIndex(busy, shards: accountShards)
        return (UserID(102)...).first { ShardKey.accountShardIndex($0, shards: accountShards) != shard }!
    }()

    static func shard(of user: UserID) -> String {
        ShardKey.account(index: ShardKey.accountShardIndex(user, shards: accountShards))
    }

    /// Funds both users, then `busy` rests `busyOrders` asks and `quiet` buys through two of them (at 100 and 101).
    static func trade(_ exchange: Exchange, busyOrders: Int) async throws {
        _ = try await exchange.deposit(user: busy, currency: "BTC", amount: Flow.amount("10"), idempotencyKey: nil)
        _ = try await exchange.deposit(user: quiet, currency: "USD", amount: Flow.amount("100000"), idempotencyKey: nil)
        for index in 0..<busyOrders {
            _ = try await exchange.placeOrder(
                user: busy,
                request: OrderRequest(
                    symbol: "BTC-USD", side: .sell, type: .limit, quantity: Flow.quantity("0.01"),
                    price: Flow.price("\(100 + index % 50)")))
        }
        _ = try await exchange.placeOrder(
            user: quiet,
            request: OrderRequest(
                symbol: "BTC-USD", side: .buy, type: .limit, quantity: Flow.quantity("0.02"), price: Flow.price("101")
            ))
    }

    /// What a client can see of both users and the book.
    struct Seen: Equatable {
        var balances: [[BalanceView]]
        var orders: [[OrderView]]
        var bids: [PriceLevel]
        var asks: [PriceLevel]
    }

    static func seen(_ exchange: Exchange) async throws -> Seen {
        var seen = Seen(balances: [], orders: [], bids: [], asks: [])
        for user in [busy, quiet] {
            seen.balances.append(try await exchange.balances(user: user))
            seen.orders.append(try await exchange.orders(user: user, filter: OrderFilter(limit: .max)))
        }
        let book = try await exchange.orderBook(symbol: "BTC-USD", depth: 100)
        seen.bids = book.bids
        seen.asks = book.asks
        return seen
    }

    static func directory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("bourse-\(UUID())").path
    }

    @Test("a handoff saves no snapshot for short tails; the next owner replays them and sees the same state")
    func shortTailsAreReplayed() async throws {
        let directory = Self.directory()
        let before = try await TestExchange.run(
            directory: directory, accountShards: Self.accountShards, snapshotEvery: 1_000_000, wrap: { $0 }
        ) { exchange, store in
            try await Self.trade(exchange, busyOrders: 20)
            let seen = try await Self.seen(exchange)
            await exchange.stop(releasingLeases: true)
            for shard in [Self.shard(of: Self.busy), Self.shard(of: Self.quiet), ShardKey.symbol("BTC-USD")] {
                #expect(try await store.latestSnapshot(shard: shard) == nil, "\(shard) saved a snapshot")
                #expect(try await store.lastSequence(shard: shard) > 0, "\(shard) journaled nothing")
            }
            // Released: a lease that lapsed long ago (the next owner takes it at once).
            let lease = try await store.lease(shard: Self.shard(of: Self.busy))
            #expect((lease?.expiresAtMillis ?? 0) <= Exchange.wallClockMillis())
            return seen
        }
        let after = try await TestExchange.run(directory: directory, accountShards: Self.accountShards) { exchange in
            let report = await exchange.verify()
            #expect(report.ok, "\(report.checks.filter { !$0.passed })")
            return try await Self.seen(exchange)
        }
        #expect(after == before)
        #expect(before.orders[1].first?.status == .filled)
    }

    @Test("a handoff saves the shards whose tail is long; a stop that keeps its leases saves every change")
    func longTailsAreSaved() async throws {
        let directory = Self.directory()
        let before = try await TestExchange.run(
            directory: directory, accountShards: Self.accountShards, snapshotEvery: 1_000_000, wrap: { $0 }
        ) { exchange, store in
            try await Self.trade(exchange, busyOrders: Exchange.recoveryHead + 10)
            let seen = try await Self.seen(exchange)
            await exchange.stop(releasingLeases: true)
            let busy = try #require(try await store.latestSnapshot(shard: Self.shard(of: Self.busy)))
            #expect(busy.sequence == (try await store.lastSequence(shard: Self.shard(of: Self.busy))))
            #expect(try await store.latestSnapshot(shard: ShardKey.symbol("BTC-USD")) != nil)
            #expect(try await store.latestSnapshot(shard: Self.shard(of: Self.quiet)) == nil)
            return seen
        }
        try await TestExchange.run(directory: directory, accountShards: Self.accountShards, wrap: { $0 }) {
            exchange, store in
            #expect(try await Self.seen(exchange) == before)
            _ = try await exchange.deposit(
                user: Self.quiet, currency: "USD", amount: Flow.amount("1"), idempotencyKey: nil)
            await exchange.stop()
            #expect(try await store.latestSnapshot(shard: Self.shard(of: Self.quiet)) != nil)
        }
    }
}
