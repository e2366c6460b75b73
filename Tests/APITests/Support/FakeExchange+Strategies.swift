import Actors
import Trading

/// Strategies kept in memory: ids `st_<symbol>_<n>`, owner checks as the real exchange does them, and
/// signals the test adds with `addSignal`.
extension FakeExchange {
    func createStrategy(user: UserID, definition: StrategyDefinition) async throws -> StrategyView {
        _ = try await market(definition.symbol)
        guard strategies.values.filter({ $0.owner == user }).count < Exchange.strategiesPerUser else {
            throw BourseError(.conflict, "a user may hold at most \(Exchange.strategiesPerUser) strategies")
        }
        nextStrategy += 1
        let view = StrategyView(
            strategyID: StrategyID.make(symbol: definition.symbol, sequence: nextStrategy), owner: user,
            definition: definition, status: .active, createdAtMillis: now + Int64(nextStrategy))
        strategies[view.strategyID] = view
        return view
    }

    func strategies(user: UserID) async throws -> [StrategyView] {
        strategies.values.filter { $0.owner == user }.sorted { $0.createdAtMillis > $1.createdAtMillis }
    }

    func strategy(user: UserID, strategyID: String) async throws -> StrategyView {
        guard let view = strategies[strategyID], view.owner == user else {
            throw BourseError(.notFound, "strategy not found")
        }
        return view
    }

    func deleteStrategy(user: UserID, strategyID: String) async throws -> StrategyView {
        var view = try await strategy(user: user, strategyID: strategyID)
        strategies[strategyID] = nil
        view.status = .deleted
        return view
    }

    func pauseStrategy(user: UserID, strategyID: String) async throws -> StrategyView {
        _ = try await strategy(user: user, strategyID: strategyID)
        strategies[strategyID]?.status = .paused
        return strategies[strategyID]!
    }

    func resumeStrategy(user: UserID, strategyID: String) async throws -> StrategyView {
        _ = try await strategy(user: user, strategyID: strategyID)
        strategies[strategyID]?.status = .active
        return strategies[strategyID]!
    }

    func strategySignals(user: UserID, strategyID: String, limit: Int) async throws -> [SignalView] {
        _ = try await strategy(user: user, strategyID: strategyID)
        return Array((signals[strategyID] ?? []).reversed().prefix(limit))
    }

    /// Adds a signal (newest last) to a strategy.
    func addSignal(_ signal: SignalView) {
        signals[signal.strategyID, default: []].append(signal)
        strategies[signal.strategyID]?.lastFiredMillis = signal.candleCloseMillis
    }
}
