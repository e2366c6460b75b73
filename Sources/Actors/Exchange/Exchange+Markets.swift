import Trading

/// Market queries: answered by the symbol actors from memory.
extension Exchange {
    public func markets() async -> [MarketInfo] {
        var result: [MarketInfo] = []
        for spec in symbolDirectory.specs {
            guard let actor = symbolDirectory.actor(spec.symbol) else { continue }
            result.append(MarketInfo(spec: spec, halted: await actor.isHalted))
        }
        return result
    }

    public func market(_ symbol: String) async throws -> MarketInfo {
        let actor = try symbolActor(symbol)
        return MarketInfo(spec: actor.spec, halted: await actor.isHalted)
    }

    public func ticker(symbol: String) async throws -> TickerView {
        try await symbolActor(symbol).ticker(nowMillis: clock())
    }

    public func orderBook(symbol: String, depth: Int) async throws -> DepthView {
        try await symbolActor(symbol).depth(depth)
    }

    public func recentTrades(symbol: String, limit: Int) async throws -> [PublicTrade] {
        try await symbolActor(symbol).trades(limit: limit)
    }

    public func candles(symbol: String, interval: CandleInterval, limit: Int) async throws -> [CandleView] {
        try await symbolActor(symbol).candles(interval, limit: limit)
    }

    /// Halts or resumes a market (admin).
    public func setHalted(symbol: String, halted: Bool) async throws {
        try await symbolActor(symbol).setHalted(halted, nowMillis: clock())
    }

    public func subscribe(channels: [StreamChannel], user: UserID?) async throws -> AsyncStream<StreamEvent> {
        for channel in channels {
            switch channel {
            case .ticker(let symbol), .orderbook(let symbol), .trades(let symbol): _ = try symbolActor(symbol)
            case .orders:
                guard user != nil else { throw BourseError(.unauthorized, "the orders channel needs a token") }
            }
        }
        return feed.subscribe(channels: Set(channels), user: user)
    }
}
