import Actors
import Foundation
import Logging
import ServiceLifecycle
import Storage
import Synchronization
import TestSupport
import Trading

@testable import API

/// A wall clock the test moves by hand, shared by the exchange and the API (exact timestamps).
final class ManualClock: Sendable {
    /// 2024-05-01T12:00:00.000Z.
    static let start: Int64 = 1_714_564_800_000
    private let millis = Atomic<Int64>(ManualClock.start)
    var nowMillis: Int64 { millis.load(ordering: .relaxed) }
    func advance(millis delta: Int64) { millis.add(delta, ordering: .relaxed) }
}

/// The real node in this process: `APIServer` over the real `Exchange` over a real `SQLiteStore` in a
/// temporary directory, wired as `NodeRunner` wires them, and an h2c client connected to it.
struct InProcessNode: Sendable {
    let port: Int
    let api: NodeClient
    let exchange: Exchange
    let clock: ManualClock

    static let btc = try! MarketSpec(
        symbol: "BTC-USD", base: "BTC", quote: "USD", tickSize: "0.01", lotSize: "0.00001", minQuantity: "0.00001",
        makerFeeBps: 10, takerFeeBps: 20)
    static let eth = try! MarketSpec(
        symbol: "ETH-USD", base: "ETH", quote: "USD", tickSize: "0.01", lotSize: "0.0001", minQuantity: "0.0001",
        makerFeeBps: 10, takerFeeBps: 20)

    /// `2024-05-01T12:00:00.000Z` plus `millis`.
    static func time(_ millis: Int64 = 0) -> JSONValue {
        .string(Timestamp.rfc3339(millis: ManualClock.start + millis))
    }

    /// Runs `body` against a node, then shuts it down (API, then exchange, then store). Without a
    /// `directory` the node is fresh and its data is deleted afterwards; with one, it starts on (and
    /// leaves) what is there.
    static func run<Result: Sendable>(
        directory: String? = nil, snapshotEvery: Int64 = 1_000, _ body: @Sendable (InProcessNode) async throws -> Result
    ) async throws -> Result {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-e2e-\(UUID())").path
        let directory = directory ?? scratch
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var logger = Logger(label: "bourse.e2e")
        logger.logLevel = .critical
        let store = try await SQLiteStore(directory: directory, logger: logger)
        let clock = ManualClock()
        let exchange = Exchange(
            configuration: .init(markets: [btc, eth], accountShards: 4, nodeID: "e2e", snapshotEvery: snapshotEvery),
            store: store, logger: logger,
            clock: { clock.nowMillis })
        var configuration = APIConfiguration(host: "127.0.0.1", port: 0, bcryptCost: 4)
        configuration.limits.requestsPerSecond = 10_000
        configuration.limits.burst = 10_000
        configuration.limits.loginPerMinute = 1_000
        configuration.heartbeatInterval = .seconds(60)
        let server = APIServer(
            configuration: configuration, exchange: exchange, users: store, keys: store, metrics: { "" },
            clock: APIClock { clock.nowMillis }, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await store.run() }
            do {
                try await store.migrate()
                try await SigningKey.share(with: store)
                try await exchange.start()
                let result = try await serve(server, logger: logger) { port in
                    try await H2Client.withConnection(host: "127.0.0.1", port: port) { client in
                        try await body(
                            InProcessNode(port: port, api: NodeClient(h2: client), exchange: exchange, clock: clock))
                    }
                }
                await store.shutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await store.shutdown()
                tasks.cancelAll()
                throw error
            }
        }
    }

    /// Runs the API as a service on a free port while `body` runs, then shuts it down gracefully.
    private static func serve<Result: Sendable>(
        _ server: APIServer, logger: Logger, _ body: @Sendable (Int) async throws -> Result
    ) async throws -> Result {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let application = try server.makeApplication { channel in
            portContinuation.yield(channel.localAddress?.port ?? 0)
            portContinuation.finish()
        }
        let group = ServiceGroup(services: [application], gracefulShutdownSignals: [], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            do {
                var iterator = ports.makeAsyncIterator()
                guard let port = await iterator.next(), port != 0 else { throw HarnessError("the API did not start") }
                let result = try await body(port)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
        }
    }
}

/// One RSA signing key for every in-process node of the run: the first node makes it, the others reuse it
/// (making a 2048-bit key per test would be slow).
enum SigningKey {
    private static let pem = Mutex<[UInt8]?>(nil)

    static func share(with store: some JournalStore) async throws {
        if let known = pem.withLock({ $0 }) {
            _ = try await store.putIfAbsent(key: TokenAuthority.storeKey, value: known)
            return
        }
        let authority = TokenAuthority()
        var quiet = Logger(label: "bourse.e2e")
        quiet.logLevel = .critical
        try await authority.load(from: store, logger: quiet)
        let made = try await store.value(forKey: TokenAuthority.storeKey)
        pem.withLock { $0 = $0 ?? made }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
