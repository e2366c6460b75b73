import API
import Testing

/// Matching through HTTP/2 on the real exchange: priority, fills, fees, time in force, order types.
@Suite("End to end: matching")
struct MatchingTests {
    @Test func priceTimePriorityAndPartialFills() async throws {
        try await InProcessNode.run { node in
            let api = node.api
            let first = try await node.trader("first")
            let second = try await node.trader("second")
            let better = try await node.trader("better")
            let taker = try await node.trader("taker")
            let a = try await api.placed(first, order("sell", "0.1", at: "50000"))
            expectJSON(
                a,
                Expected.order(a["order_id"]!, "sell", "0.10000", at: "50000.00", remaining: "0.10000", status: "new"))
            node.clock.advance(millis: 1_000)
            let b = try await api.placed(second, order("sell", "0.1", at: "50000"))
            node.clock.advance(millis: 1_000)
            let c = try await api.placed(better, order("sell", "0.1", at: "49900"))
            #expect(
                try await api.book() == Expected.book(asks: [("49900.00", "0.10000"), ("50000.00", "0.20000")]))

            // The better price first, then the older order at the same price; trades print at the maker's price.
            node.clock.advance(millis: 1_000)
            let buy = try await api.placed(taker, order("buy", "0.25", at: "50000"))
            expectJSON(
                buy,
                Expected.order(
                    buy["order_id"]!, "buy", "0.25000", at: "50000.00", filled: "0.25000", remaining: "0.00000",
                    average: "49960.00000000", status: "filled", created: 3_000, updated: 3_000,
                    fills: [
                        Expected.fill("1", "49900.00", "0.10000", fee: "9.98000000", "taker", at: 3_000),
                        Expected.fill("2", "50000.00", "0.10000", fee: "10.00000000", "taker", at: 3_000),
                        Expected.fill("3", "50000.00", "0.05000", fee: "5.00000000", "taker", at: 3_000),
                    ]))
            expectJSON(
                try await node.order(first, a["order_id"]),
                Expected.order(
                    a["order_id"]!, "sell", "0.10000", at: "50000.00", filled: "0.10000", remaining: "0.00000",
                    average: "50000.00000000", status: "filled", updated: 3_000,
                    fills: [Expected.fill("2", "50000.00", "0.10000", fee: "5.00000000", "maker", at: 3_000)]))
            expectJSON(
                try await node.order(second, b["order_id"]),
                Expected.order(
                    b["order_id"]!, "sell", "0.10000", at: "50000.00", filled: "0.05000", remaining: "0.05000",
                    average: "50000.00000000", status: "partially_filled", created: 1_000, updated: 3_000,
                    fills: [Expected.fill("3", "50000.00", "0.05000", fee: "2.50000000", "maker", at: 3_000)]))
            expectJSON(
                try await node.order(better, c["order_id"]),
                Expected.order(
                    c["order_id"]!, "sell", "0.10000", at: "49900.00", filled: "0.10000", remaining: "0.00000",
                    average: "49900.00000000", status: "filled", created: 2_000, updated: 3_000,
                    fills: [Expected.fill("1", "49900.00", "0.10000", fee: "4.99000000", "maker", at: 3_000)]))
            #expect(try await api.book() == Expected.book(asks: [("50000.00", "0.05000")]))
            // 12,490 paid + 24.98 fees; the rest of the 12,525 reserved is released.
            #expect(
                try await api.balances(taker) == [
                    "USD": ["987485.02000000", "0.00000000"], "BTC": ["10.25000000", "0.00000000"],
                ])
            #expect(
                try await api.balances(first) == [
                    "USD": ["1004995.00000000", "0.00000000"], "BTC": ["9.90000000", "0.00000000"],
                ])
            #expect(
                try await api.balances(second) == [
                    "USD": ["1002497.50000000", "0.00000000"], "BTC": ["9.90000000", "0.05000000"],
                ])
            #expect(
                try await api.balances(better) == [
                    "USD": ["1004985.01000000", "0.00000000"], "BTC": ["9.90000000", "0.00000000"],
                ])

            // A taker that is partly filled rests with what remains, its reservation sized for it.
            node.clock.advance(millis: 1_000)
            let rest = try await api.placed(taker, order("buy", "0.1", at: "50000"))
            expectJSON(
                rest,
                Expected.order(
                    rest["order_id"]!, "buy", "0.10000", at: "50000.00", filled: "0.05000", remaining: "0.05000",
                    average: "50000.00000000", status: "partially_filled", created: 4_000, updated: 4_000,
                    fills: [Expected.fill("4", "50000.00", "0.05000", fee: "5.00000000", "taker", at: 4_000)]))
            #expect(try await api.book() == Expected.book(bids: [("50000.00", "0.05000")]))
            // 2,505 paid; 2,500 + the 5.00 of fee still possible stay locked.
            #expect(
                try await api.balances(taker) == [
                    "USD": ["982475.02000000", "2505.00000000"], "BTC": ["10.30000000", "0.00000000"],
                ])
            #expect(try await node.order(second, b["order_id"])["status"] == "filled")
        }
    }

    @Test func timeInForcePostOnlyAndRejections() async throws {
        try await InProcessNode.run { node in
            let api = node.api
            let maker = try await node.trader("maker")
            let buyer = try await node.trader("buyer")
            _ = try await api.placed(maker, order("sell", "0.1", at: "50000"))
            let untouched = ["USD": ["1000000.00000000", "0.00000000"], "BTC": ["10.00000000", "0.00000000"]]
            let book = Expected.book(asks: [("50000.00", "0.10000")])

            let rejected: [(JSONValue, String)] = [
                (order("buy", "0.2", at: "50000", extra: ["time_in_force": "fok"]), "FOK unfillable"),
                (order("buy", "0.1", at: "50000", extra: ["post_only": true]), "post-only would cross"),
                (order("buy", "0.1", type: "market", symbol: "ETH-USD"), "market buy, empty book"),
                (order("sell", "0.1", type: "market"), "market sell, no bids"),
            ]
            for (request, reason) in rejected {
                let response = try await api.place(buyer, request)
                #expect(response.status == 422, "\(reason): \(response)")
                #expect(response.errorCode == "ORDER_REJECTED", "\(reason)")
                #expect(try await api.balances(buyer) == untouched, "\(reason)")
                #expect(try await api.book() == book, "\(reason)")
            }
            #expect(try await api.json(.get, "/v1/orders?status=open", token: buyer.token) == [])

            // Post-only that does not cross rests.
            let passive = try await api.placed(buyer, order("buy", "0.1", at: "49999.99", extra: ["post_only": true]))
            expectJSON(
                passive,
                Expected.order(
                    passive["order_id"]!, "buy", "0.10000", at: "49999.99", remaining: "0.10000", status: "new",
                    postOnly: true))
            _ = try await api.json(.delete, "/v1/orders/\(passive["order_id"]!.stringValue!)", token: buyer.token)

            // FOK that can fill does; IOC fills what it can and the rest is cancelled.
            node.clock.advance(millis: 1_000)
            let ioc = try await api.placed(buyer, order("buy", "0.3", at: "50000", extra: ["time_in_force": "ioc"]))
            expectJSON(
                ioc,
                Expected.order(
                    ioc["order_id"]!, "buy", "0.30000", at: "50000.00", filled: "0.10000", remaining: "0.00000",
                    average: "50000.00000000", status: "cancelled", timeInForce: "ioc", created: 1_000,
                    updated: 1_000,
                    fills: [Expected.fill("1", "50000.00", "0.10000", fee: "10.00000000", "taker", at: 1_000)]))
            #expect(try await api.book() == Expected.book())
            #expect(
                try await api.balances(buyer) == [
                    "USD": ["994990.00000000", "0.00000000"], "BTC": ["10.10000000", "0.00000000"],
                ])
            _ = try await api.placed(maker, order("sell", "0.1", at: "50000"))
            let fok = try await api.placed(buyer, order("buy", "0.1", at: "50000", extra: ["time_in_force": "fok"]))
            #expect(fok["status"] == "filled")
        }
    }

    @Test func marketBuyReleasesTheUnusedReservation() async throws {
        try await InProcessNode.run { node in
            let api = node.api
            let maker = try await node.trader("maker")
            let buyer = try await node.trader("buyer")
            _ = try await api.placed(maker, order("sell", "0.1", at: "50000"))
            _ = try await api.placed(maker, order("sell", "0.1", at: "50100"))
            let market = try await api.placed(buyer, order("buy", "0.15", type: "market"))
            expectJSON(
                market,
                Expected.order(
                    market["order_id"]!, "buy", "0.15000", at: nil, type: "market", filled: "0.15000",
                    remaining: "0.00000", average: "50033.33333333", status: "filled",
                    fills: [
                        Expected.fill("1", "50000.00", "0.10000", fee: "10.00000000", "taker"),
                        Expected.fill("2", "50100.00", "0.05000", fee: "5.01000000", "taker"),
                    ]))
            // Reserved at the protection price (52,500: 5% through the best ask) plus the maximum fee …
            let history = try await api.json(.get, "/v1/account/transactions", token: buyer.token)
            let lock = history.arrayValue?.last { $0["type"] == "LOCK" }
            #expect(lock?["amount"] == "7890.75000000")
            #expect(lock?["reference_id"] == market["order_id"])
            // … and only 7,505 + 15.01 of fees are kept.
            #expect(
                try await api.balances(buyer) == [
                    "USD": ["992479.99000000", "0.00000000"], "BTC": ["10.15000000", "0.00000000"],
                ])
            // Not enough liquidity: what cannot fill is cancelled and its reservation released.
            let short = try await api.placed(buyer, order("buy", "0.1", type: "market"))
            #expect(short["status"] == "cancelled")
            #expect(short["filled_quantity"] == "0.05000")
            #expect(short["remaining_quantity"] == "0.00000")
            #expect(
                try await api.balances(buyer) == [
                    "USD": ["989969.98000000", "0.00000000"], "BTC": ["10.20000000", "0.00000000"],
                ])
            #expect(try await api.book() == Expected.book())
        }
    }

    @Test func stopOrderWaitsForItsTriggerPrice() async throws {
        try await InProcessNode.run { node in
            let api = node.api
            let bidder = try await node.trader("bidder")
            let stopper = try await node.trader("stopper")
            let seller = try await node.trader("seller")
            _ = try await api.placed(bidder, order("buy", "0.2", at: "48500"))
            _ = try await api.placed(bidder, order("buy", "0.1", at: "49000"))
            let stop = try await api.placed(
                stopper, order("sell", "0.1", type: "stop", extra: ["stop_price": "49000"]))
            expectJSON(
                stop,
                Expected.order(
                    stop["order_id"]!, "sell", "0.10000", at: nil, type: "stop", remaining: "0.10000",
                    status: "pending_trigger", stopPrice: "49000.00"))
            let farStop = try await api.placed(
                stopper, order("buy", "0.1", at: "60000", type: "stop_limit", extra: ["stop_price": "55000"]))
            #expect(farStop["status"] == "pending_trigger")
            #expect(
                try await api.balances(stopper) == [
                    "USD": ["993988.00000000", "6012.00000000"], "BTC": ["9.90000000", "0.10000000"],
                ])

            // A trade at 49,000 triggers the stop, which sells at market into the next bid.
            node.clock.advance(millis: 1_000)
            let trade = try await api.placed(seller, order("sell", "0.1", at: "49000"))
            #expect(trade["status"] == "filled")
            expectJSON(
                try await node.order(stopper, stop["order_id"]),
                Expected.order(
                    stop["order_id"]!, "sell", "0.10000", at: nil, type: "stop", filled: "0.10000",
                    remaining: "0.00000", average: "48500.00000000", status: "filled", stopPrice: "49000.00",
                    updated: 1_000,
                    fills: [Expected.fill("2", "48500.00", "0.10000", fee: "9.70000000", "taker", at: 1_000)]))
            #expect(try await node.order(stopper, farStop["order_id"])["status"] == "pending_trigger")
            #expect(try await api.book() == Expected.book(bids: [("48500.00", "0.10000")]))
            let trades = try await api.json(.get, "/v1/markets/BTC-USD/trades")
            #expect(trades.arrayValue?.map { $0["price"] } == ["48500.00", "49000.00"])
            #expect(trades.arrayValue?.map { $0["taker_side"] } == ["sell", "sell"])
            #expect(
                try await api.balances(stopper) == [
                    "USD": ["998828.30000000", "6012.00000000"], "BTC": ["9.90000000", "0.00000000"],
                ])
        }
    }

    @Test func stopBuyIsReservedAtItsProtectionPriceAndEntersAtMarket() async throws {
        try await InProcessNode.run { node in
            let api = node.api
            let seller = try await node.trader("seller")
            let buyer = try await node.trader("buyer")
            let trigger = try await node.trader("trigger")
            _ = try await api.placed(seller, order("sell", "0.1", at: "51000"))
            _ = try await api.placed(seller, order("sell", "0.1", at: "50000"))
            let stop = try await api.placed(buyer, order("buy", "0.1", type: "stop", extra: ["stop_price": "50000"]))
            #expect(stop["status"] == "pending_trigger")
            // 0.1 at the protection price 52,500 (5% through the stop price) plus the maximum fee.
            #expect(try await api.balances(buyer)["USD"] == ["994739.50000000", "5260.50000000"])
            node.clock.advance(millis: 1_000)
            _ = try await api.placed(trigger, order("buy", "0.05", at: "50000"))
            expectJSON(
                try await node.order(buyer, stop["order_id"]),
                Expected.order(
                    stop["order_id"]!, "buy", "0.10000", at: nil, type: "stop", filled: "0.10000",
                    remaining: "0.00000", average: "50500.00000000", status: "filled", stopPrice: "50000.00",
                    updated: 1_000,
                    fills: [
                        Expected.fill("2", "50000.00", "0.05000", fee: "5.00000000", "taker", at: 1_000),
                        Expected.fill("3", "51000.00", "0.05000", fee: "5.10000000", "taker", at: 1_000),
                    ]))
            #expect(
                try await api.balances(buyer) == [
                    "USD": ["994939.90000000", "0.00000000"], "BTC": ["10.10000000", "0.00000000"],
                ])
            #expect(try await api.book() == Expected.book(asks: [("51000.00", "0.05000")]))
        }
    }

    @Test func selfTradePreventionCancelsTheRestingOrder() async throws {
        try await InProcessNode.run { node in
            let api = node.api
            let user = try await node.trader("self")
            let other = try await node.trader("other")
            let own = try await api.placed(user, order("sell", "0.1", at: "50000"))
            node.clock.advance(millis: 1_000)
            _ = try await api.placed(other, order("sell", "0.1", at: "50000"))
            node.clock.advance(millis: 1_000)
            let buy = try await api.placed(user, order("buy", "0.1", at: "50000"))
            expectJSON(
                buy,
                Expected.order(
                    buy["order_id"]!, "buy", "0.10000", at: "50000.00", filled: "0.10000", remaining: "0.00000",
                    average: "50000.00000000", status: "filled", created: 2_000, updated: 2_000,
                    fills: [Expected.fill("1", "50000.00", "0.10000", fee: "10.00000000", "taker", at: 2_000)]))
            expectJSON(
                try await node.order(user, own["order_id"]),
                Expected.order(
                    own["order_id"]!, "sell", "0.10000", at: "50000.00", remaining: "0.00000", status: "cancelled",
                    updated: 2_000))
            #expect(try await api.book() == Expected.book())
            #expect(
                try await api.balances(user) == [
                    "USD": ["994990.00000000", "0.00000000"], "BTC": ["10.10000000", "0.00000000"],
                ])
        }
    }
}
