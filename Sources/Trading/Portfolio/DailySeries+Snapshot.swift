/// Canonical encoding of a daily series, for the snapshots of the account shard that holds it.
///
/// Layout (`BinaryWriter`): the number of days, then per day, oldest first — the day; cash by
/// currency; holdings by symbol (quantity, cost basis); net deposits by currency; sells; winning
/// sells. Keys are in byte order, so equal series give equal bytes.
extension DailySeries {
    public func encode(into writer: inout BinaryWriter) {
        writer.writeCount(days.count)
        for entry in days {
            writer.write(entry.day)
            DailySeries.write(entry.cash, into: &writer)
            let holdings = entry.holdings.sorted { AccountLedger.byteOrder($0.key, $1.key) }
            writer.writeCount(holdings.count)
            for (symbol, holding) in holdings {
                writer.write(symbol)
                writer.write(holding.quantity.units)
                writer.write(holding.costBasis.units)
            }
            DailySeries.write(entry.netDeposits, into: &writer)
            writer.write(Int64(entry.sells))
            writer.write(Int64(entry.winningSells))
        }
    }

    /// Reads what `encode(into:)` wrote.
    ///
    /// - Throws: `VALIDATION_ERROR` for truncated or malformed bytes, more than `capacity` days, days
    ///   out of order, or sell counts that cannot be.
    public init(decoding reader: inout BinaryReader) throws(BourseError) {
        self.init()
        let count = try reader.readCount(minimumElementSize: 48)
        guard count <= DailySeries.capacity else { throw .validation("daily series of \(count) days") }
        days.reserveCapacity(count)
        for _ in 0..<count {
            var entry = DailyBalances(day: try reader.readInt64())
            guard days.last.map({ $0.day < entry.day }) ?? true else {
                throw .validation("daily series days out of order")
            }
            entry.cash = try DailySeries.readAmounts(&reader)
            for _ in 0..<(try reader.readCount(minimumElementSize: 24)) {
                let symbol = try reader.readString()
                entry.holdings[symbol] = Holding(
                    quantity: Amount(units: try reader.readInt64()), costBasis: Amount(units: try reader.readInt64()))
            }
            entry.netDeposits = try DailySeries.readAmounts(&reader)
            let sells = try reader.readInt64()
            let winning = try reader.readInt64()
            guard sells >= 0, winning >= 0, winning <= sells, let sellCount = Int(exactly: sells) else {
                throw .validation("daily series sell counts \(winning)/\(sells)")
            }
            entry.sells = sellCount
            entry.winningSells = Int(winning)
            days.append(entry)
        }
    }

    private static func write(_ amounts: [String: Amount], into writer: inout BinaryWriter) {
        let sorted = amounts.sorted { AccountLedger.byteOrder($0.key, $1.key) }
        writer.writeCount(sorted.count)
        for (key, amount) in sorted {
            writer.write(key)
            writer.write(amount.units)
        }
    }

    private static func readAmounts(_ reader: inout BinaryReader) throws(BourseError) -> [String: Amount] {
        var amounts: [String: Amount] = [:]
        for _ in 0..<(try reader.readCount(minimumElementSize: 16)) {
            let key = try reader.readString()
            amounts[key] = Amount(units: try reader.readInt64())
        }
        return amounts
    }
}
