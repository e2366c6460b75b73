/// The cash and holdings of a backtest, changed by fills: long only, on one asset.
///
/// Holdings are exact (`Amount` units), so "enough to sell" never depends on rounding; cash and prices are
/// floating point (see `Backtest`). Bought quantities are kept as lots, first in first out, each with the
/// part of its buy fee not yet matched, so a sell closes the oldest lots first and a round trip carries its
/// pro-rata share of both fees.
struct BacktestPortfolio: Sendable {
    private struct Lot: Sendable {
        var time: Int64
        var price: Double
        var units: Int64
        /// The part of the buy's fee that falls on `units`.
        var fee: Double
    }

    private(set) var cash: Double
    private(set) var holdings = Amount.zero
    private(set) var trades: [BacktestTrade] = []
    private(set) var fills: [BacktestFill] = []
    /// Orders that could not fill: a buy short of cash, a sell with nothing held.
    private(set) var skipped = 0
    let feeBps: Double
    private var lots: [Lot] = []
    private var firstLot = 0

    init(cash: Double, feeBps: Double) {
        self.cash = cash
        self.feeBps = feeBps
    }

    /// Cash plus the holdings marked at `price`.
    func equity(at price: Double) -> Double { cash + Self.value(holdings.units) * price }

    /// Fills the order of rule `rule` at `price`, or skips it (see `Backtest`).
    mutating func fill(rule: Int, _ side: Side, _ quantity: Amount, price: Double, at time: Int64) {
        switch side {
        case .buy: buy(rule: rule, quantity, price: price, at: time)
        case .sell: sell(rule: rule, quantity, price: price, at: time)
        }
    }

    /// `units` of 10⁻⁸ as a floating-point quantity.
    static func value(_ units: Int64) -> Double { Double(units) / Double(Amount.unitsPerCoin) }

    /// The fee on a fill of `notional`: `notional × feeBps / 10 000` (multiplied first, so a whole-number fee is
    /// exact).
    private func feeOn(_ notional: Double) -> Double { notional * feeBps / 10_000 }

    private mutating func buy(rule: Int, _ quantity: Amount, price: Double, at time: Int64) {
        let notional = Self.value(quantity.units) * price
        let fee = feeOn(notional)
        let (held, overflow) = holdings.units.addingReportingOverflow(quantity.units)
        guard notional + fee <= cash, !overflow else {
            skipped += 1
            return
        }
        cash -= notional + fee
        holdings.units = held
        lots.append(Lot(time: time, price: price, units: quantity.units, fee: fee))
        fills.append(BacktestFill(rule: rule, time: time, side: .buy, price: price, quantity: quantity, fee: fee))
    }

    private mutating func sell(rule: Int, _ quantity: Amount, price: Double, at time: Int64) {
        let units = min(quantity.units, holdings.units)
        guard units > 0 else {
            skipped += 1
            return
        }
        let notional = Self.value(units) * price
        let fee = feeOn(notional)
        cash += notional - fee
        holdings.units -= units
        fills.append(
            BacktestFill(rule: rule, time: time, side: .sell, price: price, quantity: Amount(units: units), fee: fee))
        var remaining = units
        var exitFee = fee
        while remaining > 0 {
            var lot = lots[firstLot]
            let part = min(remaining, lot.units)
            let entryShare = part == lot.units ? lot.fee : lot.fee * Double(part) / Double(lot.units)
            let exitShare = part == remaining ? exitFee : exitFee * Double(part) / Double(remaining)
            let pnl = (price - lot.price) * Self.value(part) - entryShare - exitShare
            trades.append(
                BacktestTrade(
                    entryTime: lot.time, entryPrice: lot.price, exitTime: time, exitPrice: price,
                    quantity: Amount(units: part), pnl: pnl))
            lot.units -= part
            lot.fee -= entryShare
            exitFee -= exitShare
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
