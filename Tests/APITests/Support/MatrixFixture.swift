import Foundation
import HTTPTypes
import NIOCore
import TestSupport
import Testing

@testable import API

/// The users of the security matrix on the real exchange (`AdminTestServer`): alice holds a deposit, a filled
/// order, a resting order and a strategy; carol sold her the fill; bob is the other user, who calls.
struct MatrixFixture: Sendable {
    struct User: Sendable {
        var username: String
        var userID: String
        var access: String
        var refresh: String
    }

    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    /// The key of alice's deposit (bob reuses it: it must not replay her deposit).
    static let aliceDepositKey = "alice-deposit-key"

    let server: AdminTestServer
    let alice: User
    let bob: User
    let carol: User
    /// Alice's resting order and her strategy.
    let aliceOrderID: String
    let aliceStrategyID: String
    /// Ids bob must never see, by the key they come under.
    let foreign: [String: Set<String>]
    /// Text bob must never see: alice's name, her strategy's name, her amounts.
    let markers: [String]

    /// Runs `body` with a fresh server and the users set up.
    static func run(_ body: @escaping @Sendable (MatrixFixture) async throws -> Void) async throws {
        try await AdminTestServer.run { server in try await body(try await make(server)) }
    }

    private static func make(_ server: AdminTestServer) async throws -> MatrixFixture {
        let alice = try await signUp(server, "alice_private")
        let bob = try await signUp(server, "bob")
        let carol = try await signUp(server, "carol")
        let deposit = try await request(
            server, .post, "/v1/account/deposits", json: ["currency": "USD", "amount": "13579.2468"],
            token: alice.access, headers: [idempotencyKey: aliceDepositKey])
        try #require(deposit.status == 201, "\(deposit.text)")
        let bobDeposit = try await request(
            server, .post, "/v1/account/deposits", json: ["currency": "USD", "amount": "1000"], token: bob.access)
        try #require(bobDeposit.status == 201, "\(bobDeposit.text)")
        let carolDeposit = try await request(
            server, .post, "/v1/account/deposits", json: ["currency": "BTC", "amount": "1"], token: carol.access)
        try #require(carolDeposit.status == 201, "\(carolDeposit.text)")
        let sold = try await placed(server, carol, SecurityMatrixTests.order("0.01", at: "100", side: "sell"))
        let bought = try await placed(
            server, alice, SecurityMatrixTests.order("0.01", at: "100", clientOrderID: "alice-filled"))
        try #require(bought["status"] == "filled", "\(bought)")
        let tradeID = try #require(bought["fills"]?.arrayValue?.first?["trade_id"]?.stringValue)
        let resting = try await placed(
            server, alice, SecurityMatrixTests.order("0.02", at: "90", clientOrderID: "alice-resting"))
        let strategy = try await request(
            server, .post, "/v1/strategies", json: SecurityMatrixTests.strategy("alice private strategy"),
            token: alice.access)
        try #require(strategy.status == 201, "\(strategy.text)")
        let balances = try await request(server, .get, "/v1/account/balances", token: alice.access)
        let usd = balances.json.arrayValue?.first { $0["currency"] == "USD" }
        let ids: [String?] = [bought["order_id"]?.stringValue, resting["order_id"]?.stringValue]
        return MatrixFixture(
            server: server, alice: alice, bob: bob, carol: carol,
            aliceOrderID: try #require(resting["order_id"]?.stringValue),
            aliceStrategyID: try #require(strategy.json["strategy_id"]?.stringValue),
            foreign: [
                "order_id": Set((ids + [sold["order_id"]?.stringValue]).compactMap { $0 }),
                "trade_id": [tradeID], "strategy_id": [try #require(strategy.json["strategy_id"]?.stringValue)],
                "user_id": [alice.userID, carol.userID],
            ],
            markers: ["alice_private", "carol", "alice private strategy", "13579.2468"]
                + [usd?["available"]?.stringValue, usd?["total"]?.stringValue].compactMap { $0 })
    }

    /// Calls `route` with alice's ids (or ids nobody has) in its path.
    func call(_ route: MatrixRoute, token: String? = nil, authorization: String? = nil, unknownIDs: Bool = false)
        async throws -> APIResponse
    {
        let parameters = [
            "order_id": unknownIDs ? "987654321" : aliceOrderID,
            "strategy_id": unknownIDs ? "st_BTC-USD_987654" : aliceStrategyID,
            "node_id": "api-admin", "shard": "accounts%2F0001", "symbol": "BTC-USD",
        ]
        var headers = route.headers
        if let authorization { headers[.authorization] = authorization }
        return try await Self.request(
            server, route.method, route.target(parameters), json: route.body, token: token, headers: headers)
    }

    /// What alice sees of her own data (portfolio aside: it follows the market price).
    func aliceView() async throws -> [JSONValue] {
        var view: [JSONValue] = []
        for path in [
            "/v1/me", "/v1/account/balances", "/v1/account/transactions", "/v1/orders?status=all", "/v1/trades",
            "/v1/strategies",
        ] {
            let response = try await Self.request(server, .get, path, token: alice.access)
            try #require(response.status == 200, "\(path): \(response.text)")
            view.append(response.json)
        }
        return view
    }

    /// What `response` shows of alice's (or carol's): her markers and ids found in it.
    func leaks(in response: APIResponse) -> [String] {
        var found = markers.filter { response.text.contains($0) }
        for (key, ids) in foreign.sorted(by: { $0.key < $1.key }) {
            found += Self.values(of: key, in: response.json).intersection(ids).sorted().map { "\(key) \($0)" }
        }
        return found
    }

    /// What bob's `orders` stream carried while alice placed `order` and then bob placed his own.
    struct StreamSeen: Sendable {
        var text = ""
        var orderIDs: Set<String> = []
        var aliceOrderID = ""
        var bobSentinelSeen = false
    }

    /// Opens bob's `orders` stream on a connection of its own, has alice place `order` and bob one order, and
    /// reads until bob's order shows (30 s at most).
    func bobsStream(whileAlicePlaces order: JSONValue) async throws -> StreamSeen {
        try await withThrowingTaskGroup(of: StreamSeen?.self) { group in
            group.addTask { try await readBobsStream(whileAlicePlaces: order) }
            group.addTask {
                try await Task.sleep(for: .seconds(30))
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return try #require(first, "bob's own order did not reach his stream within 30 s")
        }
    }

    private func readBobsStream(whileAlicePlaces order: JSONValue) async throws -> StreamSeen {
        try await H2Client.withConnection(host: "127.0.0.1", port: server.port) { client in
            try await client.streamingRequest(
                method: .get, path: "/v1/stream?channels=orders", headers: [.authorization: "Bearer \(bob.access)"]
            ) { head, body in
                var seen = StreamSeen()
                try #require(head.status == .ok, "bob's stream: \(head.status)")
                // Subscribed once the head is there: alice's order first, then bob's.
                seen.aliceOrderID = try #require(try await Self.placed(server, alice, order)["order_id"]?.stringValue)
                let sentinel = SecurityMatrixTests.order("0.001", at: "60", clientOrderID: "bob-sentinel")
                let bobs = try #require(try await Self.placed(server, bob, sentinel)["order_id"]?.stringValue)
                for try await chunk in body {
                    seen.text += String(buffer: chunk)
                    for line in seen.text.split(separator: "\n") where line.hasPrefix("data:") {
                        let event = (try? JSONParser().parse(Array(line.dropFirst(5).utf8))) ?? .null
                        seen.orderIDs.formUnion(Self.values(of: "order_id", in: event))
                    }
                    if seen.orderIDs.contains(bobs) {
                        seen.bobSentinelSeen = true
                        return seen
                    }
                }
                return seen
            }
        }
    }

    /// Bob's token with its claims edited to alice's id and role admin (bob's signature kept).
    func bobTokenClaimingAlice() throws -> String {
        let parts = bob.access.split(separator: ".").map(String.init)
        try #require(parts.count == 3)
        let payload = try #require(Base64URL.decode(parts[1]))
        var claims = try #require(try JSONParser().parse(payload).objectValue)
        claims["sub"] = .string(alice.userID)
        claims["role"] = "admin"
        return "\(parts[0]).\(Base64URL.encode(JSONWriter.bytes(.object(claims)))).\(parts[2])"
    }

    /// Every string or number under `key`, at any depth.
    static func values(of key: String, in value: JSONValue) -> Set<String> {
        switch value {
        case .object(let object):
            var found: Set<String> = []
            for member in object.members {
                switch (member.key == key, member.value) {
                case (true, .string(let text)), (true, .number(let text)): found.insert(text)
                default: break
                }
                found.formUnion(values(of: key, in: member.value))
            }
            return found
        case .array(let values): return values.reduce(into: []) { $0.formUnion(Self.values(of: key, in: $1)) }
        default: return []
        }
    }

    static func signUp(_ server: AdminTestServer, _ username: String) async throws -> User {
        let credentials: JSONValue = ["username": .string(username), "password": "correct horse"]
        let registered = try await request(server, .post, "/v1/auth/register", json: credentials)
        try #require(registered.status == 201, "\(registered.text)")
        let login = try await request(server, .post, "/v1/auth/login", json: credentials)
        try #require(login.status == 200, "\(login.text)")
        return User(
            username: username, userID: try #require(registered.json["user_id"]?.stringValue),
            access: try #require(login.json["access_token"]?.stringValue),
            refresh: try #require(login.json["refresh_token"]?.stringValue))
    }

    static func placed(_ server: AdminTestServer, _ user: User, _ order: JSONValue) async throws -> JSONValue {
        let response = try await request(server, .post, "/v1/orders", json: order, token: user.access)
        try #require(response.status == 201, "\(response.text)")
        return response.json
    }

    /// One request over the server's h2c connection.
    static func request(
        _ server: AdminTestServer, _ method: HTTPRequest.Method, _ path: String, json: JSONValue? = nil,
        token: String? = nil, headers: HTTPFields = [:]
    ) async throws -> APIResponse {
        var headers = headers
        if let token { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(bytes: JSONWriter.bytes(json))
            headers[.contentType] = "application/json"
        }
        let response = try await server.client.request(method: method, path: path, headers: headers, body: body)
        return APIResponse(
            status: Int(response.status.code), headers: response.headers, body: Array(buffer: response.body))
    }
}
