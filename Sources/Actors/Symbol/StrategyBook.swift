import Trading

/// The strategies of one market, as a pure state machine inside `SymbolState`: their definitions, statuses
/// and signals, the market's shared `IndicatorSet`, and each strategy's `RulePlan` compiled onto it, the plans
/// laid end to end in one `RuleProgram` so that a close walks them in memory order.
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
    /// Every strategy's compiled rules, one after the other, on `indicators`.
    private var program = RuleProgram()
    /// What evaluation reads of each strategy, aligned with `strategies`: kept apart so that a close walks a
    /// small array of plain values instead of the strategies themselves.
    private var schedule: [Scheduled] = []
    /// Rules of `program` that belong to deleted strategies; compacted away once they are half of it.
    private var deadRules = 0
    /// Signals fired since the actor last took them (`takeFired()`).
    private var fired: [FiredSignal] = []

    public init() {}

    /// A book holding `strategies`, none of them evaluated until `rebuildIndicators(from:spec:)` compiles them.
    init(strategies: [SymbolStrategy], nextSequence: UInt64) {
        self.strategies = strategies
        self.nextSequence = nextSequence
        schedule = strategies.map { Scheduled($0, rules: 0..<0) }
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
            let strategy = SymbolStrategy(
                sequence: sequence, owner: owner, definition: definition, paused: false, createdAtMillis: nowMillis)
            strategies.append(strategy)
            if candidate.count > before {
                schedule.append(Scheduled(strategy, rules: 0..<0))
                rebuildIndicators(from: marketData, spec: spec)
            } else {
                schedule.append(Scheduled(strategy, rules: program.append(plan.program)))
            }
        case .pause(let sequence): update(sequence) { $0.paused = true }
        case .resume(let sequence): update(sequence) { $0.paused = false }
        case .delete(let sequence):
            guard let index = strategies.firstIndex(where: { $0.sequence == sequence }) else { return }
            strategies.remove(at: index)
            deadRules += schedule.remove(at: index).rules.count
            if deadRules > program.ruleCount / 2 { compactProgram() }
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
        schedule[index].paused = strategies[index].paused
        schedule[index].lastFiredMillis = strategies[index].lastFiredMillis
    }

    // MARK: Evaluation

    /// Takes the candles that closed at one moment (seen at `atMillis`, the one-minute candle among them
    /// closing at `candleCloseMillis`) and fires the strategies whose rules hold.
    mutating func close(_ candles: [ClosedCandle], candleCloseMillis: Int64, atMillis: Int64, symbol: String) {
        indicators.update(candles)
        let firing = program.withEvaluator(on: indicators) { evaluator in
            var firing: [(index: Int, rule: Int)] = []
            for index in schedule.indices where schedule[index].mayFire(at: candleCloseMillis) {
                if let rule = evaluator.firstHolding(in: schedule[index].rules) { firing.append((index, rule)) }
            }
            return firing
        }
        for (index, rule) in firing {
            schedule[index].lastFiredMillis = candleCloseMillis
            strategies[index].lastFiredMillis = candleCloseMillis
            strategies[index].signals.append(
                StrategySignal(
                    candleCloseMillis: candleCloseMillis, firedAtMillis: atMillis, ruleIndex: rule, outcome: .pending))
            Self.trim(&strategies[index])
            fired.append(
                FiredSignal(
                    symbol: symbol, sequence: strategies[index].sequence, owner: strategies[index].owner,
                    candleCloseMillis: candleCloseMillis, ruleIndex: rule,
                    action: strategies[index].definition.rules[rule].action))
        }
    }

    /// Compiles every strategy onto a fresh set, then feeds it the market's closed candles, moment by moment.
    mutating func rebuildIndicators(from marketData: MarketData, spec: MarketSpec) {
        var set = IndicatorSet()
        var program = RuleProgram()
        for (index, strategy) in strategies.enumerated() {
            let plan = try? RulePlan(strategy.definition.rules.map(\.when), indicators: &set)
            schedule[index].rules = plan.map { program.append($0.program) } ?? 0..<0
        }
        if set.count > 0 {
            for moment in marketData.closedMoments(spec: spec) { set.update(moment) }
        }
        indicators = set
        self.program = program
        deadRules = 0
    }

    /// Drops the rules of deleted strategies from `program`.
    private mutating func compactProgram() {
        var compacted = RuleProgram()
        for index in schedule.indices {
            schedule[index].rules = compacted.append(program, rules: schedule[index].rules)
        }
        program = compacted
        deadRules = 0
    }
}

/// What a close needs of one strategy: whether it may fire, and where its rules are in the book's program.
private struct Scheduled: Sendable {
    var rules: Range<Int>
    var cooldownSeconds: Int
    var lastFiredMillis: Int64?
    var paused: Bool

    init(_ strategy: SymbolStrategy, rules: Range<Int>) {
        self.rules = rules
        cooldownSeconds = strategy.definition.cooldownSeconds
        lastFiredMillis = strategy.lastFiredMillis
        paused = strategy.paused
    }

    /// Whether the strategy is active and out of its cooldown at the close `candleCloseMillis`.
    func mayFire(at candleCloseMillis: Int64) -> Bool {
        guard !paused else { return false }
        guard let last = lastFiredMillis else { return true }
        return candleCloseMillis - last >= Int64(cooldownSeconds) * 1_000
    }
}
