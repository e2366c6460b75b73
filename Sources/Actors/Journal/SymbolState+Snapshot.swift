import Trading

/// Snapshot of a symbol shard: the book's own snapshot plus the halt flag and market data.
extension SymbolState {
    static let snapshotMagic: [UInt8] = Array("BSY1".utf8)

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
        return writer.bytes
    }

    public init(spec: MarketSpec, snapshot bytes: [UInt8]) throws(BourseError) {
        var reader = BinaryReader(bytes)
        guard try reader.readRaw(count: 4) == SymbolState.snapshotMagic, try reader.readString() == spec.symbol else {
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
        try reader.expectEnd()
    }
}
