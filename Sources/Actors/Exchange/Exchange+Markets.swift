import Trading

/// Market queries: answered by the symbol actors from memory — a book served by another node by its owner.
extension Exchange {
    /// Every market, halted or not as its book says (asked of the books served elsewhere at once; one whose
    /// owner does not answer shows what this node last knew).
    public func markets() async -> [MarketInfo] {
        let quotes = await quotes(of: symbolDirectory.specs.map(\.symbol))
        var result: [MarketInfo] = []
        for spec in symbolDirectory.specs {
            guard let actor = symbolDirectory.actor(spec.symbol) else { continue }
            let halted = if let quote = quotes[spec.symbol] { quote.halted } else { await actor.isHalted }
            result.append(MarketInfo(spec: spec, halted: halted))
        }
        return result
    }

    /// The quotes of the books of `symbols` that another node serves, asked of their owners at once; a book
    /// served here, or whose owner does not answer, is left out.
    func quotes(of symbols: [String]) async -> [String: SymbolQuote] {
        guard let peers else { return [:] }
        let remote = symbols.filter { !serves(ShardKey.symbol($0)) && symbolDirectory.actor($0) != nil }
        guard !remote.isEmpty else { return [:] }
        return await withTaskGroup(of: (String, SymbolQuote?).self) { group in
            for symbol in remote { group.addTask { (symbol, try? await peers.quote(symbol: symbol)) } }
            var quotes: [String: SymbolQuote] = [:]
            for await (symbol, quote) in group { quotes[symbol] = quote }
            return quotes
        }
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
