import TestSupport
import Testing
import Trading

/// The backtester on hand-computed series: when orders fill and at what price, fees, FIFO round trips,
/// equity and its statistics, what is skipped, and that the same input gives the same result.
@Suite struct BacktestTests {
    static let price = Operand.indicator(IndicatorOperand(.price))

    static func price(_ interval: Timeframe) -> Operand { .indicator(IndicatorOperand(.price, interval: interval)) }

    static func sma(_ period: Int, _ interval: Timeframe = .m1) -> Operand {
        .indicator(IndicatorOperand(.sma(period: period), interval: interval))
    }

    static func rule(_ left: Operand, _ op: ComparisonOperator, _ right: Operand, _ side: Side, _ quantity: String)
        -> BacktestRule
    {
        BacktestRule(
            when: .comparison(Comparison(left, op, right)), side: side, quantity: try! Amount(parsing: quantity))
    }

    /// Candles a minute apart from `start`, each opening at `opens[i]`, closing at `closes[i]`, one unit around.
    static func candles(opens: [Double], closes: [Double], start: Int64 = 1_704_067_200_000) -> [BacktestCandle] {
        zip(opens, closes).enumerated().map { index, pair in
            BacktestCandle(
                openTime: start + Int64(index) * 60_000, open: pair.0, high: max(pair.0, pair.1) + 1,
                low: min(pair.0, pair.1) - 1, close: pair.1, volume: 1)
        }
    }

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
    static let closes: [Double] = [10, 9, 8, 7, 9, 11, 12, 10, 8, 7, 12, 13, 9, 8, 12]
    static let opens: [Double] = [10, 10, 9, 8, 7, 9, 11, 12, 10, 8, 7, 12, 13, 9, 8]
    static let crossing = [
        rule(price, .crossesAbove, sma(3), .buy, "1"), rule(price, .crossesBelow, sma(3), .sell, "1"),
    ]

    @Test func aPriceCrossingItsSMAEntersAndExitsAtTheNextOpens() throws {
        let candles = Self.candles(opens: Self.opens, closes: Self.closes)
        let result = try Backtest(rules: Self.crossing).run(candles, initialCash: 100, feeBps: 10)
        let time = { (index: Int) in candles[index].openTime }
        // Buy at open 5 (9), sell at open 8 (10): 1 − 0.009 − 0.010. Buy at open 11 (12), sell at open 13 (9):
        // −3 − 0.012 − 0.009. The cross at the last close has no next open.
        #expect(result.trades.count == 2)
        #expect(result.trades.map(\.entryTime) == [time(5), time(11)])
        #expect(result.trades.map(\.exitTime) == [time(8), time(13)])
        #expect(result.trades.map(\.entryPrice) == [9, 12])
        #expect(result.trades.map(\.exitPrice) == [10, 9])
        #expect(result.trades.map(\.quantity) == [Amount(units: 100_000_000), Amount(units: 100_000_000)])
        Self.expectClose(result.trades[0].pnl, 0.981)
        Self.expectClose(result.trades[1].pnl, -3.021)
        #expect(result.fills.map(\.rule) == [0, 1, 0, 1])
        #expect(result.skippedOrders == 0)
        // 100 − 9.009 + 9.99 − 12.012 + 8.991.
        Self.expectClose(result.finalEquity, 97.96)
        Self.expectClose(result.returnPercent, -2.04)
        #expect(result.tradeCount == 2)
        #expect(result.winRate == 0.5)
        // Equity at each close: flat until the buy; marked at the close while held.
        let expected: [Double] = [
            100, 100, 100, 100, 100, 101.991, 102.991, 100.991, 100.981, 100.981, 100.981, 101.969, 97.969, 97.96,
            97.96,
        ]
        #expect(result.equity.count == expected.count)
        for (actual, value) in zip(result.equity, expected) { Self.expectClose(actual, value) }
        // From the peak 102.991 (close 6) down to 97.96.
        Self.expectClose(result.maxDrawdownPercent, (102.991 - 97.96) / 102.991 * 100)
        // pnl of the round trips is the whole change of equity once nothing is held.
        Self.expectClose(result.trades.map(\.pnl).reduce(0, +), result.finalEquity - 100)
    }

    @Test func anOrderFiredAtTheLastCloseNeverFills() throws {
        // Only the last close is above 10: no fill, no skip, no trade.
        let lastOnly = try Backtest(rules: [Self.rule(Self.price, .greaterThan, .value(10), .buy, "1")])
            .run(Self.candles(opens: [9, 9, 9], closes: [9, 9, 11]), initialCash: 100, feeBps: 0)
        #expect(lastOnly.fills.isEmpty)
        #expect(lastOnly.skippedOrders == 0)
        #expect(lastOnly.finalEquity == 100)
        #expect(lastOnly.trades.isEmpty)
        #expect(lastOnly.winRate == nil)
        #expect(lastOnly.sharpe == nil)
    }

    @Test func anOpenPositionCountsInFinalEquityButIsNoTrade() throws {
        // Buy 2 at open 1 (10) when the price first exceeds 9, hold: equity marks 2 units at each close.
        let rules = [Self.rule(Self.price, .crossesAbove, .value(9), .buy, "2")]
        let result = try Backtest(rules: rules).run(
            Self.candles(opens: [8, 8, 10, 12], closes: [8, 9.5, 11, 13]), initialCash: 50, feeBps: 0)
        #expect(result.trades.isEmpty)
        #expect(result.fills.map(\.price) == [10])
        #expect(result.equity == [50, 50, 52, 56])
        #expect(result.finalEquity == 56)
        #expect(result.returnPercent == 12)
        #expect(result.maxDrawdownPercent == 0)
        #expect(result.winRate == nil)
    }

    // MARK: - Cash and holdings

    @Test func aSellWithNothingHeldIsSkipped() throws {
        let rules = [Self.rule(Self.price, .crossesAbove, .value(5), .sell, "1")]
        let result = try Backtest(rules: rules).run(
            Self.candles(opens: [4, 4, 6], closes: [4, 6, 7]), initialCash: 100, feeBps: 10)
        #expect(result.fills.isEmpty)
        #expect(result.skippedOrders == 1)
        #expect(result.trades.isEmpty)
        #expect(result.equity == [100, 100, 100])
    }

    @Test func aBuyShortOfCashForNotionalPlusFeeIsSkipped() throws {
        let rules = [Self.rule(Self.price, .crossesAbove, .value(5), .buy, "10")]
        let candles = Self.candles(opens: [4, 4, 10, 11], closes: [4, 6, 10, 11])
        // 10 × 10 = 100 fits 100 without a fee, not with 10 bps (100.1).
        let free = try Backtest(rules: rules).run(candles, initialCash: 100, feeBps: 0)
        #expect(free.fills.map(\.quantity) == [try Amount(parsing: "10")])
        #expect(free.equity.last == 110)
        let charged = try Backtest(rules: rules).run(candles, initialCash: 100, feeBps: 10)
        #expect(charged.fills.isEmpty)
        #expect(charged.skippedOrders == 1)
        #expect(charged.finalEquity == 100)
        #expect(charged.returnPercent == 0)
    }

    @Test func aSellLargerThanTheHoldingsSellsWhatIsHeld() throws {
        let rules = [
            Self.rule(Self.price, .crossesAbove, .value(5), .buy, "1"),
            Self.rule(Self.price, .crossesAbove, .value(20), .sell, "5"),
        ]
        let result = try Backtest(rules: rules).run(
            Self.candles(opens: [4, 4, 10, 15, 25], closes: [4, 6, 15, 21, 25]), initialCash: 100, feeBps: 0)
        #expect(result.fills.map(\.side) == [.buy, .sell])
        #expect(result.fills.map(\.quantity) == [Amount(units: 100_000_000), Amount(units: 100_000_000)])
        #expect(result.trades.count == 1)
        #expect(result.trades.first?.pnl == 15)
        #expect(result.skippedOrders == 0)
    }

    /// Two buys of 1 (at 100 and 110), a sell of 1.5 at 120 closing the first lot and half the second, then a
    /// sell of 1.5 at 130 finding 0.5 held. Fees (1%) fall on each part pro rata.
    @Test func sellsAreMatchedFirstInFirstOutWithFeesProRata() throws {
        let rules = [
            Self.rule(Self.price, .greaterThan, .value(100), .buy, "1"),
            Self.rule(Self.price, .lessThan, .value(50), .sell, "1.5"),
        ]
        let opens: [Double] = [100, 100, 60, 110, 60, 120, 60, 130]
        let closes: [Double] = [101, 60, 101, 60, 40, 60, 40, 60]
        let candles = zip(opens, closes).enumerated().map { index, pair in
            BacktestCandle(openTime: Int64(index) * 60_000, open: pair.0, high: 200, low: 1, close: pair.1, volume: 0)
        }
        let result = try Backtest(rules: rules).run(candles, initialCash: 1000, feeBps: 100)
        #expect(result.fills.map(\.price) == [100, 110, 120, 130])
        #expect(result.fills.map(\.fee) == [1, 1.1, 1.8, 0.65])
        #expect(result.trades.map(\.entryPrice) == [100, 110, 110])
        #expect(result.trades.map(\.exitPrice) == [120, 120, 130])
        #expect(result.trades.map(\.entryTime) == [60_000, 180_000, 180_000])
        #expect(result.trades.map(\.exitTime) == [300_000, 300_000, 420_000])
        #expect(result.trades.map(\.quantity.description) == ["1.00000000", "0.50000000", "0.50000000"])
        // 20 − 1 − 1.2; 5 − 0.55 − 0.6; 10 − 0.55 − 0.65.
        for (trade, pnl) in zip(result.trades, [17.8, 3.85, 8.8]) { Self.expectClose(trade.pnl, pnl) }
        Self.expectClose(result.finalEquity, 1030.45)
        Self.expectClose(result.trades.map(\.pnl).reduce(0, +), 30.45)
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
        let result = try Backtest(rules: rules).run(
            Self.candles(opens: [7, 7, 7, 4, 4], closes: [7, 7, 4, 4, 4]), initialCash: 100, feeBps: 0)
        // Closes 0 and 1 fire rule 1 (not rule 2): buys of 1 at opens 1 and 2; closes 2 and 3 fire rule 0.
        #expect(result.fills.map(\.rule) == [1, 1, 0, 0])
        #expect(result.fills.map(\.quantity.units) == [100_000_000, 100_000_000, 100_000_000, 100_000_000])
        #expect(result.trades.map(\.pnl) == [-3, -3])
        #expect(result.equity == [100, 100, 94, 94, 94])
    }

    // MARK: - Statistics

    /// Buy 10 at 10 with all the cash, then equity 100, 100, 100, 110, 99, 108.9: returns 0, 0, 0.1, −0.1, 0.1;
    /// mean 0.02, sample variance 0.028 / 4 = 0.007; on daily candles × √365.
    @Test func sharpeOfAHandComputedEquityCurve() throws {
        let rules = { (interval: Timeframe) in [Self.rule(Self.price(interval), .crossesAbove, .value(5), .buy, "10")] }
        let candles = [
            BacktestCandle(openTime: 0, open: 4, high: 4, low: 4, close: 4, volume: 1),
            BacktestCandle(openTime: 86_400_000, open: 4, high: 6, low: 4, close: 6, volume: 1),
            BacktestCandle(openTime: 172_800_000, open: 10, high: 10, low: 10, close: 10, volume: 1),
            BacktestCandle(openTime: 259_200_000, open: 10, high: 11, low: 10, close: 11, volume: 1),
            BacktestCandle(openTime: 345_600_000, open: 11, high: 11, low: 9.9, close: 9.9, volume: 1),
            BacktestCandle(openTime: 432_000_000, open: 9.9, high: 10.89, low: 9.9, close: 10.89, volume: 1),
        ]
        let result = try Backtest(rules: rules(.d1), interval: .d1).run(candles, initialCash: 100, feeBps: 0)
        #expect(result.equity.count == 6)
        for (actual, value) in zip(result.equity, [100, 100, 100, 110, 99, 108.9]) { Self.expectClose(actual, value) }
        Self.expectClose(result.sharpe, 0.02 / 0.007.squareRoot() * 365.0.squareRoot())
        Self.expectClose(result.maxDrawdownPercent, 10)
        // The same curve on hourly candles: √8760 instead of √365.
        let hourly = try Backtest(rules: rules(.h1), interval: .h1).run(candles, initialCash: 100, feeBps: 0)
        Self.expectClose(hourly.sharpe, 0.02 / 0.007.squareRoot() * 8760.0.squareRoot())
        #expect(Backtest.periodsPerYear(of: .m1) == 525_600)
        #expect(Backtest.periodsPerYear(of: .d1) == 365)
    }

    @Test func flatEquityHasNoSharpe() throws {
        let result = try Backtest(rules: Self.crossing).run(
            Self.candles(opens: [5, 5, 5], closes: [5, 5, 5]), initialCash: 10, feeBps: 0)
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
        var cases: [([BacktestCandle], Double, Double, String)] = [
            ([], 100, 0, "candles: candles must hold at least one candle"),
            (good, 0, 0, "initial_cash: initial_cash must be positive"),
            (good, 100, 1000.5, "fee_bps: fee_bps must be from 0 to 1000"),
            (good, 100, -1, "fee_bps: fee_bps must be from 0 to 1000"),
        ]
        var late = good
        late[1].openTime = late[0].openTime
        cases.append((late, 100, 0, "candles[1].open_time: open_time must be after the previous candle's (candles[0])"))
        var inverted = good
        (inverted[1].high, inverted[1].low) = (inverted[1].low, inverted[1].high)
        cases.append((inverted, 100, 0, "candles[1].high: high must not be below low"))
        var outside = good
        outside[0].close = outside[0].high + 1
        cases.append((outside, 100, 0, "candles[0].close: close must lie between low and high"))
        var negative = good
        negative[1].volume = -1
        cases.append((negative, 100, 0, "candles[1].volume: volume must be a finite number, not negative"))
        var zero = good
        zero[0].low = 0
        cases.append((zero, 100, 0, "candles[0].low: low must be a positive finite number"))
        for (candles, cash, fee, message) in cases {
            #expect(throws: BourseError.validation(message)) {
                try backtest.run(candles, initialCash: cash, feeBps: fee)
            }
        }
    }

    @Test func theSameInputGivesTheSameResult() throws {
        var random = SeededRandom(seed: 7)
        var close = 100.0
        var candles: [BacktestCandle] = []
        for index in 0..<2_000 {
            let open = close
            close = max(1, open * (1 + Double(random.int(in: -200...200)) / 10_000))
            let high = max(open, close) * (1 + Double(random.int(in: 0...50)) / 10_000)
            let low = min(open, close) * (1 - Double(random.int(in: 0...50)) / 10_000)
            candles.append(
                BacktestCandle(
                    openTime: Int64(index) * 300_000, open: open, high: high, low: low, close: close,
                    volume: Double(random.int(in: 0...1_000))))
        }
        let rsi = Operand.indicator(IndicatorOperand(.rsi(period: 14), interval: .m5))
        let rules = [
            BacktestRule(
                when: .comparison(Comparison(rsi, .crossesAbove, .value(30))), side: .buy, quantity: Amount(units: 1)),
            BacktestRule(
                when: .any([
                    .comparison(Comparison(rsi, .crossesBelow, .value(70))),
                    .comparison(Comparison(Self.price(.m5), .lessThan, Self.sma(50, .m5))),
                ]), side: .sell, quantity: Amount(units: 2)),
        ]
        let first = try Backtest(rules: rules, interval: .m5).run(candles, initialCash: 10_000, feeBps: 7.5)
        let second = try Backtest(rules: rules, interval: .m5).run(candles, initialCash: 10_000, feeBps: 7.5)
        #expect(first == second)
        #expect(first.tradeCount > 10)
        #expect(first.equity.map(\.bitPattern) == second.equity.map(\.bitPattern))
        // Nothing is created or lost: the fills account for the cash, and the final equity is that cash plus
        // what is held at the last close.
        var cash = 10_000.0
        var held: Int64 = 0
        for fill in first.fills {
            let notional = Double(fill.quantity.units) / 100_000_000 * fill.price
            cash += fill.side == .buy ? -(notional + fill.fee) : notional - fill.fee
            held += fill.side == .buy ? fill.quantity.units : -fill.quantity.units
            #expect(cash >= 0 && held >= 0)
        }
        Self.expectClose(first.finalEquity, cash + Double(held) / 100_000_000 * candles[candles.count - 1].close)
    }
}
