import Trading

public struct PositionView: Sendable, Hashable {
    public var symbol: String
    /// Base quantity held through this market, in base units (8 decimals).
    public var quantity: Amount
    /// Weighted average cost per whole base unit, fees included (nil when flat).
    public var averagePrice: Amount?
    public var marketPrice: Amount?
    public var marketValue: Amount
    public var costBasis: Amount
    public var unrealizedPnL: Amount
    public var realizedPnL: Amount
    public init(
        symbol: String, quantity: Amount, averagePrice: Amount?, marketPrice: Amount?, marketValue: Amount,
        costBasis: Amount, unrealizedPnL: Amount, realizedPnL: Amount
    ) {
        self.symbol = symbol
        self.quantity = quantity
        self.averagePrice = averagePrice
        self.marketPrice = marketPrice
        self.marketValue = marketValue
        self.costBasis = costBasis
        self.unrealizedPnL = unrealizedPnL
        self.realizedPnL = realizedPnL
    }
}

public struct PortfolioView: Sendable, Hashable {
    public var quoteCurrency: String
    public var cash: Amount
    public var positions: [PositionView]
    public var totalValue: Amount
    public var totalCost: Amount
    public var totalPnL: Amount
    /// Percent, two decimals as an amount (e.g. 12.34).
    public var roiPercent: Double
    public init(
        quoteCurrency: String, cash: Amount, positions: [PositionView], totalValue: Amount, totalCost: Amount,
        totalPnL: Amount, roiPercent: Double
    ) {
        self.quoteCurrency = quoteCurrency
        self.cash = cash
        self.positions = positions
        self.totalValue = totalValue
        self.totalCost = totalCost
        self.totalPnL = totalPnL
        self.roiPercent = roiPercent
    }
}

/// Statistics from daily equity (floating point is fine here: they are ratios, not money).
public struct PerformanceView: Sendable, Hashable {
    public var totalReturnPercent: Double
    public var realizedPnL: Amount
    public var unrealizedPnL: Amount
    public var maxDrawdownPercent: Double
    public var sharpe: Double?
    public var sortino: Double?
    public var winRate: Double?
    public var tradeCount: Int
    public init(
        totalReturnPercent: Double, realizedPnL: Amount, unrealizedPnL: Amount, maxDrawdownPercent: Double,
        sharpe: Double?, sortino: Double?, winRate: Double?, tradeCount: Int
    ) {
        self.totalReturnPercent = totalReturnPercent
        self.realizedPnL = realizedPnL
        self.unrealizedPnL = unrealizedPnL
        self.maxDrawdownPercent = maxDrawdownPercent
        self.sharpe = sharpe
        self.sortino = sortino
        self.winRate = winRate
        self.tradeCount = tradeCount
    }
}

/// A stream channel of `GET /v1/stream`.
public enum StreamChannel: Sendable, Hashable {
    case ticker(String)
    case orderbook(String)
    case trades(String)
    /// The caller's order and fill updates.
    case orders

    /// Parses `ticker:BTC-USD`, `orderbook:BTC-USD`, `trades:BTC-USD`, `orders`.
    public init?(parsing text: String) {
        if text == "orders" {
            self = .orders
            return
        }
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, MarketSpec.isValidSymbol(parts[1]) else { return nil }
        switch parts[0] {
        case "ticker": self = .ticker(parts[1])
        case "orderbook": self = .orderbook(parts[1])
        case "trades": self = .trades(parts[1])
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .ticker(let symbol): "ticker:\(symbol)"
        case .orderbook(let symbol): "orderbook:\(symbol)"
        case .trades(let symbol): "trades:\(symbol)"
        case .orders: "orders"
        }
    }
}

public struct StreamEvent: Sendable {
    public enum Payload: Sendable {
        case ticker(TickerView)
        case orderbook(DepthView)
        case trade(PublicTrade, symbol: String)
        case order(OrderView)
    }

    public var channel: String
    public var sequence: UInt64
    public var payload: Payload
    public init(channel: String, sequence: UInt64, payload: Payload) {
        self.channel = channel
        self.sequence = sequence
        self.payload = payload
    }
}
