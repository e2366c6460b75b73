import Trading

/// The market's strategies: each change is applied, then journaled in the market's journal, and answered
/// once durable. Another user's strategy is "not found", never revealed.
extension SymbolActor {
    /// Adds a strategy for `owner`; it is active at once.
    ///
    /// - Throws: `.invalidStrategy` when its rules do not compile, `.validation` when it is of another market.
    func addStrategy(owner: UserID, definition: StrategyDefinition, nowMillis: Int64) async throws -> StrategyView {
        guard definition.symbol == symbol else { throw BourseError.validation("the strategy is not of \(symbol)") }
        var scratch = IndicatorSet()
        _ = try RulePlan(definition.rules.map(\.when), indicators: &scratch)
        let sequence = strategyBook.nextSequence
        try await apply(strategy: .add(owner: owner, definition: definition), nowMillis: nowMillis)
        return try strategy(sequence, owner: owner)
    }

    /// The strategies of `owner` on this market, oldest first.
    func strategies(owner: UserID) -> [StrategyView] {
        strategyBook.strategies.filter { $0.owner == owner }.map { $0.view(symbol: symbol) }
    }

    /// - Throws: `.notFound` unless the strategy exists and is `owner`'s.
    func strategy(_ sequence: UInt64, owner: UserID) throws(BourseError) -> StrategyView {
        try owned(sequence, owner: owner).view(symbol: symbol)
    }

    /// Pauses or resumes the strategy; doing it again changes nothing.
    func setStrategyPaused(_ sequence: UInt64, owner: UserID, paused: Bool, nowMillis: Int64) async throws
        -> StrategyView
    {
        let strategy = try owned(sequence, owner: owner)
        if strategy.paused != paused {
            try await apply(
                strategy: paused ? .pause(sequence: sequence) : .resume(sequence: sequence), nowMillis: nowMillis)
        }
        return try self.strategy(sequence, owner: owner)
    }

    /// Deletes the strategy; returns its last state, with status `deleted`.
    func deleteStrategy(_ sequence: UInt64, owner: UserID, nowMillis: Int64) async throws -> StrategyView {
        var view = try owned(sequence, owner: owner).view(symbol: symbol)
        try await apply(strategy: .delete(sequence: sequence), nowMillis: nowMillis)
        view.status = .deleted
        return view
    }

    /// The strategy's signals, newest first.
    func signals(_ sequence: UInt64, owner: UserID, limit: Int) throws(BourseError) -> [SignalView] {
        let strategy = try owned(sequence, owner: owner)
        return strategy.signals.suffix(limit).reversed().map { strategy.view(of: $0, symbol: symbol) }
    }

    /// Records what the exchange did with a signal; a signal already recorded, or of a strategy deleted
    /// since, is left alone (nothing is journaled).
    func recordSignal(_ signal: FiredSignal, outcome: SignalOutcome, nowMillis: Int64) async throws {
        guard let strategy = strategyBook.strategy(signal.sequence),
            let held = strategy.signals.first(where: {
                $0.candleCloseMillis == signal.candleCloseMillis && $0.ruleIndex == signal.ruleIndex
            }),
            held.outcome == .pending
        else { return }
        try await apply(
            strategy: .recordSignal(
                sequence: signal.sequence, candleCloseMillis: signal.candleCloseMillis,
                firedAtMillis: held.firedAtMillis, rule: signal.ruleIndex, outcome: outcome),
            nowMillis: nowMillis)
    }

    private func owned(_ sequence: UInt64, owner: UserID) throws(BourseError) -> SymbolStrategy {
        guard let strategy = strategyBook.strategy(sequence), strategy.owner == owner else {
            throw BourseError(.notFound, "strategy not found")
        }
        return strategy
    }
}
