import Storage
import Synchronization
import Testing
import Trading

/// `ProjectionBatch` coalescing and the background `ProjectionWriter`.
@Suite struct ProjectionWriterTests {
    @Test func coalescingKeepsTheLastUpsertAndTheFirstInsert() {
        var batch = ReadModelSamples.batch(shard: "accounts/0001", sequence: 1, user: 1)
        var later = ReadModelSamples.batch(shard: "accounts/0001", sequence: 5, user: 1)
        later.orders[1].status = "filled"
        later.transactions[0].referenceID = "second"
        batch.append(later)
        #expect(batch.orders.count == 6)
        let coalesced = batch.coalesced()
        #expect(coalesced.offsets == ["accounts/0001": 5])
        #expect(coalesced.orders == later.orders)
        #expect(coalesced.wallets == later.wallets)
        #expect(coalesced.transactions.count == 4)
        #expect(coalesced.transactions[0].referenceID == "ref-1-0")
        #expect(coalesced.trades.count == 2)
    }

    /// Many shards' small batches, then a graceful shutdown: everything queued is written, in fewer
    /// transactions than batches, with the newest value of every upserted row.
    @Test(arguments: StoreKind.allCases)
    func writesEverythingQueuedBeforeShutdown(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let writer = ProjectionWriter(store: store, logger: quietLogger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await writer.run() }
                for step in 1...30 {
                    for user in UserID(1)...10 {
                        writer.enqueue(Self.step(step, user: user))
                    }
                }
                writer.beginShutdown()
                try await group.waitForAll()
            }
            for user in UserID(1)...10 {
                #expect(try await store.projectionOffset(shard: "accounts/\(user)") == 30)
                #expect(try await store.wallets(user: user).first?.available == Amount(units: 30))
                #expect(try await store.transactions(user: user, limit: 100).count == 30)
            }
            let statistics = writer.statistics
            #expect(statistics.batchesEnqueued == 300)
            #expect(statistics.transactions < 300)
            #expect(statistics.rowsWritten > 0)
            #expect(statistics.pendingRows == 0)
            // Stopped: later batches are dropped.
            writer.enqueue(Self.step(31, user: 1))
            #expect(writer.statistics.batchesEnqueued == 300)
        }
    }

    /// A shard whose lease moved on while its rows waited: the writer drops its rows and still writes the
    /// other shards' rows that shared the transaction.
    @Test(arguments: StoreKind.allCases)
    func dropsOnlyTheRowsOfADeposedEpoch(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let kept = try await store.acquireLease(
                shard: "accounts/0001", owner: "node-a", ttlMillis: 1_000, nowMillis: 0)
            let deposed = try await store.acquireLease(
                shard: "accounts/0002", owner: "node-a", ttlMillis: 1_000, nowMillis: 0)
            _ = try await store.acquireLease(
                shard: "accounts/0002", owner: "node-b", ttlMillis: 1_000, nowMillis: 5_000)
            let writer = ProjectionWriter(store: store, logger: quietLogger)
            var first = ReadModelSamples.batch(shard: "accounts/0001", sequence: 4, user: 1)
            first.epochs["accounts/0001"] = kept.epoch
            var second = ReadModelSamples.batch(shard: "accounts/0002", sequence: 6, user: 2)
            second.epochs["accounts/0002"] = deposed.epoch
            writer.enqueue(first)
            writer.enqueue(second)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await writer.run() }
                writer.beginShutdown()
                try await group.waitForAll()
            }
            #expect(try await store.projectionOffset(shard: "accounts/0001") == 4)
            #expect(try await store.orders(user: 1, limit: 10).count == 3)
            #expect(try await store.projectionOffset(shard: "accounts/0002") == 0)
            #expect(try await store.orders(user: 2, limit: 10).isEmpty)
            #expect(writer.statistics.rowsFenced == second.rowCount)
        }
    }

    /// While the store fails, upserts of the same keys do not pile up, nothing else is dropped, and the rows
    /// are written once it recovers.
    @Test func keepsOnlyTheLatestUpsertsWhileTheStoreFailsThenCatchesUp() async throws {
        let store = RecordingReadModelStore()
        store.failing = true
        let writer = ProjectionWriter(store: store, retryDelay: .milliseconds(1), logger: quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await writer.run() }
            for step in 1...500 {
                writer.enqueue(Self.step(step, user: 3))
            }
            while writer.statistics.failures < 2 { try await Task.sleep(for: .milliseconds(1)) }
            store.failing = false
            while store.offsets["accounts/3"] != 500 { try await Task.sleep(for: .milliseconds(1)) }
            writer.beginShutdown()
            try await group.waitForAll()
        }
        // Every attempt carried at most one wallet row and the 500 transaction rows; the last carried all.
        #expect(store.attempts.allSatisfy { $0 <= 501 })
        #expect(store.attempts.last == 501)
        #expect(store.wallets.values.first?.available == Amount(units: 500))
        #expect(store.transactionCount == 500)
        #expect(writer.statistics.pendingRows == 0)
    }

    /// Step `step` of `user` in shard `accounts/<user>`: its balance becomes `step` units, one new ledger row.
    static func step(_ step: Int, user: UserID) -> ProjectionBatch {
        ProjectionBatch(
            shard: "accounts/\(user)", sequence: Int64(step),
            transactions: [
                TransactionRow(
                    userID: user, entryID: UInt64(step), type: "DEPOSIT", currency: "USD", amount: Amount(units: 1),
                    availableAfter: Amount(units: Int64(step)), lockedAfter: .zero, referenceID: "r\(step)",
                    timestampMillis: Int64(step))
            ],
            wallets: [WalletRow(userID: user, currency: "USD", available: Amount(units: Int64(step)), locked: .zero)])
    }
}

/// A `ReadModelStore` in memory that can be told to fail.
final class RecordingReadModelStore: ReadModelStore {
    private struct State {
        var failing = false
        var offsets: [String: Int64] = [:]
        var wallets: [String: WalletRow] = [:]
        var transactions = Set<String>()
        var attempts: [Int] = []
    }

    private let state = Mutex(State())

    var failing: Bool {
        get { state.withLock { $0.failing } }
        set { state.withLock { $0.failing = newValue } }
    }
    var offsets: [String: Int64] { state.withLock { $0.offsets } }
    var wallets: [String: WalletRow] { state.withLock { $0.wallets } }
    var transactionCount: Int { state.withLock { $0.transactions.count } }
    /// Rows of each `project` call, failed or not.
    var attempts: [Int] { state.withLock { $0.attempts } }

    func project(_ batch: ProjectionBatch) async throws {
        try state.withLock { state in
            state.attempts.append(batch.rowCount)
            if state.failing { throw StorageError(.unavailable, "told to fail") }
            state.offsets.merge(batch.offsets, uniquingKeysWith: max)
            for row in batch.coalesced().wallets { state.wallets["\(row.userID)/\(row.currency)"] = row }
            for row in batch.transactions { state.transactions.insert("\(row.userID)/\(row.entryID)") }
        }
    }

    func projectionOffset(shard: String) async throws -> Int64 { offsets[shard] ?? 0 }
    func orders(user: UserID, symbol: String?, closedOnly: Bool, limit: Int) async throws -> [OrderRow] { [] }
    func order(id: OrderID) async throws -> OrderRow? { nil }
    func trades(user: UserID, symbol: String?, limit: Int) async throws -> [TradeRow] { [] }
    func trades(user: UserID, orders: [OrderID]) async throws -> [TradeRow] { [] }
    func transactions(user: UserID, limit: Int) async throws -> [TransactionRow] { [] }
    func wallets(user: UserID) async throws -> [WalletRow] { wallets.values.filter { $0.userID == user } }
    func holdings(user: UserID) async throws -> [HoldingRow] { [] }
}
