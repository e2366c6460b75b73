import Crypto
import HummingbirdBcrypt
import NIOPosix
import Synchronization

/// bcrypt hashing off the event loops: a cost-12 hash takes about a quarter of a second, so every
/// hash and check runs on NIO's blocking thread pool.
///
/// bcrypt reads at most 72 bytes; a longer password is first reduced to `sha256:` + the base64url of
/// its SHA-256, so that every character of a 128-character password counts.
final class PasswordHasher: Sendable {
    /// The bcrypt cost (log₂ of the rounds): 12 in production, lower in tests.
    let cost: UInt8
    private let pool: NIOThreadPool
    /// A hash to check against when the user does not exist, so that such a login costs the same time.
    private let dummyHash = Mutex<String?>(nil)

    init(cost: UInt8, pool: NIOThreadPool = .singleton) {
        precondition((4...31).contains(cost), "bcrypt cost must be 4-31")
        self.cost = cost
        self.pool = pool
    }

    func hash(_ password: String) async throws -> String {
        let input = Self.bcryptInput(password)
        let cost = self.cost
        return try await pool.runIfActive { Bcrypt.hash(input, cost: cost) }
    }

    func verify(_ password: String, against hash: String) async throws -> Bool {
        let input = Self.bcryptInput(password)
        return try await pool.runIfActive { Bcrypt.verify(input, hash: hash) }
    }

    /// Spends the time of one check and returns false: for logins of unknown users.
    func verifyUnknownUser(_ password: String) async throws -> Bool {
        let existing = dummyHash.withLock { $0 }
        let dummy: String
        if let existing {
            dummy = existing
        } else {
            dummy = try await hash("not a password of anyone")
            dummyHash.withLock { $0 = dummy }
        }
        _ = try await verify(password, against: dummy)
        return false
    }

    static func bcryptInput(_ password: String) -> String {
        guard password.utf8.count > 72 else { return password }
        return "sha256:" + Base64URL.encode(Array(SHA256.hash(data: Array(password.utf8))))
    }
}
