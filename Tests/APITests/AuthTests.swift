import Crypto
import CryptoExtras
import HTTPTypes
import JWTKit
import TestSupport
import Testing

@testable import API

@Suite("Auth routes")
struct AuthTests {
    @Test func registerLoginMeAndJWKS() async throws {
        try await TestServer.run { server in
            let registered = try await server.call(
                .post, "/v1/auth/register", json: ["username": "alice", "password": "correct horse"])
            #expect(registered.status == 201)
            #expect(registered.json == ["user_id": "1", "username": "alice"])

            let login = try await server.call(
                .post, "/v1/auth/login", json: ["username": "alice", "password": "correct horse"])
            #expect(login.status == 200)
            #expect(login.json["token_type"] == "Bearer")
            #expect(login.json["expires_in"] == .number("900"))
            let token = try #require(login.json["access_token"]?.stringValue)

            let me = try await server.call(.get, "/v1/me", token: token)
            #expect(me.status == 200)
            #expect(me.json["user_id"] == "1")
            #expect(me.json["username"] == "alice")
            #expect(me.json["created_at"] == "2024-05-01T12:00:00.000Z")

            let jwks = try await server.call(.get, "/.well-known/jwks.json")
            #expect(jwks.status == 200)
            let key = try #require(jwks.json["keys"]?.arrayValue?.first)
            #expect(key["kty"] == "RSA")
            #expect(key["alg"] == "RS256")
            // The token verifies with the published key alone.
            let verifier = JWTKeyCollection()
            try await verifier.add(jwksJSON: jwks.text)
            let claims = try await verifier.verify(token, as: AccessClaims.self)
            #expect(claims.sub == "1")
            #expect(claims.role == "user")
            #expect(claims.exp - claims.iat == 900)
            // The header names our key.
            let header = try JSONParser().parse(try #require(Base64URL.decode(token.split(separator: ".")[0])))
            #expect(header["alg"] == "RS256")
            #expect(header["kid"] == key["kid"])
        }
    }

    @Test func passwordsAreStoredAsBcryptAndRefreshTokensAsHashes() async throws {
        try await TestServer.run { server in
            let (_, refresh) = try await server.signUp("bob")
            let user = try #require(try await server.users.user(named: "bob"))
            #expect(user.passwordHash.hasPrefix("$2b$04$"))
            #expect(!server.users.refreshTokenHashes.contains(refresh))
            #expect(server.users.refreshTokenHashes == [RefreshToken.hash(refresh)])
            #expect(Base64URL.decode(refresh)?.count == 32)
        }
    }

    @Test(arguments: [
        (#"{"username":"ab","password":"correct horse"}"#, "username"),
        (#"{"username":"bad name","password":"correct horse"}"#, "username"),
        (#"{"username":"ok_name","password":"short"}"#, "password"),
        (#"{"username":"ok_name"}"#, "password"),
        (#"{"username":7,"password":"correct horse"}"#, "username"),
    ])
    func registerValidates(body: String, field: String) async throws {
        try await TestServer.run { server in
            let response = try await server.call(.post, "/v1/auth/register", body: body)
            #expect(response.status == 400)
            #expect(response.errorCode == "VALIDATION_ERROR")
            #expect(response.errorMessage?.hasPrefix(field) == true)
        }
    }

    @Test func duplicateUsernameIsAConflict() async throws {
        try await TestServer.run { server in
            _ = try await server.signUp("carol")
            let again = try await server.call(
                .post, "/v1/auth/register", json: ["username": "carol", "password": "another pass"])
            #expect(again.status == 409)
            #expect(again.errorCode == "CONFLICT")
        }
    }

    @Test func badCredentialsLookTheSameWhetherOrNotTheUserExists() async throws {
        try await TestServer.run { server in
            _ = try await server.signUp("dave")
            let wrongPassword = try await server.call(
                .post, "/v1/auth/login", json: ["username": "dave", "password": "wrong password"])
            let noUser = try await server.call(
                .post, "/v1/auth/login", json: ["username": "nobody", "password": "wrong password"])
            #expect(wrongPassword.status == 401)
            #expect(noUser.status == 401)
            #expect(wrongPassword.json == noUser.json)
            #expect(wrongPassword.errorCode == "UNAUTHORIZED")
        }
    }

    @Test func refreshRotatesAndLogoutRevokes() async throws {
        try await TestServer.run { server in
            let (access, refresh) = try await server.signUp("erin")
            let first = try await server.call(.post, "/v1/auth/refresh", json: ["refresh_token": .string(refresh)])
            #expect(first.status == 200)
            let rotated = try #require(first.json["refresh_token"]?.stringValue)
            #expect(rotated != refresh)
            #expect(first.json["access_token"]?.stringValue?.isEmpty == false)

            let reused = try await server.call(.post, "/v1/auth/refresh", json: ["refresh_token": .string(refresh)])
            #expect(reused.status == 401)

            let logout = try await server.call(.post, "/v1/auth/logout", token: access)
            #expect(logout.status == 204)
            let afterLogout = try await server.call(
                .post, "/v1/auth/refresh", json: ["refresh_token": .string(rotated)])
            #expect(afterLogout.status == 401)
            #expect(server.users.refreshTokenCount == 0)

            let anonymousLogout = try await server.call(.post, "/v1/auth/logout")
            #expect(anonymousLogout.status == 401)
        }
    }

    @Test func adminBootstrapAndRoles() async throws {
        try await TestServer.run(routes: { table in
            table.get("/test/admin-only") { _, context in
                _ = try context.requireAdmin()
                return .json(["ok": true])
            }
        }) { server in
            let created = try await server.server.ensureAdminUser(password: "admin password")
            let createdAgain = try await server.server.ensureAdminUser(password: "admin password")
            #expect(created)
            #expect(!createdAgain)
            let (adminToken, _) = try await server.logIn("admin", password: "admin password")
            let (userToken, _) = try await server.signUp("frank")

            let asAdmin = try await server.call(.get, "/test/admin-only", token: adminToken)
            #expect(asAdmin.status == 200)
            let asUser = try await server.call(.get, "/test/admin-only", token: userToken)
            #expect(asUser.status == 403)
            #expect(asUser.errorCode == "FORBIDDEN")
            let anonymous = try await server.call(.get, "/test/admin-only")
            #expect(anonymous.status == 401)
            let me = try await server.call(.get, "/v1/me", token: adminToken)
            #expect(me.json["role"] == "admin")
        }
    }

    @Test func ensureAdminUserRefusesAShortPassword() async throws {
        try await TestServer.run { server in
            await #expect(throws: (any Error).self) { try await server.server.ensureAdminUser(password: "short") }
        }
    }

    @Test func theAuthorizationHeaderIsTwoWordsSeparatedBySpaces() {
        func words(_ header: String) -> [String]? {
            AuthenticationMiddleware.words(header).map { [String($0.0), String($0.1)] }
        }
        #expect(words("Bearer abc.def.ghi") == ["Bearer", "abc.def.ghi"])
        #expect(words("  bearer   abc  ") == ["bearer", "abc"])
        #expect(words("Basic dXNlcjpwYXNz") == ["Basic", "dXNlcjpwYXNz"])
        #expect(words("Bearer") == nil)
        #expect(words("Bearer ") == nil)
        #expect(words("Bearer a b") == nil)
        #expect(words("") == nil)
        #expect(words("   ") == nil)
        #expect(words("Bearer\tabc") == nil, "only spaces separate")
        #expect(words("Bearer tök") == ["Bearer", "tök"])
    }
}
