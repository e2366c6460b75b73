import HTTPTypes
import Testing

@testable import API

@Suite("Request ids")
struct RequestIDTests {
    static let field = HTTPField.Name("X-Request-Id")!

    @Test func everyResponseCarriesAnIDAndAClientsValidIDIsKept() async throws {
        try await TestServer.run { server in
            let drawn = try await server.call(.get, "/v1/markets")
            #expect(drawn.status == 200)
            let first = try #require(drawn.headers[Self.field])
            #expect(first.count == 32 && first.allSatisfy(\.isHexDigit))
            let again = try await server.call(.get, "/v1/markets")
            #expect(again.headers[Self.field] != first, "each request draws its own id")

            let chosen = try await server.call(.get, "/v1/markets", headers: [Self.field: "client-42.a:b_c"])
            #expect(chosen.headers[Self.field] == "client-42.a:b_c")

            // Errors carry it too: an unknown route, a refused token.
            let missing = try await server.call(.get, "/v1/nowhere", headers: [Self.field: "lost-1"])
            #expect(missing.status == 404)
            #expect(missing.headers[Self.field] == "lost-1")
            let refused = try await server.call(.get, "/v1/account/balances", token: "not-a-token")
            #expect(refused.status == 401)
            #expect(refused.headers[Self.field]?.count == 32)
        }
    }

    /// A value new with every response would only churn HTTP/2's header compression table (HPACK): the node sends
    /// it as a literal that the peer does not index, which the client's decoder reports as `.avoid`.
    @Test func theIDIsNotIndexedByHeaderCompression() async throws {
        try await TestServer.run { server in
            for _ in 0..<3 {
                let response = try await server.call(.get, "/v1/markets")
                let field = try #require(response.headers.first { $0.name == Self.field })
                #expect(field.indexingStrategy == .avoid)
                #expect(response.headers.first { $0.name == .contentType }?.indexingStrategy == .automatic)
            }
        }
    }

    @Test(arguments: ["", "has space", "semi;colon", "ünïcode", String(repeating: "a", count: 129)])
    func anUnacceptableClientIDIsReplaced(_ value: String) async throws {
        #expect(RequestIDMiddleware.accepted(value) == nil)
        try await TestServer.run { server in
            var headers = HTTPFields()
            if let name = HTTPField.Name("X-Request-Id"), !value.isEmpty, value.unicodeScalars.allSatisfy(\.isASCII) {
                headers[name] = value
            }
            let response = try await server.call(.get, "/v1/markets", headers: headers)
            let id = try #require(response.headers[Self.field])
            #expect(id != value)
            #expect(id.count == 32 && id.allSatisfy(\.isHexDigit))
        }
    }

    @Test func acceptedIDs() {
        #expect(RequestIDMiddleware.accepted("a") == "a")
        #expect(RequestIDMiddleware.accepted(String(repeating: "Z9", count: 64)) != nil)
        #expect(RequestIDMiddleware.generate().count == 32)
    }
}
