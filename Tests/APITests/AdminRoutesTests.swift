import Foundation
import HTTPTypes
import Testing

@testable import API
@testable import Actors

/// The admin routes of api.md "Operations" over the real exchange (SQLite in a temporary directory): role
/// `admin` required, api.md's error envelope on every refusal, bad input changes nothing.
@Suite("Admin routes")
struct AdminRoutesTests {
    static let adminRoutes: [(HTTPRequest.Method, String)] = [
        (.get, "/admin/v1/cluster"), (.get, "/admin/v1/shards"), (.post, "/admin/v1/nodes/api-admin/drain"),
        (.post, "/admin/v1/shards/accounts%2F0001/move"), (.post, "/admin/v1/markets"),
        (.post, "/admin/v1/markets/BTC-USD/halt"), (.post, "/admin/v1/markets/BTC-USD/resume"),
        (.get, "/admin/v1/verify"),
    ]

    @Test("every admin route: 401 without a valid token, 403 FORBIDDEN for a user")
    func everyRouteNeedsTheAdminRole() async throws {
        try await AdminTestServer.run { server in
            for (method, path) in Self.adminRoutes {
                let body: JSONValue? = method == .post ? ["to": "api-admin"] : nil
                let anonymous = try await server.call(method, path, json: body)
                #expect(anonymous.status == 401 && anonymous.errorCode == "UNAUTHORIZED", "\(path): \(anonymous.text)")
                let forged = try await server.call(method, path, json: body, token: "not.a.token")
                #expect(forged.status == 401 && forged.errorCode == "UNAUTHORIZED", "\(path)")
                let user = try await server.call(method, path, json: body, token: server.userToken)
                #expect(user.status == 403 && user.errorCode == "FORBIDDEN", "\(path): \(user.text)")
                #expect(user.errorMessage == "admin role required")
            }
            // Nothing changed: the market still trades.
            let market = try await server.call(.get, "/v1/markets")
            #expect(market.json.arrayValue?.first?["status"] == "trading")
        }
    }

    @Test("GET cluster and GET shards describe this node and every shard")
    func clusterAndShards() async throws {
        try await AdminTestServer.run { server in
            let cluster = try await server.call(.get, "/admin/v1/cluster", token: server.adminToken)
            #expect(cluster.status == 200)
            #expect(cluster.json["node_id"] == "api-admin")
            #expect(cluster.json["ring_version"] == 1)
            let members = try #require(cluster.json["members"]?.arrayValue)
            #expect(
                members == [
                    [
                        "id": "api-admin", "api_address": .string("127.0.0.1:\(server.port)"), "status": "serving",
                        "shards": 6,
                    ]
                ])
            #expect(cluster.json["shard_counts"] == ["total": 6, "symbol": 2, "accounts": 4])

            _ = try await server.call(
                .post, "/v1/account/deposits", json: ["currency": "USD", "amount": "100"], token: server.userToken)
            let shards = try await server.call(.get, "/admin/v1/shards", token: server.adminToken)
            #expect(shards.status == 200)
            let rows = try #require(shards.json.arrayValue)
            #expect(
                rows.compactMap { $0["shard"]?.stringValue } == [
                    "symbol/BTC-USD", "symbol/ETH-USD", "accounts/0000", "accounts/0001", "accounts/0002",
                    "accounts/0003",
                ])
            for row in rows {
                #expect(row["owner"] == "api-admin")
                #expect((row["epoch"]?.numberText).flatMap(Int.init).map { $0 >= 1 } == true)
                #expect(
                    row.objectValue?.keys.sorted() == [
                        "durable_sequence", "epoch", "journal_sequence", "kind", "last_snapshot_sequence", "owner",
                        "shard",
                    ])
            }
            // The deposit was journaled in the user's account shard.
            let journaled = rows.filter { $0["kind"] == "accounts" && $0["journal_sequence"] != 0 }
            #expect(journaled.count == 1)
        }
    }

    @Test("drain and move on the only node: 409, unknown node or shard 404, bad body 400")
    func drainAndMove() async throws {
        try await AdminTestServer.run { server in
            let token = server.adminToken
            let drain = try await server.call(.post, "/admin/v1/nodes/api-admin/drain", token: token)
            #expect(drain.status == 409 && drain.errorCode == "CONFLICT")
            #expect(drain.errorMessage == "cannot drain the only node")
            let unknown = try await server.call(.post, "/admin/v1/nodes/n9/drain", token: token)
            #expect(unknown.status == 404 && unknown.errorCode == "NOT_FOUND")
            #expect(unknown.errorMessage == "unknown node n9")

            let move = "/admin/v1/shards/accounts%2F0001/move"
            let toSelf = try await server.call(.post, move, json: ["to": "api-admin"], token: token)
            #expect(toSelf.status == 409 && toSelf.errorCode == "CONFLICT", "\(toSelf.text)")
            let symbolToSelf = try await server.call(
                .post, "/admin/v1/shards/symbol%2FBTC-USD/move", json: ["to": "api-admin"], token: token)
            #expect(symbolToSelf.status == 409)
            for shard in ["accounts%2F0004", "accounts%2F1", "symbol%2FDOGE-USD", "nonsense", "accounts%2"] {
                let response = try await server.call(
                    .post, "/admin/v1/shards/\(shard)/move", json: ["to": "api-admin"], token: token)
                #expect(response.status == 404 && response.errorCode == "NOT_FOUND", "\(shard): \(response.text)")
            }
            let toUnknown = try await server.call(.post, move, json: ["to": "n2"], token: token)
            #expect(toUnknown.status == 404 && toUnknown.errorMessage == "unknown node n2")
            for body in [#"{}"#, #"{"to": 7}"#, #"{"to": ""}"#, #"{"to": "#, "[]"] {
                let response = try await server.call(.post, move, body: body, token: token)
                #expect(
                    response.status == 400 && response.errorCode == "VALIDATION_ERROR", "\(body): \(response.text)")
                #expect(response.json["error"]?["message"]?.stringValue?.isEmpty == false)
            }
            let noBody = try await server.call(.post, move, token: token)
            #expect(noBody.status == 400 && noBody.errorCode == "VALIDATION_ERROR")
        }
    }

    @Test("POST markets adds a market that trades at once; duplicates 409; bad specs 400 and change nothing")
    func addMarket() async throws {
        try await AdminTestServer.run { server in
            let token = server.adminToken
            let added = try await server.call(.post, "/admin/v1/markets", json: Self.ada, token: token)
            #expect(added.status == 201, "\(added.text)")
            var expected = Self.ada.objectValue!
            expected["min_quantity"] = "10"
            expected["status"] = "trading"
            #expect(added.json == .object(expected))
            let markets = try await server.call(.get, "/v1/markets")
            #expect(
                markets.json.arrayValue?.compactMap { $0["symbol"]?.stringValue } == ["BTC-USD", "ETH-USD", "ADA-USD"])
            #expect(markets.json.arrayValue?.last == .object(expected))

            for duplicate in [Self.ada, Self.spec(["symbol": "BTC-USD", "base": "BTC"])] {
                let response = try await server.call(.post, "/admin/v1/markets", json: duplicate, token: token)
                #expect(response.status == 409 && response.errorCode == "CONFLICT", "\(response.text)")
            }

            let invalid: [JSONValue] = [
                Self.spec(["tick_size": "0.000000001"]), Self.spec(["tick_size": "0"]), Self.spec(["lot_size": "-1"]),
                Self.spec(["tick_size": "0.0001", "lot_size": "0.00001"]), Self.spec(["min_quantity": "1.5"]),
                Self.spec(["maker_fee_bps": 2_000]), Self.spec(["taker_fee_bps": "20"]),
                Self.spec(["maker_fee_bps": .number("1.5")]), Self.spec(["symbol": "xrp-usd"]),
                Self.spec(["quote": "ADA"]), Self.spec(["base": "XRP"]), Self.spec(["quote": "EUR"]),
                Self.spec(["symbol": .null]), Self.spec(["tick_size": true]),
            ]
            for body in invalid {
                let response = try await server.call(.post, "/admin/v1/markets", json: body, token: token)
                #expect(response.status == 400 && response.errorCode == "VALIDATION_ERROR", "\(body): \(response.text)")
            }
            for text in ["", "{", "[1]", #"{"symbol": "XRP-USD"}"#] {
                let response = try await server.call(.post, "/admin/v1/markets", body: text, token: token)
                #expect(response.status == 400 && response.errorCode == "VALIDATION_ERROR", "\(text): \(response.text)")
            }
            let after = try await server.call(.get, "/v1/markets")
            #expect(after.json.arrayValue?.count == 3, "bad input added nothing")

            // The new market trades.
            for (currency, amount) in [("USD", "1000"), ("ADA", "500")] {
                _ = try await server.call(
                    .post, "/v1/account/deposits", json: ["currency": .string(currency), "amount": .string(amount)],
                    token: server.userToken)
            }
            let order = try await server.call(
                .post, "/v1/orders",
                json: ["symbol": "ADA-USD", "side": "buy", "type": "limit", "quantity": "100", "price": "0.4512"],
                token: server.userToken)
            #expect(order.status == 201 && order.json["status"] == "new", "\(order.text)")
        }
    }

    @Test("halt and resume: the market's status; orders rejected while halted; unknown symbol 404")
    func haltAndResume() async throws {
        try await AdminTestServer.run { server in
            let token = server.adminToken
            let halted = try await server.call(.post, "/admin/v1/markets/BTC-USD/halt", token: token)
            #expect(halted.status == 200 && halted.json["symbol"] == "BTC-USD" && halted.json["status"] == "halted")
            _ = try await server.call(
                .post, "/v1/account/deposits", json: ["currency": "USD", "amount": "100000"], token: server.userToken)
            let order: JSONValue = [
                "symbol": "BTC-USD", "side": "buy", "type": "limit", "quantity": "0.01", "price": "50000",
            ]
            let refused = try await server.call(.post, "/v1/orders", json: order, token: server.userToken)
            #expect(refused.status == 422 && refused.errorCode == "ORDER_REJECTED")
            let again = try await server.call(.post, "/admin/v1/markets/BTC-USD/halt", token: token)
            #expect(again.status == 200 && again.json["status"] == "halted")
            let resumed = try await server.call(.post, "/admin/v1/markets/BTC-USD/resume", token: token)
            #expect(resumed.status == 200 && resumed.json["status"] == "trading")
            #expect(try await server.call(.post, "/v1/orders", json: order, token: server.userToken).status == 201)
            for path in ["/admin/v1/markets/DOGE-USD/halt", "/admin/v1/markets/btc-usd/resume"] {
                let response = try await server.call(.post, path, token: token)
                #expect(response.status == 404 && response.errorCode == "NOT_FOUND")
            }
        }
    }

    @Test("GET verify: ok on a trading exchange, not ok with the violation once the state is corrupted")
    func verify() async throws {
        try await AdminTestServer.run { server in
            try await Self.trade(server)
            let clean = try await server.call(.get, "/admin/v1/verify", token: server.adminToken)
            #expect(clean.status == 200)
            #expect(clean.json["ok"] == true && clean.json["violations"] == 0, "\(clean.text)")
            let checks = try #require(clean.json["checks"]?.arrayValue)
            #expect(
                checks.compactMap { $0["name"]?.stringValue } == [
                    "money_conservation", "non_negative_balances", "fills_settled", "books_uncrossed", "reservations",
                    "anomalies", "read_models", "shards_audited",
                ])
            #expect(checks.allSatisfy { $0["passed"] == true })
            #expect(clean.json["scope"] == ["markets": 2, "account_shards": 4, "users": 2])

            await server.exchange.accounts.all[1]._mutateStateForTesting { $0.anomalies += 1 }
            let corrupt = try await server.call(.get, "/admin/v1/verify", token: server.adminToken)
            #expect(corrupt.status == 200)
            #expect(corrupt.json["ok"] == false && corrupt.json["violations"] == 1)
            let anomalies = corrupt.json["checks"]?.arrayValue?.first { $0["name"] == "anomalies" }
            #expect(anomalies?["passed"] == false && anomalies?["violations"] == 1)
            #expect(anomalies?["examples"] == ["accounts/0001: 1 book events could not be applied"])
        }
    }

    @Test("an added market is still there after a restart")
    func addedMarketSurvivesRestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-admin-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await AdminTestServer.run(directory: directory) { server in
            let added = try await server.call(.post, "/admin/v1/markets", json: Self.ada, token: server.adminToken)
            #expect(added.status == 201)
            let halted = try await server.call(.post, "/admin/v1/markets/ADA-USD/halt", token: server.adminToken)
            #expect(halted.status == 200)
        }
        try await AdminTestServer.run(directory: directory) { server in
            let markets = try await server.call(.get, "/v1/markets")
            let ada = markets.json.arrayValue?.first { $0["symbol"] == "ADA-USD" }
            #expect(ada?["tick_size"] == "0.0001" && ada?["status"] == "halted", "\(markets.text)")
            let again = try await server.call(.post, "/admin/v1/markets", json: Self.ada, token: server.adminToken)
            #expect(again.status == 409)
        }
    }

    // MARK: Helpers

    static let ada: JSONValue = [
        "symbol": "ADA-USD", "base": "ADA", "quote": "USD", "tick_size": "0.0001", "lot_size": "1",
        "min_quantity": "10", "maker_fee_bps": 10, "taker_fee_bps": 20,
    ]

    /// The ADA spec with `changes`.
    static func spec(_ changes: JSONObject) -> JSONValue {
        var object = ada.objectValue!
        for member in changes.members { object[member.key] = member.value }
        return .object(object)
    }

    /// The user and a second trader cross a few orders.
    static func trade(_ server: AdminTestServer) async throws {
        let other = try await server.signUp("trader2")
        for token in [server.userToken, other] {
            for (currency, amount) in [("USD", "100000"), ("BTC", "2")] {
                let deposit = try await server.call(
                    .post, "/v1/account/deposits", json: ["currency": .string(currency), "amount": .string(amount)],
                    token: token)
                #expect(deposit.status == 201)
            }
        }
        for index in 0..<6 {
            let price = JSONValue.string("\(50_000 + index * 10)")
            let sell = try await server.call(
                .post, "/v1/orders",
                json: ["symbol": "BTC-USD", "side": "sell", "type": "limit", "quantity": "0.02", "price": price],
                token: other)
            #expect(sell.status == 201)
            let buy = try await server.call(
                .post, "/v1/orders",
                json: ["symbol": "BTC-USD", "side": "buy", "type": "limit", "quantity": "0.01", "price": price],
                token: server.userToken)
            #expect(buy.status == 201 && buy.json["status"] == "filled", "\(buy.text)")
        }
    }
}

extension JSONValue {
    /// The digits of a JSON number.
    fileprivate var numberText: String? {
        if case .number(let text) = self { return text }
        return nil
    }
}
