import Foundation
import Logging
import Storage
import Synchronization
import Testing
import Trading
import Transport

@testable import Actors
@testable import Node

/// Two exchanges that each serve half of the shards, each behind its own peer server on 127.0.0.1, calling
/// each other's shards over the real HTTP/2 transport (`PeerShardCalls`, `PeerKind.shardCall`).
@Suite(.timeLimit(.minutes(3)))
struct ShardCallTransportTests {
    static let logger: Logger = {
        var logger = Logger(label: "bourse.shard-calls.tests")
        logger.logLevel = .warning
        return logger
    }()
    static let btc = try! MarketSpec(
        symbol: "BTC-USD", base: "BTC", quote: "USD", tickSize: "0.01", lotSize: "0.00001", minQuantity: "0.00001",
        makerFeeBps: 10, takerFeeBps: 20)
    static let accountShards = 4
    static let secret = PeerSecret("shard-call-tests-secret")

    static func limit(_ side: Side, _ quantity: String, at price: String) throws -> OrderRequest {
        OrderRequest(
            symbol: "BTC-USD", side: side, type: .limit, quantity: try btc.quantity(parsing: quantity),
            price: try btc.price(parsing: price))
    }

    static func user(onShard index: Int) -> UserID {
        (UserID(500)...).first { ShardKey.accountShardIndex($0, shards: accountShards) == index }!
    }

    @Test func anOrderOfAnAccountOnOneNodeTradesInABookOnTheOther() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-calls-\(UUID())").path
        let store = try await SQLiteStore(directory: directory, logger: Self.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            // Closed on every path: a store released unclosed traps in SQLiteNIO and ends the whole test run.
            do {
                try await trade(on: store)
            } catch {
                await store.shutdown()
                throw error
            }
            await store.shutdown()
        }
    }

    /// One order across the two nodes, over `store`.
    func trade(on store: SQLiteStore) async throws {
        try await store.migrate()

        // a: account shards 0 and 2; b: 1, 3 and the book.
        let served: [String: Set<String>] = [
            "a": [ShardKey.account(index: 0), ShardKey.account(index: 2)],
            "b": [ShardKey.account(index: 1), ShardKey.account(index: 3), ShardKey.symbol("BTC-USD")],
        ]
        let addresses = Mutex<[String: String]>([:])
        var exchanges: [String: Exchange] = [:]
        var clients: [PeerClients] = []
        for node in ["a", "b"] {
            let peerClients = PeerClients(
                identity: PeerIdentity(nodeID: node, incarnation: 1), secret: Self.secret, logger: Self.logger)
            clients.append(peerClients)
            let calls = PeerShardCalls(
                channel: { call in
                    let shard = call.shard
                    guard let owner = served.first(where: { $0.value.contains(shard) })?.key,
                        let address = addresses.withLock({ $0[owner] }),
                        let client = peerClients.client(for: address)
                    else { throw BourseError(.unavailable, "no route to \(shard)") }
                    return client
                },
                // A loaded machine (the full suite runs beside) can stall a live peer for tens of seconds.
                timeout: .seconds(60))
            var configuration = Exchange.Configuration(
                markets: [Self.btc], accountShards: Self.accountShards, nodeID: node)
            configuration.servedShards = served[node]
            exchanges[node] = Exchange(
                configuration: configuration, store: store, logger: Self.logger, peers: calls.peers)
        }
        defer { for peerClients in clients { peerClients.shutdown() } }
        var servers: [Task<Void, any Error>] = []
        defer { for server in servers { server.cancel() } }
        for node in ["a", "b"] {
            let server = PeerServer(
                configuration: .init(
                    host: "127.0.0.1", port: 0, identity: PeerIdentity(nodeID: node, incarnation: 1),
                    secret: Self.secret),
                handler: NodePeerHandler(shards: exchanges[node]), logger: Self.logger)
            servers.append(Task { try await server.run() })
            let port = try #require(try await server.listeningAddress.port)
            addresses.withLock { $0[node] = "127.0.0.1:\(port)" }
        }
        let (a, b) = (exchanges["a"]!, exchanges["b"]!)
        try await a.start()
        try await b.start()
        let book = try b.symbolActor("BTC-USD")

        let buyer = Self.user(onShard: 0)  // on a
        let seller = Self.user(onShard: 1)  // on b, with the book
        _ = try await a.deposit(
            user: buyer, currency: "USD", amount: try Amount(parsing: "100000"), idempotencyKey: nil)
        _ = try await b.deposit(
            user: seller, currency: "BTC", amount: try Amount(parsing: "1"), idempotencyKey: nil)
        let bid = try await a.placeOrder(
            user: buyer,
            request: try Self.limit(.buy, "0.4", at: "30000")
        ).order
        #expect(bid.status == .new)
        #expect(await book.bestPrices().bid == (try Self.btc.price(parsing: "30000")))
        // A market buy from a: its protection price comes from the book on b (a quote call); no ask: refused.
        await #expect(throws: BourseError.self) {
            try await a.placeOrder(
                user: buyer,
                request: OrderRequest(
                    symbol: "BTC-USD", side: .buy, type: .market, quantity: try Self.btc.quantity(parsing: "0.1")))
        }
        let ask = try await b.placeOrder(
            user: seller,
            request: try Self.limit(.sell, "0.4", at: "30000")
        ).order
        #expect(ask.status == .filled)
        // The book on b settled the buyer's side on a over the transport before answering.
        #expect(try await a.order(user: buyer, orderID: bid.orderID).status == .filled)
        let bought = try await a.balances(user: buyer).first { $0.currency == "BTC" }
        #expect(bought?.available == (try Amount(parsing: "0.4")))
        // 12,000 paid plus a maker fee of 10 bp (12): 87,988 left, nothing locked.
        let cash = try await a.balances(user: buyer).first { $0.currency == "USD" }
        #expect(cash?.available == (try Amount(parsing: "87988")) && cash?.locked == .zero)

        // A cancel from a reaches the book on b; the reservation comes back.
        let low = try await a.placeOrder(
            user: buyer,
            request: try Self.limit(.buy, "0.1", at: "29000")
        ).order
        #expect(try await a.cancelOrder(user: buyer, orderID: low.orderID).status == .cancelled)
        #expect(await book.bestPrices().bid == nil)
        let after = try await a.balances(user: buyer).first { $0.currency == "USD" }
        #expect(after?.available == (try Amount(parsing: "87988")) && after?.locked == .zero)
        await a.stop()
        await b.stop()
    }
}
