import Actors
import Foundation
import Logging
import Storage
import Testing
import Trading

/// The read models fed by a running exchange: once the projection offsets reach the journal, the tables
/// equal what the account shards show in memory. SQLite always; PostgreSQL when `POSTGRES_URL` is set.
@Suite("Read models from the exchange")
struct ReadModelFlowTests {
    enum Kind: String, CaseIterable, Sendable {
        case sqlite, postgres
    }

    static let shards = 4
    static let users: [UserID] = Array(1...6)

    @Test("after trades, the tables equal the in-memory views", arguments: Kind.allCases)
    func tablesEqualTheViews(_ kind: Kind) async throws {
        try await Self.withStore(kind) { store in
            try await Self.withExchange(store: store, projecting: true) { exchange, _ in
                try await Self.trade(exchange)
                try await Self.waitForProjection(store)
                try await Self.expectTablesEqualViews(store, exchange)
            }
        }
    }

    @Test("a restart projects the shards again when the tables are behind the journal")
    func restartReprojects() async throws {
        try await Self.withStore(.sqlite) { store in
            // First run without read models: the journal moves, the offsets stay at 0.
            try await Self.withExchange(store: store, projecting: false) { exchange, _ in
                try await Self.trade(exchange)
            }
            #expect(try await store.projectionOffset(shard: ShardKey.account(index: 0)) == 0)
            try await Self.withExchange(store: store, projecting: true) { exchange, _ in
                try await Self.waitForProjection(store)
                try await Self.expectTablesEqualViews(store, exchange)
                // And it keeps up with new commands.
                _ = try await exchange.deposit(
                    user: 3, currency: "USD", amount: ExchangeFlowTests.amount("5"), idempotencyKey: nil)
                try await Self.waitForProjection(store)
                try await Self.expectTablesEqualViews(store, exchange)
            }
        }
    }

    @Test("a graceful shutdown writes what is queued: the offsets equal the journal at once")
    func shutdownFlushes() async throws {
        try await Self.withStore(.sqlite) { store in
            try await Self.withExchange(store: store, projecting: true) { exchange, _ in
                try await Self.trade(exchange)
            }
            for index in 0..<Self.shards {
                let shard = ShardKey.account(index: index)
                #expect(try await store.projectionOffset(shard: shard) == store.lastSequence(shard: shard))
            }
        }
    }

    // MARK: Harness

    /// Deposits for every user, resting sells at several prices, crossing limit and market buys, a cancel.
    static func trade(_ exchange: Exchange) async throws {
        for user in users {
            _ = try await exchange.deposit(
                user: user, currency: "BTC", amount: ExchangeFlowTests.amount("3"), idempotencyKey: "btc-\(user)")
            _ = try await exchange.deposit(
                user: user, currency: "USD", amount: ExchangeFlowTests.amount("500000"), idempotencyKey: nil)
        }
        var resting: [(UserID, OrderID)] = []
        for step in 0..<24 {
            let seller = users[step % 3]
            let (order, _) = try await exchange.placeOrder(
                user: seller,
                request: OrderRequest(
                    symbol: "BTC-USD", side: .sell, type: .limit, quantity: ExchangeFlowTests.quantity("0.05"),
                    price: ExchangeFlowTests.price(String(50_000 + step * 5)), clientOrderID: "sell-\(step)"))
            resting.append((seller, order.orderID))
        }
        for step in 0..<8 {
            let buyer = users[3 + step % 3]
            _ = try await exchange.placeOrder(
                user: buyer,
                request: OrderRequest(
                    symbol: "BTC-USD", side: .buy, type: step % 2 == 0 ? .limit : .market,
                    quantity: ExchangeFlowTests.quantity("0.07"),
                    price: step % 2 == 0 ? ExchangeFlowTests.price("50100") : nil))
        }
        let (user, order) = resting[23]
        _ = try await exchange.cancelOrder(user: user, orderID: order)
        _ = try await exchange.withdraw(
            user: 4, currency: "USD", amount: ExchangeFlowTests.amount("1000"), idempotencyKey: nil)
    }

    /// Polls until every account shard's projection offset has reached its journal.
    static func waitForProjection(_ store: any DurableStore) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        for index in 0..<shards {
            let shard = ShardKey.account(index: index)
            let journal = try await store.lastSequence(shard: shard)
            while try await store.projectionOffset(shard: shard) < journal {
                guard ContinuousClock.now < deadline else {
                    Issue.record("\(shard) is not projected through \(journal)")
                    return
                }
                try await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    static func expectTablesEqualViews(_ store: any DurableStore, _ exchange: Exchange) async throws {
        var tradeCount = 0
        for user in users {
            let views = try await exchange.orders(user: user, filter: OrderFilter(limit: 1_000))
            let rows = try await store.orders(user: user, limit: 1_000)
            #expect(rows.map(\.orderID) == views.map(\.orderID))
            for (row, view) in zip(rows, views) {
                #expect(row.status == view.status.rawValue)
                #expect(row.filledQuantity == view.filledQuantity && row.filledNotional == view.filledNotional)
                #expect(row.price == view.price && row.quantity == view.quantity && row.stopPrice == view.stopPrice)
                #expect(row.clientOrderID == view.clientOrderID && row.side == (view.side == .buy ? "buy" : "sell"))
                #expect(row.createdAtMillis == view.createdAtMillis && row.updatedAtMillis == view.updatedAtMillis)
            }

            let balances = try await exchange.balances(user: user)
            let wallets = try await store.wallets(user: user).sorted { $0.currency < $1.currency }
            #expect(
                wallets.map { BalanceView(currency: $0.currency, available: $0.available, locked: $0.locked) }
                    == balances.sorted { $0.currency < $1.currency })

            let entries = try await exchange.transactions(user: user, limit: .max)
            let transactions = try await store.transactions(user: user, limit: .max)
            #expect(transactions.count == entries.count)
            #expect(transactions.map(\.entryID) == entries.map(\.entry.id))
            #expect(transactions.map(\.amount) == entries.map(\.entry.amount))

            let fills = try await exchange.userTrades(user: user, symbol: nil, limit: .max)
            let trades = try await store.trades(user: user, limit: .max)
            let tradeKeys: Set<[UInt64]> = Set(trades.map { [$0.tradeID, $0.orderID] })
            let fillKeys: Set<[UInt64]> = Set(fills.map { [$0.tradeID, $0.orderID] })
            #expect(tradeKeys == fillKeys)
            let tradeFees: Int64 = trades.reduce(0) { $0 + $1.fee.units }
            let fillFees: Int64 = fills.reduce(0) { $0 + $1.fee.units }
            #expect(tradeFees == fillFees)
            tradeCount += trades.count

            let positions = try await exchange.portfolio(user: user).positions
            let holdings = try await store.holdings(user: user)
            #expect(holdings.map(\.symbol) == positions.map(\.symbol))
            #expect(holdings.map(\.quantity) == positions.map(\.quantity))
            #expect(holdings.map(\.costBasis) == positions.map(\.costBasis))
            #expect(holdings.map(\.realizedPnL) == positions.map(\.realizedPnL))
        }
        // Every fill has two sides.
        #expect(tradeCount > 0 && tradeCount % 2 == 0)
    }

    /// Runs an exchange over `store` — with a running `ProjectionWriter` when `projecting` — then stops the
    /// exchange's callers, and the writer after them (flushing what is queued).
    static func withExchange(
        store: any DurableStore, projecting: Bool, _ body: (Exchange, ProjectionWriter?) async throws -> Void
    ) async throws {
        let writer = projecting ? ProjectionWriter(store: store, logger: quiet) : nil
        try await withThrowingTaskGroup(of: Void.self) { group in
            if let writer { group.addTask { await writer.run() } }
            let exchange = Exchange(
                configuration: .init(markets: [ExchangeFlowTests.btc], accountShards: shards), store: store,
                projections: writer, logger: quiet)
            do {
                try await exchange.start()
                try await body(exchange, writer)
            } catch {
                group.cancelAll()
                throw error
            }
            writer?.beginShutdown()
            try await group.waitForAll()
        }
    }

    /// A fresh migrated store of `kind`, running while `body` runs.
    static func withStore(_ kind: Kind, _ body: (any DurableStore) async throws -> Void) async throws {
        switch kind {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-rm-\(UUID())").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            try await running(try await SQLiteStore(directory: directory, logger: quiet), body)
        case .postgres:
            let environment = ProcessInfo.processInfo.environment
            guard let text = environment["POSTGRES_URL"], !text.isEmpty else {
                // CI must test both stores; elsewhere the PostgreSQL case is skipped.
                if environment["CI"] == "true" { throw BourseError(.internal, "POSTGRES_URL is not set but CI=true") }
                try Test.cancel("POSTGRES_URL is not set (run with scripts/with-postgres)")
            }
            let admin = try PostgresURL(text)
            let database = "bourse_rm_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())"
            try await PostgresAdmin.createDatabase(database, at: admin)
            do {
                try await running(
                    PostgresStore(url: admin.with(database: database), maximumConnections: 4, logger: quiet), body)
            } catch {
                try? await PostgresAdmin.dropDatabase(database, at: admin)
                throw error
            }
            try await PostgresAdmin.dropDatabase(database, at: admin)
        }
    }

    private static func running(_ store: some DurableStore, _ body: (any DurableStore) async throws -> Void)
        async throws
    {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            do {
                try await store.migrate()
                try await body(store)
            } catch {
                await store.shutdown()
                group.cancelAll()
                throw error
            }
            await store.shutdown()
            try await group.waitForAll()
        }
    }

    static let quiet: Logger = {
        var logger = Logger(label: "bourse.read-model-tests")
        logger.logLevel = .error
        return logger
    }()
}
