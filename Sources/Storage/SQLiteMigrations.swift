/// The SQLite schema, as an ordered list of versions; the same tables as PostgreSQL's. A version, once
/// released, never changes.
enum SQLiteMigrations {
    static let createVersionTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version INTEGER PRIMARY KEY,
            applied_at_ms INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
        )
        """

    static let all: [PostgresMigrations.Migration] = [
        .init(
            version: 1,
            statements: [
                """
                CREATE TABLE journal (
                    shard TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    epoch INTEGER NOT NULL,
                    payload BLOB NOT NULL,
                    PRIMARY KEY (shard, seq)
                ) WITHOUT ROWID
                """,
                """
                CREATE TABLE snapshots (
                    shard TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    epoch INTEGER NOT NULL,
                    payload BLOB NOT NULL,
                    created_at_ms INTEGER NOT NULL
                        DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)),
                    PRIMARY KEY (shard, seq)
                )
                """,
                """
                CREATE TABLE shard_leases (
                    shard TEXT PRIMARY KEY,
                    owner TEXT NOT NULL,
                    epoch INTEGER NOT NULL,
                    expires_at_ms INTEGER NOT NULL
                )
                """,
                """
                CREATE TABLE kv (
                    key TEXT PRIMARY KEY,
                    value BLOB NOT NULL
                )
                """,
            ]),
        .init(
            version: 2,
            statements: [
                """
                CREATE TABLE users (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    username TEXT NOT NULL UNIQUE,
                    password_hash TEXT NOT NULL,
                    role TEXT NOT NULL,
                    created_at_ms INTEGER NOT NULL
                )
                """,
                """
                CREATE TABLE refresh_tokens (
                    hash TEXT PRIMARY KEY,
                    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    expires_at_ms INTEGER NOT NULL
                )
                """,
                "CREATE INDEX refresh_tokens_user_id ON refresh_tokens (user_id)",
            ]),
        .init(
            version: 3,
            statements: [
                """
                CREATE TABLE orders (
                    order_id INTEGER PRIMARY KEY,
                    user_id INTEGER NOT NULL,
                    client_order_id TEXT,
                    symbol TEXT NOT NULL,
                    side TEXT NOT NULL,
                    type TEXT NOT NULL,
                    price_ticks INTEGER,
                    stop_price_ticks INTEGER,
                    quantity_lots INTEGER NOT NULL,
                    filled_lots INTEGER NOT NULL,
                    filled_notional INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    time_in_force TEXT NOT NULL,
                    post_only INTEGER NOT NULL,
                    reject_reason TEXT,
                    created_at_ms INTEGER NOT NULL,
                    updated_at_ms INTEGER NOT NULL
                )
                """,
                "CREATE INDEX orders_user_id ON orders (user_id, order_id)",
                """
                CREATE TABLE trade_history (
                    symbol TEXT NOT NULL,
                    trade_id INTEGER NOT NULL,
                    order_id INTEGER NOT NULL,
                    user_id INTEGER NOT NULL,
                    side TEXT NOT NULL,
                    price_ticks INTEGER NOT NULL,
                    quantity_lots INTEGER NOT NULL,
                    fee INTEGER NOT NULL,
                    fee_currency TEXT NOT NULL,
                    liquidity TEXT NOT NULL,
                    ts_ms INTEGER NOT NULL,
                    PRIMARY KEY (symbol, trade_id, order_id)
                ) WITHOUT ROWID
                """,
                "CREATE INDEX trade_history_user_id ON trade_history (user_id, ts_ms)",
                """
                CREATE TABLE transactions (
                    user_id INTEGER NOT NULL,
                    entry_id INTEGER NOT NULL,
                    type TEXT NOT NULL,
                    currency TEXT NOT NULL,
                    amount INTEGER NOT NULL,
                    available_after INTEGER NOT NULL,
                    locked_after INTEGER NOT NULL,
                    reference_id TEXT NOT NULL,
                    ts_ms INTEGER NOT NULL,
                    PRIMARY KEY (user_id, entry_id)
                ) WITHOUT ROWID
                """,
                """
                CREATE TABLE wallets (
                    user_id INTEGER NOT NULL,
                    currency TEXT NOT NULL,
                    available INTEGER NOT NULL,
                    locked INTEGER NOT NULL,
                    PRIMARY KEY (user_id, currency)
                ) WITHOUT ROWID
                """,
                """
                CREATE TABLE portfolio_holdings (
                    user_id INTEGER NOT NULL,
                    symbol TEXT NOT NULL,
                    base TEXT NOT NULL,
                    quote TEXT NOT NULL,
                    quantity INTEGER NOT NULL,
                    cost_basis INTEGER NOT NULL,
                    realized_pnl INTEGER NOT NULL,
                    fees_paid INTEGER NOT NULL,
                    PRIMARY KEY (user_id, symbol)
                ) WITHOUT ROWID
                """,
                """
                CREATE TABLE projection_offsets (
                    shard TEXT PRIMARY KEY,
                    seq INTEGER NOT NULL
                ) WITHOUT ROWID
                """,
            ]),
        .init(
            version: 4,
            statements: [
                """
                CREATE TABLE membership_version (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    version INTEGER NOT NULL
                )
                """,
                "INSERT INTO membership_version (id, version) VALUES (1, 0)",
                """
                CREATE TABLE members (
                    node_id TEXT PRIMARY KEY,
                    peer_address TEXT NOT NULL,
                    api_address TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('joining', 'active', 'leaving', 'dead')),
                    incarnation INTEGER NOT NULL,
                    heartbeat_ms INTEGER NOT NULL
                ) WITHOUT ROWID
                """,
                """
                CREATE TABLE member_suspicions (
                    node_id TEXT NOT NULL REFERENCES members (node_id) ON DELETE CASCADE,
                    incarnation INTEGER NOT NULL,
                    voter TEXT NOT NULL,
                    voted_at_ms INTEGER NOT NULL,
                    PRIMARY KEY (node_id, incarnation, voter)
                ) WITHOUT ROWID
                """,
                """
                CREATE TABLE membership_assignments (
                    version INTEGER PRIMARY KEY,
                    assignment BLOB NOT NULL
                )
                """,
            ]),
        .init(
            version: 5,
            statements: [
                // An order's fills, for an order older than its user's history in memory (read from here).
                "CREATE INDEX IF NOT EXISTS trade_history_order_id ON trade_history (order_id)"
            ]),
    ]
}
