import Actors
import Trading

extension Render {
    static func portfolio(_ portfolio: PortfolioView) -> JSONValue {
        [
            "quote_currency": .string(portfolio.quoteCurrency), "cash": amount(portfolio.cash),
            "positions": .array(portfolio.positions.map(position)), "total_value": amount(portfolio.totalValue),
            "total_cost": amount(portfolio.totalCost), "total_pnl": amount(portfolio.totalPnL),
            "roi_pct": ratio(rounded(portfolio.roiPercent, decimals: 2)),
        ]
    }

    static func position(_ position: PositionView) -> JSONValue {
        [
            "symbol": .string(position.symbol), "quantity": amount(position.quantity),
            "average_price": amount(position.averagePrice), "market_price": amount(position.marketPrice),
            "market_value": amount(position.marketValue), "cost_basis": amount(position.costBasis),
            "unrealized_pnl": amount(position.unrealizedPnL), "realized_pnl": amount(position.realizedPnL),
        ]
    }

    static func performance(_ performance: PerformanceView) -> JSONValue {
        [
            "total_return_pct": ratio(performance.totalReturnPercent), "realized_pnl": amount(performance.realizedPnL),
            "unrealized_pnl": amount(performance.unrealizedPnL),
            "max_drawdown_pct": ratio(performance.maxDrawdownPercent),
            "sharpe": ratio(performance.sharpe), "sortino": ratio(performance.sortino),
            "win_rate": ratio(performance.winRate), "trade_count": .int(performance.tradeCount),
        ]
    }

    private static func rounded(_ value: Double, decimals: Int) -> Double {
        guard value.isFinite else { return value }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        return (value * scale).rounded() / scale
    }
}
