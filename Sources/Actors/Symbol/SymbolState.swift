import Trading

/// Everything a symbol shard holds, as a pure state machine: the order book, whether the market is
/// halted, its market data, and the strategies that watch it. `apply(_:)` is deterministic, so the journal
/// replays into the same state (strategies fire again at the same closes; see `StrategyBook`).
public struct SymbolState: Sendable {
    public enum Command: Sendable, Hashable {
        /// A cancel or an amend (and, in journals written before `place`, a place).
        case book(BookCommand)
        /// A new order from an account shard, with the shard's watermark (`PlacementLog`); a repeat changes
        /// nothing.
        case place(NewOrder, settledThrough: OrderID)
        case halt
        case resume
        case strategy(StrategyCommand)
        /// Prices from the market's reference feed, already on the market's grid: they build candles (and so
        /// close them, which runs the strategies) but are not trades and leave the book alone.
        case reference([ReferencePrint])
    }

    /// One journaled command with the time it was accepted.
    public struct Record: Sendable, Hashable {
        public var timestampMillis: Int64
        public var command: Command
        public init(timestampMillis: Int64, command: Command) {
            self.timestampMillis = timestampMillis
            self.command = command
        }
    }

    public let spec: MarketSpec
    public internal(set) var halted = false
    public internal(set) var book: OrderBook
    public internal(set) var marketData = MarketData()
    public internal(set) var strategies = StrategyBook()
    /// The orders placed here, per account shard, so that none is placed twice.
    public internal(set) var placements = PlacementLog()

    public init(spec: MarketSpec, protectionBps: Int64 = 500) {
        self.spec = spec
        book = OrderBook(protectionBps: protectionBps)
    }

    /// Applies a record and returns the book events it caused (none for halt/resume, strategy commands and
    /// reference prices).
    ///
    /// A trade that closes candles makes the strategies evaluate their rules (`StrategyBook.close`); the
    /// signals they fire wait in `strategies` for the actor to take them.
    public mutating func apply(_ record: Record) -> [BookEvent] {
        switch record.command {
        case .halt:
            halted = true
            return []
        case .resume:
            halted = false
            return []
        case .strategy(let command):
            strategies.apply(command, nowMillis: record.timestampMillis, marketData: marketData, spec: spec)
            return []
        case .reference(let prints):
            for print in prints {
                let closed = marketData.recordPrint(
                    price: print.price, quantity: print.quantity, atMillis: record.timestampMillis)
                evaluateStrategies(closed, atMillis: record.timestampMillis)
            }
            return []
        case .place(let order, let watermark):
            guard !placements.isRepeat(order.id) else { return [] }
            placements.record(order.id, settledThrough: watermark)
            return applyBook(.place(order), atMillis: record.timestampMillis)
        case .book(let command):
            return applyBook(command, atMillis: record.timestampMillis)
        }
    }

    private mutating func applyBook(_ command: BookCommand, atMillis millis: Int64) -> [BookEvent] {
        let events = book.apply(command)
        for event in events {
            if case .trade(let trade) = event.kind {
                let closed = marketData.record(
                    PublicTrade(
                        tradeID: trade.id, price: trade.price, quantity: trade.quantity,
                        takerSide: trade.takerSide, timestampMillis: millis))
                evaluateStrategies(closed, atMillis: millis)
            }
        }
        return events
    }

    /// Runs the strategies over the candles a print closed (a minute candle closes with every longer one).
    private mutating func evaluateStrategies(
        _ closed: [(interval: CandleInterval, candle: CandleView)], atMillis millis: Int64
    ) {
        guard let minute = closed.first(where: { $0.interval == .m1 }) else { return }
        strategies.close(
            closed.map { ClosedCandle($0.candle, interval: $0.interval, spec: spec) },
            candleCloseMillis: minute.candle.openTimeMillis + CandleInterval.m1.millis, atMillis: millis,
            symbol: spec.symbol)
    }

    public func ticker(nowMillis: Int64) -> TickerView {
        let stats = marketData.stats24h(nowMillis: nowMillis)
        return TickerView(
            symbol: spec.symbol, lastPrice: book.lastTradePrice, bestBid: book.bestBid, bestAsk: book.bestAsk,
            open24h: stats.open, high24h: stats.high, low24h: stats.low, volume24h: stats.volume,
            timestampMillis: nowMillis)
    }

    public func depth(_ levels: Int) -> DepthView {
        DepthView(
            symbol: spec.symbol, sequence: book.sequence,
            bids: book.depth(.buy, levels: levels).map { PriceLevel(price: $0.price, quantity: $0.quantity) },
            asks: book.depth(.sell, levels: levels).map { PriceLevel(price: $0.price, quantity: $0.quantity) })
    }
}
