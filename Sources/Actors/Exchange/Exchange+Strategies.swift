import Logging
import Trading

/// Strategies (api.md "Strategies"): each lives in its market's `SymbolActor`, journaled there, and its id
/// names the market (`StrategyID`); a request about it runs on the node serving that book (`StrategyCall`). A signal fired at a candle close comes back here through the
/// `StrategyRuntime` queue; one long-lived task places its order for the owner through `placeOrder` (the
/// reservation first: a sell needs the asset, a buy the cash), as a market order whose client order id is
/// the signal's, then records the outcome in the market. The order is placed where the owner's account shard
/// is served (`accountOwner`): on this node, or on another when routing by shard.
extension Exchange {
    /// The most strategies one user may hold, over every market.
    public static let strategiesPerUser = 50
    /// The most signals one request returns (as many as a strategy keeps).
    public static let signalLimit = StrategyBook.signalCapacity

    public func createStrategy(user: UserID, definition: StrategyDefinition) async throws -> StrategyView {
        _ = try symbolActor(definition.symbol)
        // Creations in flight count as held: two at once cannot both take the last slot. (A user's requests all
        // run on the node serving their account shard, so this node sees every creation of theirs.)
        let inFlight = strategyRuntime.beginCreate(user: user)
        defer { strategyRuntime.endCreate(user: user) }
        let held = try await strategies(user: user).count
        guard held + inFlight <= Self.strategiesPerUser else {
            throw BourseError(
                .conflict, "a user may hold at most \(Self.strategiesPerUser) strategies: delete one first")
        }
        return try await performForStrategy(
            .add(owner: user, definition: definition, nowMillis: clock()), symbol: definition.symbol)
    }

    /// The user's strategies in every market, from each market's book (here or on its owner).
    public func strategies(user: UserID) async throws -> [StrategyView] {
        var result: [StrategyView] = []
        for symbol in symbols.keys.sorted() {
            result += try await performForStrategies(.list(owner: user), symbol: symbol)
        }
        // Newest first; made at the same millisecond, the later of one market first.
        return result.sorted { first, second in
            guard first.createdAtMillis == second.createdAtMillis else {
                return first.createdAtMillis > second.createdAtMillis
            }
            let (a, b) = (StrategyID.parse(first.strategyID), StrategyID.parse(second.strategyID))
            return (a?.symbol ?? "", b?.sequence ?? 0) < (b?.symbol ?? "", a?.sequence ?? 0)
        }
    }

    public func strategy(user: UserID, strategyID: String) async throws -> StrategyView {
        let (symbol, sequence) = try strategyMarket(strategyID)
        return try await performForStrategy(.get(sequence: sequence, owner: user), symbol: symbol)
    }

    public func deleteStrategy(user: UserID, strategyID: String) async throws -> StrategyView {
        let (symbol, sequence) = try strategyMarket(strategyID)
        return try await performForStrategy(
            .delete(sequence: sequence, owner: user, nowMillis: clock()), symbol: symbol)
    }

    public func pauseStrategy(user: UserID, strategyID: String) async throws -> StrategyView {
        try await setPaused(user: user, strategyID: strategyID, paused: true)
    }

    public func resumeStrategy(user: UserID, strategyID: String) async throws -> StrategyView {
        try await setPaused(user: user, strategyID: strategyID, paused: false)
    }

    private func setPaused(user: UserID, strategyID: String, paused: Bool) async throws -> StrategyView {
        let (symbol, sequence) = try strategyMarket(strategyID)
        return try await performForStrategy(
            .setPaused(sequence: sequence, owner: user, paused: paused, nowMillis: clock()), symbol: symbol)
    }

    public func strategySignals(user: UserID, strategyID: String, limit: Int) async throws -> [SignalView] {
        let (symbol, sequence) = try strategyMarket(strategyID)
        guard
            case .signals(let signals) = try await perform(
                .signals(sequence: sequence, owner: user, limit: limit), symbol: symbol)
        else { throw BourseError(.internal, "unexpected answer to a strategy call") }
        return signals
    }

    /// The market and sequence of a strategy id; a malformed id or an unknown market is "not found".
    private func strategyMarket(_ strategyID: String) throws(BourseError) -> (String, UInt64) {
        guard let (symbol, sequence) = StrategyID.parse(strategyID), symbolDirectory.actor(symbol) != nil else {
            throw BourseError(.notFound, "strategy not found")
        }
        return (symbol, sequence)
    }

    // MARK: Signals

    /// Starts the one task that places the orders of fired signals, in the order they fired.
    func startSignalConsumer(_ signals: AsyncStream<QueuedSignal>) {
        strategyRuntime.setConsumer(
            Task { [weak self] in
                for await queued in signals {
                    guard let self, !self.strategyRuntime.isStopping else { return }
                    await self.execute(queued.signal)
                    if let since = queued.since {
                        Exchange.signalLatency.record(duration: ContinuousClock.now - since)
                    }
                }
            })
    }

    /// Closes the queue and waits for the signal being placed; signals not placed yet stay pending in their
    /// markets (and in their snapshots), to be placed after the next start.
    func stopSignalConsumer() async {
        await strategyRuntime.close()?.value
    }

    /// Places the signal's order and records the outcome. An order the flow refuses (funds, holdings, no
    /// liquidity, halted market) is recorded with the reason; a failure of the exchange itself leaves the
    /// signal pending, to be retried when its market next recovers.
    func execute(_ signal: FiredSignal) async {
        let request = OrderRequest(
            symbol: signal.symbol, side: signal.action.side, type: .market, quantity: signal.action.quantity,
            clientOrderID: signal.clientOrderID)
        let outcome: SignalOutcome
        do {
            outcome = .placed(orderID: try await accountOwner.placeOrder(user: signal.owner, request: request))
        } catch let error as BourseError where error.code != .unavailable && error.code != .internal {
            outcome = .refused(code: error.code, reason: error.message)
        } catch {
            logger.warning(
                "strategy order not placed; retried when the market recovers",
                metadata: ["symbol": "\(signal.symbol)", "strategy": "\(signal.strategyID)", "error": "\(error)"])
            return
        }
        do {
            try await symbolActor(signal.symbol).recordSignal(signal, outcome: outcome, nowMillis: clock())
        } catch {
            logger.warning(
                "strategy signal outcome not recorded",
                metadata: ["symbol": "\(signal.symbol)", "strategy": "\(signal.strategyID)", "error": "\(error)"])
        }
    }
}
