import Foundation
import Logging
import Storage
import Synchronization
import TestSupport
import Testing
import Trading

@testable import Actors

/// Shards taken and handed off one at a time (`Exchange+Ownership`), as a cluster routing by shard moves them:
/// three exchanges over one store that start serving nothing, take their shards' leases and load them, then
/// pass single shards to each other while orders keep coming.
@Suite("Shards moving one at a time")
struct ShardMoveTests {
    typealias Parts = PartitionedExchangeTests
    typealias Flow = ExchangeFlowTests

    /// The three exchanges of `Parts.nodes`, started with no shard, joined to `mesh`.
    static func startEmpty(store: SQLiteStore, mesh: Parts.Mesh) async throws -> [String: Exchange] {
        var exchanges: [String: Exchange] = [:]
        for node in Parts.nodes {
            var configuration = Exchange.Configuration(
                markets: Parts.markets, accountShards: Parts.accountShards, nodeID: node)
            configuration.servedShards = []
            configuration.resubmitAfter = .milliseconds(300)
            exchanges[node] = Exchange(
                configuration: configuration, store: store, logger: Logger(label: "test-\(node)"), peers: mesh)
        }
        mesh.replaceAll(Parts.nodes.map { exchanges[$0]! })
        for exchange in exchanges.values { try await exchange.start() }
        return exchanges
    }

    /// Takes the lease of `shard` for `node` and loads the shard there.
    static func take(_ shard: String, on node: String, _ exchanges: [String: Exchange], store: SQLiteStore)
        async throws
    {
        let lease = try await store.acquireLease(shard: shard, owner: node, ttlMillis: 60_000, nowMillis: 0)
        try await exchanges[node]!.takeShard(shard, epoch: lease.epoch)
    }

    /// Hands `shard` off from `from` and takes it on `to`.
    static func move(_ shard: String, from: String, to: String, _ exchanges: [String: Exchange], store: SQLiteStore)
        async throws
    {
        await exchanges[from]!.handOffShard(shard)
        let lease = try #require(try await store.lease(shard: shard))
        try await store.releaseLease(shard: shard, owner: from, epoch: lease.epoch)
        try await take(shard, on: to, exchanges, store: store)
    }

    static var allShards: [String] {
        (0..<Parts.accountShards).map { ShardKey.account(index: $0) } + Parts.markets.map { ShardKey.symbol($0.symbol) }
    }

    @Test("an exchange that serves nothing takes shards one by one, and gives them back")
    func takeAndGiveBack() async throws {
        try await Parts.withStore { store in
            let nodes = try await Self.startEmpty(store: store, mesh: Parts.Mesh())
            let a = nodes["a"]!
            #expect(await a.isReady())
            #expect(!a.serves(ShardKey.account(index: 0)) && !a.serves(ShardKey.symbol("BTC-USD")))
            let user = Parts.user(onShard: 0)
            // Nobody serves the book yet: the order is refused before anything is reserved.
            try await Self.take(ShardKey.account(index: 0), on: "a", nodes, store: store)
            _ = try await a.deposit(user: user, currency: "USD", amount: Flow.amount("1000"), idempotencyKey: nil)
            await #expect(throws: BourseError.self) {
                try await a.placeOrder(user: user, request: Parts.limit(.buy, "0.01", at: "100"))
            }
            #expect(try await a.balances(user: user).first { $0.currency == "USD" }?.locked == .zero)
            try await Self.take(ShardKey.symbol("BTC-USD"), on: "a", nodes, store: store)
            let order = try await a.placeOrder(user: user, request: Parts.limit(.buy, "0.01", at: "100")).order
            #expect(order.status == .new)

            // Given back: the shard's commands are refused here, and the lease can be taken by another node.
            await a.handOffShard(ShardKey.account(index: 0))
            #expect(!a.serves(ShardKey.account(index: 0)))
            #expect(a.heldLeases.map(\.shard) == [ShardKey.symbol("BTC-USD")])
            await #expect(throws: BourseError.self) {
                try await a.deposit(user: user, currency: "USD", amount: Flow.amount("1"), idempotencyKey: nil)
            }
            let lease = try #require(try await store.lease(shard: ShardKey.account(index: 0)))
            try await store.releaseLease(shard: lease.shard, owner: "a", epoch: lease.epoch)
            try await Self.take(ShardKey.account(index: 0), on: "b", nodes, store: store)
            let b = nodes["b"]!
            #expect(try await store.lease(shard: lease.shard)?.epoch == lease.epoch + 1)
            #expect(try await b.order(user: user, orderID: order.orderID).status == .new)
            let usd = try await b.balances(user: user).first { $0.currency == "USD" }
            #expect(usd?.available == Flow.amount("998.998") && usd?.locked == Flow.amount("1.002"))
            // The actor a left behind answers nothing more.
            await #expect(throws: BourseError.self) { try await a.balances(user: user) }

            // Taken back by a: a fresh actor, with what b journaled meanwhile (not what a had in memory).
            _ = try await b.deposit(user: user, currency: "USD", amount: Flow.amount("5"), idempotencyKey: nil)
            try await Self.move(ShardKey.account(index: 0), from: "b", to: "a", nodes, store: store)
            let back = try await a.balances(user: user).first { $0.currency == "USD" }
            #expect(back?.available == Flow.amount("1003.998"))
        }
    }

    @Test("every shard moves, one at a time, while orders keep coming: nothing acknowledged is lost or doubled")
    func movesUnderLoad() async throws {
        try await Parts.withStore { store in
            let mesh = Parts.Mesh()
            let nodes = try await Self.startEmpty(store: store, mesh: mesh)
            let layout = Parts.layout(rotation: 0)
            var owners: [String: String] = [:]
            for (node, shards) in layout {
                for shard in shards {
                    try await Self.take(shard, on: node, nodes, store: store)
                    owners[shard] = node
                }
            }
            let users = (0..<Parts.accountShards).map { Parts.user(onShard: $0) }
            let serving: @Sendable (UserID) -> Exchange? = { user in
                let shard = ShardKey.account(index: ShardKey.accountShardIndex(user, shards: Parts.accountShards))
                return nodes.values.first { $0.serves(shard) }
            }
            for user in users {
                for (currency, amount) in [("USD", "1000000"), ("BTC", "100"), ("ETH", "100")] {
                    _ = try await #require(serving(user)).deposit(
                        user: user, currency: currency, amount: Flow.amount(amount), idempotencyKey: nil)
                }
            }
            // Orders from four clients while the shards move; a refused one (its shard moving) is simply not
            // acknowledged. Every acknowledged order is remembered with its owner.
            let run = LoadRun()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in 0..<4 {
                    group.addTask {
                        var random = SeededRandom(seed: UInt64(40 + client))
                        while run.moving.load(ordering: .relaxed) {
                            let user = users[Int(random.next() % UInt64(users.count))]
                            let symbol = random.chance(50) ? "BTC-USD" : "ETH-USD"
                            let request = Parts.limit(
                                random.chance(50) ? .buy : .sell, String(format: "0.%02d", random.int(in: 1...20)),
                                at: String(2_000 + random.int(in: -5...5)), symbol: symbol)
                            guard let exchange = serving(user),
                                let placed = try? await exchange.placeOrder(user: user, request: request)
                            else {
                                run.refused.add(1, ordering: .relaxed)
                                try await Task.sleep(for: .milliseconds(2))
                                continue
                            }
                            run.acknowledged.withLock { $0.append((user, placed.order.orderID)) }
                        }
                    }
                }
                group.addTask { [owners] in
                    var owners = owners
                    defer { run.moving.store(false, ordering: .relaxed) }
                    try await Task.sleep(for: .milliseconds(100))
                    // Twice round: the second time each shard goes to a node that served it before.
                    for shard in Self.allShards + Self.allShards {
                        let from = owners[shard]!
                        let to = Parts.nodes[(Parts.nodes.firstIndex(of: from)! + 1) % Parts.nodes.count]
                        try await Self.move(shard, from: from, to: to, nodes, store: store)
                        owners[shard] = to
                        try await Task.sleep(for: .milliseconds(25))
                    }
                }
                try await group.waitForAll()
            }
            let orders = run.acknowledged.withLock { $0 }
            #expect(orders.count > 50)
            for shard in Self.allShards { #expect(nodes.values.filter { $0.serves(shard) }.count == 1) }
            // Every acknowledged order is found on its shard's new owner.
            for (user, id) in orders {
                #expect((try? await serving(user)?.order(user: user, orderID: id)) != nil, "order \(id) lost")
            }
            // Places refused half-way (reserved, their book moving) are sent again and answered.
            #expect(
                await Parts.eventually {
                    var open = 0
                    for exchange in nodes.values {
                        for shard in exchange.accounts.served {
                            open += await shard.unansweredPlaces(createdBy: .max).count
                        }
                    }
                    return open == 0
                })
            #expect(await Parts.failedChecks(Array(nodes.values)) == [])
            for exchange in nodes.values { await exchange.stop(releasingLeases: true) }
        }
    }
}

/// What the clients of `movesUnderLoad` share: the orders acknowledged, how many were refused, and whether the
/// shards are still moving.
private final class LoadRun: Sendable {
    let acknowledged = Mutex<[(user: UserID, order: OrderID)]>([])
    let refused = Atomic<Int>(0)
    let moving = Atomic<Bool>(true)
}
