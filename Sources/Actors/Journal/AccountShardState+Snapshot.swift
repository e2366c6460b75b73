import Trading

/// Snapshot of an account shard: every user's ledger (its own snapshot), orders, idempotency results,
/// transaction rows, fills and daily series, plus the shard's counters and book-event watermarks.
///
/// Versions: "BAS3" (current) ends each user with its `DailySeries` and how far trims of its history
/// reached, and keeps the amount of each `Idempotency-Key` result; "BAS2" has neither (a history as long as
/// the capacity reads as trimmed anywhere; a retry of a key is not checked for its amount); "BAS1" (written
/// before the series existed) has none of these, and reading it starts each user's series from the ledger as
/// it stands, on the day of the user's newest transaction row (see `DailySeries.seed`).
extension AccountShardState {
    /// What one user's part of a snapshot holds, by snapshot version.
    enum UserLayout: Sendable {
        case v1, v2, v3

        static let current = UserLayout.v3

        var magic: [UInt8] {
            switch self {
            case .v1: Array("BAS1".utf8)
            case .v2: Array("BAS2".utf8)
            case .v3: Array("BAS3".utf8)
            }
        }

        init?(magic: [UInt8]) {
            guard let layout = [UserLayout.v1, .v2, .v3].first(where: { $0.magic == magic }) else { return nil }
            self = layout
        }

        var hasSeries: Bool { self != .v1 }
        /// The trim marks and the amount of each keyed deposit or withdrawal.
        var hasV3Fields: Bool { self == .v3 }
    }

    public func snapshot() -> [UInt8] { snapshot(layout: .current) }

    /// The snapshot in an older `layout` only to test reading old snapshots.
    func snapshot(layout: UserLayout) -> [UInt8] {
        var writer = BinaryWriter(reservingCapacity: 4_096)
        writer.writeRaw(layout.magic)
        writer.write(Int64(index))
        writer.write(orderCounter)
        writer.write(Int64(anomalies))
        let watermarks = lastBookSequence.sorted { $0.key < $1.key }
        writer.writeCount(watermarks.count)
        for (symbol, sequence) in watermarks {
            writer.write(symbol)
            writer.write(sequence)
        }
        let userIDs = self.userIDs.sorted()
        writer.writeCount(userIDs.count)
        for id in userIDs {
            writer.write(id)
            if let account = users[id] {
                Self.encode(account, into: &writer, layout: layout)
            } else if let bytes = passive[id] {
                if layout == .current {
                    writer.writeRaw(bytes)
                } else {
                    Self.encode(Self.decodePassive(id, bytes), into: &writer, layout: layout)
                }
            }
        }
        return writer.bytes
    }

    /// One user's part of a snapshot (after the user id); also what a passivated user is kept as.
    static func encode(_ account: UserAccount, into writer: inout BinaryWriter, layout: UserLayout = .current) {
        writer.write(bytes: account.ledger.snapshot())
        writer.writeCount(account.orderIDs.count)
        for orderID in account.orderIDs { writer.write(record: account.orders[orderID]!) }
        let results = account.idempotentResults.sorted { $0.key < $1.key }
        writer.writeCount(results.count)
        for (key, change) in results {
            writer.write(key)
            writer.write(change.transactionID)
            writer.write(change.balance.currency)
            writer.write(change.balance.available.units)
            writer.write(change.balance.locked.units)
            if layout.hasV3Fields {
                writer.write(change.amount != nil)
                writer.write(change.amount?.units ?? 0)
            }
        }
        writer.writeCount(account.entries.count)
        for timed in account.entries {
            let entry = timed.entry
            writer.write(timed.timestampMillis)
            writer.write(entry.id)
            writer.write(entry.type.rawValue)
            writer.write(entry.currency)
            writer.write(entry.amount.units)
            writer.write(entry.availableAfter.units)
            writer.write(entry.lockedAfter.units)
            writer.write(entry.referenceID)
        }
        writer.writeCount(account.trades.count)
        for trade in account.trades {
            writer.write(trade.tradeID)
            writer.write(trade.orderID)
            writer.write(trade.symbol)
            writer.write(trade.side.rawValue)
            writer.write(trade.price.ticks)
            writer.write(trade.quantity.lots)
            writer.write(trade.fee.units)
            writer.write(trade.feeCurrency)
            writer.write(trade.liquidity.rawValue)
            writer.write(trade.timestampMillis)
        }
        if layout.hasSeries { account.daily.encode(into: &writer) }
        if layout.hasV3Fields {
            writer.write(account.ordersTrimmedThrough)
            writer.write(account.tradesTrimmed)
        }
    }

    public init(index: Int, markets: [String: MarketSpec], snapshot bytes: [UInt8]) throws(BourseError) {
        self.init(index: index, markets: markets)
        var reader = BinaryReader(bytes)
        guard let layout = UserLayout(magic: try reader.readRaw(count: 4)), try reader.readInt64() == Int64(index)
        else { throw corruptSnapshot }
        orderCounter = try reader.readUInt64()
        anomalies = Int(try reader.readInt64())
        for _ in 0..<(try reader.readCount(minimumElementSize: 16)) {
            let symbol = try reader.readString()
            lastBookSequence[symbol] = try reader.readUInt64()
        }
        for _ in 0..<(try reader.readCount(minimumElementSize: 16)) {
            let id = try reader.readUInt64()
            let account = try Self.decodeAccount(id, from: &reader, layout: layout)
            for orderID in account.orderIDs { orderOwners[orderID] = id }
            users[id] = account
        }
        try reader.expectEnd()
        // Orders no book had answered when the snapshot was taken (a user with one is never passivated).
        let waiting = users.values.flatMap { account in
            account.orders.lazy.filter { !$0.value.acknowledged && $0.value.view.status.isOpen }.map(\.key)
        }
        for id in waiting.sorted() { unanswered.add(id) }
    }

    /// Reads one user's part of a snapshot, as `encode` wrote it.
    static func decodeAccount(_ id: UserID, from reader: inout BinaryReader, layout: UserLayout = .current)
        throws(BourseError) -> UserAccount
    {
        var account = UserAccount(user: id)
        account.ledger = try AccountLedger(snapshot: try reader.readBytes())
        for _ in 0..<(try reader.readCount(minimumElementSize: 64)) {
            account.restore(try reader.readOrderRecord())
        }
        for _ in 0..<(try reader.readCount(minimumElementSize: 16)) {
            let key = try reader.readString()
            let transactionID = try reader.readString()
            let currency = try reader.readString()
            let balance = BalanceView(
                currency: currency, available: Amount(units: try reader.readInt64()),
                locked: Amount(units: try reader.readInt64()))
            var amount: Amount?
            if layout.hasV3Fields {
                let known = try reader.readBool()
                let units = try reader.readInt64()
                amount = known ? Amount(units: units) : nil
            }
            account.idempotentResults[key] = BalanceChange(
                transactionID: transactionID, balance: balance, amount: amount)
        }
        for _ in 0..<(try reader.readCount(minimumElementSize: 40)) {
            let timestamp = try reader.readInt64()
            let entryID = try reader.readUInt64()
            guard let type = LedgerEntry.EntryType(rawValue: try reader.readUInt8()) else { throw corruptSnapshot }
            let entry = LedgerEntry(
                id: entryID, type: type, currency: try reader.readString(),
                amount: Amount(units: try reader.readInt64()),
                availableAfter: Amount(units: try reader.readInt64()),
                lockedAfter: Amount(units: try reader.readInt64()), referenceID: try reader.readString())
            account.entries.append(TimedEntry(entry: entry, timestampMillis: timestamp))
        }
        for _ in 0..<(try reader.readCount(minimumElementSize: 60)) {
            let tradeID = try reader.readUInt64()
            let orderID = try reader.readUInt64()
            let symbol = try reader.readString()
            guard let side = Side(rawValue: try reader.readUInt8()) else { throw corruptSnapshot }
            let price = Price(ticks: try reader.readInt64())
            let quantity = Quantity(lots: try reader.readInt64())
            let fee = Amount(units: try reader.readInt64())
            let feeCurrency = try reader.readString()
            guard let liquidity = LiquidityRole(rawValue: try reader.readUInt8()) else { throw corruptSnapshot }
            account.trades.append(
                UserTrade(
                    tradeID: tradeID, orderID: orderID, symbol: symbol, side: side, price: price,
                    quantity: quantity, fee: fee, feeCurrency: feeCurrency, liquidity: liquidity,
                    timestampMillis: try reader.readInt64()))
        }
        if layout.hasSeries {
            account.daily = try DailySeries(decoding: &reader)
        } else if let newest = account.entries.last {
            let day = DailyBalances.day(ofMillis: newest.timestampMillis)
            let rows = account.entries.reversed().prefix { DailyBalances.day(ofMillis: $0.timestampMillis) == day }
            account.daily.seed(account.ledger, rows: rows.reversed().map(\.entry), atMillis: newest.timestampMillis)
        }
        if layout.hasV3Fields {
            account.ordersTrimmedThrough = try reader.readUInt64()
            account.tradesTrimmed = try reader.readBool()
        } else {
            // A trim leaves at least the capacity, so a shorter history was never trimmed (one this long may have been).
            account.ordersTrimmedThrough = account.orderIDs.count >= UserAccount.historyCapacity ? .max : 0
            account.tradesTrimmed = account.trades.count >= UserAccount.historyCapacity
        }
        return account
    }
}

private let corruptSnapshot = BourseError(.internal, "corrupt account shard snapshot")

extension BinaryWriter {
    mutating func write(record: OrderRecord) {
        let view = record.view
        write(view.orderID)
        write(optionalString: view.clientOrderID)
        write(view.symbol)
        write(view.side.rawValue)
        write(view.type.rawValue)
        write(optionalTicks: view.price)
        write(optionalTicks: view.stopPrice)
        write(view.quantity.lots)
        write(view.filledQuantity.lots)
        write(view.filledNotional.units)
        write(view.status.rawValue)
        write(view.timeInForce.rawValue)
        write(view.postOnly)
        write(view.rejectReason != nil)
        write(view.rejectReason?.rawValue ?? 0)
        write(view.createdAtMillis)
        write(view.updatedAtMillis)
        writeCount(view.fills.count)
        for fill in view.fills {
            write(fill.tradeID)
            write(fill.price.ticks)
            write(fill.quantity.lots)
            write(fill.fee.units)
            write(fill.feeCurrency)
            write(fill.liquidity.rawValue)
            write(fill.timestampMillis)
        }
        write(record.owner)
        write(record.acknowledged)
        write(record.triggered)
        write(record.pendingAmend)
        write(request: record.request)
    }
}

extension BinaryReader {
    mutating func readOrderRecord() throws(BourseError) -> OrderRecord {
        let orderID = try readUInt64()
        let clientOrderID = try readOptionalString()
        let symbol = try readString()
        guard let side = Side(rawValue: try readUInt8()), let type = OrderType(rawValue: try readUInt8()) else {
            throw corruptSnapshot
        }
        let price = try readOptionalTicks()
        let stopPrice = try readOptionalTicks()
        let quantity = Quantity(lots: try readInt64())
        let filled = Quantity(lots: try readInt64())
        let notional = Amount(units: try readInt64())
        guard let status = OrderStatus(rawValue: try readString()),
            let tif = TimeInForce(rawValue: try readUInt8())
        else { throw corruptSnapshot }
        let postOnly = try readBool()
        let hasReason = try readBool()
        let reason = RejectReason(rawValue: try readUInt8())
        let created = try readInt64()
        let updated = try readInt64()
        var fills: [OrderFill] = []
        for _ in 0..<(try readCount(minimumElementSize: 49)) {
            let tradeID = try readUInt64()
            let fillPrice = Price(ticks: try readInt64())
            let fillQuantity = Quantity(lots: try readInt64())
            let fee = Amount(units: try readInt64())
            let feeCurrency = try readString()
            guard let liquidity = LiquidityRole(rawValue: try readUInt8()) else { throw corruptSnapshot }
            fills.append(
                OrderFill(
                    tradeID: tradeID, price: fillPrice, quantity: fillQuantity, fee: fee, feeCurrency: feeCurrency,
                    liquidity: liquidity, timestampMillis: try readInt64()))
        }
        let view = OrderView(
            orderID: orderID, clientOrderID: clientOrderID, symbol: symbol, side: side, type: type, price: price,
            stopPrice: stopPrice, quantity: quantity, filledQuantity: filled, filledNotional: notional, status: status,
            timeInForce: tif, postOnly: postOnly, rejectReason: hasReason ? reason : nil, createdAtMillis: created,
            updatedAtMillis: updated, fills: fills)
        let owner = try readUInt64()
        var record = OrderRecord(
            view: view, owner: owner, request: OrderRequest(symbol: symbol, side: side, type: type, quantity: quantity))
        record.acknowledged = try readBool()
        record.triggered = try readBool()
        record.pendingAmend = try readBool()
        record.request = try readRequest()
        return record
    }
}
