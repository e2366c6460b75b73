import Trading

// The rows of the read models (`orders`, `trade_history`, `transactions`, `wallets`, `portfolio_holdings`).
// Money and quantities are exact integers as the domain holds them (amounts in units of 10⁻⁸, prices in
// ticks and quantities in lots of their symbol's market); times are milliseconds since 1970; enumerations
// are the API's spellings (`buy`, `partially_filled`, `DEPOSIT`, …), so the tables read like the API.

/// One order as its owner sees it (table `orders`, primary key `order_id`; upserted).
public struct OrderRow: Sendable, Hashable {
    public var orderID: OrderID
    public var userID: UserID
    public var clientOrderID: String?
    public var symbol: String
    /// `buy` or `sell`.
    public var side: String
    /// `limit`, `market`, `stop` or `stop_limit`.
    public var type: String
    public var price: Price?
    public var stopPrice: Price?
    public var quantity: Quantity
    public var filledQuantity: Quantity
    /// Σ price × quantity of the fills, in quote units.
    public var filledNotional: Amount
    /// `new`, `partially_filled`, `filled`, `cancelled`, `rejected` or `pending_trigger`.
    public var status: String
    /// `gtc`, `ioc` or `fok`.
    public var timeInForce: String
    public var postOnly: Bool
    public var rejectReason: String?
    public var createdAtMillis: Int64
    public var updatedAtMillis: Int64

    public init(
        orderID: OrderID, userID: UserID, clientOrderID: String?, symbol: String, side: String, type: String,
        price: Price?, stopPrice: Price?, quantity: Quantity, filledQuantity: Quantity, filledNotional: Amount,
        status: String, timeInForce: String, postOnly: Bool, rejectReason: String?, createdAtMillis: Int64,
        updatedAtMillis: Int64
    ) {
        self.orderID = orderID
        self.userID = userID
        self.clientOrderID = clientOrderID
        self.symbol = symbol
        self.side = side
        self.type = type
        self.price = price
        self.stopPrice = stopPrice
        self.quantity = quantity
        self.filledQuantity = filledQuantity
        self.filledNotional = filledNotional
        self.status = status
        self.timeInForce = timeInForce
        self.postOnly = postOnly
        self.rejectReason = rejectReason
        self.createdAtMillis = createdAtMillis
        self.updatedAtMillis = updatedAtMillis
    }
}

/// One user's side of one fill (table `trade_history`, primary key (`symbol`, `trade_id`, `order_id`);
/// inserted once, never changed).
public struct TradeRow: Sendable, Hashable {
    public var symbol: String
    public var tradeID: UInt64
    public var orderID: OrderID
    public var userID: UserID
    public var side: String
    public var price: Price
    public var quantity: Quantity
    public var fee: Amount
    public var feeCurrency: String
    /// `maker` or `taker`.
    public var liquidity: String
    public var timestampMillis: Int64

    public init(
        symbol: String, tradeID: UInt64, orderID: OrderID, userID: UserID, side: String, price: Price,
        quantity: Quantity, fee: Amount, feeCurrency: String, liquidity: String, timestampMillis: Int64
    ) {
        self.symbol = symbol
        self.tradeID = tradeID
        self.orderID = orderID
        self.userID = userID
        self.side = side
        self.price = price
        self.quantity = quantity
        self.fee = fee
        self.feeCurrency = feeCurrency
        self.liquidity = liquidity
        self.timestampMillis = timestampMillis
    }
}

/// One ledger row: a change of one currency's balance (table `transactions`, primary key (`user_id`,
/// `entry_id`); inserted once, never changed).
public struct TransactionRow: Sendable, Hashable {
    public var userID: UserID
    /// The ledger's per-user row number, from 1 without gaps.
    public var entryID: UInt64
    /// `DEPOSIT`, `WITHDRAWAL`, `LOCK`, `UNLOCK`, `TRADE` or `FEE`.
    public var type: String
    public var currency: String
    public var amount: Amount
    public var availableAfter: Amount
    public var lockedAfter: Amount
    public var referenceID: String
    public var timestampMillis: Int64

    public init(
        userID: UserID, entryID: UInt64, type: String, currency: String, amount: Amount, availableAfter: Amount,
        lockedAfter: Amount, referenceID: String, timestampMillis: Int64
    ) {
        self.userID = userID
        self.entryID = entryID
        self.type = type
        self.currency = currency
        self.amount = amount
        self.availableAfter = availableAfter
        self.lockedAfter = lockedAfter
        self.referenceID = referenceID
        self.timestampMillis = timestampMillis
    }
}

/// One currency balance of one user (table `wallets`, primary key (`user_id`, `currency`); upserted).
public struct WalletRow: Sendable, Hashable {
    public var userID: UserID
    public var currency: String
    public var available: Amount
    public var locked: Amount

    public init(userID: UserID, currency: String, available: Amount, locked: Amount) {
        self.userID = userID
        self.currency = currency
        self.available = available
        self.locked = locked
    }
}

/// One user's position in one market (table `portfolio_holdings`, primary key (`user_id`, `symbol`);
/// upserted). Amounts of the base (`quantity`) and quote currencies (the rest), in units of 10⁻⁸.
public struct HoldingRow: Sendable, Hashable {
    public var userID: UserID
    public var symbol: String
    public var base: String
    public var quote: String
    public var quantity: Amount
    /// What `quantity` cost, buy fees included (average price = cost basis / quantity).
    public var costBasis: Amount
    public var realizedPnL: Amount
    public var feesPaid: Amount

    public init(
        userID: UserID, symbol: String, base: String, quote: String, quantity: Amount, costBasis: Amount,
        realizedPnL: Amount, feesPaid: Amount
    ) {
        self.userID = userID
        self.symbol = symbol
        self.base = base
        self.quote = quote
        self.quantity = quantity
        self.costBasis = costBasis
        self.realizedPnL = realizedPnL
        self.feesPaid = feesPaid
    }
}
