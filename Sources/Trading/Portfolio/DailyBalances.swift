/// One UTC day of an account's history: its balances and holdings at the end of the day, the money
/// paid in or out during the day, and the sell fills the day settled.
public struct DailyBalances: Sendable, Hashable {
    public static let millisPerDay: Int64 = 86_400_000

    /// Days since 1970-01-01, UTC.
    public var day: Int64
    /// Total balance (available + locked) per currency at the end of the day.
    public var cash: [String: Amount] = [:]
    /// Position per market symbol at the end of the day.
    public var holdings: [String: Holding] = [:]
    /// Deposits minus withdrawals during the day, per currency.
    public var netDeposits: [String: Amount] = [:]
    /// Sell fills settled during the day (each realizes P&L against the average cost).
    public var sells = 0
    /// Those of `sells` whose realized P&L was positive.
    public var winningSells = 0

    public init(day: Int64) { self.day = day }

    /// The UTC day of a time in milliseconds since 1970 (rounded down, also before 1970).
    public static func day(ofMillis millis: Int64) -> Int64 {
        let (quotient, remainder) = millis.quotientAndRemainder(dividingBy: millisPerDay)
        return remainder < 0 ? quotient - 1 : quotient
    }
}

/// What an account held of one market's base asset, as bought through that market (see `Position`).
public struct Holding: Sendable, Hashable {
    /// Base quantity held.
    public var quantity: Amount
    /// Quote cost of `quantity`, buy fees included.
    public var costBasis: Amount

    public init(quantity: Amount, costBasis: Amount) {
        self.quantity = quantity
        self.costBasis = costBasis
    }
}
