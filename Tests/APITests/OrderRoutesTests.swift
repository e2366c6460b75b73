import Actors
import TestSupport
import Testing
import Trading

@testable import API

@Suite("Order routes")
struct OrderRoutesTests {
    static func funded(_ server: TestServer, _ name: String) async throws -> String {
        let (token, _) = try await server.signUp(name)
        let deposit = try await server.call(
            .post, "/v1/account/deposits", json: ["currency": "USD", "amount": "1000000"], token: token)
        precondition(deposit.status == 201)
        return token
    }

    @Test func jsonNumbersAreReadExactly() async throws {
        try await TestServer.run { server in
            let token = try await Self.funded(server, "judy")
            let asNumber = try await server.call(
                .post, "/v1/orders",
                body: #"{"symbol":"BTC-USD","side":"buy","type":"limit","price":50000.1,"quantity":0.1}"#,
                token: token)
            #expect(asNumber.status == 201)
            let asString = try await server.call(
                .post, "/v1/orders",
                json: ["symbol": "BTC-USD", "side": "buy", "type": "limit", "price": "50000.10", "quantity": "0.1"],
                token: token)
            #expect(asString.status == 201)
            let placed = await server.exchange.placed
            #expect(placed.count == 2)
            #expect(placed[0].quantity == (try FakeExchange.btc.quantity(parsing: "0.1")))
            #expect(placed[0].quantity == Quantity(lots: 10_000))
            #expect(placed[0].price == Price(ticks: 5_000_010))
            #expect(placed[0] == placed[1])
            #expect(asNumber.json["quantity"] == "0.10000")
            #expect(asNumber.json["price"] == "50000.10")
            // Exponents are exact too; too many decimals for the grid is a 400.
            let exponent = try await server.call(
                .post, "/v1/orders",
                body: #"{"symbol":"BTC-USD","side":"buy","type":"limit","price":5.0000001e4,"quantity":1e-5}"#,
                token: token)
            #expect(exponent.status == 400)
            let exact = try await server.call(
                .post, "/v1/orders",
                body: #"{"symbol":"BTC-USD","side":"buy","type":"limit","price":5.0001e4,"quantity":1E-5}"#,
                token: token)
            #expect(exact.status == 201)
            #expect(exact.json["price"] == "50001.00")
        }
    }

    @Test func placeRendersTheOrderAndClientOrderIDsAreIdempotent() async throws {
        try await TestServer.run { server in
            let token = try await Self.funded(server, "kim")
            let request: JSONValue = [
                "symbol": "BTC-USD", "side": "buy", "type": "limit", "price": "40000", "quantity": "0.002",
                "client_order_id": "partial",
            ]
            let first = try await server.call(.post, "/v1/orders", json: request, token: token)
            #expect(first.status == 201)
            let order = first.json
            #expect(order["order_id"] == "1")
            #expect(order["client_order_id"] == "partial")
            #expect(order["status"] == "partially_filled")
            #expect(order["time_in_force"] == "gtc")
            #expect(order["stop_price"] == .null)
            #expect(order["filled_quantity"] == "0.00101")
            #expect(order["remaining_quantity"] == "0.00099")
            // (40000 × 0.001 + 39999.99 × 0.00001) / 0.00101 = 39999.9999009901 (half-even to 8 places)
            #expect(order["average_price"] == "39999.99990099")
            let fill = try #require(order["fills"]?.arrayValue?.first)
            #expect(
                fill == [
                    "trade_id": "1", "price": "40000.00", "quantity": "0.00100", "fee": "0.00000001",
                    "fee_currency": "USD", "liquidity": "taker", "timestamp": "2024-05-01T12:00:00.000Z",
                ])

            let again = try await server.call(.post, "/v1/orders", json: request, token: token)
            #expect(again.status == 200)
            #expect(again.json["order_id"] == "1")
            var changed = request.objectValue!
            changed["quantity"] = "0.003"
            let conflict = try await server.call(.post, "/v1/orders", json: .object(changed), token: token)
            #expect(conflict.status == 409)

            let fills = try await server.call(.get, "/v1/trades?symbol=BTC-USD", token: token)
            #expect(fills.json.arrayValue?.count == 2)
            #expect(fills.json.arrayValue?.first?["order_id"] == "1")
        }
    }

    @Test func domainErrorsMapTo422() async throws {
        try await TestServer.run { server in
            let (poor, _) = try await server.signUp("lou")
            let broke = try await server.call(
                .post, "/v1/orders",
                json: ["symbol": "BTC-USD", "side": "buy", "type": "limit", "price": "1", "quantity": "1"],
                token: poor)
            #expect(broke.status == 422)
            #expect(broke.errorCode == "INSUFFICIENT_FUNDS")
            let market = try await server.call(
                .post, "/v1/orders", json: ["symbol": "BTC-USD", "side": "sell", "type": "market", "quantity": "1"],
                token: poor)
            #expect(market.status == 422)
            #expect(market.errorCode == "ORDER_REJECTED")
        }
    }

    @Test func batchReportsEachResult() async throws {
        try await TestServer.run { server in
            let token = try await Self.funded(server, "mia")
            let body: JSONValue = [
                "orders": [
                    ["symbol": "BTC-USD", "side": "buy", "type": "limit", "price": "100", "quantity": "0.01"],
                    ["symbol": "BTC-USD", "side": "buy", "type": "limit", "price": "100.001", "quantity": "0.01"],
                    ["symbol": "NOPE-USD", "side": "buy", "type": "limit", "price": "1", "quantity": "1"],
                    ["symbol": "BTC-USD", "side": "sell", "type": "market", "quantity": "0.01"],
                    ["symbol": "ETH-USD", "side": "sell", "type": "stop", "stop_price": "2000", "quantity": "0.5"],
                ]
            ]
            let response = try await server.call(.post, "/v1/orders/batch", json: body, token: token)
            #expect(response.status == 200)
            let results = try #require(response.json["results"]?.arrayValue)
            #expect(results.map { $0["status"] } == [201, 400, 404, 422, 201])
            #expect(results[0]["order"]?["order_id"] == "1")
            #expect(results[1]["error"]?["code"] == "VALIDATION_ERROR")
            #expect(results[1]["order"] == nil)
            #expect(results[4]["order"]?["status"] == "pending_trigger")

            let empty = try await server.call(.post, "/v1/orders/batch", json: ["orders": []], token: token)
            #expect(empty.status == 400)
            let tooMany = try await server.call(
                .post, "/v1/orders/batch",
                json: ["orders": .array(Array(repeating: body["orders"]!.arrayValue![0], count: 21))], token: token)
            #expect(tooMany.status == 400)
        }
    }

    @Test func listGetCancelAmend() async throws {
        try await TestServer.run { server in
            let token = try await Self.funded(server, "nick")
            let (other, _) = try await server.signUp("olga")
            for price in ["100", "101", "102"] {
                let placed = try await server.call(
                    .post, "/v1/orders",
                    json: [
                        "symbol": "BTC-USD", "side": "buy", "type": "limit", "price": .string(price),
                        "quantity": "0.01",
                    ],
                    token: token)
                #expect(placed.status == 201)
            }
            let list = try await server.call(.get, "/v1/orders?status=open&limit=2", token: token)
            #expect(list.json.arrayValue?.map { $0["order_id"] } == ["3", "2"])
            #expect(try await server.call(.get, "/v1/orders?status=pending", token: token).status == 400)

            #expect(try await server.call(.get, "/v1/orders/1", token: token).json["price"] == "100.00")
            #expect(try await server.call(.get, "/v1/orders/1", token: other).status == 404)
            for bad in ["abc", "-1", "1.0", "99999999999999999999999", "%201"] {
                #expect(try await server.call(.get, "/v1/orders/\(bad)", token: token).status == 404, "\(bad)")
            }

            let amended = try await server.call(
                .patch, "/v1/orders/2", json: ["price": .number("99.5"), "quantity": "0.02"], token: token)
            #expect(amended.status == 200)
            #expect(amended.json["price"] == "99.50")
            #expect(amended.json["quantity"] == "0.02000")
            #expect(try await server.call(.patch, "/v1/orders/2", json: [:], token: token).status == 400)
            #expect(
                try await server.call(.patch, "/v1/orders/2", json: ["price": "99.505"], token: token).status == 400)

            let cancelled = try await server.call(.delete, "/v1/orders/1", token: token)
            #expect(cancelled.json["status"] == "cancelled")
            #expect(cancelled.json["remaining_quantity"] == "0.00000")
            let twice = try await server.call(.delete, "/v1/orders/1", token: token)
            #expect(twice.status == 409)
            #expect(twice.errorCode == "CONFLICT")

            let all = try await server.call(.delete, "/v1/orders?symbol=BTC-USD", token: token)
            #expect(all.status == 200)
            #expect(all.json.arrayValue?.count == 2)
            #expect(try await server.call(.get, "/v1/orders?status=open", token: token).json == [])
        }
    }
}
