import Testing
import Trading

/// Deposits and withdrawals of a market's base asset: positions follow what the account holds.
@Suite struct LedgerTransferTests {
    typealias F = LedgerFixtures
    let spec = LedgerFixtures.btcUSD

    /// 1 BTC deposited while BTC-USD last traded at 50,000 is held like a buy at 50,000 without a fee, so a
    /// sell realizes against that price. (Without the valuation the position stayed empty and the sell
    /// realized its whole proceeds as profit.)
    @Test func aDepositedBaseAssetJoinsThePositionAtThePriceGiven() throws {
        var ledger = AccountLedger(userID: 1)
        let valuation = AccountLedger.Valuation(market: spec, price: F.amount("50000"))
        let row = try ledger.deposit(currency: "BTC", amount: F.amount("1"), reference: "d", valuation: valuation)
        #expect(row.type == .deposit && row.amount == F.amount("1"))
        var position = try #require(ledger.position(symbol: "BTC-USD"))
        #expect(position.quantity == F.amount("1") && position.costBasis == F.amount("50000"))
        #expect(position.averagePrice == F.amount("50000") && position.feesPaid == .zero)

        // 0.25 sold at 52,000 as taker: notional 13,000, fee 26; the quarter of the cost leaves.
        try ledger.reserve(order: F.sell(1, "52000", "0.25"), spec: spec)
        let sold = try ledger.settle(fill: F.fill(5, order: 1, .sell, "52000", "0.25", .taker))
        #expect(sold.realizedPnL == F.amount("474"))  // 13,000 − 26 − 12,500
        position = try #require(ledger.position(symbol: "BTC-USD"))
        #expect(position.quantity == F.amount("0.75") && position.costBasis == F.amount("37500"))

        // A deposit valued in another market, or of its quote currency, changes no position.
        try ledger.deposit(currency: "USD", amount: F.amount("10"), reference: "u", valuation: valuation)
        try ledger.deposit(
            currency: "ETH", amount: F.amount("1"), reference: "e",
            valuation: AccountLedger.Valuation(market: spec, price: F.amount("1")))
        #expect(ledger.positions.count == 1 && ledger.position(symbol: "BTC-USD") == position)
    }

    @Test func aDepositWithoutAPriceJoinsAtZeroCostAndWithoutAValuationStaysOut() throws {
        var ledger = AccountLedger(userID: 1)
        try ledger.deposit(
            currency: "BTC", amount: F.amount("2"), reference: "a",
            valuation: AccountLedger.Valuation(market: spec, price: .zero))
        let position = try #require(ledger.position(symbol: "BTC-USD"))
        #expect(position.quantity == F.amount("2") && position.costBasis == .zero)
        try ledger.deposit(currency: "BTC", amount: F.amount("1"), reference: "b")
        #expect(ledger.position(symbol: "BTC-USD") == position)
        #expect(ledger.balance("BTC").total == F.amount("3"))
    }

    /// 2 BTC bought for 100,000 (fees included), then 0.5 withdrawn: the position keeps 1.5 at the same
    /// average cost and realizes nothing. (Before, the position kept all 2 BTC that the account no longer
    /// held, and the portfolio counted them.)
    @Test func aWithdrawalTakesItsShareOfTheCost() throws {
        var ledger = F.ledger([("USD", "200000")])
        try ledger.reserve(order: F.buy(1, "49900", "2"), spec: spec)
        try ledger.settle(fill: F.fill(1, order: 1, .buy, "49900", "2", .taker))  // 99,800 + 199.60 fee
        var position = try #require(ledger.position(symbol: "BTC-USD"))
        #expect(position.quantity == F.amount("2") && position.costBasis == F.amount("99999.6"))
        let realized = position.realizedPnL

        try ledger.withdraw(currency: "BTC", amount: F.amount("0.5"), reference: "w1")
        position = try #require(ledger.position(symbol: "BTC-USD"))
        #expect(position.quantity == F.amount("1.5") && position.costBasis == F.amount("74999.7"))
        #expect(position.averagePrice == F.amount("49999.8") && position.realizedPnL == realized)

        // What is locked for a sell stays in the position; the rest can leave.
        try ledger.reserve(order: F.sell(2, "60000", "1"), spec: spec)
        try ledger.withdraw(currency: "BTC", amount: F.amount("0.5"), reference: "w2")
        position = try #require(ledger.position(symbol: "BTC-USD"))
        #expect(position.quantity == F.amount("1") && position.costBasis == F.amount("49999.8"))
        #expect(ledger.balance("BTC").total == F.amount("1"))

        // A withdrawal of the quote currency changes no position.
        try ledger.withdraw(currency: "USD", amount: F.amount("1"), reference: "w3")
        #expect(ledger.position(symbol: "BTC-USD") == position)
    }

    /// Coins held beyond the position (deposited without a valuation) leave first.
    @Test func aWithdrawalOfCoinsBeyondThePositionLeavesItAlone() throws {
        var ledger = F.ledger([("USD", "100000"), ("BTC", "3")])
        try ledger.reserve(order: F.buy(1, "40000", "1"), spec: spec)
        try ledger.settle(fill: F.fill(1, order: 1, .buy, "40000", "1", .maker))
        let position = try #require(ledger.position(symbol: "BTC-USD"))
        try ledger.withdraw(currency: "BTC", amount: F.amount("3"), reference: "w")
        #expect(ledger.position(symbol: "BTC-USD") == position)
        try ledger.withdraw(currency: "BTC", amount: F.amount("0.4"), reference: "w")
        #expect(ledger.position(symbol: "BTC-USD")?.quantity == F.amount("0.6"))
        try ledger.withdraw(currency: "BTC", amount: F.amount("0.6"), reference: "w")
        let emptied = try #require(ledger.position(symbol: "BTC-USD"))
        #expect(emptied.quantity == .zero && emptied.costBasis == .zero && emptied.averagePrice == nil)
    }

    @Test func aDepositWhoseValueLeavesTheRangeOfAmountsIsRefusedAndChangesNothing() throws {
        var ledger = F.ledger([("USD", "1")])
        let before = ledger
        let error = #expect(throws: BourseError.self) {
            try ledger.deposit(
                currency: "BTC", amount: F.amount("1000000000"), reference: "x",
                valuation: AccountLedger.Valuation(market: spec, price: F.amount("1000000000")))
        }
        #expect(error?.code == .validation)
        #expect(ledger == before)
    }
}
