import API
import Testing

/// Public market data, the caller's fills and the portfolio reflect the trades made through the API.
@Suite("End to end: market data and portfolio")
struct MarketDataTests {
    @Test func marketsTickerBookTradesAndCandles() async throws {
        try await InProcessNode.run { node in
            let api = node.api
            expectJSON(
                try await api.json(.get, "/v1/markets"),
                [
                    [
                        "symbol": "BTC-USD", "base": "BTC", "quote": "USD", "tick_size": "0.01",
                        "lot_size": "0.00001", "min_quantity": "0.00001", "maker_fee_bps": 10, "taker_fee_bps": 20,
                        "status": "trading",
                    ],
                    [
                        "symbol": "ETH-USD", "base": "ETH", "quote": "USD", "tick_size": "0.01", "lot_size": "0.0001",
                        "min_quantity": "0.0001", "maker_fee_bps": 10, "taker_fee_bps": 20, "status": "trading",
                    ],
                ])
            let maker = try await node.trader("maker")
            let buyer = try await node.trader("buyer")
            let ask = try await api.placed(maker, order("sell", "0.1", at: "50000"))
            let first = try await api.placed(buyer, order("buy", "0.04", at: "50000"))
            node.clock.advance(millis: 61_000)
            let second = try await api.placed(buyer, order("buy", "0.02", at: "50000"))
            let bid = try await api.placed(buyer, order("buy", "0.1", at: "49000"))
            _ = try await api.placed(maker, order("sell", "0.01", at: "49000"))

            expectJSON(
                try await api.json(.get, "/v1/markets/BTC-USD/ticker"),
                [
                    "symbol": "BTC-USD", "last_price": "49000.00", "best_bid": "49000.00", "best_ask": "50000.00",
                    "open_24h": "50000.00", "high_24h": "50000.00", "low_24h": "49000.00", "volume_24h": "0.07000",
                    "timestamp": InProcessNode.time(61_000),
                ])
            expectJSON(
                try await api.json(.get, "/v1/markets/BTC-USD/orderbook?depth=5"),
                [
                    "symbol": "BTC-USD", "sequence": 8, "bids": [["49000.00", "0.09000"]],
                    "asks": [["50000.00", "0.04000"]],
                ])
            expectJSON(
                try await api.json(.get, "/v1/markets/BTC-USD/trades"),
                [
                    [
                        "trade_id": "3", "price": "49000.00", "quantity": "0.01000", "taker_side": "sell",
                        "timestamp": InProcessNode.time(61_000),
                    ],
                    [
                        "trade_id": "2", "price": "50000.00", "quantity": "0.02000", "taker_side": "buy",
                        "timestamp": InProcessNode.time(61_000),
                    ],
                    [
                        "trade_id": "1", "price": "50000.00", "quantity": "0.04000", "taker_side": "buy",
                        "timestamp": InProcessNode.time(),
                    ],
                ])
            #expect(try await api.json(.get, "/v1/markets/BTC-USD/trades?limit=1").arrayValue?.count == 1)
            expectJSON(
                try await api.json(.get, "/v1/markets/BTC-USD/candles?interval=1m"),
                [
                    [
                        "open_time": InProcessNode.time(), "open": "50000.00", "high": "50000.00", "low": "50000.00",
                        "close": "50000.00", "volume": "0.04000",
                    ],
                    [
                        "open_time": InProcessNode.time(60_000), "open": "50000.00", "high": "50000.00",
                        "low": "49000.00", "close": "49000.00", "volume": "0.03000",
                    ],
                ])
            expectJSON(
                try await api.json(.get, "/v1/markets/BTC-USD/candles?interval=5m&limit=10"),
                [
                    [
                        "open_time": InProcessNode.time(), "open": "50000.00", "high": "50000.00", "low": "49000.00",
                        "close": "49000.00", "volume": "0.07000",
                    ]
                ])
            expectJSON(
                try await api.json(.get, "/v1/markets/ETH-USD/ticker"),
                [
                    "symbol": "ETH-USD", "last_price": nil, "best_bid": nil, "best_ask": nil, "open_24h": nil,
                    "high_24h": nil, "low_24h": nil, "volume_24h": "0.0000", "timestamp": InProcessNode.time(61_000),
                ])
            #expect(try await api.call(.get, "/v1/markets/XRP-USD/ticker").status == 404)
            #expect(try await api.call(.get, "/v1/markets/BTC-USD/candles?interval=2m").status == 400)

            // The caller's fills, newest first; the bid's fill is a maker fill.
            expectJSON(
                try await api.json(.get, "/v1/trades?symbol=BTC-USD", token: buyer.token),
                [
                    [
                        "trade_id": "3", "order_id": bid["order_id"]!, "symbol": "BTC-USD", "side": "buy",
                        "price": "49000.00", "quantity": "0.01000", "fee": "0.49000000", "fee_currency": "USD",
                        "liquidity": "maker", "timestamp": InProcessNode.time(61_000),
                    ],
                    [
                        "trade_id": "2", "order_id": second["order_id"]!, "symbol": "BTC-USD", "side": "buy",
                        "price": "50000.00", "quantity": "0.02000", "fee": "2.00000000", "fee_currency": "USD",
                        "liquidity": "taker", "timestamp": InProcessNode.time(61_000),
                    ],
                    [
                        "trade_id": "1", "order_id": first["order_id"]!, "symbol": "BTC-USD", "side": "buy",
                        "price": "50000.00", "quantity": "0.04000", "fee": "4.00000000", "fee_currency": "USD",
                        "liquidity": "taker", "timestamp": InProcessNode.time(),
                    ],
                ])
            let makerFills = try await api.json(.get, "/v1/trades?limit=2", token: maker.token)
            #expect(makerFills.arrayValue?.map { $0["liquidity"] } == ["taker", "maker"])
            #expect(makerFills.arrayValue?.map { $0["fee"] } == ["0.98000000", "1.00000000"])
            #expect(makerFills.arrayValue?.last?["order_id"] == ask["order_id"])
            #expect(try await api.json(.get, "/v1/trades?symbol=ETH-USD", token: buyer.token) == [])
        }
    }

    @Test func portfolioFollowsBuysAndSells() async throws {
        try await InProcessNode.run { node in
            let api = node.api
            let maker = try await node.trader("maker")
            let investor = try await node.trader("investor", btc: nil)
            _ = try await api.placed(maker, order("sell", "0.1", at: "50000"))
            _ = try await api.placed(investor, order("buy", "0.1", at: "50000"))
            // Cost 5,000 + 10 of fee: average 50,100; marked at the last trade, 50,000.
            expectJSON(
                try await api.json(.get, "/v1/portfolio", token: investor.token),
                [
                    "quote_currency": "USD", "cash": "994990.00000000",
                    "positions": [
                        [
                            "symbol": "BTC-USD", "quantity": "0.10000000", "average_price": "50100.00000000",
                            "market_price": "50000.00000000", "market_value": "5000.00000000",
                            "cost_basis": "5010.00000000", "unrealized_pnl": "-10.00000000",
                            "realized_pnl": "0.00000000",
                        ]
                    ],
                    "total_value": "999990.00000000", "total_cost": "5010.00000000", "total_pnl": "-10.00000000",
                    "roi_pct": .number("-0.2"),
                ])
            // Selling 0.04 at 51,000 as a maker (fee 2.04) realizes 2,037.96 − 2,004 of cost = 33.96.
            _ = try await api.placed(investor, order("sell", "0.04", at: "51000"))
            _ = try await api.placed(maker, order("buy", "0.04", at: "51000"))
            expectJSON(
                try await api.json(.get, "/v1/portfolio", token: investor.token),
                [
                    "quote_currency": "USD", "cash": "997027.96000000",
                    "positions": [
                        [
                            "symbol": "BTC-USD", "quantity": "0.06000000", "average_price": "50100.00000000",
                            "market_price": "51000.00000000", "market_value": "3060.00000000",
                            "cost_basis": "3006.00000000", "unrealized_pnl": "54.00000000",
                            "realized_pnl": "33.96000000",
                        ]
                    ],
                    "total_value": "1000087.96000000", "total_cost": "3006.00000000", "total_pnl": "87.96000000",
                    "roi_pct": .number("2.93"),
                ])
            let empty = try await node.trader("empty", usd: nil, btc: nil)
            expectJSON(
                try await api.json(.get, "/v1/portfolio", token: empty.token),
                [
                    "quote_currency": "USD", "cash": "0.00000000", "positions": [], "total_value": "0.00000000",
                    "total_cost": "0.00000000", "total_pnl": "0.00000000", "roi_pct": 0,
                ])
        }
    }
}
