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

    /// Updates and returns in one statement inside a write transaction (writes are serialized): of two racing
    /// rotations only the first finds the old hash, and a logout runs wholly before or after it.
    public func rotateRefreshToken(hash: String, newHash: String, newExpiresAtMillis: Int64, nowMillis: Int64)
        async throws -> UserID?
    {
        let row = try await write("refresh token rotate") { db in
            let row = try await db.query(
                "UPDATE refresh_tokens SET hash = ?, expires_at_ms = ? WHERE hash = ? AND expires_at_ms > ? RETURNING user_id",
                [.text(newHash), .int64(newExpiresAtMillis), .text(hash), .int64(nowMillis)]
            ).first
            if row == nil { _ = try await db.query("DELETE FROM refresh_tokens WHERE hash = ?", [.text(hash)]) }
            return row
        }
        guard let row else { return nil }
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
