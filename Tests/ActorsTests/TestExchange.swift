import Actors
import Foundation
import Logging
import Storage
import Trading

/// An exchange over a real SQLite store for the actor tests: on `directory` (a fresh one by default),
/// started, handed to `body`, then the store is shut down — without `Exchange.stop()`, so a test that
/// restarts on the same directory sees what a crash would leave (minus what the store already committed).
enum TestExchange {
    static func run<T>(
        directory: String? = nil, markets: [MarketSpec] = [ExchangeFlowTests.btc], accountShards: Int = 8,
        snapshotEvery: Int64 = 1_000, logger: Logger = Logger(label: "test"),
        clock: @escaping @Sendable () -> Int64 = Exchange.wallClockMillis, _ body: (Exchange) async throws -> T
    ) async throws -> T {
        try await run(
            directory: directory, markets: markets, accountShards: accountShards, snapshotEvery: snapshotEvery,
            logger: logger, clock: clock, wrap: { $0 }, { exchange, _ in try await body(exchange) })
    }

    /// The same over the store `wrap` makes of the SQLite store (a test double that forwards to it).
    static func run<T, Store: JournalStore>(
        directory: String? = nil, markets: [MarketSpec] = [ExchangeFlowTests.btc], accountShards: Int = 8,
        snapshotEvery: Int64 = 1_000, logger: Logger = Logger(label: "test"),
        clock: @escaping @Sendable () -> Int64 = Exchange.wallClockMillis, wrap: (SQLiteStore) -> Store,
        configure: (inout Exchange.Configuration) -> Void = { _ in }, _ body: (Exchange, Store) async throws -> T
    ) async throws -> T {
        let directory =
            directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("bourse-\(UUID())").path
        let sqlite = try await SQLiteStore(directory: directory, logger: logger)
        let store = wrap(sqlite)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await sqlite.run() }
            defer { group.cancelAll() }
            // Closed on every path: a store released unclosed traps in SQLiteNIO and ends the whole test run.
            do {
                try await store.migrate()
                var configuration = Exchange.Configuration(
                    markets: markets, accountShards: accountShards, snapshotEvery: snapshotEvery)
                configure(&configuration)
                let exchange = Exchange(configuration: configuration, store: store, logger: logger, clock: clock)
                try await exchange.start()
                let result = try await body(exchange, store)
                await sqlite.shutdown()
                return result
            } catch {
                await sqlite.shutdown()
                throw error
            }
        }
    }
}

extension TestExchange {
    /// The first `count` users that fall in distinct account shards of `shards`.
    static func users(_ count: Int, shards: Int) -> [UserID] {
        var users: [UserID] = []
        var taken = Set<Int>()
        for user in UserID(1)...UserID(10_000) where users.count < count {
            if taken.insert(ShardKey.accountShardIndex(user, shards: shards)).inserted { users.append(user) }
        }
        return users
    }
}
