/// One row of an account's transaction history: a single change of one currency's balance.
///
/// Every change of money produces a row (`GET /v1/account/transactions`). Rows are numbered by a
/// per-ledger sequence, so the same commands always give the same rows.
public struct LedgerEntry: Hashable, Sendable, CustomStringConvertible {
    /// What kind of change a row records; `name` is the API's spelling.
    public enum EntryType: UInt8, Hashable, Sendable, CaseIterable {
        /// Paper money paid in (`amount` > 0).
        case deposit = 0
        /// Money paid out (`amount` < 0).
        case withdrawal = 1
        /// Available → locked for an order (`amount` is the amount moved, > 0).
        case lock = 2
        /// Locked → available: a released or adjusted reservation, or the surplus of a fill at a
        /// better price (`amount` is the amount moved, > 0).
        case unlock = 3
        /// Cash or asset exchanged by a fill: negative when paid, positive when received.
        case trade = 4
        /// A trading fee charged (`amount` < 0).
        case fee = 5

        public var name: String {
            switch self {
            case .deposit: "DEPOSIT"
            case .withdrawal: "WITHDRAWAL"
            case .lock: "LOCK"
            case .unlock: "UNLOCK"
            case .trade: "TRADE"
            case .fee: "FEE"
            }
        }
    }

    /// Per-ledger sequence number, starting at 1, without gaps.
    public var id: UInt64
    public var type: EntryType
    public var currency: String
    /// Signed change: negative for money leaving the balance (TRADE paid, FEE, WITHDRAWAL);
    /// for LOCK and UNLOCK the (positive) amount moved between available and locked.
    public var amount: Amount
    /// `available` of the currency after this row.
    public var availableAfter: Amount
    /// `locked` of the currency after this row.
    public var lockedAfter: Amount
    /// Order id (LOCK, UNLOCK), fill id "SYMBOL:trade" (TRADE, FEE and a fill's UNLOCK) or the
    /// caller's reference (DEPOSIT, WITHDRAWAL).
    public var referenceID: String

    public init(
        id: UInt64, type: EntryType, currency: String, amount: Amount, availableAfter: Amount, lockedAfter: Amount,
        referenceID: String
    ) {
        self.id = id
        self.type = type
        self.currency = currency
        self.amount = amount
        self.availableAfter = availableAfter
        self.lockedAfter = lockedAfter
        self.referenceID = referenceID
    }

    /// `available + locked` after this row (the API's `balance_after`).
    public var balanceAfter: Amount { Amount(units: availableAfter.units &+ lockedAfter.units) }

    public var description: String {
        "#\(id) \(type.name) \(amount) \(currency) → \(availableAfter)+\(lockedAfter) ref \(referenceID)"
    }
}

/// Numbers rows while an operation is computed, so that nothing is committed until it all succeeds.
struct EntryRecorder {
    private(set) var nextID: UInt64
    private(set) var rows: [LedgerEntry] = []

    init(nextID: UInt64) { self.nextID = nextID }

    /// Appends a row unless `amount` is zero (no change of money, no row).
    mutating func record(
        _ type: LedgerEntry.EntryType, _ currency: String, _ amount: Amount, after balance: Balance, reference: String
    ) {
        guard amount.units != 0 else { return }
        rows.append(
            LedgerEntry(
                id: nextID, type: type, currency: currency, amount: amount, availableAfter: balance.available,
                lockedAfter: balance.locked, referenceID: reference))
        nextID &+= 1
    }
}
