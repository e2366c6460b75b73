import Cluster
import Foundation
import Logging
import Storage
import Synchronization
import TestSupport
import Testing
import Trading

@testable import Actors
@testable import Node

/// `ShardOwnershipRunner`: two exchanges over one store, each with its runner, following an assignment the test
/// changes; shard calls go in-process to whichever exchange serves the shard.
@Suite(.timeLimit(.minutes(4)))
struct ShardOwnershipRunnerTests {
    static let logger: Logger = {
        var logger = Logger(label: "bourse.ownership.tests")
        logger.logLevel = .warning
        return logger
    }()
    static let btc = ShardCallTransportTests.btc
    static let accountShards = 4
    static let shards = (0..<accountShards).map { ShardKey.account(index: $0) } + [ShardKey.symbol("BTC-USD")]
    /// Short leases, so that a lapse is seconds away — but not so short that a renewal delayed by a loaded machine
    /// (the whole suite runs beside) lets them lapse.
    static let leases = ShardOwnership.Configuration(
        leaseMillis: 8_000, renewBeforeMillis: 4_000, safetyMarginMillis: 1_000, retryMillis: 50)
    /// Leases for a test that moves shards by assignment only: none should lapse even on a starved machine.
    static let longLeases = ShardOwnership.Configuration(
        leaseMillis: 20_000, renewBeforeMillis: 12_000, safetyMarginMillis: 2_000, retryMillis: 50)

    /// Two nodes, `a` and `b`, each an exchange serving nothing at first and its runner, started; `body` gets
    /// them and the assignment they follow.
    func withNodes(
        leases: ShardOwnership.Configuration = Self.leases,
        wrap: @escaping (SQLiteStore) -> any JournalStore = { $0 },
        _ body: (
            _ exchanges: [String: Exchange], _ runners: [String: ShardOwnershipRunner],
            _ tasks: [String: Task<Void, any Error>], _ assign: @Sendable ([String]) -> Void
        ) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-own-\(UUID())").path
        let sqlite = try await SQLiteStore(directory: directory, logger: Self.logger)
        let store = wrap(sqlite)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await sqlite.run() }
            defer { group.cancelAll() }
            // Closed on every path: a store released unclosed traps in SQLiteNIO and ends the whole test run.
            do {
                try await store.migrate()
                let current = Mutex<ShardAssignment?>(nil)
                let version = Atomic<UInt64>(0)
                let assign: @Sendable ([String]) -> Void = { members in
                    let next = version.add(1, ordering: .relaxed).newValue
                    current.withLock { $0 = ShardAssignment(members: members, shards: Self.shards, version: next) }
                }
                let all = Mutex<[Exchange]>([])
                let peers = ShardCallPeers { call in
                    guard let owner = all.withLock({ $0.first { $0.serves(call.shard) } }) else {
                        throw BourseError(.unavailable, "nobody serves \(call.shard)")
                    }
                    return try ShardAnswer(decoding: await owner.serve(ShardCall(decoding: call.encoded())).encoded())
                }
                var exchanges: [String: Exchange] = [:]
                var runners: [String: ShardOwnershipRunner] = [:]
                var tasks: [String: Task<Void, any Error>] = [:]
                for node in ["a", "b"] {
                    var configuration = Exchange.Configuration(
                        markets: [Self.btc], accountShards: Self.accountShards, nodeID: node)
                    configuration.servedShards = []
                    configuration.resubmitAfter = .milliseconds(300)
                    let exchange = Exchange(
                        configuration: configuration, store: store, logger: Self.logger, peers: peers)
                    exchanges[node] = exchange
                    let runner = ShardOwnershipRunner(
                        exchange: exchange, store: store, nodeID: node, leaseOwner: "\(node)#1",
                        configuration: leases, assignment: { current.withLock { $0 } }, logger: Self.logger)
                    runners[node] = runner
                    tasks[node] = Task { try await runner.run() }
                }
                all.withLock { $0 = ["a", "b"].map { exchanges[$0]! } }
                defer { for task in tasks.values { task.cancel() } }
                try await body(exchanges, runners, tasks, assign)
                for task in tasks.values {
                    task.cancel()
                    _ = await task.result
                }
            } catch {
                await store.shutdown()
                throw error
            }
            await store.shutdown()
        }
    }

    /// How long `condition` took to hold, nil if not within 60 s (the whole suite may run beside).
    static func waitUntil(_ condition: () async -> Bool) async -> Duration? {
        await TestSupport.waitUntil(within: .seconds(60), every: .milliseconds(5), condition)
    }

    static func serving(_ exchanges: [String: Exchange], user: UserID) -> Exchange? {
        let shard = ShardKey.account(index: ShardKey.accountShardIndex(user, shards: accountShards))
        return exchanges.values.first { $0.serves(shard) }
    }

    /// `verify`'s checks over both nodes' shards; the names of the failed ones.
    static func failedChecks(_ exchanges: [Exchange]) async -> [String] {
        let (failed, accounts, symbols) = await Exchange.failedChecks(across: exchanges)
        #expect(accounts == accountShards && symbols == 1)
        return failed
    }

    @Test("shards follow the assignment from one node to two and back, while orders keep coming")
    func followsTheAssignment() async throws {
        try await withNodes(leases: Self.longLeases) { exchanges, runners, _, assign in
            let (a, b) = (runners["a"]!, runners["b"]!)
            assign(["a"])
            let users = (0..<Self.accountShards).map { ShardCallTransportTests.user(onShard: $0) }
            // The runner says serving once a shard has loaded; the exchange serves it from the same moment on.
            let loaded = await Self.waitUntil {
                a.servingShards.count == Self.shards.count
                    && users.allSatisfy { Self.serving(exchanges, user: $0) != nil }
            }
            #expect(loaded != nil)
            for user in users {
                for (currency, amount) in [("USD", "1000000"), ("BTC", "100")] {
                    _ = try await #require(Self.serving(exchanges, user: user)).deposit(
                        user: user, currency: currency, amount: try Amount(parsing: amount), idempotencyKey: nil)
                }
            }
            let placed = PlacedOrders()
            let trading = Task {
                var count = 0
                while !Task.isCancelled {
                    let user = users[count % users.count]
                    let side: Side = count % 2 == 0 ? .buy : .sell
                    let price = String(30_000 + (count * 7) % 11 - 5)
                    count += 1
                    guard let exchange = Self.serving(exchanges, user: user),
                        let order = try? await exchange.placeOrder(
                            user: user, request: try ShardCallTransportTests.limit(side, "0.01", at: price))
                    else {
                        try? await Task.sleep(for: .milliseconds(2))
                        continue
                    }
                    placed.append(user, order.order.orderID)
                }
            }
            defer { trading.cancel() }
            // Each phase lasts until a few more orders went through (a loaded machine is slow, not wrong).
            let traded: (Int) async throws -> Void = { more in
                let target = placed.count + more
                let reached = await Self.waitUntil { placed.count >= target }
                #expect(reached != nil)
            }
            try await traded(10)
            assign(["a", "b"])
            let split = await Self.waitUntil {
                b.servingShards.count > 0 && a.servingShards.count + b.servingShards.count == Self.shards.count
            }
            #expect(split != nil)
            try await traded(10)
            assign(["a"])
            let back = await Self.waitUntil { a.servingShards.count == Self.shards.count && !b.holdsShards }
            // b's leases were released as it handed its shards off (in batches): left to lapse, they would have
            // kept a waiting at least `renewBeforeMillis` (12 s) past b's last renewal.
            #expect(back.map { $0 < .seconds(12) } == true, "a took b's shards back \(String(describing: back)) later")
            try await traded(10)
            trading.cancel()
            _ = await trading.result
            let orders = placed.all
            #expect(orders.count > 20)
            for (user, id) in orders {
                #expect((try? await exchanges["a"]!.order(user: user, orderID: id)) != nil, "order \(id) lost")
            }
            #expect(await Self.failedChecks([exchanges["a"]!]) == [])
        }
    }

    /// A node whose renewals fail for a while (its database unreachable) abandons its shards shortly before their
    /// leases run out, then takes them back when the store answers again. Taken back at the same epoch (the lease
    /// still unexpired), an account shard's reservations depended on an epoch its retired actor had abandoned, and
    /// every book record naming one was refused: the book broke at each of its orders (chaos `dbstop`, finding M).
    @Test("shards abandoned while renewals fail are taken back at a new epoch, and their orders book")
    func abandonedShardsComeBackAtANewEpoch() async throws {
        let gate = RenewalGate()
        try await withNodes(wrap: { gate.wrapping($0) }) { exchanges, runners, _, assign in
            let a = runners["a"]!
            assign(["a"])
            #expect(await Self.waitUntil { a.servingShards.count == Self.shards.count } != nil)
            let user = ShardCallTransportTests.user(onShard: 1)
            let shard = ShardKey.account(index: 1)
            _ = try await exchanges["a"]!.deposit(
                user: user, currency: "USD", amount: try Amount(parsing: "1000"), idempotencyKey: nil)
            let before = try #require(exchanges["a"]!.heldEpoch(of: shard))
            gate.failing.store(true, ordering: .relaxed)
            #expect(await Self.waitUntil { a.servingShards.isEmpty } != nil, "abandoned before the leases lapse")
            gate.failing.store(false, ordering: .relaxed)
            #expect(await Self.waitUntil { a.servingShards.count == Self.shards.count } != nil)
            let after = try #require(exchanges["a"]!.heldEpoch(of: shard))
            #expect(after > before, "taken back at epoch \(after), abandoned at \(before)")
            for price in ["20000", "20001", "20002"] {
                let order = try await exchanges["a"]!.placeOrder(
                    user: user, request: try ShardCallTransportTests.limit(.buy, "0.01", at: price)
                ).order
                #expect(order.status == .new)
            }
            #expect(exchanges["a"]!.journalFailures.take().isEmpty)
        }
    }

    @Test("a node that stops renewing loses its shards: the other takes them once the leases lapse")
    func lapsedLeasesAreTaken() async throws {
        try await withNodes { exchanges, runners, tasks, assign in
            let (a, b) = (runners["a"]!, runners["b"]!)
            assign(["a"])
            #expect(await Self.waitUntil { a.servingShards.count == Self.shards.count } != nil)
            let user = ShardCallTransportTests.user(onShard: 1)
            _ = try await exchanges["a"]!.deposit(
                user: user, currency: "USD", amount: try Amount(parsing: "1000"), idempotencyKey: nil)
            let order = try await exchanges["a"]!.placeOrder(
                user: user, request: try ShardCallTransportTests.limit(.buy, "0.01", at: "20000")
            ).order
            // a stops without handing anything off (its task ends; the leases stay a's until they lapse).
            tasks["a"]!.cancel()
            _ = await tasks["a"]!.result
            assign(["b"])
            let takeover = await Self.waitUntil { b.servingShards.count == Self.shards.count }
            let taken = try #require(takeover)
            // Not before a's leases could lapse (taken at most a renewal before the stop), and not long after.
            #expect(taken > .milliseconds(500) && taken < .seconds(30), "taken over after \(taken)")
            #expect(try await exchanges["b"]!.order(user: user, orderID: order.orderID).status == .new)
            #expect(await Self.failedChecks([exchanges["b"]!]) == [])
        }
    }
}

/// Orders placed by the trading task of a test, read by the test.
private final class PlacedOrders: Sendable {
    private let orders = Mutex<[(UserID, OrderID)]>([])
    func append(_ user: UserID, _ order: OrderID) { orders.withLock { $0.append((user, order)) } }
    var count: Int { orders.withLock { $0.count } }
    var all: [(UserID, OrderID)] { orders.withLock { $0 } }
}

/// Lets a test make every lease renewal fail, as a store that cannot be reached would; the rest goes to the store.
private final class RenewalGate: Sendable {
    let failing = Atomic<Bool>(false)

    func wrapping(_ base: SQLiteStore) -> any JournalStore { RenewalFailingStore(base: base, gate: self) }
}

private struct RenewalFailingStore: ForwardingStore {
    let base: any JournalStore
    let gate: RenewalGate

    private func check() throws {
        if gate.failing.load(ordering: .relaxed) { throw StorageError(.unavailable, "renewals fail (test)") }
    }

    var ordersAppendsByPrerequisites: Bool { base.ordersAppendsByPrerequisites }
    func append(_ records: [JournalRecord]) async throws { try await base.append(records) }
    func append(_ records: [JournalRecord], after prerequisites: [JournalPosition], awaitingDependents: Bool)
        async throws
    {
        try await base.append(records, after: prerequisites, awaitingDependents: awaitingDependents)
    }
    func abandon(shard: String, epoch: Int64) { base.abandon(shard: shard, epoch: epoch) }
    func acquireLeases(shards: [String], owner: String, ttlMillis: Int64, nowMillis: Int64) async throws
        -> [ShardLease]
    {
        try await base.acquireLeases(shards: shards, owner: owner, ttlMillis: ttlMillis, nowMillis: nowMillis)
    }
    func renewLease(shard: String, owner: String, epoch: Int64, ttlMillis: Int64, nowMillis: Int64) async throws {
        try check()
        try await base.renewLease(shard: shard, owner: owner, epoch: epoch, ttlMillis: ttlMillis, nowMillis: nowMillis)
    }
    func renewLeases(owner: String, _ leases: [(shard: String, epoch: Int64)], ttlMillis: Int64, nowMillis: Int64)
        async throws -> Set<String>
    {
        try check()
        return try await base.renewLeases(owner: owner, leases, ttlMillis: ttlMillis, nowMillis: nowMillis)
    }
    func releaseLeases(owner: String, _ leases: [(shard: String, epoch: Int64)]) async throws {
        try await base.releaseLeases(owner: owner, leases)
    }
}
