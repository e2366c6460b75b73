import TestSupport
import Testing
import Trading

/// The backtester on hand-computed series: when orders fill and at what price, fees, FIFO round trips,
/// equity and its statistics, what is skipped, and that the same input gives the same result. Money is exact
/// fixed point, so amounts are compared as their 8-decimal strings.
@Suite struct BacktestTests {
    static let price = Operand.indicator(IndicatorOperand(.price))

    static func price(_ interval: Timeframe) -> Operand { .indicator(IndicatorOperand(.price, interval: interval)) }

    static func sma(_ period: Int, _ interval: Timeframe = .m1) -> Operand {
        .indicator(IndicatorOperand(.sma(period: period), interval: interval))
    }

    static func amount(_ text: String) -> Amount { try! Amount(parsing: text) }

    static func rule(_ left: Operand, _ op: ComparisonOperator, _ right: Operand, _ side: Side, _ quantity: String)
        -> BacktestRule
    {
        BacktestRule(when: .comparison(Comparison(left, op, right)), side: side, quantity: amount(quantity))
    }

    /// Candles a minute apart from `start`, each opening at `opens[i]` and closing at `closes[i]`, between them.
    static func candles(opens: [String], closes: [String], start: Int64 = 1_704_067_200_000) -> [BacktestCandle] {
        zip(opens.map(amount), closes.map(amount)).enumerated().map { index, pair in
            BacktestCandle(
                openTime: start + Int64(index) * 60_000, open: pair.0, high: max(pair.0, pair.1),
                low: min(pair.0, pair.1), close: pair.1, volume: amount("1"))
        }
    }

    static func candles(opens: [Int64], closes: [Int64]) -> [BacktestCandle] {
        candles(opens: opens.map { String($0) }, closes: closes.map { String($0) })
    }

    static func run(
        _ rules: [BacktestRule], _ candles: [BacktestCandle], cash: String, bps: Int64 = 0, interval: Timeframe = .m1
    ) throws -> BacktestResult {
        try Backtest(rules: rules, interval: interval).run(
            candles, initialCash: amount(cash), fee: BacktestFeeRate(bps: bps))
    }

    static func texts(_ amounts: [Amount]) -> [String] { amounts.map(\.description) }

    /// Each of `texts` read as an amount and written back with 8 decimals ("97.96" → "97.96000000").
    static func eightDecimals(_ texts: [String]) -> [String] { texts.map { amount($0).description } }

    /// `part / whole × 100`, as the result computes percentages from exact amounts (units of 10⁻⁸).
    static func percent(_ part: Int64, of whole: Int64) -> Double { Double(part) / Double(whole) * 100 }

    static func expectClose(_ actual: Double?, _ expected: Double, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let actual else {
            Issue.record("nil, expected \(expected)", sourceLocation: sourceLocation)
            return
        }
        #expect(
            abs(actual - expected) <= 1e-9 * max(1, abs(expected)), "\(actual) ≠ \(expected)",
            sourceLocation: sourceLocation)
    }

    // MARK: - Price crossing its SMA(3)

    /// Closes and SMA(3): i4 9 > 8 after 7 < 8 (crosses above), i7 10 < 11 after 12 > 10.67 (below), i10 12 > 9
    /// after 7 < 8.33 (above), i12 9 < 11.33 after 13 > 10.67 (below), i14 12 > 9.67 after 8 < 10 (above, at the
    /// last close). Each candle opens at the previous close.
    static let closes: [Int64] = [10, 9, 8, 7, 9, 11, 12, 10, 8, 7, 12, 13, 9, 8, 12]
    static let opens: [Int64] = [10, 10, 9, 8, 7, 9, 11, 12, 10, 8, 7, 12, 13, 9, 8]
    static let crossing = [
        rule(price, .crossesAbove, sma(3), .buy, "1"), rule(price, .crossesBelow, sma(3), .sell, "1"),
    ]

    /// By hand, fees 10 bps: buy 1 at open 5 (9): cost 9 + 0.009 = 9.009, cash 90.991. Sell at open 8 (10):
    /// 10 − 0.010 = 9.99, cash 100.981, pnl 9.99 − 9.009 = 0.981. Buy at open 11 (12): cost 12.012, cash 88.969.
    /// Sell at open 13 (9): 8.991, cash 97.96, pnl 8.991 − 12.012 = −3.021. The cross at the last close has no
    /// next open. Every amount is a whole number of 10⁻⁸, so nothing rounds.
    @Test func aPriceCrossingItsSMAEntersAndExitsAtTheNextOpens() throws {
        let candles = Self.candles(opens: Self.opens, closes: Self.closes)
        let result = try Self.run(Self.crossing, candles, cash: "100", bps: 10)
        let time = { (index: Int) in candles[index].openTime }
        #expect(result.trades.count == 2)
        #expect(result.trades.map(\.entryTime) == [time(5), time(11)])
        #expect(result.trades.map(\.exitTime) == [time(8), time(13)])
        #expect(Self.texts(result.trades.map(\.entryPrice)) == ["9.00000000", "12.00000000"])
        #expect(Self.texts(result.trades.map(\.exitPrice)) == ["10.00000000", "9.00000000"])
        #expect(result.trades.map(\.quantity) == [Amount(units: 100_000_000), Amount(units: 100_000_000)])
        #expect(Self.texts(result.trades.map(\.pnl)) == ["0.98100000", "-3.02100000"])
        #expect(result.fills.map(\.rule) == [0, 1, 0, 1])
        #expect(Self.texts(result.fills.map(\.fee)) == ["0.00900000", "0.01000000", "0.01200000", "0.00900000"])
        #expect(result.skippedOrders == 0)
        #expect(result.finalEquity.description == "97.96000000")
        #expect(result.returnPercent == Self.percent(-204_000_000, of: 10_000_000_000))
        #expect(result.tradeCount == 2)
        #expect(result.winRate == 0.5)
        // Equity at each close: flat until the buy; cash plus the unit held, marked at the close.
        #expect(
            Self.texts(result.equity)
                == Self.eightDecimals([
                    "100", "100", "100", "100", "100", "101.991", "102.991", "100.991", "100.981", "100.981", "100.981",
                    "101.969", "97.969", "97.96", "97.96",
                ]))
        // From the peak 102.991 (close 6) down to 97.96, computed from the exact amounts.
        #expect(result.maxDrawdownPercent == Self.percent(10_299_100_000 - 9_796_000_000, of: 10_299_100_000))
        // pnl of the round trips is the whole change of equity once nothing is held, exactly.
        #expect(result.trades.map(\.pnl.units).reduce(0, +) == result.finalEquity.units - 10_000_000_000)
    }

    @Test func anOrderFiredAtTheLastCloseNeverFills() throws {
        // Only the last close is above 10: no fill, no skip, no trade.
        let lastOnly = try Self.run(
            [Self.rule(Self.price, .greaterThan, .value(10), .buy, "1")],
            Self.candles(opens: [9, 9, 9], closes: [9, 9, 11]), cash: "100")
        #expect(lastOnly.fills.isEmpty)
        #expect(lastOnly.skippedOrders == 0)
        #expect(lastOnly.finalEquity == Self.amount("100"))
        #expect(lastOnly.trades.isEmpty)
        #expect(lastOnly.winRate == nil)
        #expect(lastOnly.sharpe == nil)
    }

    @Test func anOpenPositionCountsInFinalEquityButIsNoTrade() throws {
        // Buy 2 at open 1 (10) when the price first exceeds 9, hold: equity marks 2 units at each close.
        let result = try Self.run(
            [Self.rule(Self.price, .crossesAbove, .value(9), .buy, "2")],
            Self.candles(opens: ["8", "8", "10", "12"], closes: ["8", "9.5", "11", "13"]), cash: "50")
        #expect(result.trades.isEmpty)
        #expect(Self.texts(result.fills.map(\.price)) == ["10.00000000"])
        #expect(Self.texts(result.equity) == ["50.00000000", "50.00000000", "52.00000000", "56.00000000"])
        #expect(result.finalEquity.description == "56.00000000")
        #expect(result.returnPercent == 12)
        #expect(result.maxDrawdownPercent == 0)
        #expect(result.winRate == nil)
    }

    // MARK: - Cash and holdings

    @Test func aSellWithNothingHeldIsSkipped() throws {
        let result = try Self.run(
            [Self.rule(Self.price, .crossesAbove, .value(5), .sell, "1")],
            Self.candles(opens: [4, 4, 6], closes: [4, 6, 7]), cash: "100", bps: 10)
        #expect(result.fills.isEmpty)
        #expect(result.skippedOrders == 1)
        #expect(result.trades.isEmpty)
        #expect(Self.texts(result.equity) == ["100.00000000", "100.00000000", "100.00000000"])
    }

    @Test func aBuyShortOfCashForNotionalPlusFeeIsSkipped() throws {
        let rules = [Self.rule(Self.price, .crossesAbove, .value(5), .buy, "10")]
        let candles = Self.candles(opens: [4, 4, 10, 11], closes: [4, 6, 10, 11])
        // 10 × 10 = 100 fits 100 without a fee, not with 10 bps (100.1).
        let free = try Self.run(rules, candles, cash: "100")
        #expect(free.fills.map(\.quantity) == [Self.amount("10")])
        #expect(free.equity.last?.description == "110.00000000")
        let charged = try Self.run(rules, candles, cash: "100", bps: 10)
        #expect(charged.fills.isEmpty)
        #expect(charged.skippedOrders == 1)
        #expect(charged.finalEquity == Self.amount("100"))
        #expect(charged.returnPercent == 0)
        // A notional beyond the largest amount is no overflow: the cash never covers it.
        let huge = try Self.run(
            [Self.rule(Self.price, .crossesAbove, .value(5), .buy, "92233720368")],
            Self.candles(opens: ["4", "4", "92233720368.54775807"], closes: ["4", "6", "92233720368.54775807"]),
            cash: "92233720368.54775807")
        #expect(huge.fills.isEmpty)
        #expect(huge.skippedOrders == 1)
    }

    @Test func aSellLargerThanTheHoldingsSellsWhatIsHeld() throws {
        let rules = [
            Self.rule(Self.price, .crossesAbove, .value(5), .buy, "1"),
            Self.rule(Self.price, .crossesAbove, .value(20), .sell, "5"),
        ]
        let result = try Self.run(
            rules, Self.candles(opens: [4, 4, 10, 15, 25], closes: [4, 6, 15, 21, 25]), cash: "100")
        #expect(result.fills.map(\.side) == [.buy, .sell])
        #expect(result.fills.map(\.quantity) == [Amount(units: 100_000_000), Amount(units: 100_000_000)])
        #expect(Self.texts(result.trades.map(\.pnl)) == ["15.00000000"])
        #expect(result.skippedOrders == 0)
    }

    /// Two buys of 1 (at 100 and 110), a sell of 1.5 at 120 closing the first lot and half the second, then a
    /// sell of 1.5 at 130 finding 0.5 held. Fees 1%: costs 101 and 111.1; proceeds 180 − 1.8 = 178.2, then
    /// 65 − 0.65 = 64.35. The first lot takes 1/1.5 of 178.2 = 118.8 (pnl 17.8); half the second lot costs
    /// 55.55 and takes the rest, 59.4 (pnl 3.85); its other half 64.35 − 55.55 = 8.8.
    @Test func sellsAreMatchedFirstInFirstOutWithFeesProRata() throws {
        let rules = [
            Self.rule(Self.price, .greaterThan, .value(100), .buy, "1"),
            Self.rule(Self.price, .lessThan, .value(50), .sell, "1.5"),
        ]
        let opens: [Int64] = [100, 100, 60, 110, 60, 120, 60, 130]
        let closes: [Int64] = [101, 60, 101, 60, 40, 60, 40, 60]
        let candles = zip(opens, closes).enumerated().map { index, pair in
            BacktestCandle(
                openTime: Int64(index) * 60_000, open: Self.amount("\(pair.0)"), high: Self.amount("200"),
                low: Self.amount("1"), close: Self.amount("\(pair.1)"), volume: .zero)
        }
        let result = try Self.run(rules, candles, cash: "1000", bps: 100)
        #expect(
            Self.texts(result.fills.map(\.price)) == Self.eightDecimals(["100", "110", "120", "130"]))
        #expect(Self.texts(result.fills.map(\.fee)) == ["1.00000000", "1.10000000", "1.80000000", "0.65000000"])
        #expect(Self.texts(result.trades.map(\.entryPrice)) == ["100.00000000", "110.00000000", "110.00000000"])
        #expect(Self.texts(result.trades.map(\.exitPrice)) == ["120.00000000", "120.00000000", "130.00000000"])
        #expect(result.trades.map(\.entryTime) == [60_000, 180_000, 180_000])
        #expect(result.trades.map(\.exitTime) == [300_000, 300_000, 420_000])
        #expect(Self.texts(result.trades.map(\.quantity)) == ["1.00000000", "0.50000000", "0.50000000"])
        #expect(Self.texts(result.trades.map(\.pnl)) == ["17.80000000", "3.85000000", "8.80000000"])
        #expect(result.finalEquity.description == "1030.45000000")
        #expect(result.winRate == 1)
        #expect(result.skippedOrders == 0)
    }

    /// As a live strategy, a backtest fires the first rule that holds at a close, and only that one.
    @Test func onlyTheFirstRuleThatHoldsFiresAtAClose() throws {
        let rules = [
            Self.rule(Self.price, .lessThan, .value(5), .sell, "1"),
            Self.rule(Self.price, .greaterThan, .value(5), .buy, "1"),
            Self.rule(Self.price, .greaterThan, .value(6), .buy, "2"),
        ]
        let result = try Self.run(rules, Self.candles(opens: [7, 7, 7, 4, 4], closes: [7, 7, 4, 4, 4]), cash: "100")
        // Closes 0 and 1 fire rule 1 (not rule 2): buys of 1 at opens 1 and 2; closes 2 and 3 fire rule 0.
        #expect(result.fills.map(\.rule) == [1, 1, 0, 0])
        #expect(result.fills.map(\.quantity.units) == [100_000_000, 100_000_000, 100_000_000, 100_000_000])
        #expect(Self.texts(result.trades.map(\.pnl)) == ["-3.00000000", "-3.00000000"])
        let equity: [Int64] = [100, 100, 94, 94, 94]
        #expect(result.equity == equity.map { Amount(units: $0 * 100_000_000) })
    }

    // MARK: - Statistics

    /// Buy 10 at 10 with all the cash, then equity 100, 100, 100, 110, 99, 108.9: returns 0, 0, 0.1, −0.1, 0.1;
    /// mean 0.02, sample variance 0.028 / 4 = 0.007; on daily candles × √365.
    @Test func sharpeOfAHandComputedEquityCurve() throws {
        let rules = { (interval: Timeframe) in [Self.rule(Self.price(interval), .crossesAbove, .value(5), .buy, "10")] }
        let values = [("4", "4"), ("4", "6"), ("10", "10"), ("10", "11"), ("11", "9.9"), ("9.9", "10.89")]
        let candles = values.enumerated().map { index, pair in
            let (open, close) = (Self.amount(pair.0), Self.amount(pair.1))
            return BacktestCandle(
                openTime: Int64(index) * 86_400_000, open: open, high: max(open, close), low: min(open, close),
                close: close, volume: Self.amount("1"))
        }
        let result = try Self.run(rules(.d1), candles, cash: "100", interval: .d1)
        #expect(
            Self.texts(result.equity)
                == Self.eightDecimals(["100", "100", "100", "110", "99", "108.9"]))
        Self.expectClose(result.sharpe, 0.02 / 0.007.squareRoot() * 365.0.squareRoot())
        Self.expectClose(result.maxDrawdownPercent, 10)
        // The same curve on hourly candles: √8760 instead of √365.
        let hourly = try Self.run(rules(.h1), candles, cash: "100", interval: .h1)
        Self.expectClose(hourly.sharpe, 0.02 / 0.007.squareRoot() * 8760.0.squareRoot())
        #expect(Backtest.periodsPerYear(of: .m1) == 525_600)
        #expect(Backtest.periodsPerYear(of: .d1) == 365)
    }

    @Test func flatEquityHasNoSharpe() throws {
        let result = try Self.run(Self.crossing, Self.candles(opens: [5, 5, 5], closes: [5, 5, 5]), cash: "10")
        #expect(result.sharpe == nil)
        #expect(result.maxDrawdownPercent == 0)
        #expect(result.returnPercent == 0)
        #expect(BacktestResult.sharpe([0.1], periodsPerYear: 365) == nil)
    }

    // MARK: - Validation and determinism

    @Test func operandsOnAnotherIntervalThanTheCandlesAreRefusedAtTheirPath() {
        let rules = [
            BacktestRule(
                when: .all([
                    .comparison(Comparison(Self.price, .greaterThan, Self.sma(5, .h1))),
                    .not(.comparison(Comparison(Self.sma(3), .lessThan, .value(1)))),
                ]), side: .buy, quantity: Amount(units: 1))
        ]
        #expect(
            Backtest.problems(of: rules, interval: .h1).map(\.description) == [
                "rules[0].when.all[0].left.interval: the backtest's candles are 1h, the only interval its indicators "
                    + "can read, not 1m",
                "rules[0].when.all[1].not.left.interval: the backtest's candles are 1h, the only interval its "
                    + "indicators can read, not 1m",
            ])
        #expect(throws: BourseError.self) { try Backtest(rules: rules, interval: .m1) }
        do {
            _ = try Backtest(rules: rules, interval: .m1)
        } catch {
            #expect(error.code == .invalidStrategy)
            #expect(error.message.hasPrefix("rules[0].when.all[0].right.interval"))
        }
        #expect(Backtest.problems(of: [], interval: .m1).map(\.path.description) == ["rules"])
    }

    @Test func badInputIsRefusedWithThePathOfTheFirstProblem() throws {
        let backtest = try Backtest(rules: Self.crossing)
        let good = Self.candles(opens: [10, 10], closes: [10, 11])
        let (hundred, noFee) = (Self.amount("100"), BacktestFeeRate(bps: 0))
        var cases: [([BacktestCandle], Amount, BacktestFeeRate, String)] = [
            ([], hundred, noFee, "candles: candles must hold at least one candle"),
            (good, .zero, noFee, "initial_cash: initial_cash must be positive"),
            (good, hundred, BacktestFeeRate(units: 10_000_001), "fee_bps: fee_bps must be from 0 to 1000"),
            (good, hundred, BacktestFeeRate(bps: -1), "fee_bps: fee_bps must be from 0 to 1000"),
        ]
        var late = good
        late[1].openTime = late[0].openTime
        cases.append(
            (late, hundred, noFee, "candles[1].open_time: open_time must be after the previous candle's (candles[0])"))
        var inverted = good
        (inverted[1].high, inverted[1].low) = (inverted[1].low, inverted[1].high)
        cases.append((inverted, hundred, noFee, "candles[1].high: high must not be below low"))
        var outside = good
        outside[0].close = try outside[0].high.adding(Self.amount("1"))
        cases.append((outside, hundred, noFee, "candles[0].close: close must lie between low and high"))
        var negative = good
        negative[1].volume = Amount(units: -1)
        cases.append((negative, hundred, noFee, "candles[1].volume: volume must not be negative"))
        var zero = good
        zero[0].low = .zero
        cases.append((zero, hundred, noFee, "candles[0].low: low must be positive"))
        for (candles, cash, fee, message) in cases {
            #expect(throws: BourseError.validation(message)) {
                try backtest.run(candles, initialCash: cash, fee: fee)
            }
        }
    }

    /// A random walk with prices of any 8 decimals, quantities that make every notional round and a fee of
    /// 7.5 bps: the same result twice, and the fills account for the cash to the unit.
    @Test func theSameInputGivesTheSameResult() throws {
        var random = SeededRandom(seed: 7)
        var close: Int64 = 10_000_000_000
        var candles: [BacktestCandle] = []
        for index in 0..<2_000 {
            let open = close
            close = max(100_000_000, open * (10_000 + random.int(in: -200...200)) / 10_000)
            let high = max(open, close) * (10_000 + random.int(in: 0...50)) / 10_000
            let low = min(open, close) * (10_000 - random.int(in: 0...50)) / 10_000
            candles.append(
                BacktestCandle(
                    openTime: Int64(index) * 300_000, open: Amount(units: open), high: Amount(units: high),
                    low: Amount(units: low), close: Amount(units: close),
                    volume: Amount(units: random.int(in: 0...1_000) * 100_000_000)))
        }
        let rsi = Operand.indicator(IndicatorOperand(.rsi(period: 14), interval: .m5))
        let rules = [
            BacktestRule(
                when: .comparison(Comparison(rsi, .crossesAbove, .value(30))), side: .buy,
                quantity: Self.amount("0.12345679")),
            BacktestRule(
                when: .any([
                    .comparison(Comparison(rsi, .crossesBelow, .value(70))),
                    .comparison(Comparison(Self.price(.m5), .lessThan, Self.sma(50, .m5))),
                ]), side: .sell, quantity: Self.amount("0.2")),
        ]
        let fee = BacktestFeeRate(units: 75_000)
        let first = try Backtest(rules: rules, interval: .m5).run(candles, initialCash: Self.amount("10000"), fee: fee)
        let second = try Backtest(rules: rules, interval: .m5).run(candles, initialCash: Self.amount("10000"), fee: fee)
        #expect(first == second)
        #expect(first.tradeCount > 10)
        // Nothing is created or lost: each fill's notional and fee are the documented roundings, the fills
        // account for the cash, and the final equity is that cash plus what is held marked at the last close.
        var cash: Int64 = 1_000_000_000_000
        var held: Int64 = 0
        for fill in first.fills {
            let product = Int128(fill.price.units) * Int128(fill.quantity.units)
            let (whole, part) = product.quotientAndRemainder(dividingBy: 100_000_000)
            let notional = Int64(fill.side == .buy && part > 0 ? whole + 1 : whole)
            #expect(fill.notional.units == notional)
            #expect(fill.fee.units == (notional * 75_000 + 99_999_999) / 100_000_000)
            cash += fill.side == .buy ? -(notional + fill.fee.units) : notional - fill.fee.units
            held += fill.side == .buy ? fill.quantity.units : -fill.quantity.units
            #expect(cash >= 0 && held >= 0)
        }
        let marked = Int128(held) * Int128(candles[candles.count - 1].close.units) / 100_000_000
        #expect(first.finalEquity.units == cash + Int64(marked))
    }
}
