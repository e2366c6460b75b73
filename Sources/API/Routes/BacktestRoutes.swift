import Hummingbird
import Trading

/// api.md "Strategies" (Bearer): `POST /v1/backtests`, a strategy's rules replayed over candles the client
/// gives (`BacktestRequest`, `Backtest`). Stateless: nothing reaches the exchange.
struct BacktestRoutes {
    let services: APIServices

    func register(on table: APIRouteTable) {
        let services = self.services
        table.post("/v1/backtests") { request, context in
            _ = try context.requireUser()
            var request = request
            let body = try await request.jsonBody(limit: services.bodyLimit, maxDepth: services.maxJSONDepth)
            let backtest: BacktestRequest
            do {
                backtest = try BacktestRequest(body)
            } catch let error as StrategyValidationError {
                return error.response
            }
            return .json(Self.render(try backtest.run(), time: backtest.time))
        }
    }

    /// `{trades, final_equity, return_pct, max_drawdown_pct, sharpe, trade_count, win_rate}`: prices,
    /// quantities, pnl and equity as decimal strings with 8 decimals; percentages and ratios as numbers,
    /// `null` when undefined; times in the candles' form.
    static func render(_ result: BacktestResult, time: CandleTime) -> JSONValue {
        let trades = result.trades.map { trade -> JSONValue in
            [
                "entry_time": time.render(trade.entryTime), "entry_price": decimal(trade.entryPrice),
                "exit_time": time.render(trade.exitTime), "exit_price": decimal(trade.exitPrice),
                "quantity": .string(trade.quantity.description), "pnl": decimal(trade.pnl),
            ]
        }
        return [
            "trades": .array(trades), "final_equity": decimal(result.finalEquity),
            "return_pct": Render.ratio(result.returnPercent),
            "max_drawdown_pct": Render.ratio(result.maxDrawdownPercent),
            "sharpe": Render.ratio(result.sharpe), "trade_count": .int(result.tradeCount),
            "win_rate": Render.ratio(result.winRate),
        ]
    }

    /// A floating-point amount as a decimal string rounded to 8 decimals (half away from zero), e.g.
    /// `"103.86000000"`; beyond 9.2e18, where a Double has no decimals left, its shortest form (`"1e+19"`).
    static func decimal(_ value: Double) -> JSONValue {
        guard value.isFinite else { return .null }
        let magnitude = value.magnitude
        var whole = magnitude.rounded(.towardZero)
        var fraction = ((magnitude - whole) * 1e8).rounded()
        if fraction >= 1e8 {
            whole += 1
            fraction = 0
        }
        guard whole < 9.2e18 else { return .string("\(value)") }
        let digits = String(UInt64(fraction))
        let sign = value < 0 && (whole > 0 || fraction > 0) ? "-" : ""
        return .string(
            "\(sign)\(UInt64(whole)).\(String(repeating: "0", count: 8 - digits.count))\(digits)")
    }
}
