import SQLiteNIO
import Trading

extension SQLiteStore {
    /// Inserts the user; the unique index on `username` decides (→ `CONFLICT`).
    public func createUser(username: String, passwordHash: String, role: String, nowMillis: Int64) async throws
        -> UserRecord
    {
        let id = try await write("user create") { db -> Int64 in
            do {
                let rows = try await db.query(
                    "INSERT INTO users (username, password_hash, role, created_at_ms) VALUES (?, ?, ?, ?) RETURNING id",
                    [.text(username), .text(passwordHash), .text(role), .int64(nowMillis)])
                guard let row = rows.first else { throw StorageError(.corrupt, "user insert returned no id") }
                return try row.int64("id")
            } catch  where Self.isUniqueViolation(error) {
                throw BourseError(.conflict, "username is taken")
            }
        }
        return UserRecord(
            id: try storedUserID(id), username: username, passwordHash: passwordHash, role: role,
            createdAtMillis: nowMillis)
    }

    public func user(named username: String) async throws -> UserRecord? {
        try await firstUser(
            read(
                "user read", "SELECT id, username, password_hash, role, created_at_ms FROM users WHERE username = ?",
                [.text(username)]))
    }

    public func user(id: UserID) async throws -> UserRecord? {
        guard let id = Int64(exactly: id) else { return nil }
        return try await firstUser(
            read(
                "user read", "SELECT id, username, password_hash, role, created_at_ms FROM users WHERE id = ?",
                [.int64(id)]))
    }

    public func storeRefreshToken(hash: String, userID: UserID, expiresAtMillis: Int64) async throws {
        guard let id = Int64(exactly: userID) else { throw BourseError(.notFound, "no such user") }
        try await write("refresh token store") { db in
            do {
                _ = try await db.query(
                    "INSERT INTO refresh_tokens (hash, user_id, expires_at_ms) VALUES (?, ?, ?)",
                    [.text(hash), .int64(id), .int64(expiresAtMillis)])
            } catch  where Self.isUniqueViolation(error) {
                throw BourseError(.conflict, "refresh token already stored")
            } catch  where Self.isForeignKeyViolation(error) {
                throw BourseError(.notFound, "no such user")
            }
        }
    }

    /// Deletes and returns in one statement inside a write transaction: of two racing consumers only the
    /// first finds the row.
    public func consumeRefreshToken(hash: String, nowMillis: Int64) async throws -> UserID? {
        let row = try await write("refresh token consume") { db in
            try await db.query(
                "DELETE FROM refresh_tokens WHERE hash = ? RETURNING user_id, expires_at_ms", [.text(hash)]
            ).first
        }
        guard let row, try row.int64("expires_at_ms") > nowMillis else { return nil }
        return try storedUserID(try row.int64("user_id"))
    }

    public func revokeRefreshTokens(userID: UserID) async throws {
        guard let id = Int64(exactly: userID) else { return }
        try await write("refresh token revoke") { db in
            _ = try await db.query("DELETE FROM refresh_tokens WHERE user_id = ?", [.int64(id)])
        }
    }

    private func firstUser(_ rows: [SQLiteRow]) throws -> UserRecord? {
        guard let row = rows.first else { return nil }
        return UserRecord(
            id: try storedUserID(try row.int64("id")), username: try row.text("username"),
            passwordHash: try row.text("password_hash"), role: try row.text("role"),
            createdAtMillis: try row.int64("created_at_ms"))
    }
}
