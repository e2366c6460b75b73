import HTTPTypes
import TestSupport
import Testing

@testable import API

@Suite("Error responses")
struct ErrorTests {
    @Test func unknownRouteIsJSON404() async throws {
        try await TestServer.run { server in
            for (method, path) in [
                (HTTPRequest.Method.get, "/nope"), (.post, "/v1/markets"), (.get, "/v1/orders/batch"),
            ] {
                let response = try await server.call(method, path)
                #expect(response.status == 404)
                #expect(response.errorCode == "NOT_FOUND")
                #expect(response.headers[.contentType] == "application/json")
            }
        }
    }

    @Test func malformedJSONMissingFieldsAndWrongTypes() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("grace")
            let cases: [(String, String)] = [
                ("{", "malformed JSON"),
                ("", "request body is required"),
                ("[1]", "order must be a JSON object"),
                (#"{"symbol":"BTC-USD","side":"buy","type":"limit","price":"1"}"#, "quantity is required"),
                (
                    #"{"symbol":"BTC-USD","side":"hold","type":"limit","price":"1","quantity":"1"}"#,
                    "side must be one of buy, sell"
                ),
                (
                    #"{"symbol":"BTC-USD","side":"buy","type":"iceberg","price":"1","quantity":"1"}"#,
                    "type must be one of"
                ),
                (
                    #"{"symbol":"BTC-USD","side":"buy","type":"limit","price":"1","quantity":"1","time_in_force":"day"}"#,
                    "time_in_force must be one of"
                ),
                (
                    #"{"symbol":"BTC-USD","side":"buy","type":"limit","price":"1.001","quantity":"1"}"#,
                    "price must be a multiple of the tick size 0.01"
                ),
                (#"{"symbol":"BTC-USD","side":"buy","type":"limit","price":"1","quantity":"0.000001"}"#, "quantity"),
                (
                    #"{"symbol":"BTC-USD","side":"buy","type":"limit","price":"-1","quantity":"1"}"#,
                    "price must be positive"
                ),
                (
                    #"{"symbol":"BTC-USD","side":"buy","type":"limit","price":"abc","quantity":"1"}"#,
                    "price is not a number"
                ),
                (
                    #"{"symbol":"BTC-USD","side":"buy","type":"limit","price":true,"quantity":"1"}"#,
                    "price must be a decimal"
                ),
                (
                    #"{"symbol":"BTC-USD","side":"buy","type":"limit","quantity":"1"}"#,
                    "price is required for limit orders"
                ),
                (
                    #"{"symbol":"BTC-USD","side":"buy","type":"market","price":"1","quantity":"1"}"#,
                    "price is not allowed"
                ),
                (#"{"symbol":"BTC-USD","side":"buy","type":"stop","quantity":"1"}"#, "stop_price is required"),
                (
                    #"{"symbol":"BTC-USD","side":"buy","type":"limit","price":"1","quantity":"1","post_only":"yes"}"#,
                    "post_only must be a boolean"
                ),
                (
                    #"{"symbol":"BTC-USD","side":"buy","type":"limit","price":"1","quantity":"1","side":"sell"}"#,
                    "duplicate key"
                ),
            ]
            for (body, message) in cases {
                let response = try await server.call(.post, "/v1/orders", body: body, token: token)
                #expect(response.status == 400, "\(body)")
                #expect(response.errorCode == "VALIDATION_ERROR", "\(body)")
                #expect(response.errorMessage?.contains(message) == true, "\(body): \(response.errorMessage ?? "")")
            }
        }
    }

    @Test func unknownSymbolIs404() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("heidi")
            for path in ["/v1/markets/XRP-USD/ticker", "/v1/markets/btc-usd/orderbook", "/v1/markets/XRP-USD/candles"] {
                let response = try await server.call(.get, path)
                #expect(response.status == 404, "\(path)")
                #expect(response.errorCode == "NOT_FOUND")
            }
            let order = try await server.call(
                .post, "/v1/orders",
                json: ["symbol": "XRP-USD", "side": "buy", "type": "limit", "price": "1", "quantity": "1"],
                token: token)
            #expect(order.status == 404)
        }
    }

    @Test func protectedRoutesNeedAToken() async throws {
        try await TestServer.run { server in
            for (method, path) in [
                (HTTPRequest.Method.get, "/v1/me"), (.get, "/v1/account/balances"), (.post, "/v1/orders"),
                (.get, "/v1/orders"), (.get, "/v1/portfolio"), (.delete, "/v1/orders/1"),
            ] {
                let response = try await server.call(method, path)
                #expect(response.status == 401, "\(method) \(path)")
                #expect(response.errorCode == "UNAUTHORIZED")
            }
        }
    }

    @Test func bodyOverTheLimitIs413() async throws {
        try await TestServer.run(configure: { $0.limits.bodyBytes = 1024 }) { server in
            let big = #"{"username":""# + String(repeating: "a", count: 2000) + #"","password":"x"}"#
            let response = try await server.call(.post, "/v1/auth/register", body: big)
            #expect(response.status == 413)
            #expect(response.errorCode == "PAYLOAD_TOO_LARGE")
            // The connection still serves.
            #expect(try await server.call(.get, "/healthz").status == 200)
        }
    }

    @Test func defaultBodyLimitIs64KiB() async throws {
        #expect(APIConfiguration().limits.bodyBytes == 65_536)
        try await TestServer.run { server in
            let padding = String(repeating: " ", count: 70_000)
            let response = try await server.call(.post, "/v1/auth/login", body: "{\(padding)}")
            #expect(response.status == 413)
        }
    }

    @Test func unexpectedErrorsAreA500WithoutDetails() async throws {
        try await TestServer.run { server in
            let response = try await server.call(.get, "/v1/markets/BOOM-USD/ticker")
            #expect(response.status == 500)
            #expect(response.json == ["error": ["code": "INTERNAL", "message": "internal error"]])
            #expect(!response.text.contains("secret"))
        }
    }

    @Test func rateLimitPerIPAndPerUser() async throws {
        try await TestServer.run(configure: { configuration in
            configuration.limits.requestsPerSecond = 1
            configuration.limits.burst = 3
        }) { server in
            for _ in 0..<3 { #expect(try await server.call(.get, "/v1/markets").status == 200) }
            let limited = try await server.call(.get, "/v1/markets")
            #expect(limited.status == 429)
            #expect(limited.errorCode == "RATE_LIMITED")
            #expect(limited.headers[.retryAfter] == "1")
            // Probes are not limited.
            #expect(try await server.call(.get, "/healthz").status == 200)
            server.clock.advance(seconds: 1)
            #expect(try await server.call(.get, "/v1/markets").status == 200)
        }
    }

    @Test func authenticatedCallersHaveTheirOwnBucket() async throws {
        try await TestServer.run(configure: { configuration in
            configuration.limits.requestsPerSecond = 1
            configuration.limits.burst = 4
        }) { server in
            let (token, _) = try await server.signUp("ivan")  // 2 anonymous requests
            for _ in 0..<4 { #expect(try await server.call(.get, "/v1/me", token: token).status == 200) }
            #expect(try await server.call(.get, "/v1/me", token: token).status == 429)
            #expect(try await server.call(.get, "/v1/markets").status == 200)  // the IP's bucket has 2 left
        }
    }

    @Test func loginAttemptsPerMinutePerIP() async throws {
        try await TestServer.run(configure: { $0.limits.loginPerMinute = 3 }) { server in
            for _ in 0..<3 {
                let attempt = try await server.call(
                    .post, "/v1/auth/login", json: ["username": "x", "password": "wrong password"])
                #expect(attempt.status == 401)
            }
            let limited = try await server.call(
                .post, "/v1/auth/login", json: ["username": "x", "password": "wrong password"])
            #expect(limited.status == 429)
            #expect(limited.headers[.retryAfter] == "20")
            server.clock.advance(seconds: 20)
            let again = try await server.call(
                .post, "/v1/auth/login", json: ["username": "x", "password": "wrong password"])
            #expect(again.status == 401)
        }
    }
}
