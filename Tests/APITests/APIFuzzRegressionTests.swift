import HTTPTypes
import Testing

@testable import API

/// What fuzzing the API with schemathesis against its own OpenAPI document (scripts/fuzz-api) asks of the
/// document: request examples that work (the fuzzer starts from them) and parameter schemas as strict as the
/// server's validation.
@Suite("API fuzzing regressions")
struct APIFuzzRegressionTests {
    /// The example of each request schema of the served document, by schema name.
    static func requestExamples() -> [String: JSONValue] {
        var examples: [String: JSONValue] = [:]
        for member in OpenAPIDocument.make()["components"]?["schemas"]?.objectValue?.members ?? [] {
            guard let example = member.value["examples"]?.arrayValue?.first, example.objectValue != nil else {
                continue
            }
            examples[member.key] = example
        }
        return examples
    }

    /// The schema of query parameter `name` of `method path` in the served document.
    static func querySchema(_ method: String, _ path: String, _ name: String) -> JSONValue? {
        let operation = OpenAPIDocument.make()["paths"]?[path]?[method]
        let parameter = operation?["parameters"]?.arrayValue?.first { $0["name"]?.stringValue == name }
        return parameter?["schema"]
    }

    @Test("every request example of the document is accepted by the exchange")
    func requestExamplesAreAccepted() async throws {
        let examples = Self.requestExamples()
        #expect(examples.count >= 9)
        try await AdminTestServer.run { server in
            var sent: Set<String> = []
            func send(
                _ method: HTTPRequest.Method, _ path: String, _ schema: String, token: String? = nil, status: Int
            ) async throws -> APIResponse {
                let example = try #require(examples[schema], "no example for \(schema)")
                sent.insert(schema)
                let response = try await server.call(method, path, json: example, token: token ?? server.userToken)
                #expect(response.status == status, "\(method) \(path), \(schema) example: \(response.text)")
                return response
            }
            _ = try await send(.post, "/v1/auth/register", "Credentials", status: 201)
            _ = try await send(.post, "/v1/auth/login", "Credentials", status: 200)
            _ = try await send(.post, "/v1/account/deposits", "MoneyRequest", status: 201)
            _ = try await send(.post, "/v1/account/withdrawals", "MoneyRequest", status: 201)
            _ = try await send(.post, "/v1/account/deposits", "MoneyRequest", status: 201)
            let order = try await send(.post, "/v1/orders", "OrderRequest", status: 201)
            let orderID = try #require(order.json["order_id"]?.stringValue)
            let amended = try await send(.patch, "/v1/orders/\(orderID)", "AmendRequest", status: 200)
            #expect(amended.json["price"] == "49000.00")
            let batch = try await send(.post, "/v1/orders/batch", "BatchRequest", status: 200)
            #expect(batch.json["results"]?.arrayValue?.first?["status"] == 201, "\(batch.text)")
            let valid = try await send(.post, "/v1/strategies/validate", "StrategyRequest", status: 200)
            #expect(valid.json == ["valid": true])
            _ = try await send(.post, "/v1/strategies", "StrategyRequest", status: 201)
            let values = try await send(.post, "/v1/indicators", "IndicatorRequest", status: 200)
            #expect(values.json == ["values": [nil, nil, 2, 3]])
            let backtest = try await send(.post, "/v1/backtests", "BacktestRequest", status: 200)
            #expect(backtest.json["trade_count"] == 1, "\(backtest.text)")
            _ = try await send(.post, "/admin/v1/markets", "MarketSpec", token: server.adminToken, status: 201)
            #expect(sent == Set(examples.keys), "examples no test sends: \(Set(examples.keys).subtracting(sent))")

            // The shard parameter's example names a real shard: moving it to the only node is a 409, not a 404.
            let move = try await server.call(
                .post, "/admin/v1/shards/symbol%2FBTC-USD/move", json: ["to": "api-admin"], token: server.adminToken)
            #expect(move.status == 409, "\(move.text)")
        }
    }

    /// `?symbol=` of the order and fill lists was documented as any string; the server answers 400 to anything
    /// that cannot be a symbol (fuzzing found schema-valid requests refused).
    @Test("the symbol filters are documented with the pattern the server enforces")
    func symbolFilterPattern() async throws {
        for (method, path) in [("get", "/v1/orders"), ("delete", "/v1/orders"), ("get", "/v1/trades")] {
            let schema = Self.querySchema(method, path, "symbol")
            #expect(schema?["pattern"] == "^[A-Z0-9-]{1,20}$", "\(method) \(path)")
        }
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("filter")
            for (method, path) in [
                (HTTPRequest.Method.get, "/v1/orders"), (.delete, "/v1/orders"), (.get, "/v1/trades"),
            ] {
                let refused = try await server.call(method, "\(path)?symbol=btc-usd", token: token)
                #expect(refused.status == 400 && refused.errorCode == "VALIDATION_ERROR", "\(path): \(refused.text)")
                let accepted = try await server.call(method, "\(path)?symbol=BTC-USD", token: token)
                #expect(accepted.status == 200, "\(path): \(accepted.text)")
            }
        }
    }

    /// Found by the long fuzz run: `DELETE /v1/orders?symbol=0` answered 404 NOT_FOUND ("unknown symbol 0", as
    /// api.md wants for an unknown symbol), a status the document did not list for the operation.
    @Test("cancelling all orders on an unknown symbol is a documented 404")
    func cancelAllOnAnUnknownSymbol() async throws {
        let responses = OpenAPIDocument.make()["paths"]?["/v1/orders"]?["delete"]?["responses"]
        #expect(responses?["404"] != nil)
        try await AdminTestServer.run { server in
            let unknown = try await server.call(.delete, "/v1/orders?symbol=0", token: server.userToken)
            #expect(unknown.status == 404 && unknown.errorCode == "NOT_FOUND", "\(unknown.text)")
            let known = try await server.call(.delete, "/v1/orders?symbol=BTC-USD", token: server.userToken)
            #expect(known.status == 200 && known.json == [], "\(known.text)")
        }
    }

    /// `channels` of `GET /v1/stream` was documented as any string; an empty one is a 400 (channels is required).
    @Test("an empty channels parameter is outside the document and refused")
    func emptyChannels() async throws {
        #expect(Self.querySchema("get", "/v1/stream", "channels")?["minLength"] == 1)
        try await TestServer.run { server in
            let response = try await server.call(.get, "/v1/stream?channels=")
            #expect(response.status == 400 && response.errorCode == "VALIDATION_ERROR", "\(response.text)")
        }
    }
}
