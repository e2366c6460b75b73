/// One day of an equity curve, in units of its currency.
public struct EquityPoint: Sendable, Hashable {
    /// Days since 1970-01-01, UTC.
    public var day: Int64
    /// Cash plus holdings at their value at the end of the day.
    public var equity: Amount
    /// Deposits minus withdrawals during the day (external cash flow, not a return).
    public var netDeposit: Amount

    public init(day: Int64, equity: Amount, netDeposit: Amount) {
        self.day = day
        self.equity = equity
        self.netDeposit = netDeposit
    }
}

/// A market's closing price of one UTC day, per whole base unit in the quote currency.
public struct DailyClose: Sendable, Hashable {
    public var day: Int64
    public var price: Amount

    public init(day: Int64, price: Amount) {
        self.day = day
        self.price = price
    }
}

/// The daily equity of an account in one currency, from its `DailySeries` and market prices.
public enum EquityCurve {
    /// Most days a curve has: its last `DailySeries.capacity` days.
    public static let maxDays = Int64(DailySeries.capacity)

    /// One point per day from the series' first day (or `maxDays` before the last day) through
    /// `today` (or the series' last day, if later): the balances of the newest series entry on or
    /// before the day, valued as cash in `currency` plus Σ holding quantity × price.
    ///
    /// A holding's price on a day is that day's close, or the latest close before it; on the last day
    /// it is `current[symbol]` when given. With no price at all the holding counts at its cost basis
    /// (its average cost). A day's `netDeposit` is the `currency` deposits minus withdrawals of the
    /// series entry of that very day, plus those of each base asset in `positions` valued as its
    /// position is that day (so that coins paid in or out are a flow, not a return).
    ///
    /// - Parameters:
    ///   - closes: per symbol, daily closes in increasing day order.
    ///   - current: per symbol, the price of the last point (the market's last trade price).
    ///   - positions: per base asset, the market symbol whose position its deposits join.
    public static func points(
        _ series: DailySeries, currency: String, through today: Int64, closes: [String: [DailyClose]],
        current: [String: Amount], positions: [String: String] = [:]
    ) -> [EquityPoint] {
        let days = series.days
        guard let first = days.first, let last = days.last else { return [] }
        let end = max(today, last.day)
        let start = max(first.day, end - (maxDays - 1))
        var index = 0
        var points: [EquityPoint] = []
        points.reserveCapacity(Int(end - start + 1))
        for day in start...end {
            while index + 1 < days.count, days[index + 1].day <= day { index += 1 }
            let entry = days[index]
            var equity = entry.cash[currency]?.units ?? 0
            func price(of symbol: String) -> Amount? {
                (day == end ? current[symbol] : nil) ?? close(of: closes[symbol] ?? [], onOrBefore: day)
            }
            for (symbol, holding) in entry.holdings where holding.quantity.units != 0 {
                equity &+= value(of: holding.quantity, in: holding, at: price(of: symbol))
            }
            var flow: Int64 = 0
            if entry.day == day {
                flow = entry.netDeposits[currency]?.units ?? 0
                for (base, symbol) in positions {
                    guard let moved = entry.netDeposits[base], moved.units != 0 else { continue }
                    let holding = entry.holdings[symbol] ?? Holding(quantity: .zero, costBasis: .zero)
                    flow &+= value(of: moved, in: holding, at: price(of: symbol))
                }
            }
            points.append(EquityPoint(day: day, equity: Amount(units: equity), netDeposit: Amount(units: flow)))
        }
        return points
    }

    /// `quantity` of a holding's asset at `price` (rounded down), or at the holding's average cost without one
    /// (the whole holding: its cost basis; zero when it holds nothing).
    static func value(of quantity: Amount, in holding: Holding, at price: Amount?) -> Int64 {
        if let price { return (try? Checked.mulDivFloor(quantity.units, price.units, Amount.unitsPerCoin)) ?? 0 }
        guard holding.quantity.units > 0 else { return 0 }
        return (try? Checked.mulDivFloor(quantity.units, holding.costBasis.units, holding.quantity.units)) ?? 0
    }

    /// The close of the newest day on or before `day`.
    static func close(of closes: [DailyClose], onOrBefore day: Int64) -> Amount? {
        var low = 0
        var high = closes.count
        while low < high {
            let middle = (low + high) / 2
            if closes[middle].day <= day { low = middle + 1 } else { high = middle }
        }
        return low > 0 ? closes[low - 1].price : nil
    }
}
