import Actors
import Foundation
import Logging
import Storage
import Synchronization
import Testing
import Trading

/// Settlements are journaled in the background (the fill is durable in the symbol's journal first). These
/// tests lose every settlement record on its way to the store — as a crash right after the answer would —
/// and check that a restart settles the same fills again, identically, also when the symbol snapshots often.
@Suite("Background settlement survives its loss")
struct BackgroundSettlementTests {
    /// Forwards to a real store but refuses appends made only of book-event settlements while `losing`.
    final class LosingStore: ForwardingStore {
        let base: any JournalStore
        let losing = Atomic<Bool>(false)
        let refused = Atomic<Int>(0)
        let settled = Atomic<Int>(0)

        init(_ base: any JournalStore) { self.base = base }

        func append(_ records: [JournalRecord]) async throws {
            let settlementsOnly = records.allSatisfy { record in
                guard record.shard.hasPrefix("accounts/"),
                    let decoded = try? AccountShardState.Record(decoding: record.payload),
                    case .bookEvents = decoded.command
                else { return false }
                return true
            }
            if settlementsOnly, losing.load(ordering: .relaxed) {
                refused.add(1, ordering: .relaxed)
                throw StorageError(.unavailable, "lost on purpose")
            }
            try await base.append(records)
            if settlementsOnly { settled.add(1, ordering: .relaxed) }
        }
    }

    struct Views: Equatable {
        var balances: [[BalanceView]] = []
        var orders: [[OrderView]] = []
        var book: DepthView?
    }

    static func views(_ exchange: Exchange, users: [UserID]) async throws -> Views {
        var views = Views()
        for user in users {
            views.balances.append(try await exchange.balances(user: user))
            views.orders.append(try await exchange.orders(user: user, filter: .init()))
        }
        views.book = try await exchange.orderBook(symbol: "BTC-USD", depth: 50)
        return views
    }

    @Test("a restart settles again the fills whose settlement records were lost", arguments: [1_000, 1] as [Int64])
    func lostSettlementsAreRedone(snapshotEvery: Int64) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-\(UUID())").path
        let shards = 8
        // Users in different account shards: a shard's journal breaks at its first lost settlement, so each
        // user places one order.
        let users = TestExchange.users(4, shards: shards)
        let sellers = Array(users.prefix(3))
        let buyer = users[3]
        let before: Views = try await TestExchange.run(
            directory: directory, accountShards: shards, snapshotEvery: snapshotEvery, wrap: { LosingStore($0) }
        ) { exchange, store in
            for seller in sellers {
                _ = try await exchange.deposit(
                    user: seller, currency: "BTC", amount: ExchangeFlowTests.amount("1"), idempotencyKey: nil)
            }
            _ = try await exchange.deposit(
                user: buyer, currency: "USD", amount: ExchangeFlowTests.amount("100000"), idempotencyKey: nil)
            for (step, seller) in sellers.enumerated() {
                _ = try await exchange.placeOrder(
                    user: seller,
                    request: OrderRequest(
                        symbol: "BTC-USD", side: .sell, type: .limit, quantity: ExchangeFlowTests.quantity("0.1"),
                        price: ExchangeFlowTests.price(String(50_000 + step))))
            }
            // The makers' settlements ("accepted") are journaled in the background: wait for them, then
            // lose every settlement from here on.
            let deadline = ContinuousClock.now + .seconds(10)
            while store.settled.load(ordering: .relaxed) < sellers.count, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            store.losing.store(true, ordering: .relaxed)
            let (buy, _) = try await exchange.placeOrder(
                user: buyer,
                request: OrderRequest(
                    symbol: "BTC-USD", side: .buy, type: .limit, quantity: ExchangeFlowTests.quantity("0.25"),
                    price: ExchangeFlowTests.price("50001")))
            // Answered from the settlement in memory: filled across two makers.
            #expect(buy.status == .partiallyFilled)
            #expect(buy.fills.count == 2)
            let views = try await Self.views(exchange, users: users)
            // The three settlements (the buyer's, two makers') go to the store in the background: the views
            // above answer from memory, so wait for each of them to be refused before the "crash".
            let refusedBy = ContinuousClock.now + .seconds(10)
            while store.refused.load(ordering: .relaxed) < 3, ContinuousClock.now < refusedBy {
                try await Task.sleep(for: .milliseconds(5))
            }
            #expect(store.refused.load(ordering: .relaxed) >= 3)
            // The "crash": the store stops (no graceful stop) with the settlements never written.
            return views
        }
        let after: Views = try await ExchangeFlowTests.withExchange(directory: directory, snapshotEvery: snapshotEvery)
        {
            try await Self.views($0, users: users)
        }
        #expect(after == before)
        let usd = try #require(after.balances[3].first { $0.currency == "USD" })
        #expect(usd.locked > .zero)  // the rest of the buy still rests
    }
}
