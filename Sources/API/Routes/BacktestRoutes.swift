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
            do {
                return .json(Self.render(try backtest.run(), time: backtest.time))
            } catch let error as BourseError where error.code == .validation {
                // A candle at which the cash or the equity leaves the amounts' range: with `details`, as the
                // request's other problems are.
                guard let problem = Self.candleProblem(error.message) else { throw error }
                return StrategyValidationError(code: .validation, problems: [problem]).response
            }
        }
    }

    /// `candles[i].open: …` or `candles[i].close: …` (`Backtest.run`'s range errors) as a problem at that path.
    static func candleProblem(_ message: String) -> RuleProblem? {
        guard message.hasPrefix("candles["), let close = message.firstIndex(of: "]"),
            let index = Int(message[message.index(message.startIndex, offsetBy: 8)..<close])
        else { return nil }
        let rest = message[message.index(after: close)...]
        for field in ["open", "close"] where rest.hasPrefix(".\(field): ") {
            return RuleProblem(
                RulePath([.member("candles"), .index(index), .member(field)]),
                String(rest.dropFirst(field.count + 3)))
        }
        return nil
    }

    /// `{trades, final_equity, return_pct, max_drawdown_pct, sharpe, trade_count, win_rate}`: prices,
    /// quantities, pnl and equity as decimal strings with 8 decimals, exact (`Amount`); percentages and ratios
    /// as numbers, `null` when undefined; times in the candles' form.
    static func render(_ result: BacktestResult, time: CandleTime) -> JSONValue {
        let trades = result.trades.map { trade -> JSONValue in
            [
                "entry_time": time.render(trade.entryTime), "entry_price": Render.amount(trade.entryPrice),
                "exit_time": time.render(trade.exitTime), "exit_price": Render.amount(trade.exitPrice),
                "quantity": Render.amount(trade.quantity), "pnl": Render.amount(trade.pnl),
            ]
        }
        return [
            "trades": .array(trades), "final_equity": Render.amount(result.finalEquity),
            "return_pct": Render.ratio(result.returnPercent),
            "max_drawdown_pct": Render.ratio(result.maxDrawdownPercent),
            "sharpe": Render.ratio(result.sharpe), "trade_count": .int(result.tradeCount),
            "win_rate": Render.ratio(result.winRate),
        ]
    }
}
