import Actors
import Foundation
import Storage
import Synchronization
import TestSupport
import Testing
import Trading

/// An order's reservation is journaled while its book matches it: the two appends overlap, but the book's record
/// is committed only with or after the reservation — by the store itself when it orders appends by prerequisites
/// (both database stores), else because the book hands its record over only once the reservation is durable.
/// These tests slow the reservations down or fail them and check that no book record ever reaches the store
/// before its reservation, and that an order whose reservation was lost is lost whole.
@Suite("A book record never precedes its reservation")
struct ReservationOrderTests {
    /// Forwards to a real store; holds back (or fails) the account appends that carry a reservation, and
    /// checks every book record that places an order against the reservations committed before it.
    final class OrderingStore: ForwardingStore {
        let base: any JournalStore
        /// Reservations are held this long before they are written.
        let delay: Duration
        /// While set, appends carrying a reservation fail (nothing of them is written).
        let failing = Atomic<Bool>(false)
        /// Per user: reservations committed, and orders booked in records handed to the store.
        private let counts = Mutex<(reserved: [UserID: Int], booked: [UserID: Int])>(([:], [:]))
        /// Book records that placed an order whose reservation was not committed yet.
        let violations = Atomic<Int>(0)

        init(_ base: any JournalStore, delay: Duration) {
            self.base = base
            self.delay = delay
        }

        func append(_ records: [JournalRecord]) async throws {
            var reserving: [UserID] = []
            var booking: [UserID] = []
            for record in records {
                if record.shard.hasPrefix("accounts/") {
                    if case .place(let user, _, _) = try AccountShardState.Record(decoding: record.payload).command {
                        reserving.append(user)
                    }
                } else if case .place(let order, _) = try SymbolState.Record(decoding: record.payload).command {
                    booking.append(order.owner)
                }
            }
            if !reserving.isEmpty {
                if failing.load(ordering: .relaxed) { throw StorageError(.unavailable, "lost on purpose") }
                try await Task.sleep(for: delay)
            }
            if !booking.isEmpty {
                let early = counts.withLock { counts in
                    booking.reduce(0) { early, user in
                        counts.booked[user, default: 0] += 1
                        return early + (counts.booked[user]! > counts.reserved[user, default: 0] ? 1 : 0)
                    }
                }
                violations.add(early, ordering: .relaxed)
            }
            try await base.append(records)
            counts.withLock { counts in
                for user in reserving { counts.reserved[user, default: 0] += 1 }
            }
        }

        /// Orders booked in records handed to the store.
        var booked: Int { counts.withLock { $0.booked.values.reduce(0, +) } }
    }

    static func limit(_ side: Side, _ quantity: String, at price: String) -> OrderRequest {
        OrderRequest(
            symbol: "BTC-USD", side: side, type: .limit, quantity: ExchangeFlowTests.quantity(quantity),
            price: ExchangeFlowTests.price(price))
    }

    @Test("with reservations slower than the book, every book record still follows its reservation")
    func bookRecordsWaitForSlowReservations() async throws {
        let users = TestExchange.users(8, shards: 8)
        let perUser = 12
        let (violations, booked) = try await TestExchange.run(
            accountShards: 8, wrap: { OrderingStore($0, delay: .milliseconds(15)) }
        ) { exchange, store in
            for user in users {
                _ = try await exchange.deposit(
                    user: user, currency: "USD", amount: ExchangeFlowTests.amount("100000"), idempotencyKey: nil)
                _ = try await exchange.deposit(
                    user: user, currency: "BTC", amount: ExchangeFlowTests.amount("10"), idempotencyKey: nil)
            }
            // Every user places its orders one after the other, all users at once: buys and sells that cross,
            // so the book trades while reservations are still on their way.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, user) in users.enumerated() {
                    group.addTask {
                        for step in 0..<perUser {
                            let side: Side = (index + step) % 2 == 0 ? .buy : .sell
                            let (order, created) = try await exchange.placeOrder(
                                user: user, request: Self.limit(side, "0.01", at: String(50_000 + step % 3)))
                            #expect(created)
                            #expect(order.status != .rejected)
                        }
                    }
                }
                try await group.waitForAll()
            }
            return (store.violations.load(ordering: .relaxed), store.booked)
        }
        #expect(booked == users.count * perUser)
        #expect(violations == 0)
    }

    @Test("with the store ordering the appends, an order whose reservation is refused is never booked durably")
    func refusedReservationLosesTheWholeOrderInTheStoresOrder() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-\(UUID())").path
        let users = TestExchange.users(2, shards: 8)
        let (seller, buyer) = (users[0], users[1])
        try await TestExchange.run(directory: directory, accountShards: 8, wrap: { $0 }) { exchange, store in
            #expect(store.ordersAppendsByPrerequisites)
            _ = try await exchange.deposit(
                user: seller, currency: "BTC", amount: ExchangeFlowTests.amount("1"), idempotencyKey: nil)
            _ = try await exchange.deposit(
                user: buyer, currency: "USD", amount: ExchangeFlowTests.amount("100000"), idempotencyKey: nil)
            _ = try await exchange.placeOrder(user: seller, request: Self.limit(.sell, "0.1", at: "50000"))
            // Another node takes the buyer's account shard (this one froze, say): its journal's epoch is stale, so
            // the store refuses the reservation — and with it the book's record of the trade, handed over at once.
            let shard = ShardKey.account(index: ShardKey.accountShardIndex(buyer, shards: 8))
            let held = try #require(try await store.lease(shard: shard))
            try await store.releaseLease(shard: shard, owner: held.owner, epoch: held.epoch)
            let thief = try await store.acquireLease(shard: shard, owner: "thief", ttlMillis: 1, nowMillis: 0)
            await #expect {
                _ = try await exchange.placeOrder(user: buyer, request: Self.limit(.buy, "0.1", at: "50000"))
            } throws: { ($0 as? BourseError)?.code == .unavailable }
            let booked = try await store.records(shard: ShardKey.symbol("BTC-USD"), after: 0, limit: 100).filter {
                if case .place = try SymbolState.Record(decoding: $0.payload).command { return true }
                return false
            }
            #expect(booked.count == 1)
            try await store.releaseLease(shard: shard, owner: "thief", epoch: thief.epoch)
        }
        // The sell rests whole, the buy never happened, and the market trades again.
        try await ExchangeFlowTests.withExchange(directory: directory) { exchange in
            let book = try await exchange.orderBook(symbol: "BTC-USD", depth: 10)
            #expect(book.bids.isEmpty)
            #expect(book.asks.map(\.quantity) == [ExchangeFlowTests.quantity("0.1")])
            #expect(try await exchange.orders(user: buyer, filter: .init()).isEmpty)
            let usd = try #require(try await exchange.balances(user: buyer).first { $0.currency == "USD" })
            #expect(usd.available == ExchangeFlowTests.amount("100000"))
            #expect(usd.locked == .zero)
            let (buy, _) = try await exchange.placeOrder(user: buyer, request: Self.limit(.buy, "0.1", at: "50000"))
            #expect(buy.status == .filled)
        }
    }

    @Test("an order whose reservation is not journaled is never booked durably; a restart finds neither")
    func lostReservationLosesTheWholeOrder() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-\(UUID())").path
        let users = TestExchange.users(3, shards: 8)
        let (seller, buyer, late) = (users[0], users[1], users[2])
        try await TestExchange.run(
            directory: directory, accountShards: 8, wrap: { OrderingStore($0, delay: .zero) }
        ) { exchange, store in
            _ = try await exchange.deposit(
                user: seller, currency: "BTC", amount: ExchangeFlowTests.amount("1"), idempotencyKey: nil)
            for user in [buyer, late] {
                _ = try await exchange.deposit(
                    user: user, currency: "USD", amount: ExchangeFlowTests.amount("100000"), idempotencyKey: nil)
            }
            _ = try await exchange.placeOrder(user: seller, request: Self.limit(.sell, "0.1", at: "50000"))
            #expect(store.booked == 1)
            store.failing.store(true, ordering: .relaxed)
            // The buy matches the resting sell in memory, but its reservation is refused by the store: the book
            // must not journal the trade, and the buyer is told the order failed.
            await #expect {
                _ = try await exchange.placeOrder(user: buyer, request: Self.limit(.buy, "0.1", at: "50000"))
            } throws: { ($0 as? BourseError)?.code == .unavailable }
            store.failing.store(false, ordering: .relaxed)
            // The book's memory is ahead of what it may journal: it refuses orders until it is recovered. This
            // order's reservation may still be on its way when the store stops; if it is durable, the restart
            // abandons the order (its book never answered).
            await #expect {
                _ = try await exchange.placeOrder(user: late, request: Self.limit(.buy, "0.05", at: "49000"))
            } throws: { ($0 as? BourseError)?.code == .unavailable }
            #expect(store.booked == 1)
            #expect(store.violations.load(ordering: .relaxed) == 0)
        }
        // The "crash" left the store as it was: the sell rests whole, the buy never happened.
        try await ExchangeFlowTests.withExchange(directory: directory) { exchange in
            let book = try await exchange.orderBook(symbol: "BTC-USD", depth: 10)
            #expect(book.bids.isEmpty)
            #expect(book.asks.map(\.quantity) == [ExchangeFlowTests.quantity("0.1")])
            #expect(try await exchange.orders(user: buyer, filter: .init()).isEmpty)
            let lateOrders = try await exchange.orders(user: late, filter: .init())
            #expect(lateOrders.allSatisfy { $0.status == .rejected })
            for user in [buyer, late] {
                let usd = try #require(try await exchange.balances(user: user).first { $0.currency == "USD" })
                #expect(usd.available == ExchangeFlowTests.amount("100000"))
                #expect(usd.locked == .zero)
            }
            let btc = try #require(try await exchange.balances(user: seller).first { $0.currency == "BTC" })
            #expect(btc.locked == ExchangeFlowTests.amount("0.1"))
            // The market trades again.
            let (buy, _) = try await exchange.placeOrder(user: buyer, request: Self.limit(.buy, "0.1", at: "50000"))
            #expect(buy.status == .filled)
        }
    }
}
