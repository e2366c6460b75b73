/// Canonical encoding of a ledger: snapshots, the state hash and the invariant check.
///
/// Snapshot layout (`BinaryWriter`, little-endian): magic "BLDG", version 2, then the state in
/// canonical order — user id, next row id; balances by currency; reservations by (symbol, order
/// id); positions by symbol; fees by currency; the number of fills settled, then applied fills grouped by
/// symbol: the watermark (`SettledTrades.settledThrough`) and the trade ids above it, ascending — and
/// finally the rows not drained yet. Version 1 (read too) had neither the number nor the watermarks: every
/// settled trade id was listed. `stateHash` hashes the same state bytes
/// (everything except the undrained rows), so two ledgers with the same state have the same hash
/// whatever the history of their dictionaries.
extension AccountLedger {
    static let snapshotMagic: [UInt8] = Array("BLDG".utf8)
    static let snapshotVersion: UInt8 = 2

    /// The ledger as bytes, undrained rows included; `init(snapshot:)` reads it back.
    public func snapshot() -> [UInt8] {
        var writer = BinaryWriter(reservingCapacity: 256 + settledIDsKept * 8 + reservations.count * 160)
        writer.writeRaw(AccountLedger.snapshotMagic)
        writer.write(AccountLedger.snapshotVersion)
        encodeState(into: &writer)
        writer.writeCount(entries.count)
        for entry in entries {
            writer.write(entry.id)
            writer.write(entry.type.rawValue)
            writer.write(entry.currency)
            writer.write(entry.amount.units)
            writer.write(entry.availableAfter.units)
            writer.write(entry.lockedAfter.units)
            writer.write(entry.referenceID)
        }
        return writer.bytes
    }

    /// Settled trade ids held individually, over every market.
    private var settledIDsKept: Int { appliedFills.values.reduce(0) { $0 + $1.count } }

    /// A deterministic hash of the state (everything but the undrained rows), equal across
    /// processes, platforms and snapshot round trips.
    public var stateHash: UInt64 {
        var writer = BinaryWriter(reservingCapacity: 256 + settledIDsKept * 8 + reservations.count * 160)
        encodeState(into: &writer)
        var hasher = StateHasher()
        let bytes = writer.bytes
        hasher.combine(UInt64(bytes.count))
        var index = 0
        while index < bytes.count {
            var word: UInt64 = 0
            for shift in 0..<min(8, bytes.count - index) { word |= UInt64(bytes[index + shift]) << (8 * UInt64(shift)) }
            hasher.combine(word)
            index += 8
        }
        return hasher.value
    }

    /// Reads a snapshot written by `snapshot()` and checks every invariant of the result.
    ///
    /// - Throws: `VALIDATION_ERROR` for truncated or malformed bytes, an unknown version, values out
    ///   of canonical order; `INTERNAL` when the decoded state breaks an invariant.
    public init(snapshot bytes: [UInt8]) throws(BourseError) {
        var reader = BinaryReader(bytes)
        guard try reader.readRaw(count: 4) == AccountLedger.snapshotMagic else {
            throw .validation("not a ledger snapshot")
        }
        let version = try reader.readUInt8()
        guard version == 1 || version == AccountLedger.snapshotVersion else {
            throw .validation("unknown ledger snapshot version \(version)")
        }
        self.init(userID: try reader.readUInt64())
        nextEntryID = try reader.readUInt64()

        var previous: String? = nil
        for _ in 0..<(try reader.readCount(minimumElementSize: 24)) {
            let currency = try reader.readString()
            try AccountLedger.expectAscending(previous, currency, by: AccountLedger.byteOrder)
            previous = currency
            balances[currency] = Balance(
                available: Amount(units: try reader.readInt64()), locked: Amount(units: try reader.readInt64()))
        }
        var previousKey: ReservationKey? = nil
        for _ in 0..<(try reader.readCount(minimumElementSize: 64)) {
            let reservation = try AccountLedger.readReservation(&reader)
            try AccountLedger.expectAscending(previousKey, reservation.key, by: <)
            previousKey = reservation.key
            reservations[reservation.key] = reservation
        }
        previous = nil
        for _ in 0..<(try reader.readCount(minimumElementSize: 56)) {
            let position = Position(
                symbol: try reader.readString(), base: try reader.readString(), quote: try reader.readString(),
                quantity: Amount(units: try reader.readInt64()), costBasis: Amount(units: try reader.readInt64()),
                realizedPnL: Amount(units: try reader.readInt64()), feesPaid: Amount(units: try reader.readInt64()))
            try AccountLedger.expectAscending(previous, position.symbol, by: AccountLedger.byteOrder)
            previous = position.symbol
            positions[position.symbol] = position
        }
        previous = nil
        for _ in 0..<(try reader.readCount(minimumElementSize: 16)) {
            let currency = try reader.readString()
            try AccountLedger.expectAscending(previous, currency, by: AccountLedger.byteOrder)
            previous = currency
            feesCharged[currency] = Amount(units: try reader.readInt64())
        }
        let settledCount = version >= 2 ? try reader.readCount(minimumElementSize: 0) : nil
        previous = nil
        for _ in 0..<(try reader.readCount(minimumElementSize: 16)) {
            let symbol = try reader.readString()
            try AccountLedger.expectAscending(previous, symbol, by: AccountLedger.byteOrder)
            previous = symbol
            let settledThrough = version >= 2 ? try reader.readUInt64() : 0
            var previousTrade: UInt64? = nil
            let count = try reader.readCount(minimumElementSize: 8)
            guard count > 0 || settledThrough > 0 else { throw .validation("snapshot has an empty group of fills") }
            var recent = Set<UInt64>(minimumCapacity: count)
            for _ in 0..<count {
                let tradeID = try reader.readUInt64()
                try AccountLedger.expectAscending(previousTrade, tradeID, by: <)
                guard tradeID > settledThrough else {
                    throw .validation("snapshot lists trade \(tradeID) at or below its watermark \(settledThrough)")
                }
                previousTrade = tradeID
                recent.insert(tradeID)
            }
            // A version-1 snapshot lists every id: the watermark takes the oldest of a long list at the next fill.
            appliedFills[symbol] = SettledTrades(settledThrough: settledThrough, recent: recent)
            appliedFillCount += count
        }
        if let settledCount {
            guard settledCount >= appliedFillCount else {
                throw .validation("snapshot counts \(settledCount) fills settled but lists \(appliedFillCount)")
            }
            appliedFillCount = settledCount
        }
        for _ in 0..<(try reader.readCount(minimumElementSize: 50)) {
            let id = try reader.readUInt64()
            let rawType = try reader.readUInt8()
            guard let type = LedgerEntry.EntryType(rawValue: rawType) else {
                throw .validation("unknown ledger entry type \(rawType)")
            }
            entries.append(
                LedgerEntry(
                    id: id, type: type, currency: try reader.readString(),
                    amount: Amount(units: try reader.readInt64()),
                    availableAfter: Amount(units: try reader.readInt64()),
                    lockedAfter: Amount(units: try reader.readInt64()), referenceID: try reader.readString()))
        }
        try reader.expectEnd()
        try verifyInvariants()
    }

    /// Checks every invariant: no negative balance, totals within `Int64`, `locked` per currency
    /// equal to the reservations held in it, each reservation holding exactly what its remaining
    /// quantity can still cost, fees and positions non-negative.
    ///
    /// - Throws: `INTERNAL` describing the first broken invariant.
    public func verifyInvariants() throws(BourseError) {
        func fail(_ message: String) -> BourseError { BourseError(.internal, "ledger invariant: \(message)") }
        var lockedByCurrency: [String: Int64] = [:]
        for (key, reservation) in reservations {
            guard key == reservation.key else { throw fail("reservation \(reservation.key) filed under \(key)") }
            guard reservation.remaining.lots > 0, reservation.locked.units >= 0 else {
                throw fail("reservation \(key) has nothing remaining or a negative lock")
            }
            guard reservation.maxFeeBps == max(reservation.spec.makerFeeBps, reservation.spec.takerFeeBps),
                reservation.feeNumerator >= 0,
                try FeeMath.feeDue(numerator: reservation.feeNumerator) == reservation.feeCharged
            else { throw fail("reservation \(key) has inconsistent fees") }
            if reservation.side == .buy, reservation.price == nil { throw fail("buy reservation \(key) has no price") }
            let required = try reservation.requiredLock(
                price: reservation.price, remaining: reservation.remaining, feeNumerator: reservation.feeNumerator)
            guard required == reservation.locked else {
                throw fail("reservation \(key) holds \(reservation.locked), needs \(required)")
            }
            let (sum, overflow) = lockedByCurrency[reservation.currency, default: 0].addingReportingOverflow(
                reservation.locked.units)
            guard !overflow else { throw fail("locked \(reservation.currency) overflows") }
            lockedByCurrency[reservation.currency] = sum
        }
        for (currency, balance) in balances {
            guard MarketSpec.isValidCurrency(currency) else { throw fail("bad currency code") }
            guard balance.available.units >= 0, balance.locked.units >= 0 else { throw fail("negative \(currency)") }
            guard !balance.available.units.addingReportingOverflow(balance.locked.units).overflow else {
                throw fail("\(currency) total overflows")
            }
            guard balance.locked.units == lockedByCurrency[currency, default: 0] else {
                throw fail("\(currency) locked \(balance.locked) differs from its reservations")
            }
        }
        for (currency, units) in lockedByCurrency where balances[currency] == nil && units != 0 {
            throw fail("reservations hold \(currency) without a balance")
        }
        for (currency, fees) in feesCharged where fees.units < 0 { throw fail("negative fees in \(currency)") }
        for (symbol, position) in positions {
            guard position.symbol == symbol, position.quantity.units >= 0, position.costBasis.units >= 0,
                position.feesPaid.units >= 0
            else { throw fail("position \(symbol) is inconsistent") }
        }
        guard nextEntryID > (entries.last?.id ?? 0) else { throw fail("row ids out of sequence") }
    }

    // MARK: Encoding

    private func encodeState(into writer: inout BinaryWriter) {
        writer.write(userID)
        writer.write(nextEntryID)
        writer.writeCount(balances.count)
        for currency in currencies {
            let balance = balances[currency]!
            writer.write(currency)
            writer.write(balance.available.units)
            writer.write(balance.locked.units)
        }
        writer.writeCount(reservations.count)
        for key in reservations.keys.sorted() { AccountLedger.write(reservations[key]!, into: &writer) }
        writer.writeCount(positions.count)
        for symbol in positions.keys.sorted(by: AccountLedger.byteOrder) {
            let position = positions[symbol]!
            writer.write(position.symbol)
            writer.write(position.base)
            writer.write(position.quote)
            writer.write(position.quantity.units)
            writer.write(position.costBasis.units)
            writer.write(position.realizedPnL.units)
            writer.write(position.feesPaid.units)
        }
        writer.writeCount(feesCharged.count)
        for currency in feesCharged.keys.sorted(by: AccountLedger.byteOrder) {
            writer.write(currency)
            writer.write(feesCharged[currency]!.units)
        }
        writer.writeCount(appliedFillCount)
        writer.writeCount(appliedFills.count)
        for symbol in appliedFills.keys.sorted(by: AccountLedger.byteOrder) {
            let settled = appliedFills[symbol]!
            let tradeIDs = settled.recent.sorted()
            writer.write(symbol)
            writer.write(settled.settledThrough)
            writer.writeCount(tradeIDs.count)
            for tradeID in tradeIDs { writer.write(tradeID) }
        }
    }

    private static func write(_ reservation: Reservation, into writer: inout BinaryWriter) {
        let spec = reservation.spec
        writer.write(reservation.orderID)
        writer.write(spec.symbol)
        writer.write(spec.base)
        writer.write(spec.quote)
        writer.write(spec.tickSize.units)
        writer.write(spec.lotSize.units)
        writer.write(spec.minQuantity.lots)
        writer.write(spec.makerFeeBps)
        writer.write(spec.takerFeeBps)
        writer.write(reservation.side.rawValue)
        writer.write(reservation.type.rawValue)
        writer.write(reservation.price != nil)
        writer.write(reservation.price?.ticks ?? 0)
        writer.write(reservation.remaining.lots)
        writer.write(reservation.locked.units)
        writer.write(reservation.maxFeeBps)
        writer.write(reservation.feeNumerator)
        writer.write(reservation.feeCharged.units)
        writer.write(reservation.filledQuantity.lots)
        writer.write(reservation.filledNotional.units)
    }

    private static func readReservation(_ reader: inout BinaryReader) throws(BourseError) -> Reservation {
        let orderID = try reader.readUInt64()
        let symbol = try reader.readString()
        let base = try reader.readString()
        let quote = try reader.readString()
        let tickSize = Amount(units: try reader.readInt64())
        let lotSize = Amount(units: try reader.readInt64())
        let minLots = try reader.readInt64()
        let (minUnits, overflow) = minLots.multipliedReportingOverflow(by: lotSize.units)
        guard !overflow else { throw .overflow("min_quantity") }
        let spec = try MarketSpec(
            symbol: symbol, base: base, quote: quote, tickSize: tickSize, lotSize: lotSize,
            minQuantity: Amount(units: minUnits), makerFeeBps: try reader.readInt64(),
            takerFeeBps: try reader.readInt64())
        let rawSide = try reader.readUInt8()
        let rawType = try reader.readUInt8()
        guard let side = Side(rawValue: rawSide), let type = OrderType(rawValue: rawType) else {
            throw .validation("unknown side or order type in a reservation")
        }
        let hasPrice = try reader.readBool()
        let ticks = try reader.readInt64()
        return Reservation(
            orderID: orderID, spec: spec, side: side, type: type, price: hasPrice ? Price(ticks: ticks) : nil,
            remaining: Quantity(lots: try reader.readInt64()), locked: Amount(units: try reader.readInt64()),
            maxFeeBps: try reader.readInt64(), feeNumerator: try reader.readInt128(),
            feeCharged: Amount(units: try reader.readInt64()), filledQuantity: Quantity(lots: try reader.readInt64()),
            filledNotional: Amount(units: try reader.readInt64()))
    }

    private static func expectAscending<T>(_ previous: T?, _ next: T, by less: (T, T) -> Bool) throws(BourseError) {
        if let previous, !less(previous, next) { throw .validation("snapshot values out of canonical order") }
    }
}
