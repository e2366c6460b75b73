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

    /// The reads behind lists longer than a user's history in memory: by symbol, closed only, and the fills of
    /// many orders at once.
    @Test(arguments: StoreKind.allCases)
    func filteredListsAndTheFillsOfManyOrders(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            var batch = ReadModelSamples.batch(shard: Self.shard, sequence: 3, user: 42, orders: 9)
            let statuses = ["filled", "new", "cancelled", "partially_filled", "rejected", "pending_trigger"]
            for index in batch.orders.indices {
                batch.orders[index].symbol = index % 2 == 0 ? "ETH-USD" : "BTC-USD"
                batch.orders[index].status = statuses[index % statuses.count]
            }
            // Two fills for each of the first six orders, on the order's market, times apart.
            batch.trades = (0..<12).map { number in
                let order = batch.orders[number / 2]
                return TradeRow(
                    symbol: order.symbol, tradeID: UInt64(100 + number), orderID: order.orderID, userID: 42,
                    side: order.side, price: Price(ticks: 5_000_000), quantity: Quantity(lots: 10 + Int64(number)),
                    fee: .zero, feeCurrency: "USD", liquidity: number % 2 == 0 ? "maker" : "taker",
                    timestampMillis: 1_714_564_900_000 + Int64(number))
            }
            try await store.project(batch)
            var other = ReadModelSamples.batch(shard: "accounts/0009", sequence: 1, user: 43)
            other.orders[0].symbol = "ETH-USD"
            try await store.project(other)

            let newestFirst = batch.orders.sorted { $0.orderID > $1.orderID }
            let open: Set = ["new", "partially_filled", "pending_trigger"]
            #expect(
                try await store.orders(user: 42, symbol: "ETH-USD", closedOnly: false, limit: 100)
                    == newestFirst.filter { $0.symbol == "ETH-USD" })
            #expect(
                try await store.orders(user: 42, symbol: nil, closedOnly: true, limit: 100)
                    == newestFirst.filter { !open.contains($0.status) })
            let closedETH = newestFirst.filter { $0.symbol == "ETH-USD" && !open.contains($0.status) }
            #expect(closedETH.count >= 2)
            #expect(try await store.orders(user: 42, symbol: "ETH-USD", closedOnly: true, limit: 100) == closedETH)
            #expect(
                try await store.orders(user: 42, symbol: "ETH-USD", closedOnly: true, limit: 1) == [closedETH[0]])
            #expect(try await store.orders(user: 42, symbol: "SOL-USD", closedOnly: false, limit: 100).isEmpty)

            let tradesNewestFirst = Array(batch.trades.reversed())
            #expect(
                try await store.trades(user: 42, symbol: "BTC-USD", limit: 100)
                    == tradesNewestFirst.filter { $0.symbol == "BTC-USD" })
            #expect(
                try await store.trades(user: 42, symbol: "ETH-USD", limit: 3)
                    == Array(tradesNewestFirst.filter { $0.symbol == "ETH-USD" }.prefix(3)))
            #expect(try await store.trades(user: 43, symbol: "ETH-USD", limit: 100).isEmpty)

            // The fills of several orders: by order, then by trade id; none of another user's; none for none.
            let chosen = [batch.orders[4].orderID, batch.orders[1].orderID, batch.orders[8].orderID]
            #expect(
                try await store.trades(user: 42, orders: chosen)
                    == batch.trades.filter { chosen.contains($0.orderID) }.sorted {
                        ($0.orderID, $0.tradeID) < ($1.orderID, $1.tradeID)
                    })
            #expect(try await store.trades(user: 43, orders: chosen).isEmpty)
            #expect(try await store.trades(user: 42, orders: []).isEmpty)
            // More orders than SQLite takes parameters in one statement.
            let many = (0..<1_200).map { OrderID(42) << 20 | OrderID($0) }
            #expect(try await store.trades(user: 42, orders: many).count == 12)
        }
    }
}
