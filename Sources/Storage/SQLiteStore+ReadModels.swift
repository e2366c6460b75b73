import SQLiteNIO
import Trading

/// The read models on SQLite: one write transaction per batch, multi-row `INSERT … ON CONFLICT`
/// statements of a few hundred rows each.
extension SQLiteStore {
    /// Bound parameters per multi-row statement (SQLite allows 32 766).
    static let projectionParametersPerStatement = 8_000

    public func project(_ batch: ProjectionBatch) async throws {
        let batch = batch.coalesced()
        guard !batch.isEmpty else { return }
        try await write("projection") { db in
            // Written only while every shard of the batch still has the epoch its rows were made under.
            for (shard, epoch) in batch.epochs.sorted(by: { $0.key < $1.key }) {
                let lease = try await db.query(
                    "SELECT 1 FROM shard_leases WHERE shard = ? AND epoch = ?", [.text(shard), .int64(epoch)])
                guard !lease.isEmpty else { throw StorageError.staleEpoch(shard) }
            }
            try await Self.insert(db, ReadModelTables.orders, batch.orders) { row in
                [
                    .int64(row.orderID.storedBits), .int64(row.userID.storedBits), Self.text(row.clientOrderID),
                    .text(row.symbol), .text(row.side), .text(row.type), Self.integer(row.price?.ticks),
                    Self.integer(row.stopPrice?.ticks), .int64(row.quantity.lots), .int64(row.filledQuantity.lots),
                    .int64(row.filledNotional.units), .text(row.status), .text(row.timeInForce),
                    .integer(row.postOnly ? 1 : 0), Self.text(row.rejectReason), .int64(row.createdAtMillis),
                    .int64(row.updatedAtMillis),
                ]
            }
            try await Self.insert(db, ReadModelTables.trades, batch.trades) { row in
                [
                    .text(row.symbol), .int64(row.tradeID.storedBits), .int64(row.orderID.storedBits),
                    .int64(row.userID.storedBits), .text(row.side), .int64(row.price.ticks),
                    .int64(row.quantity.lots), .int64(row.fee.units), .text(row.feeCurrency), .text(row.liquidity),
                    .int64(row.timestampMillis),
                ]
            }
            try await Self.insert(db, ReadModelTables.transactions, batch.transactions) { row in
                [
                    .int64(row.userID.storedBits), .int64(row.entryID.storedBits), .text(row.type),
                    .text(row.currency), .int64(row.amount.units), .int64(row.availableAfter.units),
                    .int64(row.lockedAfter.units), .text(row.referenceID), .int64(row.timestampMillis),
                ]
            }
            try await Self.insert(db, ReadModelTables.wallets, batch.wallets) { row in
                [
                    .int64(row.userID.storedBits), .text(row.currency), .int64(row.available.units),
                    .int64(row.locked.units),
                ]
            }
            try await Self.insert(db, ReadModelTables.holdings, batch.holdings) { row in
                [
                    .int64(row.userID.storedBits), .text(row.symbol), .text(row.base), .text(row.quote),
                    .int64(row.quantity.units), .int64(row.costBasis.units), .int64(row.realizedPnL.units),
                    .int64(row.feesPaid.units),
                ]
            }
            let offsets = batch.offsets.sorted { $0.key < $1.key }
            try await Self.insert(db, ReadModelTables.offsets, offsets) { [.text($0.key), .int64($0.value)] }
        }
    }

    public func projectionOffset(shard: String) async throws -> Int64 {
        let rows = try await read(
            "projection offset read", "SELECT seq FROM projection_offsets WHERE shard = ?", [.text(shard)])
        return try rows.first?.int64("seq") ?? 0
    }

    public func orders(user: UserID, symbol: String?, closedOnly: Bool, limit: Int) async throws -> [OrderRow] {
        guard limit > 0 else { return [] }
        let sql = ReadModelTables.ordersByUser(bySymbol: symbol != nil, closedOnly: closedOnly) { _ in "?" }
        return try await read("orders read", sql, Self.listBinds(user, symbol, limit)).map(Self.orderRow)
    }

    public func order(id: OrderID) async throws -> OrderRow? {
        let rows = try await read(
            "orders read", "SELECT \(ReadModelTables.orders.columnList) FROM orders WHERE order_id = ?",
            [.int64(id.storedBits)])
        return try rows.first.map(Self.orderRow)
    }

    public func trades(user: UserID, symbol: String?, limit: Int) async throws -> [TradeRow] {
        guard limit > 0 else { return [] }
        let sql = ReadModelTables.tradesByUser(bySymbol: symbol != nil) { _ in "?" }
        return try await read("trade history read", sql, Self.listBinds(user, symbol, limit)).map(Self.tradeRow)
    }

    /// The parameters of a list read: the user, the symbol if any, the limit.
    private static func listBinds(_ user: UserID, _ symbol: String?, _ limit: Int) -> [SQLiteData] {
        [.int64(user.storedBits)] + (symbol.map { [.text($0)] } ?? []) + [.int64(Int64(clamping: limit))]
    }

    public func trades(user: UserID, orders: [OrderID]) async throws -> [TradeRow] {
        var result: [TradeRow] = []
        // In parts: SQLite limits the number of parameters of a statement.
        for start in stride(from: 0, to: orders.count, by: 500) {
            let part = orders[start..<min(start + 500, orders.count)]
            let rows = try await read(
                "trade history read",
                """
                SELECT \(ReadModelTables.trades.columnList) FROM trade_history
                WHERE user_id = ? AND order_id IN (\(Array(repeating: "?", count: part.count).joined(separator: ", ")))
                ORDER BY order_id, trade_id
                """, [.int64(user.storedBits)] + part.map { .int64($0.storedBits) })
            result += try rows.map(Self.tradeRow)
        }
        return result
    }

    private static func tradeRow(_ row: SQLiteRow) throws -> TradeRow {
        TradeRow(
            symbol: try row.text("symbol"), tradeID: UInt64(storedBits: try row.int64("trade_id")),
            orderID: UInt64(storedBits: try row.int64("order_id")),
            userID: UInt64(storedBits: try row.int64("user_id")), side: try row.text("side"),
            price: Price(ticks: try row.int64("price_ticks")),
            quantity: Quantity(lots: try row.int64("quantity_lots")),
            fee: Amount(units: try row.int64("fee")), feeCurrency: try row.text("fee_currency"),
            liquidity: try row.text("liquidity"), timestampMillis: try row.int64("ts_ms"))
    }

    public func transactions(user: UserID, limit: Int) async throws -> [TransactionRow] {
        guard limit > 0 else { return [] }
        let rows = try await read(
            "transactions read",
            """
            SELECT \(ReadModelTables.transactions.columnList) FROM transactions WHERE user_id = ?
            ORDER BY entry_id DESC LIMIT ?
            """, [.int64(user.storedBits), .int64(Int64(clamping: limit))])
        return try rows.map { row in
            TransactionRow(
                userID: UInt64(storedBits: try row.int64("user_id")),
                entryID: UInt64(storedBits: try row.int64("entry_id")), type: try row.text("type"),
                currency: try row.text("currency"), amount: Amount(units: try row.int64("amount")),
                availableAfter: Amount(units: try row.int64("available_after")),
                lockedAfter: Amount(units: try row.int64("locked_after")), referenceID: try row.text("reference_id"),
                timestampMillis: try row.int64("ts_ms"))
        }
    }

    public func wallets(user: UserID) async throws -> [WalletRow] {
        let rows = try await read(
            "wallets read",
            "SELECT \(ReadModelTables.wallets.columnList) FROM wallets WHERE user_id = ? ORDER BY currency",
            [.int64(user.storedBits)])
        return try rows.map { row in
            WalletRow(
                userID: UInt64(storedBits: try row.int64("user_id")), currency: try row.text("currency"),
                available: Amount(units: try row.int64("available")), locked: Amount(units: try row.int64("locked")))
        }
    }

    public func holdings(user: UserID) async throws -> [HoldingRow] {
        let rows = try await read(
            "holdings read",
            "SELECT \(ReadModelTables.holdings.columnList) FROM portfolio_holdings WHERE user_id = ? ORDER BY symbol",
            [.int64(user.storedBits)])
        return try rows.map { row in
            HoldingRow(
                userID: UInt64(storedBits: try row.int64("user_id")), symbol: try row.text("symbol"),
                base: try row.text("base"), quote: try row.text("quote"),
                quantity: Amount(units: try row.int64("quantity")),
                costBasis: Amount(units: try row.int64("cost_basis")),
                realizedPnL: Amount(units: try row.int64("realized_pnl")),
                feesPaid: Amount(units: try row.int64("fees_paid")))
        }
    }

    // MARK: - Helpers

    /// Writes `rows` into `table` with its conflict rule, as few multi-row statements as the parameter limit
    /// allows.
    private static func insert<Row>(
        _ db: SQLiteConnection, _ table: ReadModelTables.Table, _ rows: [Row], binds: (Row) -> [SQLiteData]
    ) async throws {
        guard !rows.isEmpty else { return }
        let rowMarks = "(" + Array(repeating: "?", count: table.columns.count).joined(separator: ", ") + ")"
        let perStatement = max(1, projectionParametersPerStatement / table.columns.count)
        for chunk in rows.chunked(by: perStatement) {
            let marks = Array(repeating: rowMarks, count: chunk.count).joined(separator: ", ")
            let sql = "INSERT INTO \(table.name) (\(table.columnList)) VALUES \(marks) \(table.onConflict(max: "max"))"
            _ = try await db.query(sql, chunk.flatMap(binds))
        }
    }

    private static func orderRow(_ row: SQLiteRow) throws -> OrderRow {
        OrderRow(
            orderID: UInt64(storedBits: try row.int64("order_id")),
            userID: UInt64(storedBits: try row.int64("user_id")),
            clientOrderID: try row.optionalText("client_order_id"), symbol: try row.text("symbol"),
            side: try row.text("side"), type: try row.text("type"),
            price: try row.optionalInt64("price_ticks").map(Price.init(ticks:)),
            stopPrice: try row.optionalInt64("stop_price_ticks").map(Price.init(ticks:)),
            quantity: Quantity(lots: try row.int64("quantity_lots")),
            filledQuantity: Quantity(lots: try row.int64("filled_lots")),
            filledNotional: Amount(units: try row.int64("filled_notional")), status: try row.text("status"),
            timeInForce: try row.text("time_in_force"), postOnly: try row.int64("post_only") != 0,
            rejectReason: try row.optionalText("reject_reason"), createdAtMillis: try row.int64("created_at_ms"),
            updatedAtMillis: try row.int64("updated_at_ms"))
    }

    private static func text(_ value: String?) -> SQLiteData { value.map { .text($0) } ?? .null }

    private static func integer(_ value: Int64?) -> SQLiteData { value.map { .int64($0) } ?? .null }
}

extension SQLiteRow {
    /// The integer in `column`, `nil` for NULL, or `StorageError.corrupt`.
    func optionalInt64(_ column: String) throws -> Int64? {
        if case .null? = self.column(column) { return nil }
        return try int64(column)
    }

    /// The text in `column`, `nil` for NULL, or `StorageError.corrupt`.
    func optionalText(_ column: String) throws -> String? {
        if case .null? = self.column(column) { return nil }
        return try text(column)
    }
}
