/// The cash and holdings of a backtest, changed by fills: long only, on one asset.
///
/// Everything is exact: cash, holdings and prices are `Amount`s (units of 10⁻⁸), every product is taken in
/// 128 bits and rounded once, in the direction `Backtest` documents. Bought quantities are kept as lots, first
/// in first out, each with the part of its cost (notional plus fee) not yet matched, so a sell closes the
/// oldest lots first and a round trip carries its pro-rata share of both fills' cash.
struct BacktestPortfolio: Sendable {
    private struct Lot: Sendable {
        var time: Int64
        var price: Amount
        var units: Int64
        /// The part of the buy's cost (notional plus fee) that falls on `units`.
        var cost: Int64
    }

    /// Which way a product or share that is not a whole number of 10⁻⁸ goes.
    enum Rounding {
        /// Toward +∞: what is paid (a buy's notional, a share of a lot's cost).
        case up
        /// Toward 0: what is received (a sell's notional, a share of its proceeds, holdings marked at a close).
        case down
    }

    private(set) var cash: Amount
    private(set) var holdings = Amount.zero
    private(set) var trades: [BacktestTrade] = []
    private(set) var fills: [BacktestFill] = []
    /// Orders that could not fill: a buy short of cash, a sell with nothing held.
    private(set) var skipped = 0
    let feeRate: BacktestFeeRate
    private var lots: [Lot] = []
    private var firstLot = 0

    init(cash: Amount, feeRate: BacktestFeeRate) {
        self.cash = cash
        self.feeRate = feeRate
    }

    /// Cash plus the holdings marked at `price` (rounded down, as the proceeds of selling them before fees);
    /// nil when that is beyond the largest amount.
    func equity(at price: Amount) -> Amount? {
        Int64(exactly: Int128(cash.units) + Self.product(holdings, price, rounding: .down)).map(Amount.init(units:))
    }

    /// Fills the order of rule `rule` at `price`, or skips it (see `Backtest`).
    ///
    /// - Throws: `BourseError.validation` when a sell's notional, or the cash it leaves, is beyond the largest
    ///   amount. Nothing changes then.
    mutating func fill(rule: Int, _ side: Side, _ quantity: Amount, price: Amount, at time: Int64)
        throws(BourseError)
    {
        switch side {
        case .buy: buy(rule: rule, quantity, price: price, at: time)
        case .sell: try sell(rule: rule, quantity, price: price, at: time)
        }
    }

    /// `a × b` in units of 10⁻⁸: the exact product (in 10⁻¹⁶) rounded once, for amounts not negative. At most
    /// `Int64.max² / 10⁸`, well within an Int128.
    static func product(_ a: Amount, _ b: Amount, rounding: Rounding) -> Int128 {
        let (quotient, remainder) = (Int128(a.units) * Int128(b.units))
            .quotientAndRemainder(dividingBy: Int128(Amount.unitsPerCoin))
        return rounding == .up && remainder > 0 ? quotient + 1 : quotient
    }

    /// `value × part / whole` for `0 < part < whole` and `value` not negative, rounded; never above `value`.
    static func share(_ value: Int64, _ part: Int64, of whole: Int64, rounding: Rounding) -> Int64 {
        let (quotient, remainder) = (Int128(value) * Int128(part)).quotientAndRemainder(dividingBy: Int128(whole))
        return Int64(rounding == .up && remainder > 0 ? quotient + 1 : quotient)
    }

    /// A buy of `quantity` costs its notional rounded up plus its fee; it fills only if the cash covers that
    /// (a notional beyond any amount never does) and the holdings stay within range.
    private mutating func buy(rule: Int, _ quantity: Amount, price: Amount, at time: Int64) {
        let notional = Self.product(price, quantity, rounding: .up)
        let fee = feeRate.fee(on: notional)
        let (held, overflow) = holdings.units.addingReportingOverflow(quantity.units)
        guard notional + fee <= Int128(cash.units), !overflow else {
            skipped += 1
            return
        }
        // All three are at most the cash, so they fit an Int64.
        let cost = Int64(notional + fee)
        cash.units -= cost
        holdings.units = held
        lots.append(Lot(time: time, price: price, units: quantity.units, cost: cost))
        fills.append(
            BacktestFill(
                rule: rule, time: time, side: .buy, price: price, quantity: quantity,
                notional: Amount(units: Int64(notional)), fee: Amount(units: Int64(fee))))
    }

    /// A sell of what is held, up to `quantity`, brings its notional rounded down less its fee.
    private mutating func sell(rule: Int, _ quantity: Amount, price: Amount, at time: Int64) throws(BourseError) {
        let units = min(quantity.units, holdings.units)
        guard units > 0 else {
            skipped += 1
            return
        }
        let notional = Self.product(price, Amount(units: units), rounding: .down)
        let fee = feeRate.fee(on: notional)
        // The fee is at most a tenth of the notional, rounded up, so never above it: proceeds are not negative.
        guard let notionalUnits = Int64(exactly: notional),
            let after = Int64(exactly: Int128(cash.units) + notional - fee)
        else {
            throw .validation(
                "the sell of \(Amount(units: units)) at \(price) takes the cash beyond the largest amount "
                    + "(\(Amount(units: .max)))")
        }
        let feeUnits = Int64(fee)
        cash.units = after
        holdings.units -= units
        fills.append(
            BacktestFill(
                rule: rule, time: time, side: .sell, price: price, quantity: Amount(units: units),
                notional: Amount(units: notionalUnits), fee: Amount(units: feeUnits)))
        match(units, proceeds: notionalUnits - feeUnits, price: price, at: time)
    }

    /// Closes `units` of the oldest lots against a sell at `price` that brought `proceeds`: one round trip per
    /// lot touched, whose pnl is its share of the proceeds (rounded down) less its share of the lot's cost
    /// (rounded up). The last part of a sell takes what is left of its proceeds and the last part of a lot what
    /// is left of its cost, so the pnl of the round trips adds up exactly to the cash they moved.
    private mutating func match(_ units: Int64, proceeds: Int64, price: Amount, at time: Int64) {
        var remaining = units
        var proceedsLeft = proceeds
        while remaining > 0 {
            var lot = lots[firstLot]
            let part = min(remaining, lot.units)
            let costShare = part == lot.units ? lot.cost : Self.share(lot.cost, part, of: lot.units, rounding: .up)
            let proceedsShare =
                part == remaining
                ? proceedsLeft : Self.share(proceedsLeft, part, of: remaining, rounding: .down)
            // Both shares are in 0…Int64.max: their difference fits.
            trades.append(
                BacktestTrade(
                    entryTime: lot.time, entryPrice: lot.price, exitTime: time, exitPrice: price,
                    quantity: Amount(units: part), pnl: Amount(units: proceedsShare - costShare)))
            lot.units -= part
            lot.cost -= costShare
            proceedsLeft -= proceedsShare
            remaining -= part
            if lot.units == 0 {
                firstLot += 1
            } else {
                lots[firstLot] = lot
            }
        }
        if firstLot == lots.count {
            lots.removeAll(keepingCapacity: true)
            firstLot = 0
        }
    }
}
