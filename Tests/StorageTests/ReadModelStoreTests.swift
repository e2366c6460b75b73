import Storage
import Testing
import Trading

/// The read models (`ReadModelStore.project` and its reads), run against both stores.
@Suite struct ReadModelStoreTests {
    static let shard = "accounts/0003"

    @Test(arguments: StoreKind.allCases)
    func projectedRowsReadBackExactly(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            #expect(try await store.projectionOffset(shard: Self.shard) == 0)
            let batch = ReadModelSamples.batch(shard: Self.shard, sequence: 7, user: 42)
            try await store.project(batch)

            #expect(try await store.projectionOffset(shard: Self.shard) == 7)
            #expect(try await store.orders(user: 42, limit: 10) == batch.orders.sorted { $0.orderID > $1.orderID })
            #expect(try await store.order(id: batch.orders[0].orderID) == batch.orders[0])
            #expect(try await store.order(id: 1) == nil)
            #expect(try await store.trades(user: 42, limit: 10) == batch.trades.reversed())
            // One order's fills, and none for another user's view of the same order.
            for trade in batch.trades {
                #expect(try await store.trades(user: 42, order: trade.orderID) == [trade])
                #expect(try await store.trades(user: 43, order: trade.orderID).isEmpty)
            }
            #expect(try await store.transactions(user: 42, limit: 10) == batch.transactions.reversed())
            #expect(
                try await store.transactions(user: 42, limit: 2) == batch.transactions.reversed().prefix(2).map { $0 })
            #expect(try await store.wallets(user: 42) == batch.wallets.sorted { $0.currency < $1.currency })
            #expect(try await store.holdings(user: 42) == batch.holdings)
            // Other users see nothing; a limit of 0 reads nothing.
            #expect(try await store.orders(user: 43, limit: 10).isEmpty)
            #expect(try await store.wallets(user: 43).isEmpty)
            #expect(try await store.orders(user: 42, limit: 0).isEmpty)
        }
    }

    /// A deposed owner (its lease epoch moved on) cannot write read-model rows: the whole batch is refused
    /// in the same transaction, nothing of it lands, and the new owner's epoch writes.
    @Test(arguments: StoreKind.allCases)
    func rowsOfADeposedEpochAreRefused(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let first = try await store.acquireLease(shard: Self.shard, owner: "node-a", ttlMillis: 1_000, nowMillis: 0)
            var current = ReadModelSamples.batch(shard: Self.shard, sequence: 5, user: 42)
            current.epochs[Self.shard] = first.epoch
            try await store.project(current)
            #expect(try await store.projectionOffset(shard: Self.shard) == 5)

            let second = try await store.acquireLease(
                shard: Self.shard, owner: "node-b", ttlMillis: 1_000, nowMillis: 5_000)
            #expect(second.epoch > first.epoch)
            var stale = ReadModelSamples.batch(shard: Self.shard, sequence: 9, user: 42, orders: 5)
            stale.epochs[Self.shard] = first.epoch
            // Another shard with a current lease in the same batch does not let it through.
            let other = try await store.acquireLease(
                shard: "accounts/0004", owner: "node-a", ttlMillis: 1_000, nowMillis: 5_000)
            stale.offsets["accounts/0004"] = 3
            stale.epochs["accounts/0004"] = other.epoch
            let error = await #expect(throws: StorageError.self) { try await store.project(stale) }
            #expect(error?.code == .staleEpoch)
            #expect(try await store.projectionOffset(shard: Self.shard) == 5)
            #expect(try await store.projectionOffset(shard: "accounts/0004") == 0)
            #expect(try await store.orders(user: 42, limit: 10).count == 3)

            stale.epochs[Self.shard] = second.epoch
            try await store.project(stale)
            #expect(try await store.projectionOffset(shard: Self.shard) == 9)
            #expect(try await store.orders(user: 42, limit: 10).count == 5)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func projectingAgainIsIdempotentAndUpsertsReplace(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let batch = ReadModelSamples.batch(shard: Self.shard, sequence: 3, user: 9)
            try await store.project(batch)
            try await store.project(batch)
            #expect(try await store.orders(user: 9, limit: 100).count == batch.orders.count)
            #expect(try await store.transactions(user: 9, limit: 100).count == batch.transactions.count)
            #expect(try await store.trades(user: 9, limit: 100).count == batch.trades.count)

            // Upserts replace the whole row; history rows are written once (a second version is ignored).
            var later = ProjectionBatch(shard: Self.shard, sequence: 4)
            var order = batch.orders[0]
            order.status = "filled"
            order.filledQuantity = order.quantity
            order.rejectReason = nil
            order.price = nil
            later.orders = [order]
            var wallet = batch.wallets[0]
            wallet.available = Amount(units: 1)
            later.wallets = [wallet]
            var entry = batch.transactions[0]
            entry.amount = Amount(units: -1)
            later.transactions = [entry]
            try await store.project(later)
            #expect(try await store.order(id: order.orderID) == order)
            #expect(try await store.wallets(user: 9).contains(wallet))
            #expect(try await store.transactions(user: 9, limit: 100).last == batch.transactions[0])
            #expect(try await store.projectionOffset(shard: Self.shard) == 4)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func offsetsOnlyIncrease(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.project(ProjectionBatch(offsets: ["accounts/0001": 10, "accounts/0002": 5]))
            try await store.project(ProjectionBatch(offsets: ["accounts/0001": 4, "accounts/0002": 6]))
            #expect(try await store.projectionOffset(shard: "accounts/0001") == 10)
            #expect(try await store.projectionOffset(shard: "accounts/0002") == 6)
            #expect(try await store.projectionOffset(shard: "accounts/0003") == 0)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func duplicateKeysInOneBatchKeepTheLastUpsert(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let first = ReadModelSamples.batch(shard: Self.shard, sequence: 1, user: 5)
            var second = ReadModelSamples.batch(shard: Self.shard, sequence: 2, user: 5)
            for index in second.orders.indices { second.orders[index].status = "cancelled" }
            for index in second.wallets.indices { second.wallets[index].locked = .zero }
            var both = first
            both.append(second)
            try await store.project(both)
            #expect(try await store.orders(user: 5, limit: 100).allSatisfy { $0.status == "cancelled" })
            #expect(try await store.wallets(user: 5).allSatisfy { $0.locked == .zero })
            #expect(try await store.transactions(user: 5, limit: 100).count == first.transactions.count)
            #expect(try await store.projectionOffset(shard: Self.shard) == 2)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func largeBatchesOfManyShardsCommitWhole(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            var batch = ProjectionBatch()
            for user in UserID(1)...40 {
                batch.append(
                    ReadModelSamples.batch(
                        shard: "accounts/\(user)", sequence: Int64(user), user: user, orders: 60, entries: 80))
            }
            try await store.project(batch)
            #expect(try await store.orders(user: 40, limit: 1_000).count == 60)
            #expect(try await store.transactions(user: 17, limit: 1_000).count == 80)
            #expect(try await store.projectionOffset(shard: "accounts/33") == 33)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func migratingAgainChangesNothing(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.project(ReadModelSamples.batch(shard: Self.shard, sequence: 1, user: 1))
            try await store.migrate()
            #expect(try await store.projectionOffset(shard: Self.shard) == 1)
            #expect(try await store.orders(user: 1, limit: 10).count == 3)
        }
    }
}
