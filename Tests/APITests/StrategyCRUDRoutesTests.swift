import Actors
import Foundation
import HTTPTypes
import TestSupport
import Testing
import Trading

@testable import API

/// The caller's strategies over HTTP: create, list, get, pause, resume, delete and signals, against the fake
/// exchange (the evaluation itself is tested in ActorsTests).
@Suite("Strategy CRUD routes")
struct StrategyCRUDRoutesTests {
    static let strategy = StrategyRoutesTests.strategy

    /// `POST /v1/strategies` with `body`; expects 201 and returns the strategy.
    static func create(_ server: TestServer, token: String, _ body: JSONValue = strategy) async throws -> JSONValue {
        let response = try await server.call(.post, "/v1/strategies", json: body, token: token)
        #expect(response.status == 201, "\(response.text)")
        return response.json
    }

    @Test func createAnswers201WithTheStrategyInCanonicalForm() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("ada")
            let created = try await Self.create(server, token: token)
            let rsi: JSONValue = [
                "left": ["indicator": "rsi", "period": 14, "interval": "1m"], "op": "<", "right": ["value": 30],
            ]
            let expected: JSONValue = [
                "strategy_id": "st_BTC-USD_1", "status": "active", "name": "mean reversion", "symbol": "BTC-USD",
                "rules": [
                    [
                        "when": [
                            "all": [
                                rsi,
                                [
                                    "left": ["indicator": "price", "interval": "1m"], "op": "crosses_above",
                                    "right": ["indicator": "sma", "period": 20, "interval": "5m"],
                                ],
                            ]
                        ],
                        "action": ["side": "buy", "quantity": "0.00100"],
                    ],
                    [
                        "when": [
                            "any": [
                                [
                                    "left": [
                                        "indicator": "macd", "fast": 12, "slow": 26, "signal": 9, "field": "histogram",
                                        "interval": "1m",
                                    ],
                                    "op": "crosses_below", "right": ["value": 0],
                                ],
                                [
                                    "not": [
                                        "left": ["indicator": "price", "interval": "1m"], "op": "<=",
                                        "right": [
                                            "indicator": "bollinger", "period": 20, "stddev": 2, "field": "upper",
                                            "interval": "1m",
                                        ],
                                    ]
                                ],
                                [
                                    "left": ["indicator": "volume", "interval": "1m"], "op": ">",
                                    "right": ["value": .number("12.5")],
                                ],
                            ]
                        ],
                        "action": ["side": "sell", "quantity": "0.00100"],
                    ],
                ],
                "cooldown_seconds": 300, "created_at": "2024-05-01T12:00:00.001Z", "last_fired_at": nil,
                "signal_count": 0,
            ]
            #expect(created == expected, "\(JSONWriter.string(created))")

            // The rendered rules are a valid strategy again.
            var again = created.objectValue!
            again["name"] = "again"
            let validated = try await server.call(.post, "/v1/strategies/validate", json: .object(again), token: token)
            #expect(validated.status == 200, "\(validated.text)")
        }
    }

    @Test func createValidatesAsValidateDoes() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("bea")
            let impossible = StrategyRoutesTests.strategy(when: [
                "left": ["indicator": "rsi", "period": 14], "op": ">", "right": ["value": 150],
            ])
            let invalid = try await server.call(.post, "/v1/strategies", json: impossible, token: token)
            #expect(invalid.status == 422)
            #expect(invalid.errorCode == "INVALID_STRATEGY")
            #expect(StrategyRoutesTests.paths(invalid) == ["rules[0].when.right.value"])

            var unnamed = Self.strategy.objectValue!
            unnamed["name"] = nil
            let malformed = try await server.call(.post, "/v1/strategies", json: .object(unnamed), token: token)
            #expect(malformed.status == 400)
            #expect(malformed.errorCode == "VALIDATION_ERROR")
            #expect(StrategyRoutesTests.paths(malformed) == ["name"])

            var unknown = Self.strategy.objectValue!
            unknown["symbol"] = "DOGE-USD"
            let notFound = try await server.call(.post, "/v1/strategies", json: .object(unknown), token: token)
            #expect(notFound.status == 404)

            let notJSON = try await server.call(.post, "/v1/strategies", body: "{", token: token)
            #expect(notJSON.status == 400)
            #expect(try await server.call(.get, "/v1/strategies", token: token).json == [])
        }
    }

    @Test func listGetPauseResumeDelete() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("cleo")
            let first = try await Self.create(server, token: token)
            var other = Self.strategy.objectValue!
            other["symbol"] = "ETH-USD"
            other["rules"] = [["when": StrategyRoutesTests.rsiBelow30, "action": ["side": "buy", "quantity": "0.01"]]]
            let second = try await Self.create(server, token: token, .object(other))
            #expect(second["strategy_id"] == "st_ETH-USD_2")
            #expect(second["rules"]?.arrayValue?.first?["action"]?["quantity"] == "0.0100")

            let list = try await server.call(.get, "/v1/strategies", token: token)
            #expect(list.status == 200)
            #expect(list.json == [second, first])

            let id = first["strategy_id"]!.stringValue!
            let got = try await server.call(.get, "/v1/strategies/\(id)", token: token)
            #expect(got.status == 200)
            #expect(got.json == first)

            let paused = try await server.call(.post, "/v1/strategies/\(id)/pause", token: token)
            #expect(paused.status == 200)
            #expect(paused.json["status"] == "paused")
            let pausedAgain = try await server.call(.post, "/v1/strategies/\(id)/pause", token: token)
            #expect(pausedAgain.json == paused.json)
            let resumed = try await server.call(.post, "/v1/strategies/\(id)/resume", token: token)
            #expect(resumed.status == 200)
            #expect(resumed.json == first)

            let deleted = try await server.call(.delete, "/v1/strategies/\(id)", token: token)
            #expect(deleted.status == 200)
            #expect(deleted.json["status"] == "deleted")
            #expect(deleted.json["strategy_id"] == first["strategy_id"])
            #expect(try await server.call(.get, "/v1/strategies/\(id)", token: token).status == 404)
            #expect(try await server.call(.delete, "/v1/strategies/\(id)", token: token).status == 404)
            #expect(try await server.call(.get, "/v1/strategies", token: token).json == [second])
        }
    }

    @Test func anotherUsersStrategyIsNotFound() async throws {
        try await TestServer.run { server in
            let (owner, _) = try await server.signUp("dora")
            let (intruder, _) = try await server.signUp("eve")
            let id = try await Self.create(server, token: owner)["strategy_id"]!.stringValue!
            let calls: [(HTTPRequest.Method, String)] = [
                (.get, "/v1/strategies/\(id)"), (.delete, "/v1/strategies/\(id)"),
                (.post, "/v1/strategies/\(id)/pause"), (.post, "/v1/strategies/\(id)/resume"),
                (.get, "/v1/strategies/\(id)/signals"),
            ]
            for (method, path) in calls {
                let response = try await server.call(method, path, token: intruder)
                #expect(response.status == 404, "\(method) \(path)")
                #expect(response.errorCode == "NOT_FOUND")
                #expect(!response.text.contains("dora"))
            }
            #expect(try await server.call(.get, "/v1/strategies", token: intruder).json == [])
            // Ids that cannot be a strategy's are not found either.
            for id in ["x", "st_BTC-USD_0", "st_btc_1", String(repeating: "9", count: 100)] {
                #expect(try await server.call(.get, "/v1/strategies/\(id)", token: owner).status == 404, "\(id)")
            }
            // The owner still has it, unchanged.
            #expect(try await server.call(.get, "/v1/strategies/\(id)", token: owner).json["status"] == "active")
        }
    }

    @Test func everyRouteNeedsAToken() async throws {
        try await TestServer.run { server in
            let calls: [(HTTPRequest.Method, String)] = [
                (.post, "/v1/strategies"), (.get, "/v1/strategies"), (.get, "/v1/strategies/st_BTC-USD_1"),
                (.delete, "/v1/strategies/st_BTC-USD_1"), (.post, "/v1/strategies/st_BTC-USD_1/pause"),
                (.post, "/v1/strategies/st_BTC-USD_1/resume"), (.get, "/v1/strategies/st_BTC-USD_1/signals"),
            ]
            for (method, path) in calls {
                let response = try await server.call(method, path, json: method == .post ? Self.strategy : nil)
                #expect(response.status == 401, "\(method) \(path)")
                #expect(response.errorCode == "UNAUTHORIZED")
            }
        }
    }

    @Test func signalsAreNewestFirstWithTheirOrderOrReason() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("fay")
            let id = try await Self.create(server, token: token)["strategy_id"]!.stringValue!
            let close: Int64 = 1_714_564_860_000
            let outcomes: [SignalOutcome] = [
                .placed(orderID: 12),
                .refused(code: .insufficientFunds, reason: "insufficient BTC: available 0, needed 0.001"), .pending,
            ]
            for (index, outcome) in outcomes.enumerated() {
                let minute = Int64(index) * 60_000
                await server.exchange.addSignal(
                    SignalView(
                        strategyID: id, candleCloseMillis: close + minute, firedAtMillis: close + minute + 250,
                        ruleIndex: index % 2, side: index % 2 == 0 ? .buy : .sell, quantity: Quantity(lots: 100),
                        outcome: outcome))
            }
            let response = try await server.call(.get, "/v1/strategies/\(id)/signals", token: token)
            #expect(response.status == 200)
            let signals = response.json.arrayValue ?? []
            #expect(signals.map { $0["status"] } == ["pending", "refused", "placed"])
            #expect(
                signals.last
                    == [
                        "signal_id": .string("\(id)_\(close)_0"), "strategy_id": .string(id), "rule_index": 0,
                        "side": "buy",
                        "quantity": "0.00100", "candle_close_time": "2024-05-01T12:01:00.000Z",
                        "fired_at": "2024-05-01T12:01:00.250Z", "status": "placed", "order_id": "12",
                        "client_order_id": .string("\(id)_\(close)_0"), "reason": nil, "reason_code": nil,
                    ])
            #expect(signals[1]["reason"] == "insufficient BTC: available 0, needed 0.001")
            #expect(signals[1]["reason_code"] == "INSUFFICIENT_FUNDS")
            #expect(signals[1]["order_id"] == .null)
            #expect(signals[0]["order_id"] == .null)
            #expect(signals[0]["reason"] == .null)

            let limited = try await server.call(.get, "/v1/strategies/\(id)/signals?limit=1", token: token)
            #expect(limited.json.arrayValue?.map { $0["status"] } == ["pending"])
            for limit in ["0", "501", "x"] {
                let bad = try await server.call(.get, "/v1/strategies/\(id)/signals?limit=\(limit)", token: token)
                #expect(bad.status == 400, "\(limit)")
            }
            let strategy = try await server.call(.get, "/v1/strategies/\(id)", token: token)
            #expect(strategy.json["last_fired_at"] == "2024-05-01T12:03:00.000Z")
        }
    }

    @Test func aUserHoldsAtMostFiftyStrategies() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("gus")
            for _ in 0..<Exchange.strategiesPerUser { _ = try await Self.create(server, token: token) }
            let refused = try await server.call(.post, "/v1/strategies", json: Self.strategy, token: token)
            #expect(refused.status == 409)
            #expect(refused.errorCode == "CONFLICT")
            #expect(refused.errorMessage?.contains("at most 50 strategies") == true)
        }
    }
}
