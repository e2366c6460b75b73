import Foundation
import Logging
import Storage
import Synchronization
import TestSupport
import Testing
import Trading

@testable import Actors

/// A shard's load that waits on the store while its lease is abandoned and taken again (a database outage, by
/// shard): whichever load finishes last, the latest take is the one served (chaos finding D, docs/reliability.md).
@Suite("A shard loaded twice at once")
struct ShardLoadRaceTests {
    typealias Parts = PartitionedExchangeTests
    typealias Flow = ExchangeFlowTests

    /// Forwards to the real store; the first snapshot read of a shard in `held` waits until `open()`.
    final class GatedStore: ForwardingStore {
        let base: any JournalStore
        private let state = Mutex<(held: Set<String>, waiting: Int, open: Bool)>(([], 0, false))

        init(_ base: any JournalStore) { self.base = base }

        /// The next load of `shard` waits at its snapshot read.
        func hold(_ shard: String) { state.withLock { _ = $0.held.insert(shard) } }
        func open() { state.withLock { $0.open = true } }
        var waiting: Int { state.withLock { $0.waiting } }

        var ordersAppendsByPrerequisites: Bool { base.ordersAppendsByPrerequisites }
        func append(_ records: [JournalRecord]) async throws { try await base.append(records) }
        func append(_ records: [JournalRecord], after prerequisites: [JournalPosition], awaitingDependents: Bool)
            async throws
        {
            try await base.append(records, after: prerequisites, awaitingDependents: awaitingDependents)
        }
        func abandon(shard: String, epoch: Int64) { base.abandon(shard: shard, epoch: epoch) }
        func latestSnapshot(shard: String) async throws -> ShardSnapshot? {
            if state.withLock({ $0.held.remove(shard) != nil }) {
                state.withLock { $0.waiting += 1 }
                while !state.withLock({ $0.open }) { try await Task.sleep(for: .milliseconds(5)) }
            }
            return try await base.latestSnapshot(shard: shard)
        }
    }

    /// One exchange over the gated store that serves nothing until it takes shards, as by shard.
    static func withExchange(_ body: (Exchange, GatedStore) async throws -> Void) async throws {
        try await Parts.withStore { sqlite in
            let store = GatedStore(sqlite)
            var configuration = Exchange.Configuration(
                markets: Parts.markets, accountShards: Parts.accountShards, nodeID: "a")
            configuration.servedShards = []
            let exchange = Exchange(
                configuration: configuration, store: store, logger: Logger(label: "test-a"), peers: Parts.Mesh())
            try await exchange.start()
            try await body(exchange, store)
            await exchange.stop()
        }
    }

    /// The lease of `shard` for node a, given up first if a holds it (so that the epoch moves on).
    static func lease(_ shard: String, _ store: GatedStore) async throws -> Int64 {
        if let held = try await store.lease(shard: shard), held.owner == "a" {
            try await store.releaseLease(shard: shard, owner: "a", epoch: held.epoch)
        }
        return try await store.acquireLease(shard: shard, owner: "a", ttlMillis: 60_000, nowMillis: 0).epoch
    }

    static func untilWaiting(_ store: GatedStore, _ count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while store.waiting < count {
            try #require(ContinuousClock.now < deadline, "the load never reached the store")
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    @Test("the load of an abandoned lease that finishes after the newer one is not installed")
    func anOlderLoadFinishingLastIsDiscarded() async throws {
        try await Self.withExchange { exchange, store in
            let shard = ShardKey.account(index: 0)
            let user = Parts.user(onShard: 0)
            store.hold(shard)
            let first = try await Self.lease(shard, store)
            let slow = Task { try await exchange.takeShard(shard, epoch: first) }
            try await Self.untilWaiting(store, 1)
            // Its lease may lapse while the load waits: dropped, and taken again at the next epoch.
            await exchange.dropShard(shard)
            let second = try await Self.lease(shard, store)
            #expect(second > first)
            #expect(try await exchange.takeShard(shard, epoch: second))
            #expect(exchange.serves(shard) && exchange.heldEpoch(of: shard) == second)
            store.open()
            #expect(try await slow.value == false, "the older load reports itself superseded")
            #expect(exchange.heldEpoch(of: shard) == second)
            // The actor serving writes at the lease's epoch: the store takes its records.
            _ = try await exchange.deposit(user: user, currency: "USD", amount: Flow.amount("10"), idempotencyKey: nil)
            #expect(
                try await exchange.balances(user: user).first { $0.currency == "USD" }?.available == Flow.amount("10"))
        }
    }

    @Test("a take at an older epoch whose call starts after the newer one's changes nothing")
    func anOlderTakeStartingLastIsRefused() async throws {
        try await Self.withExchange { exchange, store in
            let shard = ShardKey.account(index: 0)
            let user = Parts.user(onShard: 0)
            let older = try await Self.lease(shard, store)
            let newer = try await Self.lease(shard, store)
            store.hold(shard)
            let loading = Task { try await exchange.takeShard(shard, epoch: newer) }
            try await Self.untilWaiting(store, 1)
            // The older lease's recovery, queued behind others, starts only now (chaos, by shard, after an outage).
            #expect(try await exchange.takeShard(shard, epoch: older) == false)
            store.open()
            #expect(try await loading.value)
            #expect(exchange.serves(shard) && exchange.heldEpoch(of: shard) == newer)
            #expect(try await exchange.takeShard(shard, epoch: older) == false)
            #expect(exchange.heldEpoch(of: shard) == newer)
            _ = try await exchange.deposit(user: user, currency: "USD", amount: Flow.amount("10"), idempotencyKey: nil)
        }
    }

    @Test("a shard dropped while it loads is not served when the load finishes")
    func aShardDroppedWhileLoadingStaysUnserved() async throws {
        try await Self.withExchange { exchange, store in
            let shard = ShardKey.symbol("BTC-USD")
            store.hold(shard)
            let epoch = try await Self.lease(shard, store)
            let slow = Task { try await exchange.takeShard(shard, epoch: epoch) }
            try await Self.untilWaiting(store, 1)
            await exchange.dropShard(shard)
            store.open()
            #expect(try await slow.value == false)
            #expect(!exchange.serves(shard) && exchange.heldEpoch(of: shard) == nil)
        }
    }
}
