import Foundation
import Logging
import Storage
import Synchronization
import TestSupport
import Testing
import Trading

@testable import Actors

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
            let settlementsOnly = onlySettlements(records)
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

/// A book reloaded while an account shard's settlement of its events was still on its way to the store sends the
/// events again; the shard skips them as applied. It answered without a sequence, so the book dropped them, and
/// when the shard's write then failed and it was reloaded from its journal the fills' settlement was lost (chaos
/// `dbstop`, finding K: a trade settled on one side only). The receipt now names the record that settled them
/// until it is durable.
@Suite("A redelivery of events settled but not durable")
struct UndurableRedeliveryTests {
    /// Holds every settlement-only append while `holding`.
    final class HoldingStore: ForwardingStore {
        let base: any JournalStore
        let holding = Atomic<Bool>(false)
        let settled = Atomic<Int>(0)

        init(_ base: any JournalStore) { self.base = base }

        func append(_ records: [JournalRecord]) async throws {
            let settlementsOnly = onlySettlements(records)
            while settlementsOnly, holding.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(5)) }
            try await base.append(records)
            if settlementsOnly { settled.add(1, ordering: .relaxed) }
        }
    }

    @Test("events applied but not durable are answered with their settlement record, and only until it is durable")
    func aRedeliveryNamesTheUndurableSettlement() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-\(UUID())").path
        let users = TestExchange.users(2, shards: 8)
        let (seller, buyer) = (users[0], users[1])
        try await TestExchange.run(directory: directory, accountShards: 8, wrap: { HoldingStore($0) }) {
            exchange, store in
            _ = try await exchange.deposit(
                user: seller, currency: "BTC", amount: ExchangeFlowTests.amount("1"), idempotencyKey: nil)
            _ = try await exchange.deposit(
                user: buyer, currency: "USD", amount: ExchangeFlowTests.amount("100000"), idempotencyKey: nil)
            let (sell, _) = try await exchange.placeOrder(
                user: seller,
                request: OrderRequest(
                    symbol: "BTC-USD", side: .sell, type: .limit, quantity: ExchangeFlowTests.quantity("0.1"),
                    price: ExchangeFlowTests.price("50000")))
            let deadline = ContinuousClock.now + .seconds(10)
            while store.settled.load(ordering: .relaxed) < 1, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            store.holding.store(true, ordering: .relaxed)
            _ = try await exchange.placeOrder(
                user: buyer,
                request: OrderRequest(
                    symbol: "BTC-USD", side: .buy, type: .limit, quantity: ExchangeFlowTests.quantity("0.1"),
                    price: ExchangeFlowTests.price("50000")))
            // The trade is settled in the seller's shard in memory; its record is held on its way to the store.
            let account = exchange.accounts.shard(ofUser: seller)
            let again = [
                BookEventBatch(timestampMillis: 0, events: [BookEvent(sequence: 1, kind: .accepted(sell.orderID))])
            ]
            let pending = try await account.deliver(symbol: "BTC-USD", batches: again)
            let record = try #require(
                pending.sequence, "a redelivery of events settled but not durable names no record")
            #expect(record > pending.durable)

            store.holding.store(false, ordering: .relaxed)
            try await account.awaitDurable(through: record, epoch: nil)
            let durable = try await account.deliver(symbol: "BTC-USD", batches: again)
            #expect(durable.sequence == nil && durable.durable >= record)
        }
    }
}

/// Whether every record is an account shard's settlement of book events (what is journaled in the background).
private func onlySettlements(_ records: [JournalRecord]) -> Bool {
    records.allSatisfy { record in
        guard record.shard.hasPrefix("accounts/"),
            let decoded = try? AccountShardState.Record(decoding: record.payload),
            case .bookEvents = decoded.command
        else { return false }
        return true
    }
}
