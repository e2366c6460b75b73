import Crypto
import CryptoExtras
import JWTKit
import TestSupport
import Testing

@testable import API

/// Tokens that are not ours, intact and unexpired are all 401.
@Suite("Access token verification")
struct TokenVerificationTests {
    /// A token with `header` and `claims`, signed by `sign` over the signing input.
    static func token(header: JSONValue, claims: JSONValue, sign: ([UInt8]) throws -> [UInt8]) rethrows -> String {
        let input = Base64URL.encode(JSONWriter.bytes(header)) + "." + Base64URL.encode(JSONWriter.bytes(claims))
        return input + "." + Base64URL.encode(try sign(Array(input.utf8)))
    }

    func expectUnauthorized(_ server: TestServer, _ token: String, _ comment: Comment) async throws {
        let response = try await server.call(.get, "/v1/me", token: token)
        #expect(response.status == 401, comment)
        #expect(response.errorCode == "UNAUTHORIZED", comment)
    }

    @Test func forgedTokensAreRejected() async throws {
        try await TestServer.run { server in
            let (valid, _) = try await server.signUp("mallory")
            let parts = valid.split(separator: ".").map(String.init)
            let header = try JSONParser().parse(try #require(Base64URL.decode(parts[0])))
            let kid = try #require(header["kid"])
            let now = server.clock.nowMillis / 1000
            let claims: JSONValue = ["sub": "1", "role": "admin", "iat": .int(now), "exp": .int(now + 900)]

            // alg none, with and without a signature.
            let none = Self.token(header: ["alg": "none", "typ": "JWT", "kid": kid], claims: claims) { _ in [] }
            try await expectUnauthorized(server, none, "alg none")
            try await expectUnauthorized(server, none + "AAAA", "alg none with junk signature")

            // HS256 keyed with the public key (algorithm confusion).
            let jwks = try await server.call(.get, "/.well-known/jwks.json")
            let publicPEM = try Insecure.RSA.PrivateKey(pem: TestKeys.pem).publicKey.pemRepresentation
            for secret in [Array(publicPEM.utf8), Array(jwks.text.utf8)] {
                let hs256 = Self.token(header: ["alg": "HS256", "typ": "JWT", "kid": kid], claims: claims) { input in
                    Array(HMAC<SHA256>.authenticationCode(for: input, using: SymmetricKey(data: secret)))
                }
                try await expectUnauthorized(server, hs256, "HS256 with the public key")
            }

            // RS256 signed by another key, claiming our kid.
            let otherKey = try Insecure.RSA.PrivateKey(
                pem: try _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation)
            let collection = JWTKeyCollection()
            await collection.add(rsa: otherKey, digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid.stringValue!))
            let forged = try await collection.sign(
                AccessClaims(sub: "1", role: "admin", iat: now, exp: now + 900),
                kid: JWKIdentifier(string: kid.stringValue!))
            try await expectUnauthorized(server, forged, "signed by another key")

            // Our token with its claims edited (role escalation) keeps an invalid signature.
            let escalated = Base64URL.encode(JSONWriter.bytes(claims))
            try await expectUnauthorized(server, "\(parts[0]).\(escalated).\(parts[2])", "edited claims")

            // Malformed.
            for junk in [
                "", "abc", "a.b", "a.b.c", "\(parts[0]).\(parts[1])", valid + ".x", String(repeating: "a", count: 5000),
            ] {
                try await expectUnauthorized(server, junk, "malformed \(junk.prefix(20))")
            }
            let wrongScheme = try await server.call(.get, "/v1/me", headers: [.authorization: "Basic \(valid)"])
            #expect(wrongScheme.status == 401)

            // The valid token still works.
            #expect(try await server.call(.get, "/v1/me", token: valid).status == 200)
        }
    }

    @Test func expiredTokensAreRejected() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("oscar")
            server.clock.advance(seconds: 899)
            #expect(try await server.call(.get, "/v1/me", token: token).status == 200)
            server.clock.advance(seconds: 1)
            let expired = try await server.call(.get, "/v1/me", token: token)
            #expect(expired.status == 401)
            #expect(expired.errorMessage == "access token expired")
        }
    }

    @Test func tokenLifetimeIsConfigurable() async throws {
        try await TestServer.run(configure: { $0.accessTokenTTLSeconds = 60 }) { server in
            _ = try await server.signUp("peggy")
            let login = try await server.call(
                .post, "/v1/auth/login", json: ["username": "peggy", "password": "correct horse"])
            #expect(login.json["expires_in"] == .number("60"))
        }
    }
}
