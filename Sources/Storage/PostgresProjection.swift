import PostgresNIO
import Trading

/// The SQL of the PostgreSQL read models, generated once from `ReadModelTables` so that the statement's
/// parameters follow the bind order of `PostgresStore.project` (columns in table order, a nullable column
/// followed by its presence flags).
enum PostgresProjection {
    /// A table's column types (`bigint`, `text`, `boolean`) in column order, and its nullable columns.
    private struct Layout {
        var table: ReadModelTables.Table
        var types: [String]
        var nullable: Set<String> = []
    }

    private static let layouts: [Layout] = [
        Layout(
            table: ReadModelTables.orders,
            types: [
                "bigint", "bigint", "text", "text", "text", "text", "bigint", "bigint", "bigint", "bigint", "bigint",
                "text", "text", "boolean", "text", "bigint", "bigint",
            ],
            nullable: ["client_order_id", "price_ticks", "stop_price_ticks", "reject_reason"]),
        Layout(
            table: ReadModelTables.trades,
            types: [
                "text", "bigint", "bigint", "bigint", "text", "bigint", "bigint", "bigint", "text", "text", "bigint",
            ]),
        Layout(
            table: ReadModelTables.transactions,
            types: ["bigint", "bigint", "text", "text", "bigint", "bigint", "bigint", "text", "bigint"]),
        Layout(table: ReadModelTables.wallets, types: ["bigint", "text", "bigint", "bigint"]),
        Layout(
            table: ReadModelTables.holdings,
            types: ["bigint", "text", "text", "text", "bigint", "bigint", "bigint", "bigint"]),
        Layout(table: ReadModelTables.offsets, types: ["text", "bigint"]),
    ]

    /// The element types of `table`'s array parameters in bind order (a nullable column's values, then its
    /// presence flags), from the same layout as the statement's casts.
    static func parameterElements(of table: ReadModelTables.Table) -> [PostgresDataType] {
        guard let layout = layouts.first(where: { $0.table.name == table.name }) else {
            preconditionFailure("no layout for \(table.name)")
        }
        var elements: [PostgresDataType] = []
        for (column, type) in zip(layout.table.columns, layout.types) {
            switch type {
            case "bigint": elements.append(.int8)
            case "boolean": elements.append(.bool)
            default: elements.append(.text)
            }
            if layout.nullable.contains(column) { elements.append(.bool) }
        }
        return elements
    }

    /// Parameters of `sql`.
    /// The rows' parameters, then the fence's shards and epochs.
    static let parameterCount = layouts.reduce(0) { $0 + $1.types.count + $1.nullable.count } + 2

    /// One statement writing a whole batch: a data-modifying CTE per table (PostgreSQL runs each exactly
    /// once, to completion, all in the statement's transaction). Trade and transaction rows whose key is
    /// already there are skipped (`ON CONFLICT DO NOTHING`): the statement for batches that may repeat rows.
    static let sql = statement(skippingWrittenHistory: true)

    /// `sql` with plain inserts of trade and transaction rows: a key already written fails the statement
    /// (`23505`). Live batches carry new history only, and a plain insert costs PostgreSQL about half of a
    /// speculative one (the `ON CONFLICT` arbiter check), so the store tries this first and falls back to
    /// `sql` when a batch repeats rows (a shard projecting its users again, a retried write).
    static let insertSQL = statement(skippingWrittenHistory: false)

    private static func statement(skippingWrittenHistory: Bool) -> String {
        var parameter = 1
        var parts: [String] = []
        for layout in layouts {
            precondition(layout.types.count == layout.table.columns.count, "types of \(layout.table.name)")
            var arrays: [String] = []
            var aliases: [String] = []
            var values: [String] = []
            for (column, type) in zip(layout.table.columns, layout.types) {
                arrays.append("$\(parameter)::\(type)[]")
                aliases.append(column)
                parameter += 1
                if layout.nullable.contains(column) {
                    arrays.append("$\(parameter)::boolean[]")
                    aliases.append("\(column)_present")
                    parameter += 1
                    values.append("CASE WHEN t.\(column)_present THEN t.\(column) END")
                } else {
                    values.append("t.\(column)")
                }
            }
            let conflictClause =
                layout.table.conflict == .ignore && !skippingWrittenHistory
                ? "" : layout.table.onConflict(max: "GREATEST")
            parts.append(
                """
                \(layout.table.name)_written AS (
                    INSERT INTO \(layout.table.name) (\(layout.table.columnList))
                    SELECT \(values.joined(separator: ", "))
                    FROM unnest(\(arrays.joined(separator: ", "))) AS t(\(aliases.joined(separator: ", ")))
                    WHERE (SELECT ok FROM fenced)
                    \(conflictClause)
                )
                """)
        }
        // The lease rows of the batch's shards, locked FOR SHARE until commit: every insert is conditioned on
        // each (shard, epoch) of the batch still being its shard's lease, checked in this same statement. Locked
        // in shard order, as every statement that locks lease rows does (else they deadlock with lease renewals).
        let fence = """
            fence AS (
                SELECT l.shard FROM shard_leases l
                JOIN unnest($\(parameter)::text[], $\(parameter + 1)::bigint[]) AS f(shard, epoch)
                    ON l.shard = f.shard AND l.epoch = f.epoch
                ORDER BY l.shard
                FOR SHARE OF l
            ),
            fenced AS (
                SELECT count(*) = cardinality($\(parameter)::text[]) AS ok FROM fence
            )
            """
        return "WITH " + ([fence] + parts).joined(separator: ",\n") + "\nSELECT ok FROM fenced"
    }

    static let orderByID = "SELECT \(ReadModelTables.orders.columnList) FROM orders WHERE order_id = $1"
    static let tradesByOrders = """
        SELECT \(ReadModelTables.trades.columnList) FROM trade_history WHERE order_id = ANY($1) AND user_id = $2
        ORDER BY order_id, trade_id
        """
    static let transactionsByUser = """
        SELECT \(ReadModelTables.transactions.columnList) FROM transactions WHERE user_id = $1
        ORDER BY entry_id DESC LIMIT $2
        """
    static let walletsByUser =
        "SELECT \(ReadModelTables.wallets.columnList) FROM wallets WHERE user_id = $1 ORDER BY currency"
    static let holdingsByUser =
        "SELECT \(ReadModelTables.holdings.columnList) FROM portfolio_holdings WHERE user_id = $1 ORDER BY symbol"

    static func orderRow(_ row: PostgresRandomAccessRow) throws -> OrderRow {
        OrderRow(
            orderID: UInt64(storedBits: try row.value("order_id")),
            userID: UInt64(storedBits: try row.value("user_id")),
            clientOrderID: try row.value("client_order_id"), symbol: try row.value("symbol"),
            side: try row.value("side"), type: try row.value("type"),
            price: try row.value("price_ticks", as: Int64?.self).map(Price.init(ticks:)),
            stopPrice: try row.value("stop_price_ticks", as: Int64?.self).map(Price.init(ticks:)),
            quantity: Quantity(lots: try row.value("quantity_lots")),
            filledQuantity: Quantity(lots: try row.value("filled_lots")),
            filledNotional: Amount(units: try row.value("filled_notional")), status: try row.value("status"),
            timeInForce: try row.value("time_in_force"), postOnly: try row.value("post_only"),
            rejectReason: try row.value("reject_reason"), createdAtMillis: try row.value("created_at_ms"),
            updatedAtMillis: try row.value("updated_at_ms"))
    }
}
