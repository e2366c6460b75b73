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
    ]
}
