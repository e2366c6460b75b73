import Testing
import Trading

/// The backtester's money is exact fixed point (units of 10⁻⁸): what `Double` got wrong, and each documented
/// rounding, by hand.
extension BacktestTests {
    /// Buy 3 at 0.1 (crossing above 0.15), sell 3 at 0.2 (crossing above 0.25), fees 10 bps, cash 0.3003.
    /// By hand: notional 0.3, fee 0.0003, cost 0.3003 — exactly the cash, so the buy fills and leaves 0; at the
    /// close 0.3 equity is 3 × 0.3 = 0.9. The sell brings 0.6 − 0.0006 = 0.5994: pnl 0.5994 − 0.3003 = 0.2991.
    /// In `Double`, 3 × 0.1 + its fee is 0.30030000000000007 > 0.3003: the buy was skipped, and 3 × 0.3 marked
    /// 0.8999999999999999.
    @Test func decimalPricesAndFeesAreExactWhereDoubleWasNot() throws {
        let (tenth, threeTenths, three): (Double, Double, Double) = (0.1, 0.3, 3)
        let doubleCost = three * tenth + three * tenth * 10 / 10_000
        #expect(doubleCost > 0.3003)
        #expect(three * threeTenths != 0.9)
        let rules = [
            Self.rule(Self.price, .crossesAbove, .value(0.15), .buy, "3"),
            Self.rule(Self.price, .crossesAbove, .value(0.25), .sell, "3"),
        ]
        let candles = Self.candles(opens: ["0.1", "0.1", "0.1", "0.2"], closes: ["0.1", "0.2", "0.3", "0.3"])
        let result = try Self.run(rules, candles, cash: "0.3003", bps: 10)
        #expect(result.skippedOrders == 0)
        #expect(Self.texts(result.fills.map(\.notional)) == ["0.30000000", "0.60000000"])
        #expect(Self.texts(result.fills.map(\.fee)) == ["0.00030000", "0.00060000"])
        #expect(Self.texts(result.equity) == ["0.30030000", "0.30030000", "0.90000000", "0.59940000"])
        #expect(result.trades.count == 1)
        #expect(result.trades.first?.entryPrice.description == "0.10000000")
        #expect(result.trades.first?.exitPrice.description == "0.20000000")
        #expect(result.trades.first?.quantity.description == "3.00000000")
        #expect(result.trades.first?.pnl.description == "0.29910000")
        #expect(result.finalEquity.description == "0.59940000")
        #expect(result.returnPercent == Self.percent(59_940_000 - 30_030_000, of: 30_030_000))
        #expect(result.maxDrawdownPercent == Self.percent(90_000_000 - 59_940_000, of: 90_000_000))
    }

    /// Buy 1 at 0.00001234 and sell it at 0.00001, cash 1. At 10 bps the buy's fee is 1234 × 0.001 = 1.234
    /// units, charged 2 (0.00000002), and the sell's 1000 × 0.001 = 1 unit exactly: cash 1 − 0.00001236 +
    /// 0.00000999 = 0.99999763, pnl 999 − 1236 = −237 units. At 7.5 bps: 0.9255 and 0.75 units, each charged 1.
    @Test func feesAreRoundedUpToTheUnit() throws {
        let rules = [
            Self.rule(Self.price, .crossesAbove, .value(0.000015), .buy, "1"),
            Self.rule(Self.price, .crossesBelow, .value(0.000015), .sell, "1"),
        ]
        let candles = Self.candles(
            opens: ["0.00001", "0.00001", "0.00001234", "0.00001"],
            closes: ["0.00001", "0.00002", "0.00001", "0.00001"])
        let tenBps = try Self.run(rules, candles, cash: "1", bps: 10)
        #expect(Self.texts(tenBps.fills.map(\.notional)) == ["0.00001234", "0.00001000"])
        #expect(Self.texts(tenBps.fills.map(\.fee)) == ["0.00000002", "0.00000001"])
        #expect(Self.texts(tenBps.trades.map(\.pnl)) == ["-0.00000237"])
        #expect(Self.texts(tenBps.equity) == ["1.00000000", "1.00000000", "0.99999764", "0.99999763"])
        let fractional = try Backtest(rules: rules).run(
            candles, initialCash: Self.amount("1"), fee: try BacktestFeeRate(parsing: "7.5"))
        #expect(Self.texts(fractional.fills.map(\.fee)) == ["0.00000001", "0.00000001"])
        #expect(Self.texts(fractional.trades.map(\.pnl)) == ["-0.00000236"])
    }

    /// Buy and sell 0.5 at 0.00000003: the exact notional is 1.5 units. The buy pays 2 (rounded up) plus a fee
    /// of ⌈0.002⌉ = 1; the sell receives 1 (rounded down) less ⌈0.001⌉ = 1, so 0: pnl −3 units. Held 0.5 is
    /// marked at the close 0.00000002 as 1 unit exactly.
    @Test func notionalsRoundUpWhenPaidAndDownWhenReceived() throws {
        let rules = [
            Self.rule(Self.price, .crossesAbove, .value(0.000000025), .buy, "0.5"),
            Self.rule(Self.price, .crossesBelow, .value(0.000000025), .sell, "0.5"),
        ]
        let candles = Self.candles(
            opens: Array(repeating: "0.00000003", count: 4),
            closes: ["0.00000002", "0.00000003", "0.00000002", "0.00000003"])
        let result = try Self.run(rules, candles, cash: "1", bps: 10)
        #expect(result.fills.map(\.notional.units) == [2, 1])
        #expect(result.fills.map(\.fee.units) == [1, 1])
        #expect(result.trades.map(\.pnl.units) == [-3])
        #expect(result.equity.map(\.units) == [100_000_000, 100_000_000, 99_999_998, 99_999_997])
    }

    /// A lot of 3 units bought for 0.99999999 units (rounded up to 1) is sold a unit at a time at 3: the first
    /// part's share of the cost, 1/3, is rounded up to 1 and the later parts take what is left (0), so the pnl
    /// is 2, 3, 3 — adding up exactly to proceeds 9 less cost 1. The fourth sell finds nothing held.
    @Test func sharesOfALotRoundAgainstTheTraderAndAddUp() throws {
        let rules = [
            Self.rule(Self.price, .crossesAbove, .value(0.5), .buy, "0.00000003"),
            Self.rule(Self.price, .greaterThan, .value(2), .sell, "0.00000001"),
        ]
        let candles = Self.candles(
            opens: ["0.33333333", "0.33333333", "0.33333333", "3", "3", "3", "3"],
            closes: ["0.33333333", "1", "3", "3", "3", "3", "3"])
        let result = try Self.run(rules, candles, cash: "1")
        #expect(result.fills.map(\.notional.units) == [1, 3, 3, 3])
        #expect(result.trades.map(\.pnl.units) == [2, 3, 3])
        #expect(result.skippedOrders == 1)
        #expect(result.finalEquity.units == 100_000_000 + 8)
    }

    /// Equity or cash beyond the largest amount (92233720368.54775807) is a validation error naming the candle,
    /// never a trap: holding 1000 marked at 92233720368, or selling 1000 at that open.
    @Test func amountsBeyondTheLargestAreRefusedNotTrapped() throws {
        let buy = Self.rule(Self.price, .crossesAbove, .value(1.5), .buy, "1000")
        let marked = Self.candles(opens: ["1", "1", "1"], closes: ["1", "2", "92233720368"])
        #expect(
            throws: BourseError.validation(
                "candles[2].close: the equity at this close is beyond the largest amount (92233720368.54775807)")
        ) { try Self.run([buy], marked, cash: "1000") }
        let sell = Self.rule(Self.price, .crossesBelow, .value(1.5), .sell, "1000")
        let sold = Self.candles(opens: ["1", "1", "1", "92233720368"], closes: ["1", "2", "1", "1"])
        #expect(
            throws: BourseError.validation(
                "candles[3].open: the sell of 1000.00000000 at 92233720368.00000000 takes the cash beyond the largest "
                    + "amount (92233720368.54775807)")
        ) { try Self.run([buy, sell], sold, cash: "1000") }
    }
}
