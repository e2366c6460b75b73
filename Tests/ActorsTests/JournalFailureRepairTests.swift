import Actors
import Foundation
import Storage
import Synchronization
import TestSupport
import Testing
import Trading

/// A shard whose journal append failed refuses commands (503) until it is reloaded from the store; a node that
/// holds its leases itself reloads it as soon as the store answers again (`Exchange+Repair.swift`). These tests
/// take the store away for a while, as a database outage would, and check that the shards serve again, that
/// nothing refused is kept and nothing acknowledged is lost, and that the books and the accounts still agree.
@Suite("Shards reload after a journal failure")
struct JournalFailureRepairTests {
    /// Forwards to the real store while it is up; while `down`, every journal append and read fails as an
    /// unreachable database would (leases and snapshots too, so that a reload must wait for the store).
    final class OutageStore: ForwardingStore {
        let base: any JournalStore
        let down = Atomic<Bool>(false)
        let refused = Atomic<Int>(0)

        init(_ base: any JournalStore) { self.base = base }

        private func check() throws {
            guard down.load(ordering: .relaxed) else { return }
            refused.add(1, ordering: .relaxed)
            throw StorageError(.unavailable, "the database is down (test)")
        }

        var ordersAppendsByPrerequisites: Bool { base.ordersAppendsByPrerequisites }
        func append(_ records: [JournalRecord]) async throws {
            try check()
            try await base.append(records)
        }
        func append(_ records: [JournalRecord], after prerequisites: [JournalPosition], awaitingDependents: Bool)
            async throws
        {
            try check()
            try await base.append(records, after: prerequisites, awaitingDependents: awaitingDependents)
        }
        func abandon(shard: String, epoch: Int64) { base.abandon(shard: shard, epoch: epoch) }
        func records(shard: String, after: Int64, limit: Int) async throws -> [JournalRecord] {
            try check()
            return try await base.records(shard: shard, after: after, limit: limit)
        }
        func latestSnapshot(shard: String) async throws -> ShardSnapshot? {
            try check()
            return try await base.latestSnapshot(shard: shard)
        }
        func releaseLease(shard: String, owner: String, epoch: Int64) async throws {
            try check()
            try await base.releaseLease(shard: shard, owner: owner, epoch: epoch)
        }
    }

    static let shards = 8
    static func usd(_ balances: [BalanceView]) -> String {
        balances.first { $0.currency == "USD" }.map { "\($0.available)/\($0.locked)" } ?? "none"
    }

    /// Retries `body` until it stops throwing `unavailable`, for at most `seconds`.
    static func untilServed<T>(seconds: Int = 20, _ body: () async throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while true {
            do {
                return try await body()
            } catch let error as BourseError where error.code == .unavailable && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    @Test("a deposit refused during an outage is not kept, and the shard serves again once the store is back")
    func aRefusedDepositIsNotKept() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-\(UUID())").path
        let users = TestExchange.users(2, shards: Self.shards)
        let (alice, bob) = (users[0], users[1])
        let before = try await TestExchange.run(
            directory: directory, accountShards: Self.shards, wrap: { OutageStore($0) }
        ) { exchange, store in
            _ = try await exchange.deposit(
                user: alice, currency: "USD", amount: ExchangeFlowTests.amount("100"), idempotencyKey: nil)
            store.down.store(true, ordering: .relaxed)
            await #expect(throws: BourseError.self) {
                _ = try await exchange.deposit(
                    user: alice, currency: "USD", amount: ExchangeFlowTests.amount("50"), idempotencyKey: nil)
            }
            // Still refused while the store is down: the shard cannot be reloaded yet.
            try await Task.sleep(for: .milliseconds(600))
            let refusedWhileDown = await #expect(throws: BourseError.self) {
                _ = try await exchange.deposit(
                    user: alice, currency: "USD", amount: ExchangeFlowTests.amount("7"), idempotencyKey: nil)
            }
            #expect(refusedWhileDown?.code == .unavailable)
            store.down.store(false, ordering: .relaxed)
            _ = try await Self.untilServed {
                try await exchange.deposit(
                    user: alice, currency: "USD", amount: ExchangeFlowTests.amount("1"), idempotencyKey: nil)
            }
            // The other shard was never touched by the outage.
            _ = try await exchange.deposit(
                user: bob, currency: "USD", amount: ExchangeFlowTests.amount("5"), idempotencyKey: nil)
            #expect(Self.usd(try await exchange.balances(user: alice)) == "101.00000000/0.00000000")
            let report = await exchange.verify()
            #expect(report.ok, "\(report.checks.filter { !$0.passed })")
            return try await exchange.balances(user: alice)
        }
        // A restart finds what was acknowledged, and only that.
        let after = try await TestExchange.run(directory: directory, accountShards: Self.shards) {
            try await $0.balances(user: alice)
        }
        #expect(after == before)
    }

    @Test("trading through an outage: books and accounts reload, every acknowledged order stays, money is conserved")
    func tradingThroughAnOutage() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-\(UUID())").path
        let users = TestExchange.users(4, shards: Self.shards)
        func limit(_ side: Side, _ quantity: String, at price: String) -> OrderRequest {
            OrderRequest(
                symbol: "BTC-USD", side: side, type: .limit, quantity: ExchangeFlowTests.quantity(quantity),
                price: ExchangeFlowTests.price(price))
        }
        var acknowledged: [(user: UserID, id: OrderID)] = []
        let seen: [[BalanceView]] = try await TestExchange.run(
            directory: directory, accountShards: Self.shards, wrap: { OutageStore($0) },
            // Places that a reloaded book never journaled are sent again once this old (10 s by default).
            configure: { $0.resubmitAfter = .milliseconds(300) }
        ) { (exchange: Exchange, store: OutageStore) in
            for user in users {
                _ = try await exchange.deposit(
                    user: user, currency: "USD", amount: ExchangeFlowTests.amount("1000000"), idempotencyKey: nil)
                _ = try await exchange.deposit(
                    user: user, currency: "BTC", amount: ExchangeFlowTests.amount("10"), idempotencyKey: nil)
            }
            var refusals = 0
            // Rounds of crossing orders from every user at once; the store goes down for rounds 3–5.
            for round in 0..<10 {
                store.down.store((3...5).contains(round), ordering: .relaxed)
                let outcomes = await withTaskGroup(of: (UserID, Result<OrderID, any Error>).self) { group in
                    for (index, user) in users.enumerated() {
                        let side: Side = index % 2 == 0 ? .sell : .buy
                        let price = String(50_000 + (round % 3) * 10 + (side == .buy ? 10 : 0))
                        group.addTask {
                            do {
                                let (order, _) = try await exchange.placeOrder(
                                    user: user, request: limit(side, "0.01", at: price))
                                return (user, .success(order.orderID))
                            } catch {
                                return (user, .failure(error))
                            }
                        }
                    }
                    var outcomes: [(UserID, Result<OrderID, any Error>)] = []
                    for await outcome in group { outcomes.append(outcome) }
                    return outcomes
                }
                for (user, outcome) in outcomes {
                    switch outcome {
                    case .success(let id): acknowledged.append((user, id))
                    case .failure(let error as BourseError) where error.code == .unavailable: refusals += 1
                    case .failure(let error): Issue.record("round \(round): \(error)")
                    }
                }
                if round == 5 {
                    store.down.store(false, ordering: .relaxed)
                    // Served again: every user's shard answers a deposit.
                    for user in users {
                        _ = try await Self.untilServed {
                            try await exchange.deposit(
                                user: user, currency: "USD", amount: ExchangeFlowTests.amount("1"),
                                idempotencyKey: nil)
                        }
                    }
                    _ = try await Self.untilServed { try await exchange.orderBook(symbol: "BTC-USD", depth: 10) }
                }
            }
            #expect(refusals > 0)
            #expect(store.refused.load(ordering: .relaxed) > 0)
            // Every acknowledged order is still there, as its owner sees it.
            for (user, id) in acknowledged {
                _ = try await exchange.order(user: user, orderID: id)
            }
            // Places refused by a book not reloaded yet, whose reservations are durable, are sent again, and a
            // reloaded book redelivers its events: the checks wait until the balances have settled (the same
            // over a second) and the invariants hold.
            let deadline = ContinuousClock.now + .seconds(60)
            var views: [[BalanceView]] = []
            var stableSince = ContinuousClock.now
            var report = await exchange.verify()
            while ContinuousClock.now < deadline {
                var now: [[BalanceView]] = []
                for user in users { now.append(try await exchange.balances(user: user)) }
                if now != views { (views, stableSince) = (now, .now) }
                if ContinuousClock.now - stableSince >= .seconds(1) {
                    report = await exchange.verify()
                    if report.ok { break }
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(report.ok, "\(report.checks.filter { !$0.passed })")
            return views
        }
        // A restart finds every acknowledged order and the same balances.
        try await TestExchange.run(directory: directory, accountShards: Self.shards) { exchange in
            for (user, id) in acknowledged {
                _ = try await exchange.order(user: user, orderID: id)
            }
            var views: [[BalanceView]] = []
            for user in users { views.append(try await exchange.balances(user: user)) }
            #expect(views == seen)
            let report = await exchange.verify()
            #expect(report.ok, "\(report.checks.filter { !$0.passed })")
        }
    }
}
