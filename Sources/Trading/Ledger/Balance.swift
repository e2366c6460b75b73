/// One currency of one account: what can be spent now and what is held for open orders.
///
/// Both parts are never negative, and `available + locked` always fits an `Int64` (every credit
/// checks the total), so `total` cannot overflow.
public struct Balance: Hashable, Sendable, CustomStringConvertible {
    public static let zero = Balance(available: .zero, locked: .zero)

    /// Spendable: can be withdrawn or reserved.
    public internal(set) var available: Amount
    /// Held by reservations of open orders.
    public internal(set) var locked: Amount

    public init(available: Amount, locked: Amount) {
        self.available = available
        self.locked = locked
    }

    /// `available + locked`.
    public var total: Amount { Amount(units: available.units &+ locked.units) }

    public var isZero: Bool { available.units == 0 && locked.units == 0 }

    public var description: String { "available \(available), locked \(locked)" }

    /// Adds to `available`; the total must stay within `Int64`.
    func creditingAvailable(_ amount: Amount) throws(BourseError) -> Balance {
        let (_, overflow) = total.units.addingReportingOverflow(amount.units)
        if overflow { throw .overflow("balance") }
        return Balance(available: Amount(units: available.units + amount.units), locked: locked)
    }

    /// Takes from `available`; not enough is `INSUFFICIENT_FUNDS`.
    func debitingAvailable(_ amount: Amount, currency: String) throws(BourseError) -> Balance {
        guard amount.units <= available.units else { throw Balance.insufficient(currency, available, amount) }
        return Balance(available: Amount(units: available.units - amount.units), locked: locked)
    }

    /// Moves from `available` to `locked`; not enough available is `INSUFFICIENT_FUNDS`.
    func locking(_ amount: Amount, currency: String) throws(BourseError) -> Balance {
        guard amount.units <= available.units else { throw Balance.insufficient(currency, available, amount) }
        return Balance(
            available: Amount(units: available.units - amount.units), locked: Amount(units: locked.units + amount.units)
        )
    }

    /// Moves from `locked` back to `available`; more than is locked is an internal error.
    func unlocking(_ amount: Amount, currency: String) throws(BourseError) -> Balance {
        guard amount.units <= locked.units else { throw Balance.lockedShort(currency, locked, amount) }
        return Balance(
            available: Amount(units: available.units + amount.units), locked: Amount(units: locked.units - amount.units)
        )
    }

    /// Takes from `locked` (a reserved payment); more than is locked is an internal error.
    func debitingLocked(_ amount: Amount, currency: String) throws(BourseError) -> Balance {
        guard amount.units <= locked.units else { throw Balance.lockedShort(currency, locked, amount) }
        return Balance(available: available, locked: Amount(units: locked.units - amount.units))
    }

    static func insufficient(_ currency: String, _ available: Amount, _ needed: Amount) -> BourseError {
        BourseError(.insufficientFunds, "insufficient \(currency): available \(available), needed \(needed)")
    }

    static func lockedShort(_ currency: String, _ locked: Amount, _ needed: Amount) -> BourseError {
        BourseError(.internal, "ledger inconsistency: \(currency) locked \(locked) is less than \(needed)")
    }
}
