import API
import Testing

/// Auth and money movements through HTTP/2 on the real exchange and store.
@Suite("End to end: auth and account")
struct AccountTests {
    @Test func registerLoginAndMe() async throws {
        try await InProcessNode.run { node in
            let alice = try await node.api.signUp("alice")
            let me = try await node.api.json(.get, "/v1/me", token: alice.token)
            expectJSON(
                me,
                [
                    "user_id": .string(alice.userID), "username": "alice", "role": "user",
                    "created_at": InProcessNode.time(),
                ])
            let taken = try await node.api.call(
                .post, "/v1/auth/register", json: ["username": "alice", "password": "another password"])
            #expect(taken.status == 409)
            #expect(taken.errorCode == "CONFLICT")
            let wrong = try await node.api.call(
                .post, "/v1/auth/login", json: ["username": "alice", "password": "wrong password"])
            #expect(wrong.status == 401)
            #expect(try await node.api.call(.get, "/v1/account/balances").status == 401)
            #expect(try await node.api.call(.get, "/v1/account/balances", token: "x.y.z").status == 401)
        }
    }

    @Test func depositsAreIdempotentAndWithdrawalsRefuseOverdrafts() async throws {
        try await InProcessNode.run { node in
            let api = node.api
            let bob = try await api.signUp("bob")
            let first = try await api.deposit(bob, "USD", "10000", key: "dep-1")
            let expectedFirst: JSONValue = [
                "transaction_id": "1", "currency": "USD", "available": "10000.00000000", "locked": "0.00000000",
            ]
            expectJSON(first, expectedFirst)
            // A retry with the same key returns the first transaction and deposits nothing.
            node.clock.advance(millis: 1_000)
            expectJSON(try await api.deposit(bob, "USD", "10000", key: "dep-1"), expectedFirst)
            #expect(try await api.balances(bob) == ["USD": ["10000.00000000", "0.00000000"]])

            node.clock.advance(millis: 1_000)
            expectJSON(
                try await api.deposit(bob, "USD", "500.5"),
                ["transaction_id": "2", "currency": "USD", "available": "10500.50000000", "locked": "0.00000000"])

            // An overdraft is refused and changes nothing, not even the history.
            let overdraft = try await api.call(
                .post, "/v1/account/withdrawals", json: ["currency": "USD", "amount": "10500.50000001"],
                token: bob.token)
            #expect(overdraft.status == 422)
            #expect(overdraft.errorCode == "INSUFFICIENT_FUNDS")
            let unknownCurrency = try await api.call(
                .post, "/v1/account/withdrawals", json: ["currency": "BTC", "amount": "1"], token: bob.token)
            #expect(unknownCurrency.status == 422)
            #expect(unknownCurrency.errorCode == "INSUFFICIENT_FUNDS")
            #expect(try await api.balances(bob) == ["USD": ["10500.50000000", "0.00000000"]])

            node.clock.advance(millis: 1_000)
            let key = NodeClient.idempotencyKey
            let withdrawal = try await api.json(
                .post, "/v1/account/withdrawals", json: ["currency": "USD", "amount": "1500"], token: bob.token,
                headers: [key: "wd-1"], expect: 201)
            let expectedWithdrawal: JSONValue = [
                "transaction_id": "3", "currency": "USD", "available": "9000.50000000", "locked": "0.00000000",
            ]
            expectJSON(withdrawal, expectedWithdrawal)
            let retried = try await api.json(
                .post, "/v1/account/withdrawals", json: ["currency": "USD", "amount": "1500"], token: bob.token,
                headers: [key: "wd-1"], expect: 201)
            expectJSON(retried, expectedWithdrawal)
            #expect(
                try await api.json(.get, "/v1/account/balances", token: bob.token) == [
                    ["currency": "USD", "available": "9000.50000000", "locked": "0.00000000", "total": "9000.50000000"]
                ])

            let history = try await api.json(.get, "/v1/account/transactions", token: bob.token)
            expectJSON(
                history,
                [
                    [
                        "id": "3", "type": "WITHDRAWAL", "currency": "USD", "amount": "-1500.00000000",
                        "balance_after": "9000.50000000", "reference_id": "withdraw:wd-1",
                        "created_at": InProcessNode.time(3_000),
                    ],
                    [
                        "id": "2", "type": "DEPOSIT", "currency": "USD", "amount": "500.50000000",
                        "balance_after": "10500.50000000", "reference_id": "deposit-2",
                        "created_at": InProcessNode.time(2_000),
                    ],
                    [
                        "id": "1", "type": "DEPOSIT", "currency": "USD", "amount": "10000.00000000",
                        "balance_after": "10000.00000000", "reference_id": "deposit:dep-1",
                        "created_at": InProcessNode.time(),
                    ],
                ])
            let limited = try await api.json(.get, "/v1/account/transactions?limit=1", token: bob.token)
            #expect(limited.arrayValue?.map { $0["id"] } == ["3"])

            // Another user sees none of it.
            let carol = try await api.signUp("carol")
            #expect(try await api.json(.get, "/v1/account/balances", token: carol.token) == [])
            #expect(try await api.json(.get, "/v1/account/transactions", token: carol.token) == [])
        }
    }
}
