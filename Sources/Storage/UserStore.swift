import Trading

/// A registered user. Passwords are stored only as bcrypt hashes.
public struct UserRecord: Sendable, Hashable {
    public var id: UserID
    public var username: String
    public var passwordHash: String
    /// `user` or `admin`.
    public var role: String
    public var createdAtMillis: Int64

    public init(id: UserID, username: String, passwordHash: String, role: String, createdAtMillis: Int64) {
        self.id = id
        self.username = username
        self.passwordHash = passwordHash
        self.role = role
        self.createdAtMillis = createdAtMillis
    }
}

/// Users and refresh tokens: written straight to the database (not journaled), so that a username is
/// unique across the whole cluster and a consumed refresh token is gone everywhere at once.
public protocol UserStore: Sendable {
    /// Creates a user; ids are assigned by the store, ascending from 1.
    /// - Throws: `BourseError(.conflict, …)` when the username is taken (case-sensitive).
    func createUser(username: String, passwordHash: String, role: String, nowMillis: Int64) async throws
        -> UserRecord

    func user(named username: String) async throws -> UserRecord?

    func user(id: UserID) async throws -> UserRecord?

    /// Stores a refresh token by its hash (the token itself is never stored).
    func storeRefreshToken(hash: String, userID: UserID, expiresAtMillis: Int64) async throws

    /// Replaces an unexpired token by a new one in one statement (the same row takes the new hash and expiry) and
    /// returns its user; nil when the token is unknown, used already or expired (an expired one is deleted). A
    /// token works once even when two requests race with it, and a `revokeRefreshTokens` racing the rotation
    /// deletes the row whichever hash it has by then: no token issued by a refresh outlives a logout.
    func rotateRefreshToken(hash: String, newHash: String, newExpiresAtMillis: Int64, nowMillis: Int64) async throws
        -> UserID?

    /// Deletes every refresh token of the user (logout).
    func revokeRefreshTokens(userID: UserID) async throws
}
