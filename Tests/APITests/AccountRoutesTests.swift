import HTTPTypes
import TestSupport
import Testing

@testable import API

@Suite("Account and portfolio routes")
struct AccountRoutesTests {
    @Test func depositsWithdrawalsAndBalances() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("pat")
            let key = HTTPField.Name("Idempotency-Key")!
            let deposit = try await server.call(
                .post, "/v1/account/deposits", json: ["currency": "USD", "amount": .number("1000.5")], token: token,
                headers: [key: "dep-1"])
            #expect(deposit.status == 201)
            #expect(
                deposit.json == [
                    "transaction_id": "1", "currency": "USD", "available": "1000.50000000", "locked": "0.00000000",
                ])
            #expect(await server.exchange.idempotencyKeys == ["dep-1"])

            let withdrawal = try await server.call(
                .post, "/v1/account/withdrawals", json: ["currency": "USD", "amount": "0.5"], token: token)
            #expect(withdrawal.status == 201)
            #expect(withdrawal.json["available"] == "1000.00000000")
            #expect(await server.exchange.idempotencyKeys == ["dep-1", nil])

            let overdraft = try await server.call(
                .post, "/v1/account/withdrawals", json: ["currency": "USD", "amount": "5000"], token: token)
            #expect(overdraft.status == 422)
            #expect(overdraft.errorCode == "INSUFFICIENT_FUNDS")

            let balances = try await server.call(.get, "/v1/account/balances", token: token)
            #expect(
                balances.json == [
                    ["currency": "USD", "available": "1000.00000000", "locked": "0.00000000", "total": "1000.00000000"]
                ])

            let transactions = try await server.call(.get, "/v1/account/transactions?limit=10", token: token)
            #expect(transactions.json.arrayValue?.first?["type"] == "DEPOSIT")
            #expect(transactions.json.arrayValue?.first?["balance_after"] == "1000.00000000")
        }
    }

    @Test(arguments: [
        #"{"currency":"USD","amount":"0"}"#, #"{"currency":"USD","amount":"-5"}"#,
        #"{"currency":"USD","amount":"0.000000001"}"#,
        #"{"currency":"usd","amount":"1"}"#, #"{"amount":"1"}"#, #"{"currency":"USD"}"#,
        #"{"currency":"USD","amount":[1]}"#,
    ])
    func depositValidation(body: String) async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("quinn")
            let response = try await server.call(.post, "/v1/account/deposits", body: body, token: token)
            #expect(response.status == 400)
            #expect(response.errorCode == "VALIDATION_ERROR")
        }
    }

    @Test func portfolioAndPerformance() async throws {
        try await TestServer.run { server in
            let (token, _) = try await server.signUp("rita")
            let portfolio = try await server.call(.get, "/v1/portfolio", token: token)
            #expect(portfolio.status == 200)
            #expect(
                portfolio.json.objectValue?.keys == [
                    "quote_currency", "cash", "positions", "total_value", "total_cost", "total_pnl", "roi_pct",
                ])
            #expect(portfolio.json["roi_pct"] == .number("25"))  // 25.004 rounded to 2 decimals
            let position = try #require(portfolio.json["positions"]?.arrayValue?.first)
            #expect(position["average_price"] == "40000.00000000")
            #expect(position["quantity"] == "0.50000000")

            let performance = try await server.call(.get, "/v1/portfolio/performance", token: token)
            #expect(performance.json["total_return_pct"] == .number("12.5"))
            #expect(performance.json["sortino"] == .null)
            #expect(performance.json["trade_count"] == 0)
        }
    }
}
