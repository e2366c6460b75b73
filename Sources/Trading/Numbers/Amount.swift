/// A currency amount in fixed point with 8 decimals: `units` of 10⁻⁸.
///
/// Every currency (quote cash and base assets alike) is held in these units, so balances of
/// different currencies share one representation and one set of checked operations.
public struct Amount: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Decimal places of every amount.
    public static let scale = 8
    /// 10⁸: units per whole coin.
    public static let unitsPerCoin: Int64 = 100_000_000
    public static let zero = Amount(units: 0)

    public var units: Int64

    @inlinable public init(units: Int64) { self.units = units }

    /// Reads decimal text ("12.5", "1e-3") exactly; more than 8 decimals or overflow is an error.
    public init(parsing text: some StringProtocol, field: String = "amount") throws(BourseError) {
        units = try FixedDecimal.parse(text, scale: Amount.scale, field: field)
    }

    /// The amount with exactly 8 decimals, as the API writes currency amounts.
    public var description: String { FixedDecimal.format(units, scale: Amount.scale, fractionDigits: Amount.scale) }

    @inlinable public static func < (lhs: Amount, rhs: Amount) -> Bool { lhs.units < rhs.units }

    public func adding(_ other: Amount) throws(BourseError) -> Amount {
        let (sum, overflow) = units.addingReportingOverflow(other.units)
        if overflow { throw .overflow("amount") }
        return Amount(units: sum)
    }

    public func subtracting(_ other: Amount) throws(BourseError) -> Amount {
        let (difference, overflow) = units.subtractingReportingOverflow(other.units)
        if overflow { throw .overflow("amount") }
        return Amount(units: difference)
    }

    /// `self × bps / 10 000`, rounded up to the unit (fees are never rounded in the payer's favour).
    public func feeRoundedUp(bps: Int64) throws(BourseError) -> Amount {
        Amount(units: try Checked.ceilDiv(Checked.multiply(units, bps), 10_000))
    }
}
