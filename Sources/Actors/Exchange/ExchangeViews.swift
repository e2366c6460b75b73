import Trading

/// A market and whether it trades.
public struct MarketInfo: Sendable, Hashable {
    public var spec: MarketSpec
    public var halted: Bool
    public init(spec: MarketSpec, halted: Bool) {
        self.spec = spec
        self.halted = halted
    }
}

public struct PriceLevel: Sendable, Hashable {
    public var price: Price
    public var quantity: Quantity
    public init(price: Price, quantity: Quantity) {
        self.price = price
        self.quantity = quantity
    }
}

public struct TickerView: Sendable, Hashable {
    public var symbol: String
    public var lastPrice: Price?
    public var bestBid: Price?
    public var bestAsk: Price?
    public var open24h: Price?
    public var high24h: Price?
    public var low24h: Price?
    public var volume24h: Quantity
    public var timestampMillis: Int64
    public init(
        symbol: String, lastPrice: Price?, bestBid: Price?, bestAsk: Price?, open24h: Price?, high24h: Price?,
        low24h: Price?, volume24h: Quantity, timestampMillis: Int64
    ) {
        self.symbol = symbol
        self.lastPrice = lastPrice
        self.bestBid = bestBid
        self.bestAsk = bestAsk
        self.open24h = open24h
        self.high24h = high24h
        self.low24h = low24h
        self.volume24h = volume24h
        self.timestampMillis = timestampMillis
    }
}

public struct DepthView: Sendable, Hashable {
    public var symbol: String
    public var sequence: UInt64
    /// Best (highest) first.
    public var bids: [PriceLevel]
    /// Best (lowest) first.
    public var asks: [PriceLevel]
    public init(symbol: String, sequence: UInt64, bids: [PriceLevel], asks: [PriceLevel]) {
        self.symbol = symbol
        self.sequence = sequence
        self.bids = bids
        self.asks = asks
    }
}

public struct PublicTrade: Sendable, Hashable {
    public var tradeID: UInt64
    public var price: Price
    public var quantity: Quantity
    public var takerSide: Side
    public var timestampMillis: Int64
    public init(tradeID: UInt64, price: Price, quantity: Quantity, takerSide: Side, timestampMillis: Int64) {
        self.tradeID = tradeID
        self.price = price
        self.quantity = quantity
        self.takerSide = takerSide
        self.timestampMillis = timestampMillis
    }
}

/// A market-data candle width: the pure core's `Timeframe` (`1m` … `1d`), which strategies' indicators use
/// too, so a candle closing and the indicators it feeds name their interval alike.
public typealias CandleInterval = Timeframe

public struct CandleView: Sendable, Hashable {
    public var openTimeMillis: Int64
    public var open: Price
    public var high: Price
    public var low: Price
    public var close: Price
    public var volume: Quantity
    public init(openTimeMillis: Int64, open: Price, high: Price, low: Price, close: Price, volume: Quantity) {
        self.openTimeMillis = openTimeMillis
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
    }
}

/// A currency balance of one user.
public struct BalanceView: Sendable, Hashable {
    public var currency: String
    public var available: Amount
    public var locked: Amount
    public init(currency: String, available: Amount, locked: Amount) {
        self.currency = currency
        self.available = available
        self.locked = locked
    }
}

/// The answer to a deposit or withdrawal.
public struct BalanceChange: Sendable, Hashable {
    public var transactionID: String
    public var balance: BalanceView
    /// The amount moved: what a retry with the same `Idempotency-Key` must ask for again (nil for a result
    /// restored from a snapshot older than "BAS3", which did not keep it).
    public var amount: Amount?
    public init(transactionID: String, balance: BalanceView, amount: Amount? = nil) {
        self.transactionID = transactionID
        self.balance = balance
        self.amount = amount
    }
}
