import API
import Testing

/// Cancel, amend, batch, client order ids and ownership through HTTP/2 on the real exchange.
@Suite("End to end: order lifecycle")
struct OrderLifecycleTests {
    static let untouched = ["USD": ["1000000.00000000", "0.00000000"], "BTC": ["10.00000000", "0.00000000"]]

    @Test func cancelReleasesTheReservation() async throws {
        try await InProcessNode.run { node in
            let api = node.api
            let buyer = try await node.trader("buyer")
            let bid = try await api.placed(buyer, order("buy", "0.1", at: "40000"))
            #expect(
                try await api.balances(buyer) == [
                    "USD": ["995992.00000000", "4008.00000000"], "BTC": ["10.00000000", "0.00000000"],
                ])
            node.clock.advance(millis: 1_000)
            let id = try #require(bid["order_id"]?.stringValue)
            let cancelled = try await api.json(.delete, "/v1/orders/\(id)", token: buyer.token)
            expectJSON(
                cancelled,
                Expected.order(
                    bid["order_id"]!, "buy", "0.10000", at: "40000.00", remaining: "0.00000", status: "cancelled",
                    updated: 1_000))
            #expect(try await api.balances(buyer) == Self.untouched)
            #expect(try await api.book() == Expected.book())
            let again = try await api.call(.delete, "/v1/orders/\(id)", token: buyer.token)
            #expect(again.status == 409)
            #expect(again.errorCode == "CONFLICT")

            // A filled order is no longer cancellable either.
            let seller = try await node.trader("seller")
            _ = try await api.placed(seller, order("sell", "0.1", at: "40000"))
            let filled = try await api.placed(buyer, order("buy", "0.1", at: "40000"))
            #expect(filled["status"] == "filled")
            let late = try await api.call(.delete, "/v1/orders/\(filled["order_id"]!.stringValue!)", token: buyer.token)
            #expect(late.status == 409)
        }
    }

    @Test func cancelAllBySymbolAndEverywhere() async throws {
        try await InProcessNode.run { node in
            let api = node.api
            let user = try await node.trader("user")
            let bid = try await api.placed(user, order("buy", "0.1", at: "40000"))
            let ask = try await api.placed(user, order("sell", "0.1", at: "60000"))
            let stop = try await api.placed(user, order("sell", "0.1", type: "stop", extra: ["stop_price": "30000"]))
            let eth = try await api.placed(user, order("buy", "1", at: "2000", symbol: "ETH-USD"))
            let btc = try await api.json(.delete, "/v1/orders?symbol=BTC-USD", token: user.token)
            #expect(
                Set(btc.arrayValue?.compactMap { $0["order_id"] } ?? [])
                    == [bid["order_id"]!, ask["order_id"]!, stop["order_id"]!])
            #expect(btc.arrayValue?.allSatisfy { $0["status"] == "cancelled" } == true)
            let open = try await api.json(.get, "/v1/orders?status=open", token: user.token)
            #expect(open.arrayValue?.map { $0["order_id"] } == [eth["order_id"]])
            #expect(try await api.book() == Expected.book())

            let rest = try await api.json(.delete, "/v1/orders", token: user.token)
            #expect(rest.arrayValue?.map { $0["order_id"] } == [eth["order_id"]])
            #expect(try await api.json(.get, "/v1/orders?status=open", token: user.token) == [])
            #expect(try await api.json(.delete, "/v1/orders", token: user.token) == [])
            #expect(try await api.balances(user) == Self.untouched)
            let closed = try await api.json(.get, "/v1/orders?status=closed&symbol=BTC-USD", token: user.token)
            #expect(closed.arrayValue?.count == 3)
            #expect(try await api.call(.delete, "/v1/orders?symbol=XRP-USD", token: user.token).status == 404)
        }
    }

    @Test func amendKeepsOrLosesPriority() async throws {
        try await InProcessNode.run { node in
            let api = node.api
            let first = try await node.trader("first")
            let second = try await node.trader("second")
            let taker = try await node.trader("taker")
            let a = try await api.placed(first, order("sell", "0.1", at: "50000"))
            let b = try await api.placed(second, order("sell", "0.1", at: "50000"))
            let aID = try #require(a["order_id"]?.stringValue)
            let bID = try #require(b["order_id"]?.stringValue)

            // Lowering the quantity keeps the place in the queue and releases what is no longer needed.
            node.clock.advance(millis: 1_000)
            let smaller = try await api.json(
                .patch, "/v1/orders/\(aID)", json: ["quantity": "0.05"], token: first.token)
            expectJSON(
                smaller,
                Expected.order(
                    a["order_id"]!, "sell", "0.05000", at: "50000.00", remaining: "0.05000", status: "new",
                    updated: 1_000))
            #expect(try await api.balances(first)["BTC"] == ["9.95000000", "0.05000000"])
            _ = try await api.placed(taker, order("buy", "0.05", at: "50000"))
            #expect(try await node.order(first, a["order_id"])["status"] == "filled")
            #expect(try await node.order(second, b["order_id"])["status"] == "new")

            // More quantity re-queues: a later order at the same price now comes first.
            let third = try await node.trader("third")
            let c = try await api.placed(third, order("sell", "0.1", at: "50000"))
            let larger = try await api.json(
                .patch, "/v1/orders/\(bID)", json: ["quantity": "0.2"], token: second.token)
            #expect(larger["quantity"] == "0.20000")
            #expect(larger["remaining_quantity"] == "0.20000")
            #expect(try await api.balances(second)["BTC"] == ["9.80000000", "0.20000000"])
            _ = try await api.placed(taker, order("buy", "0.1", at: "50000"))
            #expect(try await node.order(third, c["order_id"])["status"] == "filled")
            #expect(try await node.order(second, b["order_id"])["status"] == "new")

            // A new price re-queues at that price.
            let repriced = try await api.json(
                .patch, "/v1/orders/\(bID)", json: ["price": "50100"], token: second.token)
            #expect(repriced["price"] == "50100.00")
            #expect(try await api.book() == Expected.book(asks: [("50100.00", "0.20000")]))

            // A quantity at or below what has filled is a 400 and changes nothing.
            _ = try await api.placed(taker, order("buy", "0.05", at: "50100"))
            for quantity in ["0.05", "0.04"] {
                let refused = try await api.call(
                    .patch, "/v1/orders/\(bID)", json: ["quantity": .string(quantity)], token: second.token)
                #expect(refused.status == 400)
                #expect(refused.errorCode == "VALIDATION_ERROR")
            }
            let current = try await node.order(second, b["order_id"])
            #expect(current["status"] == "partially_filled")
            #expect(current["quantity"] == "0.20000")
            #expect(current["remaining_quantity"] == "0.15000")
            #expect(try await api.balances(second)["BTC"] == ["9.80000000", "0.15000000"])
            // Filled orders cannot be amended.
            let done = try await api.call(.patch, "/v1/orders/\(aID)", json: ["quantity": "0.01"], token: first.token)
            #expect(done.status == 409)
        }
    }

    @Test func amendAdjustsABuyReservationOrRefusesWithoutFunds() async throws {
        try await InProcessNode.run { node in
            let api = node.api
            let buyer = try await node.trader("buyer", usd: "5000", btc: nil)
            let bid = try await api.placed(buyer, order("buy", "0.1", at: "40000"))
            let id = try #require(bid["order_id"]?.stringValue)
            #expect(try await api.balances(buyer) == ["USD": ["992.00000000", "4008.00000000"]])
            let higher = try await api.call(.patch, "/v1/orders/\(id)", json: ["price": "60000"], token: buyer.token)
            #expect(higher.status == 422)
            #expect(higher.errorCode == "INSUFFICIENT_FUNDS")
            expectJSON(
                try await node.order(buyer, bid["order_id"]),
                Expected.order(bid["order_id"]!, "buy", "0.10000", at: "40000.00", remaining: "0.10000", status: "new"))
            #expect(try await api.balances(buyer) == ["USD": ["992.00000000", "4008.00000000"]])

            let repriced = try await api.json(.patch, "/v1/orders/\(id)", json: ["price": "45000"], token: buyer.token)
            #expect(repriced["price"] == "45000.00")
            #expect(try await api.balances(buyer) == ["USD": ["491.00000000", "4509.00000000"]])
            let smaller = try await api.json(
                .patch, "/v1/orders/\(id)", json: ["quantity": "0.05"], token: buyer.token)
            #expect(smaller["quantity"] == "0.05000")
            #expect(try await api.balances(buyer) == ["USD": ["2745.50000000", "2254.50000000"]])
            #expect(try await api.book() == Expected.book(bids: [("45000.00", "0.05000")]))

            // A post-only order amended to a crossing price is refused and stays as it was.
            let seller = try await node.trader("seller")
            _ = try await api.placed(seller, order("sell", "0.01", at: "46000"))
            // Amending to a crossing price trades at once, as a taker.
            let crossing = try await api.json(.patch, "/v1/orders/\(id)", json: ["price": "46000"], token: buyer.token)
            #expect(crossing["status"] == "partially_filled")
            #expect(crossing["remaining_quantity"] == "0.04000")
            expectJSON(crossing["fills"], [Expected.fill("1", "46000.00", "0.01000", fee: "0.92000000", "taker")])
            _ = try await api.placed(seller, order("sell", "0.01", at: "46500"))
            let passive = try await api.placed(buyer, order("buy", "0.01", at: "30000", extra: ["post_only": true]))
            let passiveID = try #require(passive["order_id"]?.stringValue)
            let balances = try await api.balances(buyer)
            let refused = try await api.call(
                .patch, "/v1/orders/\(passiveID)", json: ["price": "47000"], token: buyer.token)
            #expect(refused.status == 422)
            #expect(refused.errorCode == "ORDER_REJECTED")
            expectJSON(try await node.order(buyer, passive["order_id"]), passive)
            #expect(try await api.balances(buyer) == balances)
        }
    }

    /// Regression: a retry of a request whose order the market rejected (422) answered 200 with the
    /// rejected order; "the first result" is the rejection.
    @Test func clientOrderIDRetryOfARejectedOrderIsRejectedAgain() async throws {
        try await InProcessNode.run { node in
            let api = node.api
            let maker = try await node.trader("maker")
            let user = try await node.trader("user")
            _ = try await api.placed(maker, order("sell", "0.1", at: "50000"))
            let request = order("buy", "0.2", at: "50000", extra: ["time_in_force": "fok", "client_order_id": "fok-1"])
            let first = try await api.place(user, request)
            #expect(first.status == 422)
            #expect(first.errorCode == "ORDER_REJECTED")
            let rows = try await api.json(.get, "/v1/account/transactions", token: user.token)
            for _ in 0..<2 {
                let retry = try await api.place(user, request)
                #expect(retry.status == 422, "\(retry)")
                #expect(retry.json == first.json)
            }
            #expect(try await api.json(.get, "/v1/account/transactions", token: user.token) == rows)
            #expect(try await api.balances(user) == Self.untouched)
            #expect(try await api.book() == Expected.book(asks: [("50000.00", "0.10000")]))
            let other = try await api.place(user, order("buy", "0.3", at: "50000", extra: ["client_order_id": "fok-1"]))
            #expect(other.status == 409)
        }
    }

    @Test func batchClientOrderIDsAndOwnership() async throws {
        try await InProcessNode.run { node in
            let api = node.api
            let owner = try await node.trader("owner")
            let stranger = try await node.trader("stranger")
            let batch = try await api.json(
                .post, "/v1/orders/batch",
                json: [
                    "orders": [
                        order("buy", "0.1", at: "40000"), order("buy", "0.1", at: "40000.001"),
                        order("buy", "100", at: "40000"), order("sell", "0.1", at: "60000"),
                        order("buy", "1", at: "1", symbol: "NOPE-USD"),
                    ]
                ], token: owner.token)
            let results = try #require(batch["results"]?.arrayValue)
            #expect(results.map { $0["status"] } == [201, 400, 422, 201, 404])
            #expect(
                results.map { $0["error"]?["code"] } == [
                    nil, "VALIDATION_ERROR", "INSUFFICIENT_FUNDS", nil, "NOT_FOUND",
                ])
            let first = try #require(results[0]["order"])
            expectJSON(
                first,
                Expected.order(
                    first["order_id"]!, "buy", "0.10000", at: "40000.00", remaining: "0.10000", status: "new"))
            #expect(
                try await api.book() == Expected.book(bids: [("40000.00", "0.10000")], asks: [("60000.00", "0.10000")]))

            // client_order_id: the same content returns the first order (200); other content is a 409.
            let request = order("sell", "0.2", at: "61000", extra: ["client_order_id": "c-1"])
            let placed = try await api.placed(owner, request)
            #expect(placed["client_order_id"] == "c-1")
            let replay = try await api.call(.post, "/v1/orders", json: request, token: owner.token)
            #expect(replay.status == 200)
            expectJSON(replay.json, placed)
            let conflict = try await api.call(
                .post, "/v1/orders", json: order("sell", "0.3", at: "61000", extra: ["client_order_id": "c-1"]),
                token: owner.token)
            #expect(conflict.status == 409)
            #expect(conflict.errorCode == "CONFLICT")
            let replayed = try await api.json(
                .post, "/v1/orders/batch", json: ["orders": [request]], token: owner.token)
            #expect(replayed["results"]?[0]?["status"] == 200)
            // Another user may use the same client_order_id.
            #expect(try await api.place(stranger, request).status == 201)
            #expect(try await api.balances(owner)["BTC"] == ["9.70000000", "0.30000000"])

            // Another user's order is not found, whatever the method, and is left alone.
            let id = try #require(placed["order_id"]?.stringValue)
            let get = try await api.call(.get, "/v1/orders/\(id)", token: stranger.token)
            let delete = try await api.call(.delete, "/v1/orders/\(id)", token: stranger.token)
            let patch = try await api.call(.patch, "/v1/orders/\(id)", json: ["quantity": "0.1"], token: stranger.token)
            #expect([get.status, delete.status, patch.status] == [404, 404, 404])
            #expect([get.errorCode, delete.errorCode, patch.errorCode] == ["NOT_FOUND", "NOT_FOUND", "NOT_FOUND"])
            expectJSON(try await node.order(owner, placed["order_id"]), placed)
            #expect(try await api.call(.get, "/v1/orders/123456789", token: owner.token).status == 404)

            let open = try await api.json(.get, "/v1/orders?status=open&limit=2", token: owner.token)
            #expect(open.arrayValue?.map { $0["order_id"] } == [placed["order_id"], results[3]["order"]?["order_id"]])
        }
    }
}
