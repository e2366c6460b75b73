/// The read-model tables as both stores write them: columns in bind order, primary key, and what a row
/// whose key exists does (the schemas themselves are in the migrations, version 3).
enum ReadModelTables {
    struct Table: Sendable {
        enum Conflict: Sendable {
            /// Replace the row's other columns (whole-row upsert).
            case update
            /// Keep the existing row (history is written once).
            case ignore
            /// Keep the greater of the two values of each other column (offsets only increase).
            case keepGreater
        }

        var name: String
        var columns: [String]
        var key: [String]
        var conflict: Conflict

        var columnList: String { columns.joined(separator: ", ") }

        /// The `ON CONFLICT` clause; `max` is the two-argument maximum function (`max` in SQLite,
        /// `GREATEST` in PostgreSQL).
        func onConflict(max: String) -> String {
            let target = "ON CONFLICT (\(key.joined(separator: ", ")))"
            let others = columns.filter { !key.contains($0) }
            switch conflict {
            case .ignore:
                return "\(target) DO NOTHING"
            case .update:
                return "\(target) DO UPDATE SET " + others.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
            case .keepGreater:
                return "\(target) DO UPDATE SET "
                    + others.map { "\($0) = \(max)(\(name).\($0), excluded.\($0))" }.joined(separator: ", ")
            }
        }
    }

    static let orders = Table(
        name: "orders",
        columns: [
            "order_id", "user_id", "client_order_id", "symbol", "side", "type", "price_ticks", "stop_price_ticks",
            "quantity_lots", "filled_lots", "filled_notional", "status", "time_in_force", "post_only",
            "reject_reason", "created_at_ms", "updated_at_ms",
        ],
        key: ["order_id"], conflict: .update)

    static let trades = Table(
        name: "trade_history",
        columns: [
            "symbol", "trade_id", "order_id", "user_id", "side", "price_ticks", "quantity_lots", "fee", "fee_currency",
            "liquidity", "ts_ms",
        ],
        key: ["symbol", "trade_id", "order_id"], conflict: .ignore)

    static let transactions = Table(
        name: "transactions",
        columns: [
            "user_id", "entry_id", "type", "currency", "amount", "available_after", "locked_after", "reference_id",
            "ts_ms",
        ],
        key: ["user_id", "entry_id"], conflict: .ignore)

    static let wallets = Table(
        name: "wallets", columns: ["user_id", "currency", "available", "locked"], key: ["user_id", "currency"],
        conflict: .update)

    static let holdings = Table(
        name: "portfolio_holdings",
        columns: ["user_id", "symbol", "base", "quote", "quantity", "cost_basis", "realized_pnl", "fees_paid"],
        key: ["user_id", "symbol"], conflict: .update)

    static let offsets = Table(
        name: "projection_offsets", columns: ["shard", "seq"], key: ["shard"], conflict: .keepGreater)

    /// The user's orders, newest first: `user_id`, then `symbol` when `bySymbol`, then the limit are bound,
    /// numbered by `placeholder` (1-based: `$n` in PostgreSQL, `?` in SQLite).
    static func ordersByUser(bySymbol: Bool, closedOnly: Bool, placeholder: (Int) -> String) -> String {
        var sql = "SELECT \(orders.columnList) FROM orders WHERE user_id = \(placeholder(1))"
        var next = 2
        if bySymbol {
            sql += " AND symbol = \(placeholder(next))"
            next += 1
        }
        if closedOnly { sql += " AND status NOT IN ('new', 'partially_filled', 'pending_trigger')" }
        return sql + " ORDER BY order_id DESC LIMIT \(placeholder(next))"
    }

    /// The user's fills, newest first: `user_id`, then `symbol` when `bySymbol`, then the limit are bound.
    static func tradesByUser(bySymbol: Bool, placeholder: (Int) -> String) -> String {
        var sql = "SELECT \(trades.columnList) FROM trade_history WHERE user_id = \(placeholder(1))"
        var next = 2
        if bySymbol {
            sql += " AND symbol = \(placeholder(next))"
            next += 1
        }
        return sql + " ORDER BY ts_ms DESC, trade_id DESC, order_id DESC LIMIT \(placeholder(next))"
    }
}
