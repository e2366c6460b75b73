import Trading

/// A strategy as its market's state holds it: the definition, its status, and its recent signals.
struct SymbolStrategy: Sendable, Hashable {
    var sequence: UInt64
    var owner: UserID
    var definition: StrategyDefinition
    var paused: Bool
    var createdAtMillis: Int64
    var lastFiredMillis: Int64?
    /// Oldest first, at most `StrategyBook.signalCapacity`.
    var signals: [StrategySignal] = []

    func view(symbol: String) -> StrategyView {
        StrategyView(
            strategyID: StrategyID.make(symbol: symbol, sequence: sequence), owner: owner, definition: definition,
            status: paused ? .paused : .active, createdAtMillis: createdAtMillis, lastFiredMillis: lastFiredMillis,
            signalCount: signals.count)
    }

    func view(of signal: StrategySignal, symbol: String) -> SignalView {
        let action =
            definition.rules.indices.contains(signal.ruleIndex)
            ? definition.rules[signal.ruleIndex].action : StrategyAction(side: .buy, quantity: .zero)
        return SignalView(
            strategyID: StrategyID.make(symbol: symbol, sequence: sequence),
            candleCloseMillis: signal.candleCloseMillis, firedAtMillis: signal.firedAtMillis,
            ruleIndex: signal.ruleIndex, side: action.side, quantity: action.quantity, outcome: signal.outcome)
    }
}

/// One firing of a rule at a candle close.
struct StrategySignal: Sendable, Hashable {
    var candleCloseMillis: Int64
    var firedAtMillis: Int64
    var ruleIndex: Int
    var outcome: SignalOutcome
}

/// A signal handed from its market to the exchange, which places its order for the owner.
public struct FiredSignal: Sendable, Hashable {
    public var symbol: String
    public var sequence: UInt64
    public var owner: UserID
    public var candleCloseMillis: Int64
    public var ruleIndex: Int
    public var action: StrategyAction

    public var strategyID: String { StrategyID.make(symbol: symbol, sequence: sequence) }

    public var clientOrderID: String {
        StrategyID.clientOrderID(strategyID: strategyID, candleCloseMillis: candleCloseMillis, rule: ruleIndex)
    }
}

/// The journaled commands that change a market's strategies.
public enum StrategyCommand: Sendable, Hashable {
    /// Adds a strategy under the market's next sequence.
    case add(owner: UserID, definition: StrategyDefinition)
    case pause(sequence: UInt64)
    case resume(sequence: UInt64)
    case delete(sequence: UInt64)
    /// What the exchange did with the signal fired by rule `rule` at the close `candleCloseMillis`.
    case recordSignal(
        sequence: UInt64, candleCloseMillis: Int64, firedAtMillis: Int64, rule: Int, outcome: SignalOutcome)
}
