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

    /// Deletes the token and returns its user if it existed and had not expired: a token works once
    /// (rotation), even when two requests race with it.
    func consumeRefreshToken(hash: String, nowMillis: Int64) async throws -> UserID?

    /// Deletes every refresh token of the user (logout).
    func revokeRefreshTokens(userID: UserID) async throws
}
