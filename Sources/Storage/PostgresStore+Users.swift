import PostgresNIO
import Trading

extension PostgresStore {
    /// Inserts the user; the unique index on `username` decides races (SQLSTATE 23505 → `CONFLICT`).
    public func createUser(username: String, passwordHash: String, role: String, nowMillis: Int64) async throws
        -> UserRecord
    {
        do {
            let rows = try await client.query(
                """
                INSERT INTO users (username, password_hash, role, created_at_ms)
                VALUES (\(username), \(passwordHash), \(role), \(nowMillis))
                RETURNING id
                """, logger: Self.quiet)
            for try await id in rows.decode(Int64.self) {
                return UserRecord(
                    id: try storedUserID(id), username: username, passwordHash: passwordHash, role: role,
                    createdAtMillis: nowMillis)
            }
            throw StorageError(.corrupt, "user insert returned no id")
        } catch  where Self.sqlState(of: error) == "23505" {
            throw BourseError(.conflict, "username is taken")
        } catch {
            throw failure("user create", error)
        }
    }

    public func user(named username: String) async throws -> UserRecord? {
        try await attempt("user read") {
            try await firstUser(
                client.query(
                    """
                    SELECT id, username, password_hash, role, created_at_ms FROM users WHERE username = \(username)
                    """, logger: Self.quiet))
        }
    }

    public func user(id: UserID) async throws -> UserRecord? {
        guard let id = Int64(exactly: id) else { return nil }
        return try await attempt("user read") {
            try await firstUser(
                client.query(
                    "SELECT id, username, password_hash, role, created_at_ms FROM users WHERE id = \(id)",
                    logger: Self.quiet))
        }
    }

    public func storeRefreshToken(hash: String, userID: UserID, expiresAtMillis: Int64) async throws {
        guard let id = Int64(exactly: userID) else { throw BourseError(.notFound, "no such user") }
        do {
            try await client.query(
                """
                INSERT INTO refresh_tokens (hash, user_id, expires_at_ms) VALUES (\(hash), \(id), \(expiresAtMillis))
                """, logger: Self.quiet
            ).drain()
        } catch  where Self.sqlState(of: error) == "23505" {
            throw BourseError(.conflict, "refresh token already stored")
        } catch  where Self.sqlState(of: error) == "23503" {
            throw BourseError(.notFound, "no such user")
        } catch {
            throw failure("refresh token store", error)
        }
    }

    /// `UPDATE … RETURNING` of the token's row: of two racing rotations the second waits for the first's row lock
    /// and then finds the old hash gone, so a token works once; a logout's `DELETE … WHERE user_id` that waits for
    /// that lock re-reads the row under its new hash and deletes it (a new row inserted instead would not be in
    /// the logout's snapshot and would survive it).
    public func rotateRefreshToken(hash: String, newHash: String, newExpiresAtMillis: Int64, nowMillis: Int64)
        async throws -> UserID?
    {
        try await attempt("refresh token rotate") {
            let rows = try await client.query(
                """
                UPDATE refresh_tokens SET hash = \(newHash), expires_at_ms = \(newExpiresAtMillis)
                WHERE hash = \(hash) AND expires_at_ms > \(nowMillis) RETURNING user_id
                """, logger: Self.quiet)
            var result: UserID?
            for try await id in rows.decode(Int64.self) { result = try storedUserID(id) }
            if result == nil {
                try await client.query("DELETE FROM refresh_tokens WHERE hash = \(hash)", logger: Self.quiet).drain()
            }
            return result
        }
    }

    public func revokeRefreshTokens(userID: UserID) async throws {
        guard let id = Int64(exactly: userID) else { return }
        try await attempt("refresh token revoke") {
            try await client.query("DELETE FROM refresh_tokens WHERE user_id = \(id)", logger: Self.quiet).drain()
        }
    }

    private func firstUser(_ rows: PostgresRowSequence) async throws -> UserRecord? {
        var user: UserRecord?
        for try await (id, name, hash, role, created) in rows.decode((Int64, String, String, String, Int64).self) {
            user = UserRecord(
                id: try storedUserID(id), username: name, passwordHash: hash, role: role, createdAtMillis: created)
        }
        return user
    }
}
