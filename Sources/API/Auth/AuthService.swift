import Logging
import Storage
import Trading

/// An access token and a refresh token, as login and refresh return them.
struct TokenPair: Sendable {
    var accessToken: String
    var refreshToken: String
    var expiresIn: Int64
}

/// Registration, login, token rotation and logout over a `UserStore`.
///
/// Passwords exist only in memory during a request and as bcrypt hashes in the store; refresh tokens
/// only as SHA-256 hashes. Nothing here logs a password or a token.
final class AuthService: Sendable {
    let users: any UserStore
    let hasher: PasswordHasher
    let tokens: TokenAuthority
    let clock: APIClock
    let accessTokenTTLSeconds: Int64
    let refreshTokenTTLSeconds: Int64
    let logger: Logger

    private static let badCredentials = BourseError.unauthorized("invalid username or password")
    private static let badRefreshToken = BourseError.unauthorized("invalid refresh token")

    init(
        users: any UserStore, hasher: PasswordHasher, tokens: TokenAuthority, clock: APIClock,
        accessTokenTTLSeconds: Int64, refreshTokenTTLSeconds: Int64, logger: Logger
    ) {
        self.users = users
        self.hasher = hasher
        self.tokens = tokens
        self.clock = clock
        self.accessTokenTTLSeconds = accessTokenTTLSeconds
        self.refreshTokenTTLSeconds = refreshTokenTTLSeconds
        self.logger = logger
    }

    /// Creates a user with role `user`.
    /// - Throws: `.validation` for a bad username or password, `.conflict` when the name is taken.
    func register(username: String, password: String) async throws -> UserRecord {
        try Credentials.validateUsername(username)
        try Credentials.validatePassword(password)
        if try await users.user(named: username) != nil { throw BourseError(.conflict, "username is taken") }
        let hash = try await hasher.hash(password)
        let user = try await users.createUser(
            username: username, passwordHash: hash, role: UserRole.user.rawValue, nowMillis: clock.nowMillis)
        logger.info("user registered", metadata: ["user_id": "\(user.id)"])
        return user
    }

    /// Checks the credentials and issues tokens. The error is the same whether or not the user exists.
    func login(username: String, password: String) async throws -> TokenPair {
        // System accounts (role neither user nor admin, e.g. the paper-liquidity provider) never log in.
        guard let user = try await users.user(named: username), UserRole(rawValue: user.role) != nil else {
            _ = try await hasher.verifyUnknownUser(password)
            throw Self.badCredentials
        }
        guard try await hasher.verify(password, against: user.passwordHash) else { throw Self.badCredentials }
        return try await issueTokens(for: user)
    }

    /// Exchanges a refresh token for new tokens; the old one stops working (even under a race), and a logout
    /// racing the exchange revokes the new one too (the store rotates the token in place).
    func refresh(token: String) async throws -> TokenPair {
        guard !token.isEmpty, token.utf8.count <= RefreshToken.maxLength else { throw Self.badRefreshToken }
        let now = clock.nowMillis
        let next = RefreshToken.generate()
        let userID = try await users.rotateRefreshToken(
            hash: RefreshToken.hash(token), newHash: RefreshToken.hash(next),
            newExpiresAtMillis: now + refreshTokenTTLSeconds * 1000, nowMillis: now)
        guard let userID, let user = try await users.user(id: userID) else { throw Self.badRefreshToken }
        return TokenPair(
            accessToken: try await accessToken(for: user, nowMillis: now), refreshToken: next,
            expiresIn: accessTokenTTLSeconds)
    }

    /// Revokes every refresh token of the user.
    func logout(user: AuthenticatedUser) async throws {
        try await users.revokeRefreshTokens(userID: user.id)
    }

    /// Creates the user `admin` with role `admin` unless it exists. Returns true when it was created.
    func ensureAdminUser(password: String) async throws -> Bool {
        let name = "admin"
        if try await users.user(named: name) != nil { return false }
        do {
            try Credentials.validatePassword(password)
        } catch {
            throw BourseError.validation("the admin password must be 8-128 characters without NUL")
        }
        let hash = try await hasher.hash(password)
        do {
            _ = try await users.createUser(
                username: name, passwordHash: hash, role: UserRole.admin.rawValue, nowMillis: clock.nowMillis)
        } catch let error as BourseError where error.code == .conflict {
            return false  // another node created it first
        }
        logger.info("admin user created")
        return true
    }

    private func issueTokens(for user: UserRecord) async throws -> TokenPair {
        let now = clock.nowMillis
        let access = try await accessToken(for: user, nowMillis: now)
        let refresh = RefreshToken.generate()
        try await users.storeRefreshToken(
            hash: RefreshToken.hash(refresh), userID: user.id, expiresAtMillis: now + refreshTokenTTLSeconds * 1000)
        return TokenPair(accessToken: access, refreshToken: refresh, expiresIn: accessTokenTTLSeconds)
    }

    private func accessToken(for user: UserRecord, nowMillis: Int64) async throws -> String {
        try await tokens.issue(
            for: AuthenticatedUser(id: user.id, role: UserRole(rawValue: user.role) ?? .user), nowMillis: nowMillis,
            ttlSeconds: accessTokenTTLSeconds)
    }
}
