import Storage
import Synchronization
import Trading

/// A `UserStore` in memory, for tests: the same contract as the database stores (ids from 1,
/// case-sensitive unique names, refresh tokens that work once and expire).
public final class InMemoryUserStore: UserStore {
    private struct State {
        var users: [UserRecord] = []
        var refreshTokens: [String: (userID: UserID, expiresAtMillis: Int64)] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Refresh tokens currently stored (by hash).
    public var refreshTokenCount: Int { state.withLock { $0.refreshTokens.count } }

    /// The stored hashes: tests check that no token is stored in the clear.
    public var refreshTokenHashes: [String] { state.withLock { Array($0.refreshTokens.keys) } }

    public func createUser(username: String, passwordHash: String, role: String, nowMillis: Int64) async throws
        -> UserRecord
    {
        try state.withLock { state in
            guard !state.users.contains(where: { $0.username == username }) else {
                throw BourseError(.conflict, "username is taken")
            }
            let user = UserRecord(
                id: UserID(state.users.count + 1), username: username, passwordHash: passwordHash, role: role,
                createdAtMillis: nowMillis)
            state.users.append(user)
            return user
        }
    }

    public func user(named username: String) async throws -> UserRecord? {
        state.withLock { $0.users.first { $0.username == username } }
    }

    public func user(id: UserID) async throws -> UserRecord? {
        state.withLock { $0.users.first { $0.id == id } }
    }

    public func storeRefreshToken(hash: String, userID: UserID, expiresAtMillis: Int64) async throws {
        state.withLock { $0.refreshTokens[hash] = (userID, expiresAtMillis) }
    }

    public func rotateRefreshToken(hash: String, newHash: String, newExpiresAtMillis: Int64, nowMillis: Int64)
        async throws -> UserID?
    {
        state.withLock { state in
            guard let token = state.refreshTokens.removeValue(forKey: hash), token.expiresAtMillis > nowMillis else {
                return nil
            }
            state.refreshTokens[newHash] = (token.userID, newExpiresAtMillis)
            return token.userID
        }
    }

    public func revokeRefreshTokens(userID: UserID) async throws {
        state.withLock { state in state.refreshTokens = state.refreshTokens.filter { $0.value.userID != userID } }
    }
}
