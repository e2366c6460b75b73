import Testing

@testable import Trading

/// The daily series an account keeps, and the equity curve valued from it.
@Suite struct DailySeriesTests {
    typealias F = LedgerFixtures
    static let day: Int64 = DailyBalances.millisPerDay

    static func units(_ text: String) -> Amount { F.amount(text) }

    @Test func daysAreUTCDaysRoundedDown() {
        #expect(DailyBalances.day(ofMillis: 0) == 0)
        #expect(DailyBalances.day(ofMillis: Self.day - 1) == 0)
        #expect(DailyBalances.day(ofMillis: Self.day) == 1)
        #expect(DailyBalances.day(ofMillis: -1) == -1)
        #expect(DailyBalances.day(ofMillis: -Self.day) == -1)
        #expect(DailyBalances.day(ofMillis: 1_714_564_800_000) == 19_844)  // 2024-05-01T12:00Z
    }

    /// Deposit, buy and sell on three days: each day holds the ledger at its end, its flows and sells.
    @Test func recordsTheEndOfEachDay() throws {
        var ledger = AccountLedger(userID: 1)
        var series = DailySeries()
        try ledger.deposit(currency: "USD", amount: Self.units("10000"), reference: "a")
        series.record(ledger, rows: ledger.drainEntries(), atMillis: 10)
        try ledger.withdraw(currency: "USD", amount: Self.units("1000"), reference: "b")
        series.record(ledger, rows: ledger.drainEntries(), atMillis: 20)
        // A reservation only locks: no change of totals, nothing recorded.
        try ledger.reserve(order: F.buy(1, "5000", "1"), spec: F.btcUSD)
        series.record(ledger, rows: ledger.drainEntries(), atMillis: Self.day + 1)
        #expect(series.days.map(\.day) == [0])
        let day0 = series.days[0]
        #expect(day0.cash == ["USD": Self.units("9000")] && day0.holdings.isEmpty)
        #expect(day0.netDeposits == ["USD": Self.units("9000")])

        // Day 1: bought 1 BTC at 5000 as maker (fee 5).
        try ledger.settle(fill: F.fill(1, order: 1, .buy, "5000", "1", .maker))
        series.record(ledger, rows: ledger.drainEntries(), atMillis: Self.day + 2)
        // Day 3: sold half at 6000 as taker (fee 6): realized 2994 − 2502.50.
        try ledger.reserve(order: F.sell(2, "6000", "0.5"), spec: F.btcUSD)
        let sale = try ledger.settle(fill: F.fill(2, order: 2, .sell, "6000", "0.5", .taker))
        #expect(sale.realizedPnL == Self.units("491.5"))
        series.record(ledger, rows: ledger.drainEntries(), sellRealized: sale.realizedPnL, atMillis: 3 * Self.day)
        #expect(series.days.map(\.day) == [0, 1, 3])
        #expect(series.days[1].cash == ["USD": Self.units("3995"), "BTC": Self.units("1")])
        #expect(
            series.days[1].holdings == ["BTC-USD": Holding(quantity: Self.units("1"), costBasis: Self.units("5005"))])
        #expect(series.days[1].netDeposits.isEmpty && series.days[1].sells == 0)
        #expect(series.days[2].cash == ["USD": Self.units("6989"), "BTC": Self.units("0.5")])
        #expect(series.days[2].holdings["BTC-USD"]?.costBasis == Self.units("2502.5"))
        #expect(series.days[2].sells == 1 && series.days[2].winningSells == 1)
        #expect(series.sellCounts == (1, 1))
    }

    @Test func aClockSteppingBackFoldsIntoTheNewestDay() throws {
        var ledger = AccountLedger(userID: 1)
        var series = DailySeries()
        try ledger.deposit(currency: "USD", amount: Self.units("100"), reference: "a")
        series.record(ledger, rows: ledger.drainEntries(), atMillis: 5 * Self.day)
        try ledger.deposit(currency: "USD", amount: Self.units("50"), reference: "b")
        series.record(ledger, rows: ledger.drainEntries(), atMillis: 4 * Self.day)
        #expect(series.days.map(\.day) == [5])
        #expect(
            series.days[0].cash["USD"] == Self.units("150") && series.days[0].netDeposits["USD"] == Self.units("150"))
    }

    @Test func keepsTheNewestCapacityDays() throws {
        var ledger = AccountLedger(userID: 1)
        var series = DailySeries()
        for day in 0...Int64(DailySeries.capacity) {
            try ledger.deposit(currency: "USD", amount: Self.units("1"), reference: "d")
            series.record(ledger, rows: ledger.drainEntries(), atMillis: day * Self.day)
        }
        #expect(series.days.count == DailySeries.capacity)
        #expect(series.days.first?.day == 1 && series.days.last?.day == Int64(DailySeries.capacity))
    }

    @Test func snapshotRoundTrip() throws {
        var series = DailySeries()
        var entry = DailyBalances(day: 19_844)
        entry.cash = ["USD": Self.units("7400"), "BTC": Self.units("0.25")]
        entry.holdings = ["BTC-USD": Holding(quantity: Self.units("0.05"), costBasis: Self.units("2500"))]
        entry.netDeposits = ["USD": Self.units("-10")]
        entry.sells = 3
        entry.winningSells = 2
        series.days = [DailyBalances(day: 19_000), entry]
        var writer = BinaryWriter()
        series.encode(into: &writer)
        var reader = BinaryReader(writer.bytes)
        #expect(try DailySeries(decoding: &reader) == series)
        try reader.expectEnd()
        // Days out of order are refused.
        series.days.reverse()
        var unordered = BinaryWriter()
        series.encode(into: &unordered)
        var bad = BinaryReader(unordered.bytes)
        #expect(throws: BourseError.self) { try DailySeries(decoding: &bad) }
    }

    // MARK: Equity curve

    /// Day 10: 5000 USD and 0.1 BTC bought for 5000 (10 000 paid in); day 13: 7400 USD and 0.05 BTC.
    static func series() -> DailySeries {
        var first = DailyBalances(day: 10)
        first.cash = ["USD": units("5000"), "BTC": units("0.1")]
        first.holdings = ["BTC-USD": Holding(quantity: units("0.1"), costBasis: units("5000"))]
        first.netDeposits = ["USD": units("10000")]
        var second = DailyBalances(day: 13)
        second.cash = ["USD": units("7400"), "BTC": units("0.05")]
        second.holdings = ["BTC-USD": Holding(quantity: units("0.05"), costBasis: units("2500"))]
        var series = DailySeries()
        series.days = [first, second]
        return series
    }

    /// Closes 50 000 (day 10), 55 000 (11), none on 12 (the close of 11 holds), 48 000 (13); today (15) at
    /// the current price 52 000. Base-currency cash (BTC) is not quote cash.
    @Test func equityIsQuoteCashPlusHoldingsAtTheClose() {
        let closes = [
            "BTC-USD": [
                DailyClose(day: 10, price: Self.units("50000")), DailyClose(day: 11, price: Self.units("55000")),
                DailyClose(day: 13, price: Self.units("48000")),
            ]
        ]
        let points = EquityCurve.points(
            Self.series(), currency: "USD", through: 15, closes: closes, current: ["BTC-USD": Self.units("52000")])
        #expect(points.map(\.day) == [10, 11, 12, 13, 14, 15])
        #expect(points.map(\.equity) == ["10000", "10500", "10500", "9800", "9800", "10000"].map(Self.units))
        #expect(points.map(\.netDeposit) == ["10000", "0", "0", "0", "0", "0"].map(Self.units))
    }

    /// Without any close (and no current price) a holding counts at its cost basis.
    @Test func withoutPricesHoldingsCountAtCost() {
        let points = EquityCurve.points(Self.series(), currency: "USD", through: 13, closes: [:], current: [:])
        #expect(points.map(\.equity) == ["10000", "10000", "10000", "9900"].map(Self.units))
        // Closes only from day 12: earlier days still at cost.
        let late = EquityCurve.points(
            Self.series(), currency: "USD", through: 13,
            closes: ["BTC-USD": [DailyClose(day: 12, price: Self.units("40000"))]], current: [:])
        #expect(late.map(\.equity) == ["10000", "10000", "9000", "9400"].map(Self.units))
    }

    @Test func theCurveSpansAtMostMaxDays() {
        let points = EquityCurve.points(Self.series(), currency: "USD", through: 10_000, closes: [:], current: [:])
        #expect(points.count == Int(EquityCurve.maxDays))
        #expect(points.first?.day == 10_000 - EquityCurve.maxDays + 1 && points.last?.day == 10_000)
        // The day-13 balances carry over; the window starts after both flows.
        #expect(points.first?.equity == Self.units("9900") && points.allSatisfy { $0.netDeposit == .zero })
        #expect(EquityCurve.points(DailySeries(), currency: "USD", through: 5, closes: [:], current: [:]).isEmpty)
    }
}
