import Trading

/// Whether a strategy's rules are evaluated at candle closes.
public enum StrategyStatus: String, Sendable, Hashable, CaseIterable {
    case active
    case paused
    /// Only in the answer to a delete: the strategy is gone.
    case deleted
}

/// A strategy as its owner sees it (api.md "Strategies"): where it lives, what it does, whether it runs.
public struct StrategyView: Sendable, Hashable {
    /// `st_<symbol>_<sequence>` (see `StrategyID`).
    public var strategyID: String
    public var owner: UserID
    public var definition: StrategyDefinition
    public var status: StrategyStatus
    public var createdAtMillis: Int64
    /// The candle close at which a rule last fired (cooldowns count from it).
    public var lastFiredMillis: Int64?
    /// Signals kept (at most `StrategyBook.signalCapacity`).
    public var signalCount: Int

    public init(
        strategyID: String, owner: UserID, definition: StrategyDefinition, status: StrategyStatus,
        createdAtMillis: Int64, lastFiredMillis: Int64? = nil, signalCount: Int = 0
    ) {
        self.strategyID = strategyID
        self.owner = owner
        self.definition = definition
        self.status = status
        self.createdAtMillis = createdAtMillis
        self.lastFiredMillis = lastFiredMillis
        self.signalCount = signalCount
    }
}

/// What became of a signal: waiting for its order, the order it placed, or why none could be placed.
public enum SignalOutcome: Sendable, Hashable {
    /// Fired; the exchange has not placed its order yet.
    case pending
    case placed(orderID: OrderID)
    /// The order flow refused the order (e.g. `INSUFFICIENT_FUNDS`, `ORDER_REJECTED`), with its message.
    case refused(code: BourseError.Code, reason: String)
}

/// One firing of a strategy rule at a candle close, and its outcome.
public struct SignalView: Sendable, Hashable {
    public var strategyID: String
    /// The close of the one-minute candle at whose close the rule fired.
    public var candleCloseMillis: Int64
    /// When the close was seen: the time of the trade that opened the next candle.
    public var firedAtMillis: Int64
    public var ruleIndex: Int
    public var side: Side
    public var quantity: Quantity
    public var outcome: SignalOutcome

    public init(
        strategyID: String, candleCloseMillis: Int64, firedAtMillis: Int64, ruleIndex: Int, side: Side,
        quantity: Quantity, outcome: SignalOutcome
    ) {
        self.strategyID = strategyID
        self.candleCloseMillis = candleCloseMillis
        self.firedAtMillis = firedAtMillis
        self.ruleIndex = ruleIndex
        self.side = side
        self.quantity = quantity
        self.outcome = outcome
    }

    /// The client order id of the signal's order (and the signal's id).
    public var clientOrderID: String {
        StrategyID.clientOrderID(strategyID: strategyID, candleCloseMillis: candleCloseMillis, rule: ruleIndex)
    }
}
