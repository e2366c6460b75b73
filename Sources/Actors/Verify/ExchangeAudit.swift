import Trading

/// What `verify` checks of the shards one exchange serves (`Exchange.audit()`): across a cluster routing by
/// shard, each node sends its own over the transport and the node asked to verify checks them all together
/// (`Exchange.verify(gathering:)`).
///
/// The encoding is compact binary (`BinaryWriter`), versioned by its first byte. It carries every open order's
/// reservation and the settled fill ids the node's ledgers hold one by one (their recent fills, above a
/// watermark per market: `SettledTrades`).
public struct ExchangeAudit: Sendable {
    var accounts: [AccountShardAudit]
    var symbols: [SymbolAudit]

    init(accounts: [AccountShardAudit], symbols: [SymbolAudit]) {
        self.accounts = accounts
        self.symbols = symbols
    }

    /// Account shards and books audited.
    public var shardCount: Int { accounts.count + symbols.count }

    /// 2: a reservation says whether its order's place is still unanswered (1 did not; read as answered).
    /// 3: an account shard's audit ends with its ledgers' watermarks per market (before: none, read as 0).
    static let version: UInt8 = 3

    public func encoded() -> [UInt8] {
        var writer = BinaryWriter(reservingCapacity: 256)
        writer.write(Self.version)
        writer.writeCount(accounts.count)
        for audit in accounts { writer.write(audit: audit) }
        writer.writeCount(symbols.count)
        for audit in symbols { writer.write(audit: audit) }
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(BourseError) {
        var reader = BinaryReader(bytes)
        let version = try reader.readUInt8()
        guard (1...Self.version).contains(version) else {
            throw BourseError(.validation, "unknown audit encoding")
        }
        accounts = []
        for _ in 0..<(try reader.readCount(minimumElementSize: 8)) {
            accounts.append(try reader.readAccountAudit(version: version))
        }
        symbols = []
        for _ in 0..<(try reader.readCount(minimumElementSize: 8)) { symbols.append(try reader.readSymbolAudit()) }
        try reader.expectEnd()
    }
}

extension BinaryWriter {
    fileprivate mutating func write(progress: ShardProgress) {
        write(progress.shard)
        write(progress.epoch)
        write(progress.journalSequence)
        write(progress.durableSequence)
        write(progress.lastSnapshotSequence)
    }

    fileprivate mutating func write(findings: Findings) {
        writeCount(findings.violations.count)
        for (key, description) in findings.violations.sorted(by: { $0.key < $1.key }) {
            write(key)
            write(description)
        }
        write(Int64(findings.uncounted))
    }

    fileprivate mutating func write(audit: AccountShardAudit) {
        write(progress: audit.progress)
        write(Int64(audit.anomalies))
        write(Int64(audit.users))
        writeCount(audit.totals.count)
        for (currency, totals) in audit.totals.sorted(by: { $0.key < $1.key }) {
            write(currency)
            write(totals.available)
            write(totals.locked)
            write(totals.fees)
            write(totals.netDeposits)
        }
        write(Int64(audit.balancesChecked))
        write(findings: audit.negativeBalances)
        write(Int64(audit.reservationsChecked))
        write(findings: audit.reservationProblems)
        writeCount(audit.reservations.count)
        for reservation in audit.reservations {
            write(reservation.symbol)
            write(reservation.orderID)
            write(reservation.owner)
            write(reservation.remaining.lots)
            write(reservation.inFlight)
        }
        writeCount(audit.settledFills.count)
        for (symbol, trades) in audit.settledFills.sorted(by: { $0.key < $1.key }) {
            write(symbol)
            writeCount(trades.count)
            for trade in trades { write(trade) }
        }
        writeCount(audit.fillRecords.count)
        for (symbol, records) in audit.fillRecords.sorted(by: { $0.key < $1.key }) {
            write(symbol)
            writeCount(records.count)
            for (trade, count) in records.sorted(by: { $0.key < $1.key }) {
                write(trade)
                write(Int64(count.maker))
                write(Int64(count.taker))
            }
        }
        write(findings: audit.fillProblems)
        writeCount(audit.sampledBalances.count)
        for (user, balances) in audit.sampledBalances.sorted(by: { $0.key < $1.key }) {
            write(user)
            writeCount(balances.count)
            for (currency, balance) in balances.sorted(by: { $0.key < $1.key }) {
                write(currency)
                write(balance.available.units)
                write(balance.locked.units)
            }
        }
        writeCount(audit.settledThrough.count)
        for (symbol, floor) in audit.settledThrough.sorted(by: { $0.key < $1.key }) {
            write(symbol)
            write(floor)
        }
    }

    fileprivate mutating func write(audit: SymbolAudit) {
        write(audit.symbol)
        write(progress: audit.progress)
        write(price: audit.bestBid)
        write(price: audit.bestAsk)
        write(audit.lastTradeID)
        writeCount(audit.orders.count)
        for order in audit.orders {
            write(order.id)
            write(order.owner)
            write(order.remaining.lots)
            write(order.isStop)
        }
        write(Int64(audit.undelivered))
    }

    private mutating func write(price: Price?) {
        write(price != nil)
        if let price { write(price.ticks) }
    }
}

extension BinaryReader {
    fileprivate mutating func readInt() throws(BourseError) -> Int {
        let value = try readInt64()
        guard value >= 0 else { throw BourseError(.validation, "negative count in an audit") }
        return Int(value)
    }

    fileprivate mutating func readProgress() throws(BourseError) -> ShardProgress {
        ShardProgress(
            shard: try readString(), epoch: try readInt64(), journalSequence: try readInt64(),
            durableSequence: try readInt64(), lastSnapshotSequence: try readInt64())
    }

    fileprivate mutating func readFindings() throws(BourseError) -> Findings {
        var violations: [String: String] = [:]
        for _ in 0..<(try readCount(minimumElementSize: 2)) {
            let key = try readString()
            violations[key] = try readString()
        }
        return Findings(violations: violations, uncounted: try readInt())
    }

    fileprivate mutating func readAccountAudit(version: UInt8) throws(BourseError) -> AccountShardAudit {
        var audit = AccountShardAudit(progress: try readProgress(), anomalies: try readInt())
        audit.users = try readInt()
        for _ in 0..<(try readCount(minimumElementSize: 65)) {
            let currency = try readString()
            audit.totals[currency] = AccountShardAudit.CurrencyTotals(
                available: try readInt128(), locked: try readInt128(), fees: try readInt128(),
                netDeposits: try readInt128())
        }
        audit.balancesChecked = try readInt()
        audit.negativeBalances = try readFindings()
        audit.reservationsChecked = try readInt()
        audit.reservationProblems = try readFindings()
        for _ in 0..<(try readCount(minimumElementSize: 25)) {
            audit.reservations.append(
                AccountShardAudit.OpenReservation(
                    symbol: try readString(), orderID: try readUInt64(), owner: try readUInt64(),
                    remaining: Quantity(lots: try readInt64()), inFlight: version >= 2 ? try readBool() : false))
        }
        for _ in 0..<(try readCount(minimumElementSize: 2)) {
            let symbol = try readString()
            var trades: [UInt64] = []
            for _ in 0..<(try readCount(minimumElementSize: 8)) { trades.append(try readUInt64()) }
            audit.settledFills[symbol] = trades
        }
        for _ in 0..<(try readCount(minimumElementSize: 2)) {
            let symbol = try readString()
            var records: [UInt64: AccountShardAudit.RoleCount] = [:]
            for _ in 0..<(try readCount(minimumElementSize: 24)) {
                let trade = try readUInt64()
                records[trade] = AccountShardAudit.RoleCount(maker: try readInt(), taker: try readInt())
            }
            audit.fillRecords[symbol] = records
        }
        audit.fillProblems = try readFindings()
        for _ in 0..<(try readCount(minimumElementSize: 9)) {
            let user = try readUInt64()
            var balances: [String: Balance] = [:]
            for _ in 0..<(try readCount(minimumElementSize: 17)) {
                let currency = try readString()
                balances[currency] = Balance(
                    available: Amount(units: try readInt64()), locked: Amount(units: try readInt64()))
            }
            audit.sampledBalances[user] = balances
        }
        if version >= 3 {
            for _ in 0..<(try readCount(minimumElementSize: 17)) {
                let symbol = try readString()
                audit.settledThrough[symbol] = try readUInt64()
            }
        }
        return audit
    }

    fileprivate mutating func readSymbolAudit() throws(BourseError) -> SymbolAudit {
        let symbol = try readString()
        let progress = try readProgress()
        let bestBid = try readPrice()
        let bestAsk = try readPrice()
        let lastTradeID = try readUInt64()
        var orders: [SymbolAudit.BookOrder] = []
        for _ in 0..<(try readCount(minimumElementSize: 25)) {
            orders.append(
                SymbolAudit.BookOrder(
                    id: try readUInt64(), owner: try readUInt64(), remaining: Quantity(lots: try readInt64()),
                    isStop: try readBool()))
        }
        return SymbolAudit(
            symbol: symbol, progress: progress, bestBid: bestBid, bestAsk: bestAsk, lastTradeID: lastTradeID,
            orders: orders, undelivered: try readInt())
    }

    private mutating func readPrice() throws(BourseError) -> Price? {
        try readBool() ? Price(ticks: try readInt64()) : nil
    }
}
