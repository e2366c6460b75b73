import Actors
import Hummingbird
import Trading

/// api.md "Markets" (no auth): markets, ticker, order book, recent trades, candles.
struct MarketRoutes {
    let services: APIServices

    func register(on table: APIRouteTable) {
        let exchange = services.exchange
        table.get("/v1/markets") { _, _ in
            .json(.array(await exchange.markets().map(Render.market)))
        }
        table.get("/v1/markets/{symbol}/ticker") { _, context in
            let spec = try await exchange.market(try context.symbolParameter()).spec
            return .json(Render.ticker(try await exchange.ticker(symbol: spec.symbol), spec))
        }
        table.get("/v1/markets/{symbol}/orderbook") { request, context in
            let spec = try await exchange.market(try context.symbolParameter()).spec
            let depth = try request.intQuery("depth", default: 10, range: 1...1000)
            return .json(Render.orderBook(try await exchange.orderBook(symbol: spec.symbol, depth: depth), spec))
        }
        table.get("/v1/markets/{symbol}/trades") { request, context in
            let spec = try await exchange.market(try context.symbolParameter()).spec
            let limit = try request.intQuery("limit", default: 100, range: 1...1000)
            let trades = try await exchange.recentTrades(symbol: spec.symbol, limit: limit)
            return .json(.array(trades.map { Render.publicTrade($0, spec) }))
        }
        table.get("/v1/markets/{symbol}/candles") { request, context in
            let spec = try await exchange.market(try context.symbolParameter()).spec
            let intervalText = request.query("interval") ?? CandleInterval.m1.rawValue
            guard let interval = CandleInterval(rawValue: intervalText) else {
                throw BourseError.validation(
                    "interval must be one of \(CandleInterval.apiNames.joined(separator: ", "))")
            }
            let limit = try request.intQuery("limit", default: 500, range: 1...1000)
            let candles = try await exchange.candles(symbol: spec.symbol, interval: interval, limit: limit)
            return .json(.array(candles.map { Render.candle($0, spec) }))
        }
    }
}
