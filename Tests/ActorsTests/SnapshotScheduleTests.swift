import Foundation
import Logging
import Storage
import Testing
import Trading

@testable import Actors

@Suite("Snapshot schedule and the checkpoint of a graceful stop")
struct SnapshotScheduleTests {
    @Test("due every N records, later when snapshots are big, one at a time")
    func schedule() {
        var schedule = SnapshotSchedule(every: 1_000)
        #expect(!schedule.isDue(at: 999))
        #expect(schedule.isDue(at: 1_000))
        schedule.taken(at: 1_000)
        schedule.measured(bytes: 100)
        // One snapshot is written at a time.
        #expect(!schedule.isDue(at: 5_000))
        schedule.written(saved: true)
        #expect(!schedule.isDue(at: 1_999))
        #expect(schedule.isDue(at: 2_000))
        // A 2.56 MB snapshot at 64 bytes per record: the next one after 40,000 records.
        schedule.taken(at: 2_000)
        schedule.measured(bytes: 2_560_000)
        schedule.written(saved: true)
        #expect(!schedule.isDue(at: 41_999))
        #expect(schedule.isDue(at: 42_000))
        // A snapshot that could not be saved: the records since the last saved one are still to save.
        schedule.taken(at: 42_000)
        schedule.measured(bytes: 2_560_000)
        schedule.written(saved: false)
        #expect(schedule.last == 2_000)
        schedule.restored(at: 50_000)
        #expect(!schedule.isDue(at: 50_500))
    }

    @Test("a graceful stop snapshots every changed shard at its last record, so a restart replays nothing")
    func stopCheckpointsEveryShard() async throws {
        try await TestExchange.run(wrap: { $0 }) { exchange, store in
            _ = try await exchange.deposit(
                user: 1, currency: "BTC", amount: ExchangeFlowTests.amount("1"), idempotencyKey: nil)
            _ = try await exchange.deposit(
                user: 2, currency: "USD", amount: ExchangeFlowTests.amount("100000"), idempotencyKey: nil)
            _ = try await exchange.placeOrder(
                user: 1,
                request: OrderRequest(
                    symbol: "BTC-USD", side: .sell, type: .limit, quantity: ExchangeFlowTests.quantity("0.5"),
                    price: ExchangeFlowTests.price("50000")))
            _ = try await exchange.placeOrder(
                user: 2,
                request: OrderRequest(
                    symbol: "BTC-USD", side: .buy, type: .limit, quantity: ExchangeFlowTests.quantity("0.2"),
                    price: ExchangeFlowTests.price("50000")))
            await exchange.stop()
            var checked = 0
            for shard in [ShardKey.symbol("BTC-USD")] + (0..<8).map({ ShardKey.account(index: $0) }) {
                let last = try await store.lastSequence(shard: shard)
                guard last > 0 else { continue }
                let snapshot = try #require(try await store.latestSnapshot(shard: shard), "\(shard)")
                #expect(snapshot.sequence == last, "\(shard)")
                checked += 1
            }
            // The symbol and the two users' account shards (or one, if they share it).
            #expect(checked >= 2)
        }
    }
}
