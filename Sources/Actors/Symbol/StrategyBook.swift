import Trading

/// The strategies of one market, as a pure state machine inside `SymbolState`: their definitions, statuses
/// and signals, the market's shared `IndicatorSet`, and each strategy's `RulePlan` compiled onto it.
///
/// At every candle close (`close(_:candleCloseMillis:atMillis:)`) the set takes the closed candles once,
/// then each active strategy out of cooldown fires its first rule that holds, if any: one signal per
/// strategy and close, `pending` until the exchange records the order it placed (`recordSignal`).
///
/// The indicator set is a function of the strategies' indicators and the market's retained candles: it is
/// rebuilt from `MarketData`'s closed candles whenever a strategy brings an indicator the set lacks (so a
/// new strategy's indicators start warm) and when a snapshot is restored, and updated close by close in
/// between. Replaying the journal gives the same set; after a snapshot, SMA, Bollinger, price and volume are
/// exact and EMA, RSI and MACD (whose values depend on where their series starts) differ slightly.
public struct StrategyBook: Sendable {
    /// Signals kept per strategy, the newest.
    public static let signalCapacity = 500

    /// In creation order (sequence order).
    private(set) var strategies: [SymbolStrategy] = []
    /// The sequence the next strategy gets.
    var nextSequence: UInt64 = 1
    private(set) var indicators = IndicatorSet()
    private var plans: [UInt64: RulePlan] = [:]
    /// Signals fired since the actor last took them (`takeFired()`).
    private var fired: [FiredSignal] = []

    public init() {}

    init(strategies: [SymbolStrategy], nextSequence: UInt64) {
        self.strategies = strategies
        self.nextSequence = nextSequence
    }

    /// The strategy of `sequence`, if the market has it.
    func strategy(_ sequence: UInt64) -> SymbolStrategy? { strategies.first { $0.sequence == sequence } }

    /// Every signal fired since the last call, in firing order.
    mutating func takeFired() -> [FiredSignal] {
        defer { fired.removeAll() }
        return fired
    }

    /// Every signal still waiting for its order, oldest first.
    func pending(symbol: String) -> [FiredSignal] {
        strategies.flatMap { strategy in
            strategy.signals.filter { $0.outcome == .pending }.map { signal in
                FiredSignal(
                    symbol: symbol, sequence: strategy.sequence, owner: strategy.owner,
                    candleCloseMillis: signal.candleCloseMillis, ruleIndex: signal.ruleIndex,
                    action: strategy.definition.rules[signal.ruleIndex].action)
            }
        }
    }

    // MARK: Commands

    /// Applies a strategy command at `nowMillis`; `marketData` warms new indicators up.
    mutating func apply(_ command: StrategyCommand, nowMillis: Int64, marketData: MarketData, spec: MarketSpec) {
        switch command {
        case .add(let owner, let definition):
            var candidate = indicators
            let before = candidate.count
            guard let plan = try? RulePlan(definition.rules.map(\.when), indicators: &candidate) else { return }
            let sequence = nextSequence
            nextSequence += 1
            strategies.append(
                SymbolStrategy(
                    sequence: sequence, owner: owner, definition: definition, paused: false,
                    createdAtMillis: nowMillis))
            if candidate.count > before {
                rebuildIndicators(from: marketData, spec: spec)
            } else {
                plans[sequence] = plan
            }
        case .pause(let sequence): update(sequence) { $0.paused = true }
        case .resume(let sequence): update(sequence) { $0.paused = false }
        case .delete(let sequence):
            strategies.removeAll { $0.sequence == sequence }
            plans[sequence] = nil
        case .recordSignal(let sequence, let close, let firedAt, let rule, let outcome):
            update(sequence) { strategy in
                guard strategy.definition.rules.indices.contains(rule) else { return }
                Self.record(
                    StrategySignal(candleCloseMillis: close, firedAtMillis: firedAt, ruleIndex: rule, outcome: outcome),
                    in: &strategy)
            }
        }
    }

    /// Sets a signal's outcome, adding the signal if it is not held (fired before a snapshot whose restored
    /// indicators did not fire it again); a signal already resolved keeps its outcome.
    private static func record(_ signal: StrategySignal, in strategy: inout SymbolStrategy) {
        strategy.lastFiredMillis = max(strategy.lastFiredMillis ?? signal.candleCloseMillis, signal.candleCloseMillis)
        if let index = strategy.signals.firstIndex(where: {
            $0.candleCloseMillis == signal.candleCloseMillis && $0.ruleIndex == signal.ruleIndex
        }) {
            if strategy.signals[index].outcome == .pending { strategy.signals[index].outcome = signal.outcome }
            return
        }
        let index = strategy.signals.firstIndex { $0.candleCloseMillis > signal.candleCloseMillis }
        strategy.signals.insert(signal, at: index ?? strategy.signals.endIndex)
        trim(&strategy)
    }

    private static func trim(_ strategy: inout SymbolStrategy) {
        if strategy.signals.count > signalCapacity {
            strategy.signals.removeFirst(strategy.signals.count - signalCapacity)
        }
    }

    private mutating func update(_ sequence: UInt64, _ body: (inout SymbolStrategy) -> Void) {
        guard let index = strategies.firstIndex(where: { $0.sequence == sequence }) else { return }
        body(&strategies[index])
    }

    // MARK: Evaluation

    /// Takes the candles that closed at one moment (seen at `atMillis`, the one-minute candle among them
    /// closing at `candleCloseMillis`) and fires the strategies whose rules hold.
    mutating func close(_ candles: [ClosedCandle], candleCloseMillis: Int64, atMillis: Int64, symbol: String) {
        indicators.update(candles)
        for index in strategies.indices where !strategies[index].paused {
            let strategy = strategies[index]
            if let last = strategy.lastFiredMillis,
                candleCloseMillis - last < Int64(strategy.definition.cooldownSeconds) * 1_000
            {
                continue
            }
            guard let plan = plans[strategy.sequence],
                let rule = plan.rules.indices.first(where: { plan.evaluate(rule: $0, on: indicators) })
            else { continue }
            strategies[index].lastFiredMillis = candleCloseMillis
            strategies[index].signals.append(
                StrategySignal(
                    candleCloseMillis: candleCloseMillis, firedAtMillis: atMillis, ruleIndex: rule, outcome: .pending))
            Self.trim(&strategies[index])
            fired.append(
                FiredSignal(
                    symbol: symbol, sequence: strategy.sequence, owner: strategy.owner,
                    candleCloseMillis: candleCloseMillis, ruleIndex: rule,
                    action: strategy.definition.rules[rule].action))
        }
    }

    /// Compiles every strategy onto a fresh set, then feeds it the market's closed candles, moment by moment.
    mutating func rebuildIndicators(from marketData: MarketData, spec: MarketSpec) {
        var set = IndicatorSet()
        var plans: [UInt64: RulePlan] = [:]
        for strategy in strategies {
            plans[strategy.sequence] = try? RulePlan(strategy.definition.rules.map(\.when), indicators: &set)
        }
        if set.count > 0 {
            for moment in marketData.closedMoments(spec: spec) { set.update(moment) }
        }
        indicators = set
        self.plans = plans
    }
}
