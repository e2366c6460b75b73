/// The wallet and portfolio of one user: balances per currency, reservations of open orders,
/// positions per market, fees paid and the transaction rows of every change of money.
///
/// A pure, deterministic value: the same operations in the same order give the same state, the same
/// rows and the same `stateHash`. Every operation either succeeds completely or throws and changes
/// nothing (each computes its whole result first and commits it last). All arithmetic is checked:
/// an overflow is an error, never a trap. The `AccountActor` owns one ledger per user and drains the
/// rows after each command (`drainEntries()`).
///
/// Invariants (see `verifyInvariants()`): no available or locked amount is negative; per currency,
/// `locked` equals the sum of the reservations held in it; each reservation holds exactly what its
/// remaining quantity can still cost.
public struct AccountLedger: Hashable, Sendable {
    /// Largest balance (available + locked) a deposit may create: 10¹⁰ whole units.
    public static let maxBalance = Amount(units: 1_000_000_000_000_000_000)
    /// Longest deposit or withdrawal reference, in UTF-8 bytes.
    public static let maxReferenceLength = 256

    /// The user this ledger belongs to; fills of other owners are refused.
    public let userID: UserID
    /// Balances per currency code. A currency appears once it has been used.
    public internal(set) var balances: [String: Balance] = [:]
    /// Reservations of open orders.
    public internal(set) var reservations: [ReservationKey: Reservation] = [:]
    /// Positions per market symbol.
    public internal(set) var positions: [String: Position] = [:]
    /// Total fees charged per currency since the ledger was created.
    public internal(set) var feesCharged: [String: Amount] = [:]
    /// Trade ids of the fills already settled, per market symbol (settlement is idempotent by fill id): the
    /// most recent exactly, older ones as a watermark (`SettledTrades`).
    public internal(set) var appliedFills: [String: SettledTrades] = [:]
    /// Number of fills settled (kept by snapshots; one of version 1 restores the number of ids it listed).
    public internal(set) var appliedFillCount = 0
    /// Rows not drained yet, oldest first.
    public internal(set) var entries: [LedgerEntry] = []
    /// The id the next row gets.
    public internal(set) var nextEntryID: UInt64 = 1

    /// An empty ledger.
    public init(userID: UserID) { self.userID = userID }

    // MARK: Queries

    /// The balance of `currency` (zero if never used).
    public func balance(_ currency: String) -> Balance { balances[currency] ?? .zero }

    /// Currency codes with a balance, in canonical (byte) order.
    public var currencies: [String] { balances.keys.sorted(by: AccountLedger.byteOrder) }

    /// The reservation of an open order, if the ledger holds one.
    public func reservation(symbol: String, orderID: OrderID) -> Reservation? {
        reservations[ReservationKey(symbol: symbol, orderID: orderID)]
    }

    public func position(symbol: String) -> Position? { positions[symbol] }

    /// Whether the fill has been settled.
    public func hasApplied(_ fill: FillID) -> Bool { appliedFills[fill.symbol]?.contains(fill.tradeID) ?? false }

    /// Returns the rows recorded since the last drain and forgets them.
    public mutating func drainEntries() -> [LedgerEntry] {
        let drained = entries
        entries.removeAll(keepingCapacity: true)
        return drained
    }

    // MARK: Deposits and withdrawals

    /// Pays paper money in. `amount` must be positive and the resulting balance at most `maxBalance`.
    ///
    /// - Parameter valuation: when `currency` is the base asset of `valuation.market`, the deposit joins that
    ///   market's position at `valuation.price` (per whole unit, in the quote currency: the market's last price
    ///   when the deposit was made; zero when it had none) — see `Position`.
    /// - Returns: the DEPOSIT row.
    /// - Throws: `VALIDATION_ERROR` for a bad currency code, amount or reference, or a position whose cost would
    ///   leave the amounts' range.
    @discardableResult
    public mutating func deposit(
        currency: String, amount: Amount, reference: String, valuation: Valuation? = nil
    ) throws(BourseError) -> LedgerEntry {
        try AccountLedger.validate(currency: currency, amount: amount, reference: reference)
        let current = balance(currency)
        guard amount.units <= AccountLedger.maxBalance.units - current.total.units else {
            throw .validation("deposit would take the \(currency) balance above \(AccountLedger.maxBalance)")
        }
        let next = try current.creditingAvailable(amount)
        var received: Position?
        if let valuation, valuation.market.base == currency, valuation.price.units >= 0 {
            let market = valuation.market
            let position =
                positions[market.symbol] ?? Position(symbol: market.symbol, base: market.base, quote: market.quote)
            guard let cost = try? Checked.mulDivFloor(amount.units, valuation.price.units, Amount.unitsPerCoin),
                let after = try? position.buying(base: amount, cost: Amount(units: cost), fee: .zero)
            else {
                throw .validation("the \(market.symbol) position's cost would leave the range of amounts")
            }
            received = after
        }
        if let received { positions[received.symbol] = received }
        return commitSingle(.deposit, currency, amount, next, reference)
    }

    /// The market whose position a deposit of its base asset joins, and the price it joins at.
    public struct Valuation: Hashable, Sendable {
        public var market: MarketSpec
        /// Per whole unit of the base asset, in the quote currency.
        public var price: Amount

        public init(market: MarketSpec, price: Amount) {
            self.market = market
            self.price = price
        }
    }

    /// Pays money out of the available balance. Positions in the currency (as a market's base asset) that now
    /// hold more than the account does give up the difference, with its share of their cost (`Position`).
    ///
    /// - Returns: the WITHDRAWAL row (negative amount).
    /// - Throws: `VALIDATION_ERROR` for a bad currency, amount or reference; `INSUFFICIENT_FUNDS`
    ///   when more than the available balance is asked for.
    @discardableResult
    public mutating func withdraw(currency: String, amount: Amount, reference: String) throws(BourseError)
        -> LedgerEntry
    {
        try AccountLedger.validate(currency: currency, amount: amount, reference: reference)
        let next = try balance(currency).debitingAvailable(amount, currency: currency)
        let trimmed = try positions(of: currency, cutTo: next.total)
        for position in trimmed { positions[position.symbol] = position }
        return commitSingle(.withdrawal, currency, Amount(units: -amount.units), next, reference)
    }

    /// The positions in `base` that change so that together they hold at most `held`: in symbol order, each gives
    /// up what is still in excess.
    private func positions(of base: String, cutTo held: Amount) throws(BourseError) -> [Position] {
        let inBase = positions.values.filter { $0.base == base && $0.quantity.units > 0 }
            .sorted { AccountLedger.byteOrder($0.symbol, $1.symbol) }
        var excess = inBase.reduce(Int64(0)) { $0 &+ $1.quantity.units } - held.units
        var changed: [Position] = []
        for position in inBase where excess > 0 {
            let paid = min(excess, position.quantity.units)
            changed.append(try position.payingOut(base: Amount(units: paid)))
            excess -= paid
        }
        return changed
    }

    // MARK: Helpers shared by the extensions

    private mutating func commitSingle(
        _ type: LedgerEntry.EntryType, _ currency: String, _ amount: Amount, _ next: Balance, _ reference: String
    ) -> LedgerEntry {
        var recorder = EntryRecorder(nextID: nextEntryID)
        recorder.record(type, currency, amount, after: next, reference: reference)
        balances[currency] = next
        commit(recorder)
        return recorder.rows[0]
    }

    /// Appends the rows an operation recorded and advances the row sequence.
    mutating func commit(_ recorder: EntryRecorder) {
        entries.append(contentsOf: recorder.rows)
        nextEntryID = recorder.nextID
    }

    static func validate(currency: String, amount: Amount, reference: String) throws(BourseError) {
        guard MarketSpec.isValidCurrency(currency) else { throw .validation("currency must be 1-10 of [A-Z0-9]") }
        guard amount.units > 0 else { throw .validation("amount must be positive") }
        guard reference.utf8.count <= maxReferenceLength else {
            throw .validation("reference is longer than \(maxReferenceLength) bytes")
        }
    }

    /// Canonical order of currency codes and symbols: by UTF-8 bytes, the same on every platform.
    static func byteOrder(_ lhs: String, _ rhs: String) -> Bool { lhs.utf8.lexicographicallyPrecedes(rhs.utf8) }
}
