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
        let orders = batch.orders
        binds.append(orders.map { $0.orderID.storedBits })
        binds.append(orders.map { $0.userID.storedBits })
        binds.appendOptional(orders.map(\.clientOrderID), absent: "")
        binds.append(orders.map(\.symbol))
        binds.append(orders.map(\.side))
        binds.append(orders.map(\.type))
        binds.appendOptional(orders.map { $0.price?.ticks }, absent: 0)
        binds.appendOptional(orders.map { $0.stopPrice?.ticks }, absent: 0)
        binds.append(orders.map(\.quantity.lots))
        binds.append(orders.map(\.filledQuantity.lots))
        binds.append(orders.map(\.filledNotional.units))
        binds.append(orders.map(\.status))
        binds.append(orders.map(\.timeInForce))
        binds.append(orders.map(\.postOnly))
        binds.appendOptional(orders.map(\.rejectReason), absent: "")
        binds.append(orders.map(\.createdAtMillis))
        binds.append(orders.map(\.updatedAtMillis))

        let trades = batch.trades
        binds.append(trades.map(\.symbol))
        binds.append(trades.map { $0.tradeID.storedBits })
        binds.append(trades.map { $0.orderID.storedBits })
        binds.append(trades.map { $0.userID.storedBits })
        binds.append(trades.map(\.side))
        binds.append(trades.map(\.price.ticks))
        binds.append(trades.map(\.quantity.lots))
        binds.append(trades.map(\.fee.units))
        binds.append(trades.map(\.feeCurrency))
        binds.append(trades.map(\.liquidity))
        binds.append(trades.map(\.timestampMillis))

        let transactions = batch.transactions
        binds.append(transactions.map { $0.userID.storedBits })
        binds.append(transactions.map { $0.entryID.storedBits })
        binds.append(transactions.map(\.type))
        binds.append(transactions.map(\.currency))
        binds.append(transactions.map(\.amount.units))
        binds.append(transactions.map(\.availableAfter.units))
        binds.append(transactions.map(\.lockedAfter.units))
        binds.append(transactions.map(\.referenceID))
        binds.append(transactions.map(\.timestampMillis))

        let wallets = batch.wallets
        binds.append(wallets.map { $0.userID.storedBits })
        binds.append(wallets.map(\.currency))
        binds.append(wallets.map(\.available.units))
        binds.append(wallets.map(\.locked.units))

        let holdings = batch.holdings
        binds.append(holdings.map { $0.userID.storedBits })
        binds.append(holdings.map(\.symbol))
        binds.append(holdings.map(\.base))
        binds.append(holdings.map(\.quote))
        binds.append(holdings.map(\.quantity.units))
        binds.append(holdings.map(\.costBasis.units))
        binds.append(holdings.map(\.realizedPnL.units))
        binds.append(holdings.map(\.feesPaid.units))

        let offsets = batch.offsets.sorted { $0.key < $1.key }
        binds.append(offsets.map(\.key))
        binds.append(offsets.map(\.value))

        let epochs = batch.epochs.sorted { $0.key < $1.key }
        binds.append(epochs.map(\.key))
        binds.append(epochs.map(\.value))
        return binds
    }

    /// Runs one of the projection statements: whether the fence held (every epoch of the batch current).
    private func fenced<Statement: PostgresPreparedStatement>(_ statement: Statement) async throws -> Bool
    where Statement.Row == Bool {
        var written = false
        for try await ok in try await client.execute(statement, logger: Self.quiet) { written = ok }
        return written
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

    public func orders(user: UserID, limit: Int) async throws -> [OrderRow] {
        guard limit > 0 else { return [] }
        return try await readRows("orders read", PostgresProjection.ordersByUser, user.storedBits, limit) {
            try PostgresProjection.orderRow($0)
        }
    }

    public func order(id: OrderID) async throws -> OrderRow? {
        try await readRows("orders read", PostgresProjection.orderByID, id.storedBits, nil) {
            try PostgresProjection.orderRow($0)
        }.first
    }

    public func trades(user: UserID, limit: Int) async throws -> [TradeRow] {
        guard limit > 0 else { return [] }
        return try await readRows("trade history read", PostgresProjection.tradesByUser, user.storedBits, limit) {
            row in
            TradeRow(
                symbol: try row.value("symbol"), tradeID: UInt64(storedBits: try row.value("trade_id")),
                orderID: UInt64(storedBits: try row.value("order_id")),
                userID: UInt64(storedBits: try row.value("user_id")), side: try row.value("side"),
                price: Price(ticks: try row.value("price_ticks")),
                quantity: Quantity(lots: try row.value("quantity_lots")),
                fee: Amount(units: try row.value("fee")), feeCurrency: try row.value("fee_currency"),
                liquidity: try row.value("liquidity"), timestampMillis: try row.value("ts_ms"))
        }
    }

    public func transactions(user: UserID, limit: Int) async throws -> [TransactionRow] {
        guard limit > 0 else { return [] }
        return try await readRows(
            "transactions read", PostgresProjection.transactionsByUser, user.storedBits, limit
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
    private func readRows<Row>(
        _ what: String, _ sql: String, _ key: Int64, _ limit: Int?, _ map: (PostgresRandomAccessRow) throws -> Row
    ) async throws -> [Row] {
        var binds = PostgresBindings(capacity: 2)
        binds.append(key)
        if let limit { binds.append(Int64(clamping: limit)) }
        return try await attempt(what) {
            let rows = try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: Self.quiet)
            var result: [Row] = []
            for try await row in rows {
                result.append(try map(row.makeRandomAccess()))
            }
            return result
        }
    }
}

extension PostgresBindings {
    /// Binds a nullable column as two arrays: the values (`absent` where `nil`) and `boolean[]` presence flags.
    mutating func appendOptional<Value: PostgresArrayEncodable & PostgresNonThrowingEncodable>(
        _ values: [Value?], absent: Value
    ) {
        append(values.map { $0 ?? absent })
        append(values.map { $0 != nil })
    }
}

extension PostgresRandomAccessRow {
    /// The value of `column`, decoded as `Value` (an optional type for a nullable column).
    func value<Value: PostgresDecodable>(_ column: String, as type: Value.Type = Value.self) throws -> Value {
        try self[column].decode(Value.self)
    }
}

/// The read models' batch write as a prepared statement (see `JournalAppendStatement`): its six CTEs are
/// planned once per connection. This one skips history rows already written.
struct ProjectionStatement: PostgresPreparedStatement {
    static let name = "bourse_projection_v1"
    static var sql: String { PostgresProjection.sql }
    typealias Row = Bool

    var bindings: PostgresBindings

    func makeBindings() -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Bool.self) }
}

/// `ProjectionStatement` with plain inserts of history rows (`PostgresProjection.insertSQL`), tried first.
struct ProjectionInsertStatement: PostgresPreparedStatement {
    static let name = "bourse_projection_insert_v1"
    static var sql: String { PostgresProjection.insertSQL }
    typealias Row = Bool

    var bindings: PostgresBindings

    func makeBindings() -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Bool.self) }
}
