/// The PostgreSQL schema, as an ordered list of versions. A version, once released, never changes: a new
/// table or column is a new version at the end.
enum PostgresMigrations {
    struct Migration: Sendable {
        var version: Int32
        var statements: [String]
    }

    /// Key of the transaction-scoped advisory lock that serializes migrations across nodes.
    static let advisoryLockKey: Int64 = 0x426F_7572_7365_4D31  // "BourseM1"

    static let createVersionTable = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version integer PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """

    static let all: [Migration] = [
        Migration(
            version: 1,
            statements: [
                """
                CREATE TABLE journal (
                    shard text NOT NULL,
                    seq bigint NOT NULL,
                    epoch bigint NOT NULL,
                    payload bytea NOT NULL,
                    PRIMARY KEY (shard, seq)
                )
                """,
                """
                CREATE TABLE snapshots (
                    shard text NOT NULL,
                    seq bigint NOT NULL,
                    epoch bigint NOT NULL,
                    payload bytea NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (shard, seq)
                )
                """,
                """
                CREATE TABLE shard_leases (
                    shard text PRIMARY KEY,
                    owner text NOT NULL,
                    epoch bigint NOT NULL,
                    expires_at_ms bigint NOT NULL
                )
                """,
                """
                CREATE TABLE kv (
                    key text PRIMARY KEY,
                    value bytea NOT NULL
                )
                """,
            ]),
        Migration(
            version: 2,
            statements: [
                """
                CREATE TABLE users (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    username text NOT NULL UNIQUE,
                    password_hash text NOT NULL,
                    role text NOT NULL,
                    created_at_ms bigint NOT NULL
                )
                """,
                """
                CREATE TABLE refresh_tokens (
                    hash text PRIMARY KEY,
                    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    expires_at_ms bigint NOT NULL
                )
                """,
                "CREATE INDEX refresh_tokens_user_id ON refresh_tokens (user_id)",
            ]),
        Migration(
            version: 3,
            statements: [
                """
                CREATE TABLE orders (
                    order_id bigint PRIMARY KEY,
                    user_id bigint NOT NULL,
                    client_order_id text,
                    symbol text NOT NULL,
                    side text NOT NULL,
                    type text NOT NULL,
                    price_ticks bigint,
                    stop_price_ticks bigint,
                    quantity_lots bigint NOT NULL,
                    filled_lots bigint NOT NULL,
                    filled_notional bigint NOT NULL,
                    status text NOT NULL,
                    time_in_force text NOT NULL,
                    post_only boolean NOT NULL,
                    reject_reason text,
                    created_at_ms bigint NOT NULL,
                    updated_at_ms bigint NOT NULL
                )
                """,
                "CREATE INDEX orders_user_id ON orders (user_id, order_id)",
                """
                CREATE TABLE trade_history (
                    symbol text NOT NULL,
                    trade_id bigint NOT NULL,
                    order_id bigint NOT NULL,
                    user_id bigint NOT NULL,
                    side text NOT NULL,
                    price_ticks bigint NOT NULL,
                    quantity_lots bigint NOT NULL,
                    fee bigint NOT NULL,
                    fee_currency text NOT NULL,
                    liquidity text NOT NULL,
                    ts_ms bigint NOT NULL,
                    PRIMARY KEY (symbol, trade_id, order_id)
                )
                """,
                "CREATE INDEX trade_history_user_id ON trade_history (user_id, ts_ms)",
                """
                CREATE TABLE transactions (
                    user_id bigint NOT NULL,
                    entry_id bigint NOT NULL,
                    type text NOT NULL,
                    currency text NOT NULL,
                    amount bigint NOT NULL,
                    available_after bigint NOT NULL,
                    locked_after bigint NOT NULL,
                    reference_id text NOT NULL,
                    ts_ms bigint NOT NULL,
                    PRIMARY KEY (user_id, entry_id)
                )
                """,
                """
                CREATE TABLE wallets (
                    user_id bigint NOT NULL,
                    currency text NOT NULL,
                    available bigint NOT NULL,
                    locked bigint NOT NULL,
                    PRIMARY KEY (user_id, currency)
                )
                """,
                """
                CREATE TABLE portfolio_holdings (
                    user_id bigint NOT NULL,
                    symbol text NOT NULL,
                    base text NOT NULL,
                    quote text NOT NULL,
                    quantity bigint NOT NULL,
                    cost_basis bigint NOT NULL,
                    realized_pnl bigint NOT NULL,
                    fees_paid bigint NOT NULL,
                    PRIMARY KEY (user_id, symbol)
                )
                """,
                """
                CREATE TABLE projection_offsets (
                    shard text PRIMARY KEY,
                    seq bigint NOT NULL
                )
                """,
            ]),
        Migration(
            version: 4,
            statements: [
                """
                CREATE TABLE membership_version (
                    id smallint PRIMARY KEY CHECK (id = 1),
                    version bigint NOT NULL
                )
                """,
                "INSERT INTO membership_version (id, version) VALUES (1, 0)",
                """
                CREATE TABLE members (
                    node_id text PRIMARY KEY,
                    peer_address text NOT NULL,
                    api_address text NOT NULL,
                    status text NOT NULL CHECK (status IN ('joining', 'active', 'leaving', 'dead')),
                    incarnation bigint NOT NULL,
                    heartbeat_ms bigint NOT NULL
                )
                """,
                """
                CREATE TABLE member_suspicions (
                    node_id text NOT NULL REFERENCES members (node_id) ON DELETE CASCADE,
                    incarnation bigint NOT NULL,
                    voter text NOT NULL,
                    voted_at_ms bigint NOT NULL,
                    PRIMARY KEY (node_id, incarnation, voter)
                )
                """,
                """
                CREATE TABLE membership_assignments (
                    version bigint PRIMARY KEY,
                    assignment bytea NOT NULL
                )
                """,
            ]),
        Migration(
            version: 5,
            statements: [
                // Snapshots of long histories are megabytes: lz4 compresses them several times faster than the
                // default pglz, whose CPU on a busy server delayed every journal commit behind the save. A
                // server built without lz4 (or older than 14) keeps pglz.
                """
                DO $$
                BEGIN
                    ALTER TABLE snapshots ALTER COLUMN payload SET COMPRESSION lz4;
                EXCEPTION WHEN feature_not_supported OR syntax_error OR invalid_parameter_value THEN
                    RAISE NOTICE 'snapshots stay compressed with pglz: %', SQLERRM;
                END
                $$
                """
            ]),
        Migration(
            version: 6,
            statements: [
                // An order's fills, for an order older than its user's history in memory (read from here).
                "CREATE INDEX IF NOT EXISTS trade_history_order_id ON trade_history (order_id)"
            ]),
    ]
}
