import PostgresNIO
import Trading

/// The read models on PostgreSQL: a whole batch is one statement, hence one round trip and one transaction —
/// a data-modifying CTE per table, each an `INSERT … SELECT FROM unnest(arrays) ON CONFLICT …`.
///
/// postgres-nio cannot bind an array with NULL elements, so a nullable column travels as a value array plus
/// a `boolean[]` of presence flags.
extension PostgresStore {
    public func project(_ batch: ProjectionBatch) async throws {
        let batch = batch.coalesced()
        guard !batch.isEmpty else { return }
        let binds = Self.projectionBindings(batch)
        let written = try await attempt("projection") {
            do {
                return try await fenced(ProjectionInsertStatement(bindings: binds))
            } catch let error where Self.sqlState(of: error) == "23505" {
                // The batch repeats trade or transaction rows already written (a shard projecting its users
                // again, a write retried after an ambiguous failure): the statement that skips them.
                return try await fenced(ProjectionStatement(bindings: binds))
            }
        }
        guard written else {
            throw StorageError.staleEpoch(batch.epochs.keys.sorted().joined(separator: ","))
        }
    }

    /// The parameters of both projection statements for a coalesced batch, in `PostgresProjection`'s order.
    static func projectionBindings(_ batch: ProjectionBatch) -> PostgresBindings {
        var binds = PostgresBindings(capacity: PostgresProjection.parameterCount)
        // Each table's columns in its layout's order, a nullable column followed by its presence flags (the
        // element types come from that layout; a value of another type stops at the column's precondition).
        var orders = PostgresArrayColumns(
            rows: batch.orders.count, elements: PostgresProjection.parameterElements(of: ReadModelTables.orders))
        for order in batch.orders {
            orders.add(order.orderID.storedBits)
            orders.add(order.userID.storedBits)
            orders.add(order.clientOrderID ?? "")
            orders.add(order.clientOrderID != nil)
            orders.add(order.symbol)
            orders.add(order.side)
            orders.add(order.type)
            orders.add(order.price?.ticks ?? 0)
            orders.add(order.price != nil)
            orders.add(order.stopPrice?.ticks ?? 0)
            orders.add(order.stopPrice != nil)
            orders.add(order.quantity.lots)
            orders.add(order.filledQuantity.lots)
            orders.add(order.filledNotional.units)
            orders.add(order.status)
            orders.add(order.timeInForce)
            orders.add(order.postOnly)
            orders.add(order.rejectReason ?? "")
            orders.add(order.rejectReason != nil)
            orders.add(order.createdAtMillis)
            orders.add(order.updatedAtMillis)
        }
        orders.bind(into: &binds)

        var trades = PostgresArrayColumns(
            rows: batch.trades.count, elements: PostgresProjection.parameterElements(of: ReadModelTables.trades))
        for trade in batch.trades {
            trades.add(trade.symbol)
            trades.add(trade.tradeID.storedBits)
            trades.add(trade.orderID.storedBits)
            trades.add(trade.userID.storedBits)
            trades.add(trade.side)
            trades.add(trade.price.ticks)
            trades.add(trade.quantity.lots)
            trades.add(trade.fee.units)
            trades.add(trade.feeCurrency)
            trades.add(trade.liquidity)
            trades.add(trade.timestampMillis)
        }
        trades.bind(into: &binds)

        var transactions = PostgresArrayColumns(
            rows: batch.transactions.count,
            elements: PostgresProjection.parameterElements(of: ReadModelTables.transactions))
        for entry in batch.transactions {
            transactions.add(entry.userID.storedBits)
            transactions.add(entry.entryID.storedBits)
            transactions.add(entry.type)
            transactions.add(entry.currency)
            transactions.add(entry.amount.units)
            transactions.add(entry.availableAfter.units)
            transactions.add(entry.lockedAfter.units)
            transactions.add(entry.referenceID)
            transactions.add(entry.timestampMillis)
        }
        transactions.bind(into: &binds)

        var wallets = PostgresArrayColumns(
            rows: batch.wallets.count, elements: PostgresProjection.parameterElements(of: ReadModelTables.wallets))
        for wallet in batch.wallets {
            wallets.add(wallet.userID.storedBits)
            wallets.add(wallet.currency)
            wallets.add(wallet.available.units)
            wallets.add(wallet.locked.units)
        }
        wallets.bind(into: &binds)

        var holdings = PostgresArrayColumns(
            rows: batch.holdings.count, elements: PostgresProjection.parameterElements(of: ReadModelTables.holdings))
        for holding in batch.holdings {
            holdings.add(holding.userID.storedBits)
            holdings.add(holding.symbol)
            holdings.add(holding.base)
            holdings.add(holding.quote)
            holdings.add(holding.quantity.units)
            holdings.add(holding.costBasis.units)
            holdings.add(holding.realizedPnL.units)
            holdings.add(holding.feesPaid.units)
        }
        holdings.bind(into: &binds)

        // The offsets, then the fence's shards and epochs.
        for pairs in [batch.offsets, batch.epochs] {
            var columns = PostgresArrayColumns(rows: pairs.count, elements: [.text, .int8])
            for (shard, value) in pairs.sorted(by: { $0.key < $1.key }) {
                columns.add(shard)
                columns.add(value)
            }
            columns.bind(into: &binds)
        }
        return binds
    }

    /// Runs one of the projection statements: whether the fence held (every epoch of the batch current).
    /// The batch counts as written once its commit is confirmed (`confirmCommitted`): a batch believed written
    /// would never be written again.
    /// Waits at most `connectionWait` for a connection and `statementWait` for the statement, as journal batches
    /// do: a projection statement sent as the server died that never answered stopped the read models for good.
    private func fenced<Statement: ProjectionWrite>(_ statement: Statement) async throws -> Bool {
        try await leased(from: client, within: Self.connectionWait) { connection in
            var written = false
            for try await ok in try await connection.execute(statement, logger: Self.quiet) { written = ok }
            try await Self.confirmCommitted(on: connection)
            return written
        }
    }

    public func projectionOffset(shard: String) async throws -> Int64 {
        try await attempt("projection offset read") {
            let rows = try await client.query(
                "SELECT seq FROM projection_offsets WHERE shard = \(shard)", logger: Self.quiet)
            for try await sequence in rows.decode(Int64.self) {
                return sequence
            }
            return 0
        }
    }

    public func orders(user: UserID, symbol: String?, closedOnly: Bool, limit: Int) async throws -> [OrderRow] {
        guard limit > 0 else { return [] }
        let sql = ReadModelTables.ordersByUser(bySymbol: symbol != nil, closedOnly: closedOnly) { "$\($0)" }
        return try await readRows("orders read", sql, Self.listBinds(user, symbol, limit)) {
            try PostgresProjection.orderRow($0)
        }
    }

    public func order(id: OrderID) async throws -> OrderRow? {
        try await readRows("orders read", PostgresProjection.orderByID, id.storedBits, nil) {
            try PostgresProjection.orderRow($0)
        }.first
    }

    public func trades(user: UserID, symbol: String?, limit: Int) async throws -> [TradeRow] {
        guard limit > 0 else { return [] }
        let sql = ReadModelTables.tradesByUser(bySymbol: symbol != nil) { "$\($0)" }
        return try await readRows("trade history read", sql, Self.listBinds(user, symbol, limit), Self.tradeRow)
    }

    /// The parameters of a list read: the user, the symbol if any, the limit.
    private static func listBinds(_ user: UserID, _ symbol: String?, _ limit: Int) -> PostgresBindings {
        var binds = PostgresBindings(capacity: 3)
        binds.append(user.storedBits)
        if let symbol { binds.append(symbol) }
        binds.append(Int64(clamping: limit))
        return binds
    }

    public func trades(user: UserID, orders: [OrderID]) async throws -> [TradeRow] {
        guard !orders.isEmpty else { return [] }
        var binds = PostgresBindings(capacity: 2)
        binds.append(orders.map(\.storedBits))
        binds.append(user.storedBits)
        return try await readRows("trade history read", PostgresProjection.tradesByOrders, binds, Self.tradeRow)
    }

    private static func tradeRow(_ row: PostgresRandomAccessRow) throws -> TradeRow {
        TradeRow(
            symbol: try row.value("symbol"), tradeID: UInt64(storedBits: try row.value("trade_id")),
            orderID: UInt64(storedBits: try row.value("order_id")),
            userID: UInt64(storedBits: try row.value("user_id")), side: try row.value("side"),
            price: Price(ticks: try row.value("price_ticks")),
            quantity: Quantity(lots: try row.value("quantity_lots")),
            fee: Amount(units: try row.value("fee")), feeCurrency: try row.value("fee_currency"),
            liquidity: try row.value("liquidity"), timestampMillis: try row.value("ts_ms"))
    }

    public func transactions(user: UserID, limit: Int) async throws -> [TransactionRow] {
        guard limit > 0 else { return [] }
        return try await readRows(
            "transactions read", PostgresProjection.transactionsByUser, user.storedBits, Int64(clamping: limit)
        ) { row in
            TransactionRow(
                userID: UInt64(storedBits: try row.value("user_id")),
                entryID: UInt64(storedBits: try row.value("entry_id")), type: try row.value("type"),
                currency: try row.value("currency"), amount: Amount(units: try row.value("amount")),
                availableAfter: Amount(units: try row.value("available_after")),
                lockedAfter: Amount(units: try row.value("locked_after")), referenceID: try row.value("reference_id"),
                timestampMillis: try row.value("ts_ms"))
        }
    }

    public func wallets(user: UserID) async throws -> [WalletRow] {
        try await readRows("wallets read", PostgresProjection.walletsByUser, user.storedBits, nil) { row in
            WalletRow(
                userID: UInt64(storedBits: try row.value("user_id")), currency: try row.value("currency"),
                available: Amount(units: try row.value("available")), locked: Amount(units: try row.value("locked")))
        }
    }

    public func holdings(user: UserID) async throws -> [HoldingRow] {
        try await readRows("holdings read", PostgresProjection.holdingsByUser, user.storedBits, nil) { row in
            HoldingRow(
                userID: UInt64(storedBits: try row.value("user_id")), symbol: try row.value("symbol"),
                base: try row.value("base"), quote: try row.value("quote"),
                quantity: Amount(units: try row.value("quantity")),
                costBasis: Amount(units: try row.value("cost_basis")),
                realizedPnL: Amount(units: try row.value("realized_pnl")),
                feesPaid: Amount(units: try row.value("fees_paid")))
        }
    }

    /// Runs a read with `$1` = `key` and, when given, `$2` = `limit`, mapping each row.
    /// Runs a read keyed by one or two values (a key and a limit, or two keys) and maps its rows.
    private func readRows<Row>(
        _ what: String, _ sql: String, _ key: Int64, _ second: Int64?, _ map: (PostgresRandomAccessRow) throws -> Row
    ) async throws -> [Row] {
        var binds = PostgresBindings(capacity: 2)
        binds.append(key)
        if let second { binds.append(second) }
        return try await readRows(what, sql, binds, map)
    }

    private func readRows<Row>(
        _ what: String, _ sql: String, _ binds: PostgresBindings, _ map: (PostgresRandomAccessRow) throws -> Row
    ) async throws -> [Row] {
        try await attempt(what) {
            let rows = try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: Self.quiet)
            var result: [Row] = []
            for try await row in rows {
                result.append(try map(row.makeRandomAccess()))
            }
            return result
        }
    }
}

extension PostgresRandomAccessRow {
    /// The value of `column`, decoded as `Value` (an optional type for a nullable column).
    func value<Value: PostgresDecodable>(_ column: String, as type: Value.Type = Value.self) throws -> Value {
        try self[column].decode(Value.self)
    }
}

/// The read models' batch write as a prepared statement (see `JournalAppendStatement`): its six CTEs are
/// planned once per connection. Its one row says whether the fence held.
protocol ProjectionWrite: PostgresPreparedStatement where Row == Bool {
    var bindings: PostgresBindings { get }
}

extension ProjectionWrite {
    func makeBindings() -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> Bool { try row.decode(Bool.self) }
}

/// The write that skips history rows already written (`PostgresProjection.sql`).
struct ProjectionStatement: ProjectionWrite {
    static let name = "bourse_projection_v1"
    static var sql: String { PostgresProjection.sql }
    typealias Row = Bool
    var bindings: PostgresBindings
}

/// The write with plain inserts of history rows (`PostgresProjection.insertSQL`), tried first.
struct ProjectionInsertStatement: ProjectionWrite {
    static let name = "bourse_projection_insert_v1"
    static var sql: String { PostgresProjection.insertSQL }
    typealias Row = Bool
    var bindings: PostgresBindings
}
