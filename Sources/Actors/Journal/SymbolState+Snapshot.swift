import Trading

/// Snapshot of a symbol shard: the book's own snapshot plus the halt flag, market data, from version 2
/// the strategies (definitions, statuses, signals) and from version 3 the placement log. Indicators are not
/// saved: a restored state rebuilds them from the candles it holds (`StrategyBook.rebuildIndicators`).
/// Version 1 snapshots still load, with no strategies; versions 1 and 2 with an empty placement log.
extension SymbolState {
    static let snapshotMagicV1: [UInt8] = Array("BSY1".utf8)
    static let snapshotMagicV2: [UInt8] = Array("BSY2".utf8)
    static let snapshotMagic: [UInt8] = Array("BSY3".utf8)

    public func snapshot() -> [UInt8] {
        var writer = BinaryWriter(reservingCapacity: 4_096)
        writer.writeRaw(SymbolState.snapshotMagic)
        writer.write(spec.symbol)
        writer.write(halted)
        writer.write(bytes: book.snapshot())
        writer.writeCount(marketData.recentTrades.count)
        for trade in marketData.recentTrades {
            writer.write(trade.tradeID)
            writer.write(trade.price.ticks)
            writer.write(trade.quantity.lots)
            writer.write(trade.takerSide.rawValue)
            writer.write(trade.timestampMillis)
        }
        for interval in CandleInterval.allCases {
            let series = marketData.candles[interval] ?? []
            writer.writeCount(series.count)
            for candle in series {
                writer.write(candle.openTimeMillis)
                writer.write(candle.open.ticks)
                writer.write(candle.high.ticks)
                writer.write(candle.low.ticks)
                writer.write(candle.close.ticks)
                writer.write(candle.volume.lots)
            }
        }
        writer.write(strategies: strategies)
        writer.write(placements: placements)
        return writer.bytes
    }

    public init(spec: MarketSpec, snapshot bytes: [UInt8]) throws(BourseError) {
        var reader = BinaryReader(bytes)
        let magic = try reader.readRaw(count: 4)
        guard [SymbolState.snapshotMagic, SymbolState.snapshotMagicV2, SymbolState.snapshotMagicV1].contains(magic),
            try reader.readString() == spec.symbol
        else {
            throw BourseError(.internal, "snapshot is not of symbol \(spec.symbol)")
        }
        let halted = try reader.readBool()
        let book = try OrderBook(snapshot: try reader.readBytes())
        self.init(spec: spec, protectionBps: book.protectionBps)
        self.halted = halted
        self.book = book
        let trades = try reader.readCount(minimumElementSize: 33)
        for _ in 0..<trades {
            let id = try reader.readUInt64()
            let price = Price(ticks: try reader.readInt64())
            let quantity = Quantity(lots: try reader.readInt64())
            guard let side = Side(rawValue: try reader.readUInt8()) else {
                throw BourseError(.internal, "corrupt snapshot")
            }
            marketData.recentTrades.append(
                PublicTrade(
                    tradeID: id, price: price, quantity: quantity, takerSide: side,
                    timestampMillis: try reader.readInt64()))
        }
        for interval in CandleInterval.allCases {
            let count = try reader.readCount(minimumElementSize: 48)
            var series: [CandleView] = []
            series.reserveCapacity(count)
            for _ in 0..<count {
                series.append(
                    CandleView(
                        openTimeMillis: try reader.readInt64(), open: Price(ticks: try reader.readInt64()),
                        high: Price(ticks: try reader.readInt64()), low: Price(ticks: try reader.readInt64()),
                        close: Price(ticks: try reader.readInt64()), volume: Quantity(lots: try reader.readInt64())))
            }
            marketData.candles[interval] = series
        }
        if magic != SymbolState.snapshotMagicV1 {
            strategies = try reader.readStrategyBook()
            strategies.rebuildIndicators(from: marketData, spec: spec)
        }
        if magic == SymbolState.snapshotMagic { placements = try reader.readPlacements() }
        try reader.expectEnd()
    }
}

extension BinaryWriter {
    fileprivate mutating func write(strategies book: StrategyBook) {
        write(book.nextSequence)
        writeCount(book.strategies.count)
        for strategy in book.strategies {
            write(strategy.sequence)
            write(strategy.owner)
            write(definition: strategy.definition)
            write(strategy.paused)
            write(strategy.createdAtMillis)
            write(strategy.lastFiredMillis != nil)
            write(strategy.lastFiredMillis ?? 0)
            writeCount(strategy.signals.count)
            for signal in strategy.signals {
                write(signal.candleCloseMillis)
                write(signal.firedAtMillis)
                write(UInt64(signal.ruleIndex))
                write(outcome: signal.outcome)
            }
        }
    }
}

extension BinaryReader {
    fileprivate mutating func readStrategyBook() throws(BourseError) -> StrategyBook {
        let nextSequence = try readUInt64()
        let count = try readCount(minimumElementSize: 40)
        var strategies: [SymbolStrategy] = []
        for _ in 0..<count {
            let sequence = try readUInt64()
            let owner = try readUInt64()
            let definition = try readDefinition()
            let paused = try readBool()
            let createdAt = try readInt64()
            let hasFired = try readBool()
            let lastFired = try readInt64()
            var strategy = SymbolStrategy(
                sequence: sequence, owner: owner, definition: definition, paused: paused, createdAtMillis: createdAt,
                lastFiredMillis: hasFired ? lastFired : nil)
            let signals = try readCount(minimumElementSize: 25)
            for _ in 0..<signals {
                let close = try readInt64()
                let firedAt = try readInt64()
                guard let rule = Int(exactly: try readUInt64()), definition.rules.indices.contains(rule) else {
                    throw BourseError(.internal, "corrupt snapshot: signal rule")
                }
                strategy.signals.append(
                    StrategySignal(
                        candleCloseMillis: close, firedAtMillis: firedAt, ruleIndex: rule, outcome: try readOutcome()))
            }
            strategies.append(strategy)
        }
        return StrategyBook(strategies: strategies, nextSequence: nextSequence)
    }
}
