import Foundation
import HTTPTypes
import TestSupport
import Testing

@testable import API

/// Who may call every route that is not public, from one table, over the real exchange (`AdminTestServer`: SQLite
/// in a temporary directory): anonymous or forged callers get 401, a user gets 404 for another user's order or
/// strategy (as for an unknown one) and never sees another user's data on a route without an id, a user gets 403
/// on an admin route. A route of `GET /openapi.json` that is in neither the table nor the public list fails.
@Suite("Security matrix", .timeLimit(.minutes(3)))
struct SecurityMatrixTests {
    /// Routes that answer anyone (api.md "Auth" login side, "Markets", "Operations").
    static let publicRoutes: Set<String> = [
        "POST /v1/auth/register", "POST /v1/auth/login", "POST /v1/auth/refresh", "GET /.well-known/jwks.json",
        "GET /v1/markets", "GET /v1/markets/{symbol}/ticker", "GET /v1/markets/{symbol}/orderbook",
        "GET /v1/markets/{symbol}/trades", "GET /v1/markets/{symbol}/candles", "GET /healthz", "GET /readyz",
        "GET /metrics", "GET /openapi.json",
    ]

    /// Every route that needs a caller, in the order the per-caller checks run (a new route is one line).
    static let routes: [MatrixRoute] = [
        .init(.get, "/v1/me", .caller(200)),
        // Reusing another user's Idempotency-Key deposits: it must not replay theirs.
        .init(
            .post, "/v1/account/deposits", .caller(201), body: ["currency": "USD", "amount": "250"],
            headers: [MatrixFixture.idempotencyKey: MatrixFixture.aliceDepositKey]),
        .init(.post, "/v1/account/withdrawals", .caller(201), body: ["currency": "USD", "amount": "10"]),
        .init(.get, "/v1/account/balances", .caller(200)),
        .init(.get, "/v1/account/transactions", .caller(200)),
        // Reusing another user's client_order_id places a new order: it must not replay theirs.
        .init(.post, "/v1/orders", .caller(201), body: order("0.001", at: "80", clientOrderID: "alice-resting")),
        .init(.post, "/v1/orders/batch", .caller(200), body: ["orders": [order("0.001", at: "81")]]),
        .init(.get, "/v1/orders", .caller(200), query: "status=all"),
        .init(.get, "/v1/trades", .caller(200)),
        .init(.get, "/v1/orders/{order_id}", .owned(200)),
        .init(.patch, "/v1/orders/{order_id}", .owned(200), body: ["price": "91"]),
        .init(.delete, "/v1/orders/{order_id}", .owned(200)),
        .init(.delete, "/v1/orders", .caller(200)),
        .init(.get, "/v1/portfolio", .caller(200)),
        .init(.get, "/v1/portfolio/performance", .caller(200)),
        .init(.post, "/v1/strategies/validate", .caller(200), body: strategy("validated")),
        .init(
            .post, "/v1/indicators", .caller(200), body: ["name": "sma", "params": ["period": 2], "closes": [1, 2]]),
        .init(.post, "/v1/strategies", .caller(201), body: strategy("bob strategy")),
        .init(.get, "/v1/strategies", .caller(200)),
        .init(.get, "/v1/strategies/{strategy_id}", .owned(200)),
        .init(.get, "/v1/strategies/{strategy_id}/signals", .owned(200)),
        .init(.post, "/v1/strategies/{strategy_id}/pause", .owned(200)),
        .init(.post, "/v1/strategies/{strategy_id}/resume", .owned(200)),
        .init(.delete, "/v1/strategies/{strategy_id}", .owned(200)),
        .init(
            .post, "/v1/backtests", .caller(200),
            body: BacktestRoutesTests.body(candles: BacktestRoutesTests.rfc3339Candles)),
        .init(.get, "/v1/stream", .callerStream, query: "channels=orders"),
        // Last of the caller's routes: it revokes the caller's refresh tokens.
        .init(.post, "/v1/auth/logout", .caller(204)),
        .init(.get, "/admin/v1/cluster", .admin(200)),
        .init(.get, "/admin/v1/shards", .admin(200)),
        .init(.post, "/admin/v1/nodes/{node_id}/drain", .admin(409)),
        .init(.post, "/admin/v1/shards/{shard}/move", .admin(409), body: ["to": "api-admin"]),
        .init(.post, "/admin/v1/markets", .admin(201), body: newMarket),
        .init(.post, "/admin/v1/markets/{symbol}/halt", .admin(200)),
        .init(.post, "/admin/v1/markets/{symbol}/resume", .admin(200)),
        .init(.get, "/admin/v1/verify", .admin(200)),
    ]

    /// Routes whose answer to alice shows her markers or ids (the control of the per-caller check).
    static let aliceOwnData = [
        "/v1/me", "/v1/account/balances", "/v1/account/transactions", "/v1/orders", "/v1/trades", "/v1/strategies",
    ]

    static func order(_ quantity: String, at price: String, side: String = "buy", clientOrderID: String? = nil)
        -> JSONValue
    {
        var object: JSONObject = [
            "symbol": "BTC-USD", "side": .string(side), "type": "limit", "quantity": .string(quantity),
            "price": .string(price),
        ]
        if let clientOrderID { object["client_order_id"] = .string(clientOrderID) }
        return .object(object)
    }

    static func strategy(_ name: String) -> JSONValue {
        var object = StrategyRoutesTests.strategy.objectValue!
        object["name"] = .string(name)
        return .object(object)
    }

    static let newMarket: JSONValue = [
        "symbol": "SEC-USD", "base": "SEC", "quote": "USD", "tick_size": "0.01", "lot_size": "0.001",
        "min_quantity": "0.001", "maker_fee_bps": 10, "taker_fee_bps": 20,
    ]

    @Test("every route of the table refuses anonymous, malformed and forged callers with 401 UNAUTHORIZED")
    func unauthenticatedCallersGet401() async throws {
        try await MatrixFixture.run { fixture in
            let before = try await fixture.aliceView()
            let callers: [(String, String?)] = [
                ("no token", nil), ("a token that is no JWT", "Bearer not.a.token"),
                ("another scheme", "Basic \(Data("alice:correct horse".utf8).base64EncodedString())"),
                ("bob's token with claims edited to alice and admin", "Bearer \(try fixture.bobTokenClaimingAlice())"),
            ]
            for route in Self.routes {
                for (name, authorization) in callers {
                    let response = try await fixture.call(route, authorization: authorization)
                    expectError(response, 401, "UNAUTHORIZED", "\(route), \(name)")
                }
            }
            #expect(try await fixture.aliceView() == before, "refused calls changed alice's data")
        }
    }

    @Test("another user's order or strategy is 404 NOT_FOUND, as an unknown one, and stays as it was")
    func anotherUsersResourcesAre404() async throws {
        try await MatrixFixture.run { fixture in
            let before = try await fixture.aliceView()
            let owned = Self.routes.filter { if case .owned = $0.access { true } else { false } }
            #expect(owned.count == 8)
            for route in owned {
                let theirs = try await fixture.call(route, token: fixture.bob.access)
                expectError(theirs, 404, "NOT_FOUND", "\(route) on alice's resource")
                let unknown = try await fixture.call(route, token: fixture.bob.access, unknownIDs: true)
                expectError(unknown, 404, "NOT_FOUND", "\(route) on an unknown id")
                #expect(theirs.text == unknown.text, "\(route): another user's resource must look unknown")
            }
            #expect(try await fixture.aliceView() == before, "bob's calls changed alice's orders or strategies")
            // The owner gets through on the same routes (so the 404s above were about ownership).
            for route in owned {
                guard case .owned(let status) = route.access else { continue }
                let response = try await fixture.call(route, token: fixture.alice.access)
                #expect(response.status == status, "\(route) by its owner: \(response.text)")
            }
        }
    }

    @Test("a route without an id shows the caller's own data only, and changes nobody else's")
    func perCallerRoutesShowOnlyTheCallersData() async throws {
        try await MatrixFixture.run { fixture in
            let before = try await fixture.aliceView()
            for route in Self.routes {
                guard case .caller(let status) = route.access else { continue }
                let response = try await fixture.call(route, token: fixture.bob.access)
                #expect(response.status == status, "\(route) by bob: \(response.text)")
                let leaks = fixture.leaks(in: response)
                #expect(leaks.isEmpty, "\(route) shows another user's \(leaks): \(response.text)")
            }
            #expect(try await fixture.aliceView() == before, "bob's calls changed alice's data")
            // The same check finds alice's data in her own answers (so it would find it in bob's).
            for path in Self.aliceOwnData {
                let own = try await fixture.call(.init(.get, path, .caller(200)), token: fixture.alice.access)
                #expect(own.status == 200 && !fixture.leaks(in: own).isEmpty, "\(path) by alice: \(own.text)")
            }
            // Bob's logout revoked bob's refresh token, not alice's.
            let bobRefresh = try await fixture.server.call(
                .post, "/v1/auth/refresh", json: ["refresh_token": .string(fixture.bob.refresh)])
            expectError(bobRefresh, 401, "UNAUTHORIZED", "bob's refresh token after bob's logout")
            let aliceRefresh = try await fixture.server.call(
                .post, "/v1/auth/refresh", json: ["refresh_token": .string(fixture.alice.refresh)])
            #expect(aliceRefresh.status == 200, "alice's refresh token after bob's logout: \(aliceRefresh.text)")
        }
    }

    @Test("the orders stream carries the caller's orders and none of another user's")
    func ordersStreamCarriesOnlyTheCallersOrders() async throws {
        try await MatrixFixture.run { fixture in
            let seen = try await fixture.bobsStream(whileAlicePlaces: Self.order("0.003", at: "70"))
            #expect(seen.bobSentinelSeen, "bob's own order reached bob's stream: \(seen.text)")
            #expect(!seen.orderIDs.contains(seen.aliceOrderID), "alice's order reached bob's stream: \(seen.text)")
            #expect(seen.orderIDs.isDisjoint(with: fixture.foreign["order_id"] ?? []), "\(seen.text)")
            #expect(!seen.text.contains("alice"), "\(seen.text)")
        }
    }

    @Test("every admin route: 401 for anonymous callers, 403 FORBIDDEN for a user, served for the admin")
    func adminRoutesNeedTheAdminRole() async throws {
        try await MatrixFixture.run { fixture in
            let admin = Self.routes.filter { if case .admin = $0.access { true } else { false } }
            #expect(admin.count == 8)
            for route in admin {
                expectError(try await fixture.call(route), 401, "UNAUTHORIZED", "\(route) anonymous")
                let user = try await fixture.call(route, token: fixture.bob.access)
                expectError(user, 403, "FORBIDDEN", "\(route) by a user")
            }
            for route in admin {
                guard case .admin(let status) = route.access else { continue }
                let response = try await fixture.call(route, token: fixture.server.adminToken)
                #expect(response.status == status, "\(route) by the admin: \(response.text)")
            }
        }
    }

    @Test("the table names every route of GET /openapi.json that is not public, and only those")
    func theTableCoversTheOpenAPIDocument() async throws {
        try await AdminTestServer.run { server in
            let document = try await server.call(.get, "/openapi.json")
            #expect(document.status == 200)
            let paths = try #require(document.json["paths"]?.objectValue)
            let table = Set(Self.routes.map(\.key))
            #expect(table.count == Self.routes.count, "a route is in the table twice")
            var documented: Set<String> = []
            for path in paths.members {
                for operation in path.value.objectValue?.members ?? [] {
                    let key = "\(operation.key.uppercased()) \(path.key)"
                    documented.insert(key)
                    let secured = operation.value["security"] != nil
                    let listed = table.contains(key)
                    if secured || !Self.publicRoutes.contains(key) {
                        #expect(listed, "\(key) needs a caller but has no line in the security matrix")
                    }
                    if Self.publicRoutes.contains(key) {
                        #expect(!secured, "\(key) is documented as secured but listed as public")
                    }
                }
            }
            #expect(
                table.subtracting(documented).isEmpty, "not in the OpenAPI document: \(table.subtracting(documented))")
            #expect(Self.publicRoutes.subtracting(documented).isEmpty)
            #expect(documented.count == table.count + Self.publicRoutes.count)
        }
    }
}

/// An error answer as api.md has it: the status, and `{"error": {"code", "message"}}` with nothing else.
func expectError(
    _ response: APIResponse, _ status: Int, _ code: String, _ comment: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(
        response.status == status, "\(comment): \(response.status) \(response.text)", sourceLocation: sourceLocation)
    #expect(response.errorCode == code, "\(comment): \(response.text)", sourceLocation: sourceLocation)
    #expect(
        response.json.objectValue?.keys == ["error"], "\(comment): \(response.text)", sourceLocation: sourceLocation)
    #expect(
        response.json["error"]?.objectValue?.keys.sorted() == ["code", "message"]
            && response.errorMessage?.isEmpty == false,
        "\(comment): \(response.text)", sourceLocation: sourceLocation)
    #expect(
        response.headers[.contentType]?.hasPrefix("application/json") == true, "\(comment)",
        sourceLocation: sourceLocation)
}

/// One line of the security matrix.
struct MatrixRoute: Sendable, CustomStringConvertible {
    enum Access: Sendable {
        /// The caller's own data, without an id; another user's never shows. The caller's call answers the status.
        case caller(Int)
        /// The caller's `orders` event stream.
        case callerStream
        /// A user's resource named by a path parameter: 404 for anyone else, the status for its owner.
        case owned(Int)
        /// Role `admin` required: 403 for a user, the status for the admin.
        case admin(Int)
    }

    var method: HTTPRequest.Method
    /// The path in OpenAPI form, with `{parameters}`.
    var path: String
    var access: Access
    var body: JSONValue?
    var query: String
    var headers: HTTPFields

    init(
        _ method: HTTPRequest.Method, _ path: String, _ access: Access, body: JSONValue? = nil, query: String = "",
        headers: HTTPFields = [:]
    ) {
        self.method = method
        self.path = path
        self.access = access
        self.body = body
        self.query = query
        self.headers = headers
    }

    /// `METHOD /path` as the OpenAPI document names the operation.
    var key: String { "\(method.rawValue) \(path)" }
    var description: String { key }

    /// The path with its parameters replaced, and the query.
    func target(_ parameters: [String: String]) -> String {
        var path = self.path
        for (name, value) in parameters { path = path.replacingOccurrences(of: "{\(name)}", with: value) }
        return query.isEmpty ? path : "\(path)?\(query)"
    }
}
