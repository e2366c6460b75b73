import TestSupport
import Testing

@testable import API

@Suite("Market routes")
struct MarketRoutesTests {
    @Test func marketsList() async throws {
        try await TestServer.run { server in
            let response = try await server.call(.get, "/v1/markets")
            #expect(response.status == 200)
            let btc = try #require(response.json.arrayValue?.first)
            #expect(
                btc == [
                    "symbol": "BTC-USD", "base": "BTC", "quote": "USD", "tick_size": "0.01", "lot_size": "0.00001",
                    "min_quantity": "0.00001", "maker_fee_bps": 10, "taker_fee_bps": 20, "status": "trading",
                ])
        }
    }

    @Test func tickerBookTradesCandles() async throws {
        try await TestServer.run { server in
            let ticker = try await server.call(.get, "/v1/markets/BTC-USD/ticker")
            #expect(ticker.json["last_price"] == "50000.25")
            #expect(ticker.json["best_ask"] == .null)
            #expect(ticker.json["volume_24h"] == "1.50000")
            #expect(ticker.json["timestamp"] == "2024-05-01T12:00:00.000Z")

            let book = try await server.call(.get, "/v1/markets/BTC-USD/orderbook?depth=2")
            #expect(book.json["sequence"] == 7)
            #expect(book.json["bids"] == [["50000.00", "0.00100"], ["49999.99", "0.00100"]])
            #expect(book.json["asks"]?.arrayValue?.count == 2)
            #expect(try await server.call(.get, "/v1/markets/BTC-USD/orderbook").json["bids"]?.arrayValue?.count == 3)

            let trades = try await server.call(.get, "/v1/markets/BTC-USD/trades?limit=5")
            #expect(
                trades.json == [
                    [
                        "trade_id": "9", "price": "50000.00", "quantity": "0.00010", "taker_side": "buy",
                        "timestamp": "2024-05-01T12:00:00.000Z",
                    ]
                ])

            let candles = try await server.call(.get, "/v1/markets/BTC-USD/candles?interval=4h&limit=1")
            #expect(
                candles.json.arrayValue?.first?.objectValue?.keys == [
                    "open_time", "open", "high", "low", "close", "volume",
                ])
        }
    }

    @Test(arguments: [
        "/v1/markets/BTC-USD/orderbook?depth=0", "/v1/markets/BTC-USD/orderbook?depth=1001",
        "/v1/markets/BTC-USD/orderbook?depth=ten", "/v1/markets/BTC-USD/trades?limit=0",
        "/v1/markets/BTC-USD/trades?limit=1001", "/v1/markets/BTC-USD/candles?interval=2m",
        "/v1/markets/BTC-USD/candles?limit=5000",
    ])
    func queryValidation(path: String) async throws {
        try await TestServer.run { server in
            let response = try await server.call(.get, path)
            #expect(response.status == 400)
            #expect(response.errorCode == "VALIDATION_ERROR")
        }
    }
}
