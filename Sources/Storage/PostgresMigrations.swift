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
    ]
}
