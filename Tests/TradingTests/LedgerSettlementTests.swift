import Testing
import Trading

/// Settlement of fills: cash and asset, fees, surplus, positions, rows, idempotency.
@Suite struct LedgerSettlementTests {
    typealias F = LedgerFixtures
    let spec = LedgerFixtures.btcUSD

    /// One row, compared field by field, as (type, currency, amount, available after, locked after, reference).
    func row(_ entry: LedgerEntry) -> String {
        "\(entry.type.name) \(entry.currency) \(entry.amount) \(entry.availableAfter) \(entry.lockedAfter) \(entry.referenceID)"
    }

    @Test func buyFillsAtABetterPriceUnlockTheSurplus() throws {
        var ledger = F.ledger([("USD", "10000")])
        try ledger.reserve(order: F.buy(1, "5000", "1"), spec: spec)  // 5010 locked
        _ = ledger.drainEntries()

        // Half at 4900 as taker: notional 2450, fee 4.90. What the other half still needs at 5000:
        // 2500 + ceil(20 bps of 2450 + 2500) − 4.90 = 2505; so 5010 − 2454.90 − 2505 = 50.10 is freed.
        let first = try ledger.settle(fill: F.fill(11, order: 1, .buy, "4900", "0.5", .taker))
        #expect(
            first
                == Settlement(
                    applied: true, fee: F.amount("4.9"), feeCurrency: "USD", realizedPnL: .zero, orderClosed: false))
        #expect(
            ledger.drainEntries().map(row) == [
                "UNLOCK USD 50.10000000 5040.10000000 4959.90000000 BTC-USD:11",
                "TRADE USD -2450.00000000 5040.10000000 2509.90000000 BTC-USD:11",
                "TRADE BTC 0.50000000 0.50000000 0.00000000 BTC-USD:11",
                "FEE USD -4.90000000 5040.10000000 2505.00000000 BTC-USD:11",
            ])
        let reservation = try #require(ledger.reservation(symbol: "BTC-USD", orderID: 1))
        #expect(reservation.locked == F.amount("2505") && reservation.remaining == F.quantity("0.5"))
        #expect(reservation.feeCharged == F.amount("4.9") && reservation.filledNotional == F.amount("2450"))

        // The other half at 5000 as maker (10 bps): the order's fees become ceil(20 bps × 2450 + 10 bps
        // × 2500) = 7.40, so this fill pays 2.50 and the 2.50 of fee headroom left comes back.
        let second = try ledger.settle(fill: F.fill(12, order: 1, .buy, "5000", "0.5", .maker))
        #expect(second.fee == F.amount("2.5") && second.orderClosed)
        #expect(
            ledger.drainEntries().map(row) == [
                "UNLOCK USD 2.50000000 5042.60000000 2502.50000000 BTC-USD:12",
                "TRADE USD -2500.00000000 5042.60000000 2.50000000 BTC-USD:12",
                "TRADE BTC 0.50000000 1.00000000 0.00000000 BTC-USD:12",
                "FEE USD -2.50000000 5042.60000000 0.00000000 BTC-USD:12",
            ])
        #expect(ledger.reservations.isEmpty)
        #expect(ledger.balance("USD") == Balance(available: F.amount("5042.6"), locked: .zero))
        #expect(ledger.balance("BTC") == Balance(available: F.amount("1"), locked: .zero))
        #expect(ledger.feesCharged == ["USD": F.amount("7.4")])
        let position = try #require(ledger.position(symbol: "BTC-USD"))
        #expect(position.quantity == F.amount("1") && position.costBasis == F.amount("4957.4"))
        #expect(position.averagePrice == F.amount("4957.4") && position.feesPaid == F.amount("7.4"))
        try ledger.verifyInvariants()
    }

    @Test func averagePriceAndRealizedPnLWithFees() throws {
        var ledger = F.ledger([("USD", "10000")])
        try ledger.reserve(order: F.buy(1, "5000", "1"), spec: spec)
        try ledger.settle(fill: F.fill(1, order: 1, .buy, "4900", "0.5", .taker))  // cost 2454.90
        try ledger.settle(fill: F.fill(2, order: 1, .buy, "5000", "0.5", .maker))  // cost 2502.50
        _ = ledger.drainEntries()

        // Sell 0.4 at 5100 as taker: proceeds 2040 − 4.08 = 2035.92; cost removed 0.4 × 4957.40 = 1982.96.
        try ledger.reserve(order: F.sell(2, "5100", "0.4"), spec: spec)
        let sell = try ledger.settle(fill: F.fill(3, order: 2, .sell, "5100", "0.4", .taker))
        #expect(sell.fee == F.amount("4.08") && sell.realizedPnL == F.amount("52.96") && sell.orderClosed)
        #expect(
            ledger.drainEntries().map(row) == [
                "LOCK BTC 0.40000000 0.60000000 0.40000000 2",
                "TRADE BTC -0.40000000 0.60000000 0.00000000 BTC-USD:3",
                "TRADE USD 2040.00000000 7082.60000000 0.00000000 BTC-USD:3",
                "FEE USD -4.08000000 7078.52000000 0.00000000 BTC-USD:3",
            ])
        var position = try #require(ledger.position(symbol: "BTC-USD"))
        #expect(position.quantity == F.amount("0.6") && position.costBasis == F.amount("2974.44"))
        #expect(position.averagePrice == F.amount("4957.4") && position.realizedPnL == F.amount("52.96"))

        // Sell the remaining 0.6 at 4900 as maker: proceeds 2940 − 2.94; all the cost goes.
        try ledger.reserve(order: F.sell(3, "4900", "0.6"), spec: spec)
        let last = try ledger.settle(fill: F.fill(4, order: 3, .sell, "4900", "0.6", .maker))
        #expect(last.realizedPnL == F.amount("-37.38"))
        position = try #require(ledger.position(symbol: "BTC-USD"))
        #expect(position.quantity == .zero && position.costBasis == .zero && position.averagePrice == nil)
        #expect(position.realizedPnL == F.amount("15.58") && position.feesPaid == F.amount("14.42"))
        // 10000 − 4957.40 + 2035.92 + 2937.06.
        #expect(ledger.balance("USD") == Balance(available: F.amount("10015.58"), locked: .zero))
        #expect(ledger.balance("BTC") == .zero)
    }

    @Test func sellingMoreThanThePositionCountsTheExcessAtZeroCost() throws {
        var ledger = F.ledger([("USD", "1000"), ("BTC", "1")])
        try ledger.reserve(order: F.buy(1, "100", "1"), spec: spec)
        try ledger.settle(fill: F.fill(1, order: 1, .buy, "100", "1", .maker))  // cost 100.10
        try ledger.reserve(order: F.sell(2, "200", "2"), spec: spec)
        let sell = try ledger.settle(fill: F.fill(2, order: 2, .sell, "200", "2", .maker))
        // Proceeds 400 − 0.40; cost of the position 100.10; the deposited coin cost nothing.
        #expect(sell.realizedPnL == F.amount("299.5"))
        #expect(ledger.position(symbol: "BTC-USD")?.quantity == .zero)
    }

    @Test func partialFillsThenCancelReleasesTheRest() throws {
        var ledger = F.ledger([("USD", "1000"), ("BTC", "2")])
        try ledger.reserve(order: F.buy(1, "100", "5"), spec: spec)  // 501
        try ledger.reserve(order: F.sell(2, "150", "2"), spec: spec)
        try ledger.settle(fill: F.fill(1, order: 1, .buy, "100", "1", .maker))
        try ledger.settle(fill: F.fill(2, order: 1, .buy, "99", "1", .taker))
        try ledger.settle(fill: F.fill(3, order: 2, .sell, "150", "0.5", .maker))
        _ = ledger.drainEntries()
        let lockedUSD = ledger.balance("USD").locked
        #expect(try ledger.release(symbol: "BTC-USD", orderID: 1) == lockedUSD)
        #expect(try ledger.release(symbol: "BTC-USD", orderID: 2) == F.amount("1.5"))
        #expect(ledger.drainEntries().map { $0.type } == [.unlock, .unlock])
        // Paid 100 + 0.10 and 99 + 0.198; received 75 − 0.075.
        #expect(ledger.balance("USD") == Balance(available: F.amount("875.627"), locked: .zero))
        #expect(ledger.balance("BTC") == Balance(available: F.amount("3.5"), locked: .zero))
        #expect(ledger.feesCharged["USD"] == F.amount("0.373"))
        try ledger.verifyInvariants()
    }

    @Test func feesRoundUpOncePerOrder() throws {
        // 1 lot at 1 tick is 0.000001 USD: 20 bps of it is 0.000000002, rounded up to 0.00000001.
        var ledger = F.ledger([("USD", "1")])
        try ledger.reserve(order: F.buy(1, "0.01", "0.001"), spec: spec)  // 10 lots, notional 0.00001
        // Max fee: ceil(1000 units × 20 / 10 000) = 2 units.
        #expect(ledger.balance("USD").locked == Amount(units: 1_002))
        var fees: [Int64] = []
        for trade in 1...10 {
            fees.append(
                try ledger.settle(fill: F.fill(UInt64(trade), order: 1, .buy, "0.01", "0.0001", .taker)).fee.units)
            #expect(ledger.balance("USD").locked.units >= 0)
        }
        // Cumulative: Σ numerator 2 000 per fill; the fee due crosses a unit at fills 1 and 6.
        #expect(fees == [1, 0, 0, 0, 0, 1, 0, 0, 0, 0])
        #expect(ledger.balance("USD") == Balance(available: Amount(units: 100_000_000 - 1_002), locked: .zero))
    }

    @Test func manyTinyFillsNeverExceedTheReservation() throws {
        let spec = F.ethBTC  // maker 7, taker 13 bps
        var ledger = F.ledger([("BTC", "100")])
        let reservation = try ledger.reserve(order: F.buy(1, "0.05003", "7.777", spec: spec), spec: spec)
        let reservedFee = try spec.notional(F.price("0.05003", spec), F.quantity("7.777", spec)).feeRoundedUp(bps: 13)
        var random = UInt64(12345)
        var left = reservation.remaining.lots
        var trade: UInt64 = 0
        var totalFee = Amount.zero
        while left > 0 {
            random = random &* 6364136223846793005 &+ 1442695040888963407
            let lots = min(left, Int64(random >> 61) + 1)
            let ticks = 5_003 - Int64(random >> 60 & 3)
            trade += 1
            let settlement = try ledger.settle(
                fill: Fill(
                    tradeID: trade, orderID: 1, owner: 1, side: .buy, price: Price(ticks: ticks),
                    quantity: Quantity(lots: lots),
                    liquidity: random & 1 == 0 ? .maker : .taker, spec: spec))
            totalFee = try totalFee.adding(settlement.fee)
            left -= lots
            #expect(ledger.balance("BTC").locked.units >= 0)
            if let open = ledger.reservation(symbol: "ETH-BTC", orderID: 1) {
                #expect(open.locked == ledger.balance("BTC").locked)
            }
            try ledger.verifyInvariants()
        }
        #expect(trade > 1_000)
        #expect(totalFee <= reservedFee)
        #expect(ledger.reservations.isEmpty && ledger.balance("BTC").locked == .zero)
        #expect(ledger.feesCharged["BTC"] == totalFee)
    }

    @Test func settlementIsIdempotent() throws {
        var ledger = F.ledger([("USD", "1000")])
        try ledger.reserve(order: F.buy(1, "100", "2"), spec: spec)
        let fill = F.fill(7, order: 1, .buy, "100", "1", .taker)
        #expect(try ledger.settle(fill: fill).applied)
        let before = ledger
        let again = try ledger.settle(fill: fill)
        #expect(!again.applied && again.fee == .zero)
        #expect(ledger == before && ledger.hasApplied(fill.id))
        // Even after the order closed and its reservation is gone.
        try ledger.settle(fill: F.fill(8, order: 1, .buy, "100", "1", .taker))
        let closed = ledger
        #expect(try !ledger.settle(fill: fill).applied)
        #expect(ledger == closed)
    }

    @Test func fillsThatDoNotMatchAreInternalErrorsAndChangeNothing() throws {
        var ledger = F.ledger([("USD", "1000"), ("BTC", "1")])
        try ledger.reserve(order: F.buy(1, "100", "2"), spec: spec)
        try ledger.reserve(order: F.sell(2, "100", "0.5"), spec: spec)
        let before = ledger
        let bad = [
            F.fill(1, order: 3, .buy, "100", "1", .taker),  // no reservation
            F.fill(1, order: 1, owner: 2, .buy, "100", "1", .taker),  // another user's
            F.fill(1, order: 1, .sell, "100", "1", .taker),  // wrong side
            F.fill(1, order: 1, .buy, "100", "3", .taker),  // more than remains
            F.fill(1, order: 2, .sell, "100", "1", .maker),  // more than remains
            F.fill(1, order: 1, .buy, "0.01", "1", .taker, spec: F.ethBTC),  // another market
        ]
        for fill in bad {
            let error = #expect(throws: BourseError.self) { try ledger.settle(fill: fill) }
            #expect(error?.code == .internal)
        }
        #expect(ledger == before)
    }

    @Test func aBuyAboveItsReservationPriceTakesTheDifferenceFromAvailable() throws {
        var ledger = F.ledger([("USD", "1000")])
        try ledger.reserve(order: F.buy(1, "100", "1"), spec: spec)  // 100.20
        _ = ledger.drainEntries()
        try ledger.settle(fill: F.fill(1, order: 1, .buy, "110", "1", .taker))  // 110 + 0.22
        #expect(
            ledger.drainEntries().map(row) == [
                "LOCK USD 10.02000000 889.78000000 110.22000000 BTC-USD:1",
                "TRADE USD -110.00000000 889.78000000 0.22000000 BTC-USD:1",
                "TRADE BTC 1.00000000 1.00000000 0.00000000 BTC-USD:1",
                "FEE USD -0.22000000 889.78000000 0.00000000 BTC-USD:1",
            ])
        // Not even the available balance covers it: refused.
        var poor = F.ledger([("USD", "100.2")])
        try poor.reserve(order: F.buy(1, "100", "1"), spec: spec)
        let before = poor
        let error = #expect(throws: BourseError.self) {
            try poor.settle(fill: F.fill(1, order: 1, .buy, "110", "1", .taker))
        }
        #expect(error?.code == .insufficientFunds)
        #expect(poor == before)
    }

    @Test func fillSidesOfATrade() {
        let trade = Trade(
            id: 9, price: Price(ticks: 500_000), quantity: Quantity(lots: 3), takerSide: .sell, makerOrderID: 4,
            makerOwner: 40, makerRemaining: .zero, takerOrderID: 5, takerOwner: 50, takerRemaining: Quantity(lots: 1))
        let (maker, taker) = Fill.sides(of: trade, spec: spec)
        #expect(maker.side == .buy && maker.orderID == 4 && maker.owner == 40 && maker.liquidity == .maker)
        #expect(taker.side == .sell && taker.orderID == 5 && taker.owner == 50 && taker.liquidity == .taker)
        #expect(maker.id == FillID(symbol: "BTC-USD", tradeID: 9) && maker.id == taker.id)
        #expect(maker.feeBps == 10 && taker.feeBps == 20 && maker.id.description == "BTC-USD:9")
    }
}
