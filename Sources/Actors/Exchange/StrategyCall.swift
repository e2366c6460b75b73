import Trading

/// What a node asks of a market's strategies, which live in its book's `SymbolActor`, on the node serving the
/// book: a user's strategy requests arrive at the owner of the user's account shard, wherever the market's book
/// is. It crosses as `ShardCall.strategy`; the answer is `ShardAnswer.strategies` or `.signals`.
public enum StrategyCall: Sendable, Hashable {
    case add(owner: UserID, definition: StrategyDefinition, nowMillis: Int64)
    /// The owner's strategies in the market.
    case list(owner: UserID)
    case get(sequence: UInt64, owner: UserID)
    case setPaused(sequence: UInt64, owner: UserID, paused: Bool, nowMillis: Int64)
    case delete(sequence: UInt64, owner: UserID, nowMillis: Int64)
    case signals(sequence: UInt64, owner: UserID, limit: Int)

    /// Runs the call on the market's actor.
    func run(on actor: SymbolActor) async throws -> ShardAnswer {
        switch self {
        case .add(let owner, let definition, let nowMillis):
            .strategies([try await actor.addStrategy(owner: owner, definition: definition, nowMillis: nowMillis)])
        case .list(let owner):
            .strategies(await actor.strategies(owner: owner))
        case .get(let sequence, let owner):
            .strategies([try await actor.strategy(sequence, owner: owner)])
        case .setPaused(let sequence, let owner, let paused, let nowMillis):
            .strategies([
                try await actor.setStrategyPaused(sequence, owner: owner, paused: paused, nowMillis: nowMillis)
            ])
        case .delete(let sequence, let owner, let nowMillis):
            .strategies([try await actor.deleteStrategy(sequence, owner: owner, nowMillis: nowMillis)])
        case .signals(let sequence, let owner, let limit):
            .signals(try await actor.signals(sequence, owner: owner, limit: limit))
        }
    }
}

extension Exchange {
    /// Runs a strategy call where the market's book is served: here (or everywhere, without peers), or on the
    /// book's owner.
    func perform(_ call: StrategyCall, symbol: String) async throws -> ShardAnswer {
        let actor = try symbolActor(symbol)
        guard let peers, !serves(ShardKey.symbol(symbol)) else { return try await call.run(on: actor) }
        let answer = try await peers.strategy(call, symbol: symbol)
        if case .failed(let error) = answer { throw error }
        return answer
    }

    /// `perform` for the calls answered with strategies.
    func performForStrategies(_ call: StrategyCall, symbol: String) async throws -> [StrategyView] {
        guard case .strategies(let views) = try await perform(call, symbol: symbol) else {
            throw BourseError(.internal, "unexpected answer to a strategy call")
        }
        return views
    }

    /// `performForStrategies` for the calls about one strategy.
    func performForStrategy(_ call: StrategyCall, symbol: String) async throws -> StrategyView {
        guard let view = try await performForStrategies(call, symbol: symbol).first else {
            throw BourseError(.internal, "unexpected answer to a strategy call")
        }
        return view
    }
}

extension BinaryWriter {
    mutating func write(strategyCall call: StrategyCall) {
        switch call {
        case .add(let owner, let definition, let nowMillis):
            write(UInt8(1))
            write(owner)
            write(definition: definition)
            write(nowMillis)
        case .list(let owner):
            write(UInt8(2))
            write(owner)
        case .get(let sequence, let owner):
            write(UInt8(3))
            write(sequence)
            write(owner)
        case .setPaused(let sequence, let owner, let paused, let nowMillis):
            write(UInt8(4))
            write(sequence)
            write(owner)
            write(paused)
            write(nowMillis)
        case .delete(let sequence, let owner, let nowMillis):
            write(UInt8(5))
            write(sequence)
            write(owner)
            write(nowMillis)
        case .signals(let sequence, let owner, let limit):
            write(UInt8(6))
            write(sequence)
            write(owner)
            write(Int64(limit))
        }
    }

    mutating func write(strategies views: [StrategyView]) {
        writeCount(views.count)
        for view in views {
            write(view.strategyID)
            write(view.owner)
            write(definition: view.definition)
            write(view.status.rawValue)
            write(view.createdAtMillis)
            write(view.lastFiredMillis != nil)
            write(view.lastFiredMillis ?? 0)
            write(Int64(view.signalCount))
        }
    }

    mutating func write(signals views: [SignalView]) {
        writeCount(views.count)
        for view in views {
            write(view.strategyID)
            write(view.candleCloseMillis)
            write(view.firedAtMillis)
            write(Int64(view.ruleIndex))
            write(view.side.rawValue)
            write(view.quantity.lots)
            write(outcome: view.outcome)
        }
    }
}

extension BinaryReader {
    mutating func readStrategyCall() throws(BourseError) -> StrategyCall {
        switch try readUInt8() {
        case 1:
            return .add(owner: try readUInt64(), definition: try readDefinition(), nowMillis: try readInt64())
        case 2: return .list(owner: try readUInt64())
        case 3: return .get(sequence: try readUInt64(), owner: try readUInt64())
        case 4:
            return .setPaused(
                sequence: try readUInt64(), owner: try readUInt64(), paused: try readBool(), nowMillis: try readInt64())
        case 5: return .delete(sequence: try readUInt64(), owner: try readUInt64(), nowMillis: try readInt64())
        case 6:
            let sequence = try readUInt64()
            let owner = try readUInt64()
            return .signals(sequence: sequence, owner: owner, limit: try readSmallCount())
        default: throw BourseError(.validation, "unknown strategy call")
        }
    }

    mutating func readStrategies() throws(BourseError) -> [StrategyView] {
        var views: [StrategyView] = []
        for _ in 0..<(try readCount(minimumElementSize: 40)) {
            let id = try readString()
            let owner = try readUInt64()
            let definition = try readDefinition()
            guard let status = StrategyStatus(rawValue: try readString()) else {
                throw BourseError(.validation, "unknown strategy status")
            }
            let created = try readInt64()
            let fired = try readBool()
            let lastFired = try readInt64()
            views.append(
                StrategyView(
                    strategyID: id, owner: owner, definition: definition, status: status, createdAtMillis: created,
                    lastFiredMillis: fired ? lastFired : nil, signalCount: try readSmallCount()))
        }
        return views
    }

    mutating func readSignals() throws(BourseError) -> [SignalView] {
        var views: [SignalView] = []
        for _ in 0..<(try readCount(minimumElementSize: 42)) {
            let id = try readString()
            let close = try readInt64()
            let firedAt = try readInt64()
            let rule = try readSmallCount()
            guard let side = Side(rawValue: try readUInt8()) else {
                throw BourseError(.validation, "unknown side in a signal")
            }
            views.append(
                SignalView(
                    strategyID: id, candleCloseMillis: close, firedAtMillis: firedAt, ruleIndex: rule, side: side,
                    quantity: Quantity(lots: try readInt64()), outcome: try readOutcome()))
        }
        return views
    }

    /// A non-negative count or index written as an `Int64` (a limit, a rule index, a signal count).
    private mutating func readSmallCount() throws(BourseError) -> Int {
        let value = try readInt64()
        guard value >= 0, value <= Int64(Int32.max) else { throw BourseError(.validation, "count out of range") }
        return Int(value)
    }
}
