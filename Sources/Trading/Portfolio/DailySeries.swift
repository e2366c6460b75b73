/// An account's end-of-day balances and holdings, one entry per UTC day on which they changed,
/// oldest first and at most `capacity` days.
///
/// A pure function of the account's commands and their timestamps: the same commands give the same
/// series, so replaying the journal rebuilds it exactly. A change timestamped before the newest
/// entry's day (a clock that stepped back) is folded into that entry, so days only grow.
public struct DailySeries: Sendable, Hashable {
    /// Days kept: about ten years of daily activity.
    public static let capacity = 3_650

    /// Oldest first, days strictly increasing.
    public internal(set) var days: [DailyBalances] = []

    public init() {}

    /// Records `ledger` as it stands after a change made at `millis`.
    ///
    /// - Parameters:
    ///   - rows: the rows the change wrote; its DEPOSIT and WITHDRAWAL rows are the day's flows.
    ///     Rows that only move money between available and locked (LOCK, UNLOCK) change no total,
    ///     so a change with nothing else records nothing.
    ///   - sellRealized: the P&L realized by the sell fill the change settled, if it settled one.
    public mutating func record(
        _ ledger: AccountLedger, rows: [LedgerEntry], sellRealized: Amount? = nil, atMillis millis: Int64
    ) {
        let changesTotals = rows.contains { $0.type != .lock && $0.type != .unlock }
        guard changesTotals || sellRealized != nil else { return }
        update(ledger, rows: rows, sellRealized: sellRealized, atMillis: millis)
    }

    /// Starts an empty series from a ledger whose history is gone (restored from a snapshot written
    /// before the series existed): one entry, the day of `millis`, holding the ledger as it stands;
    /// `rows` are that day's rows still known.
    public mutating func seed(_ ledger: AccountLedger, rows: [LedgerEntry], atMillis millis: Int64) {
        guard days.isEmpty, !ledger.balances.isEmpty || !ledger.positions.isEmpty else { return }
        update(ledger, rows: rows, sellRealized: nil, atMillis: millis)
    }

    /// Sell fills settled over the series, and those with a positive realized P&L.
    public var sellCounts: (sells: Int, winning: Int) {
        days.reduce((0, 0)) { ($0.0 + $1.sells, $0.1 + $1.winningSells) }
    }

    private mutating func update(
        _ ledger: AccountLedger, rows: [LedgerEntry], sellRealized: Amount?, atMillis millis: Int64
    ) {
        let day = DailyBalances.day(ofMillis: millis)
        if days.last.map({ $0.day < day }) ?? true {
            days.append(DailyBalances(day: day))
            if days.count > DailySeries.capacity { days.removeFirst(days.count - DailySeries.capacity) }
        }
        let last = days.count - 1
        days[last].cash = ledger.balances.mapValues(\.total)
        days[last].holdings = ledger.positions.mapValues {
            Holding(quantity: $0.quantity, costBasis: $0.costBasis)
        }
        for row in rows where row.type == .deposit || row.type == .withdrawal {
            let before = days[last].netDeposits[row.currency]?.units ?? 0
            days[last].netDeposits[row.currency] = Amount(units: before &+ row.amount.units)
        }
        if let sellRealized {
            days[last].sells += 1
            if sellRealized.units > 0 { days[last].winningSells += 1 }
        }
    }
}
