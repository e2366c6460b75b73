import Crypto
import CryptoExtras
import JWTKit
import Logging
import NIOPosix
import Storage
import Synchronization
import Trading

/// Issues and verifies RS256 access tokens with the cluster's one signing key.
///
/// The RSA key pair is made at the first start of the first node and stored with
/// `JournalStore.putIfAbsent`, so every node signs and verifies with the same key (the stored value
/// wins a race). Verification accepts only `alg: RS256` with this key's `kid`; anything else — `none`,
/// HS256 keyed with the public key, another key, a bad signature, an expired or malformed token — is
/// `UNAUTHORIZED`.
final class TokenAuthority: Sendable {
    /// The `JournalStore` key under which the PEM of the private key lives.
    static let storeKey = "auth.jwt.rsa-private-key.pem"
    /// Tokens longer than this are refused before any parsing.
    static let maxTokenLength = 4096

    struct Keys: Sendable {
        var collection: JWTKeyCollection
        var kid: String
        var jwks: JSONValue
    }

    private let keys = Mutex<Keys?>(nil)

    /// A token that passed `verify`: who it stands for, until when, and under which key.
    private struct Verified: Sendable {
        var user: AuthenticatedUser
        var expiresAt: Int64
        var kid: String
    }

    /// Tokens already verified, by the SHA-256 of their text, so that a client's next requests with the same
    /// token skip the RSA verification and the two JSON decodings (about 60 µs of CPU per request). Only
    /// tokens that verified get in; expiry is still checked on every use, and an entry made under another
    /// key is ignored. Bounded: emptied when full.
    private let verified = Mutex<[SHA256Digest: Verified]>([:])
    /// The most tokens `verified` holds.
    static let verifiedCapacity = 4_096

    init() {}

    /// True once `load` has succeeded.
    var isLoaded: Bool { keys.withLock { $0 != nil } }

    /// Loads the shared key, making and storing it first if there is none. Idempotent.
    func load(from store: any JournalStore, logger: Logger) async throws {
        if isLoaded { return }
        let pem: [UInt8]
        if let stored = try await store.value(forKey: Self.storeKey) {
            pem = stored
        } else {
            let fresh = try await NIOThreadPool.singleton.runIfActive {
                try _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation
            }
            pem = try await store.putIfAbsent(key: Self.storeKey, value: Array(fresh.utf8))
            logger.info("JWT signing key ready", metadata: ["created": "\(pem == Array(fresh.utf8))"])
        }
        try await install(pem: String(decoding: pem, as: UTF8.self))
    }

    /// Uses `pem` (an RSA private key) as the signing key.
    func install(pem: String) async throws {
        let privateKey = try Insecure.RSA.PrivateKey(pem: pem)
        let publicKey = privateKey.publicKey
        let kid = String(Base64URL.encode(Array(SHA256.hash(data: publicKey.derRepresentation))).prefix(16))
        let collection = JWTKeyCollection()
        await collection.add(rsa: privateKey, digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
        let primitives = try publicKey.getKeyPrimitives()
        let jwk: JSONValue = [
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": .string(kid),
            "n": .string(Base64URL.encode(Self.unsigned(primitives.modulus))),
            "e": .string(Base64URL.encode(Self.unsigned(primitives.publicExponent))),
        ]
        keys.withLock { $0 = Keys(collection: collection, kid: kid, jwks: ["keys": [jwk]]) }
        verified.withLock { $0.removeAll() }
    }

    /// The public keys as a JWKS document.
    func jwks() throws(BourseError) -> JSONValue { try current().jwks }

    /// A signed access token for `user`, valid `ttlSeconds` from `nowMillis`.
    func issue(for user: AuthenticatedUser, nowMillis: Int64, ttlSeconds: Int64) async throws -> String {
        let keys = try current()
        let now = nowMillis / 1000
        let claims = AccessClaims(sub: String(user.id), role: user.role.rawValue, iat: now, exp: now + ttlSeconds)
        return try await keys.collection.sign(claims, kid: JWKIdentifier(string: keys.kid))
    }

    /// The user a token stands for.
    /// - Throws: `.unauthorized` for every token that is not ours, intact and unexpired.
    func verify(_ token: String, nowMillis: Int64) async throws(BourseError) -> AuthenticatedUser {
        let keys = try current()
        let invalid = BourseError.unauthorized("invalid access token")
        guard token.utf8.count <= Self.maxTokenLength else { throw invalid }
        let digest = SHA256.hash(data: Array(token.utf8))
        if let known = verified.withLock({ $0[digest] }), known.kid == keys.kid {
            guard known.expiresAt > nowMillis / 1000 else { throw .unauthorized("access token expired") }
            return known.user
        }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64URL.decode(parts[0]),
            let header = try? JSONParser(maxDepth: 4).parse(headerBytes), let fields = header.objectValue,
            fields["alg"] == .string("RS256"), fields["kid"] == .string(keys.kid),
            fields["typ"] == nil || fields["typ"] == .string("JWT"), fields["crit"] == nil
        else { throw invalid }
        let claims: AccessClaims
        do {
            claims = try await keys.collection.verify(token, as: AccessClaims.self)
        } catch {
            throw invalid
        }
        guard claims.exp > nowMillis / 1000 else { throw .unauthorized("access token expired") }
        guard let id = UserID(claims.sub), id > 0, String(id) == claims.sub, let role = UserRole(rawValue: claims.role)
        else { throw invalid }
        let user = AuthenticatedUser(id: id, role: role)
        verified.withLock { cache in
            if cache.count >= Self.verifiedCapacity { cache.removeAll(keepingCapacity: true) }
            cache[digest] = Verified(user: user, expiresAt: claims.exp, kid: keys.kid)
        }
        return user
    }

    private func current() throws(BourseError) -> Keys {
        guard let keys = keys.withLock({ $0 }) else { throw BourseError(.unavailable, "signing key not loaded yet") }
        return keys
    }

    /// Big-endian magnitude without leading zero bytes (JWK `n` and `e`).
    private static func unsigned(_ bytes: some Collection<UInt8>) -> [UInt8] {
        let array = Array(bytes)
        let firstNonZero = array.firstIndex { $0 != 0 } ?? max(array.count - 1, 0)
        return Array(array[firstNonZero...])
    }
}
