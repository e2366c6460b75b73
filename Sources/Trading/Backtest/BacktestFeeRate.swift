/// A backtest's fee per fill, exact: `units` of 10⁻⁴ basis point, that is of 10⁻⁸ of the notional, so a fee
/// is `notional × units / 10⁸` computed in integers. `fee_bps` is read with up to 4 decimals (`7.5` bps is
/// 75 000 units).
public struct BacktestFeeRate: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Decimal places of a rate in basis points.
    public static let scale = 4
    /// 10⁴: units per basis point.
    public static let unitsPerBasisPoint: Int64 = 10_000
    /// The rates allowed: 0 to `MarketSpec.maxFeeBps` (1000 bps, 10 % of notional), as for a market.
    public static let range = BacktestFeeRate(bps: 0)...BacktestFeeRate(bps: MarketSpec.maxFeeBps)

    /// 10⁸: the units of a rate of 100 % (the denominator of `fee(on:)`).
    static let unitsPerWhole = Int128(Amount.unitsPerCoin)

    public var units: Int64

    @inlinable public init(units: Int64) { self.units = units }

    /// A whole number of basis points (`bps × 10 000` must fit an Int64).
    public init(bps: Int64) { units = bps * Self.unitsPerBasisPoint }

    /// Reads decimal text in basis points ("7.5", "12") exactly.
    ///
    /// - Throws: `BourseError.validation` for text that is not a number, has more than 4 decimals or is out of
    ///   range; the range (`range`) is `Backtest`'s to check.
    public init(parsing text: some StringProtocol, field: String = "fee_bps") throws(BourseError) {
        units = try FixedDecimal.parse(text, scale: Self.scale, field: field)
    }

    /// The rate in basis points, with as many decimals as it needs (`"7.5"`).
    public var description: String { FixedDecimal.format(units, scale: Self.scale, fractionDigits: 0) }

    @inlinable public static func < (lhs: BacktestFeeRate, rhs: BacktestFeeRate) -> Bool { lhs.units < rhs.units }

    /// The fee on `notional` (units of 10⁻⁸, not negative): `notional × rate`, rounded up to 10⁻⁸, as the
    /// live ledger charges fees (`ceil(notional × bps / 10 000)`), never in the payer's favour. For a rate in
    /// `range` and a notional of an Int64 amount the result fits an Int64 (it is at most a tenth of the notional,
    /// rounded up) and the product fits an Int128.
    func fee(on notional: Int128) -> Int128 {
        let (quotient, remainder) = (notional * Int128(units)).quotientAndRemainder(dividingBy: Self.unitsPerWhole)
        return remainder == 0 ? quotient : quotient + 1
    }
}
