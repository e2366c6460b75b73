import Testing
import Trading

/// Deposits, withdrawals, reservations, releases and amends.
@Suite struct LedgerTests {
    typealias F = LedgerFixtures
    let spec = LedgerFixtures.btcUSD

    @Test func depositAndWithdraw() throws {
        var ledger = AccountLedger(userID: 7)
        let deposit = try ledger.deposit(currency: "USD", amount: F.amount("1000.5"), reference: "d1")
        #expect(deposit.id == 1 && deposit.type == .deposit && deposit.amount == F.amount("1000.5"))
        #expect(deposit.balanceAfter == F.amount("1000.5") && deposit.referenceID == "d1")
        let withdrawal = try ledger.withdraw(currency: "USD", amount: F.amount("0.5"), reference: "w1")
        #expect(withdrawal.id == 2 && withdrawal.type == .withdrawal && withdrawal.amount == F.amount("-0.5"))
        #expect(withdrawal.availableAfter == F.amount("1000") && withdrawal.lockedAfter == .zero)
        #expect(ledger.balance("USD") == Balance(available: F.amount("1000"), locked: .zero))
        #expect(ledger.balance("EUR") == .zero)
        #expect(ledger.drainEntries() == [deposit, withdrawal])
        #expect(ledger.entries.isEmpty && ledger.nextEntryID == 3)
    }

    @Test func badAmountsAreValidationErrorsAndChangeNothing() throws {
        var ledger = F.ledger([("USD", "100")])
        let before = ledger
        for bad in [Amount.zero, F.amount("-1")] {
            let deposit = #expect(throws: BourseError.self) {
                try ledger.deposit(currency: "USD", amount: bad, reference: "x")
            }
            #expect(deposit?.code == .validation)
            let withdrawal = #expect(throws: BourseError.self) {
                try ledger.withdraw(currency: "USD", amount: bad, reference: "x")
            }
            #expect(withdrawal?.code == .validation)
        }
        let badCurrency = #expect(throws: BourseError.self) {
            try ledger.deposit(currency: "usd", amount: F.amount("1"), reference: "x")
        }
        #expect(badCurrency?.code == .validation)
        let tooMuch = #expect(throws: BourseError.self) {
            try ledger.deposit(currency: "USD", amount: AccountLedger.maxBalance, reference: "x")
        }
        #expect(tooMuch?.code == .validation)
        #expect(ledger == before)
    }

    @Test func insufficientWithdrawalChangesNothing() throws {
        var ledger = F.ledger([("USD", "100")])
        try ledger.reserve(order: F.buy(1, "10", "5"), spec: spec)  // locks 50.10
        let before = ledger
        let error = #expect(throws: BourseError.self) {
            try ledger.withdraw(currency: "USD", amount: F.amount("49.91"), reference: "w")
        }
        #expect(error?.code == .insufficientFunds)
        let unknown = #expect(throws: BourseError.self) {
            try ledger.withdraw(currency: "EUR", amount: F.amount("1"), reference: "w")
        }
        #expect(unknown?.code == .insufficientFunds)
        #expect(ledger == before)
        try ledger.withdraw(currency: "USD", amount: F.amount("49.90"), reference: "w")
        #expect(ledger.balance("USD") == Balance(available: .zero, locked: F.amount("50.1")))
    }

    @Test func reserveAndReleaseBuy() throws {
        var ledger = F.ledger([("USD", "10000")])
        let reservation = try ledger.reserve(order: F.buy(1, "5000", "1"), spec: spec)
        // 5000 notional + 20 bps (the larger of maker and taker) = 5010.
        #expect(reservation.locked == F.amount("5010") && reservation.currency == "USD")
        #expect(ledger.balance("USD") == Balance(available: F.amount("4990"), locked: F.amount("5010")))
        let lock = ledger.drainEntries()
        #expect(lock.count == 1 && lock[0].type == .lock && lock[0].amount == F.amount("5010"))
        #expect(lock[0].referenceID == "1" && lock[0].availableAfter == F.amount("4990"))
        #expect(lock[0].balanceAfter == F.amount("10000"))

        #expect(try ledger.release(symbol: "BTC-USD", orderID: 1) == F.amount("5010"))
        #expect(ledger.balance("USD") == Balance(available: F.amount("10000"), locked: .zero))
        #expect(ledger.reservations.isEmpty)
        let unlock = ledger.drainEntries()
        #expect(unlock.count == 1 && unlock[0].type == .unlock && unlock[0].amount == F.amount("5010"))
        // Idempotent: an unknown order is a no-op.
        #expect(try ledger.release(symbol: "BTC-USD", orderID: 1) == nil)
        #expect(ledger.entries.isEmpty)
    }

    @Test func reserveSellLocksBase() throws {
        var ledger = F.ledger([("BTC", "2")])
        let limit = try ledger.reserve(order: F.sell(1, "5000", "1.5"), spec: spec)
        #expect(limit.locked == F.amount("1.5") && limit.currency == "BTC")
        let market = #expect(throws: BourseError.self) { try ledger.reserve(order: F.sell(2, nil, "0.6"), spec: spec) }
        #expect(market?.code == .insufficientFunds)
        try ledger.reserve(order: F.sell(2, nil, "0.5"), spec: spec)
        #expect(ledger.balance("BTC") == Balance(available: .zero, locked: F.amount("2")))
        try ledger.verifyInvariants()
    }

    @Test func marketBuyReservesAtTheProtectionPrice() throws {
        var ledger = F.ledger([("USD", "1000")])
        var order = NewOrder(id: 5, owner: 1, side: .buy, type: .market, price: nil, quantity: F.quantity("0.1"))
        let missing = #expect(throws: BourseError.self) { try ledger.reserve(order: order, spec: spec) }
        #expect(missing?.code == .validation)
        let reservation = try ledger.reserve(order: order, spec: spec, protectionPrice: F.price("5250"))
        // 525 + 1.05 fee.
        #expect(reservation.locked == F.amount("526.05") && reservation.price == F.price("5250"))
        // A price on the order itself wins over the argument (the book uses it as the protection).
        order.id = 6
        order.type = .stop
        order.price = F.price("1000")
        let stop = try ledger.reserve(order: order, spec: spec, protectionPrice: F.price("4000"))
        #expect(stop.locked == F.amount("100.2"))
        // Filling part of the market order at a better price, then expiring the rest, returns all unused.
        try ledger.settle(fill: F.fill(1, order: 5, .buy, "5000", "0.04", .taker))
        #expect(try ledger.release(symbol: "BTC-USD", orderID: 5) != nil)
        try ledger.release(symbol: "BTC-USD", orderID: 6)
        // Paid 200 + 0.4 fee.
        #expect(ledger.balance("USD") == Balance(available: F.amount("799.6"), locked: .zero))
        #expect(ledger.balance("BTC").available == F.amount("0.04"))
    }

    @Test func insufficientReservationAndDuplicatesChangeNothing() throws {
        var ledger = F.ledger([("USD", "5009.99")])
        let before = ledger
        let short = #expect(throws: BourseError.self) { try ledger.reserve(order: F.buy(1, "5000", "1"), spec: spec) }
        #expect(short?.code == .insufficientFunds)
        #expect(ledger == before)
        try ledger.reserve(order: F.buy(1, "1000", "1"), spec: spec)
        let afterFirst = ledger
        let duplicate = #expect(throws: BourseError.self) { try ledger.reserve(order: F.buy(1, "1", "1"), spec: spec) }
        #expect(duplicate?.code == .conflict)
        let zero = #expect(throws: BourseError.self) {
            try ledger.reserve(
                order: NewOrder(id: 9, owner: 1, side: .buy, price: Price(ticks: 1), quantity: .zero), spec: spec)
        }
        #expect(zero?.code == .validation)
        let badPrice = #expect(throws: BourseError.self) {
            try ledger.reserve(
                order: NewOrder(id: 9, owner: 1, side: .buy, price: Price(ticks: 0), quantity: Quantity(lots: 1)),
                spec: spec)
        }
        #expect(badPrice?.code == .validation)
        #expect(ledger == afterFirst)
        // The same order id in another market is another order.
        try ledger.deposit(currency: "BTC", amount: F.amount("1"), reference: "d")
        let other = try ledger.reserve(order: F.buy(1, "0.01", "1", spec: F.ethBTC), spec: F.ethBTC)
        #expect(other.locked == F.amount("0.010013") && ledger.reservations.count == 2)
    }

    @Test func adjustReservation() throws {
        var ledger = F.ledger([("USD", "1000")])
        try ledger.reserve(order: F.buy(1, "100", "5"), spec: spec)  // 500 + 1 = 501
        _ = ledger.drainEntries()
        // Lower price: less to hold.
        var reservation = try ledger.adjustReservation(
            symbol: "BTC-USD", orderID: 1, newPrice: F.price("90"), newRemainingQuantity: F.quantity("5"))
        #expect(reservation.locked == F.amount("450.9"))
        var rows = ledger.drainEntries()
        #expect(rows.count == 1 && rows[0].type == .unlock && rows[0].amount == F.amount("50.1"))
        // More quantity: more to hold.
        reservation = try ledger.adjustReservation(
            symbol: "BTC-USD", orderID: 1, newPrice: nil, newRemainingQuantity: F.quantity("10"))
        #expect(reservation.locked == F.amount("901.8") && reservation.price == F.price("90"))
        rows = ledger.drainEntries()
        #expect(rows.count == 1 && rows[0].type == .lock && rows[0].amount == F.amount("450.9"))
        // Too much: refused, nothing changes.
        let before = ledger
        let error = #expect(throws: BourseError.self) {
            try ledger.adjustReservation(
                symbol: "BTC-USD", orderID: 1, newPrice: F.price("100"), newRemainingQuantity: F.quantity("10"))
        }
        #expect(error?.code == .insufficientFunds)
        let unknown = #expect(throws: BourseError.self) {
            try ledger.adjustReservation(
                symbol: "BTC-USD", orderID: 2, newPrice: nil, newRemainingQuantity: F.quantity("1"))
        }
        #expect(unknown?.code == .notFound)
        let zero = #expect(throws: BourseError.self) {
            try ledger.adjustReservation(symbol: "BTC-USD", orderID: 1, newPrice: nil, newRemainingQuantity: .zero)
        }
        #expect(zero?.code == .validation)
        #expect(ledger == before)
        try ledger.verifyInvariants()
    }

    @Test func adjustAfterPartialFillKeepsTheFeeAccounting() throws {
        var ledger = F.ledger([("USD", "1000")])
        try ledger.reserve(order: F.buy(1, "100", "5"), spec: spec)  // 501
        try ledger.settle(fill: F.fill(1, order: 1, .buy, "100", "2", .taker))  // 200 + 0.4
        #expect(ledger.reservation(symbol: "BTC-USD", orderID: 1)?.locked == F.amount("300.6"))
        let reservation = try ledger.adjustReservation(
            symbol: "BTC-USD", orderID: 1, newPrice: F.price("110"), newRemainingQuantity: F.quantity("1"))
        // 110 + ceil((200×20 + 110×20) bps) − 0.4 = 110 + 0.62 − 0.4.
        #expect(reservation.locked == F.amount("110.22"))
        try ledger.verifyInvariants()
    }

    @Test func sellAmendReleasesBase() throws {
        var ledger = F.ledger([("BTC", "1")])
        try ledger.reserve(order: F.sell(1, "5000", "1"), spec: spec)
        try ledger.adjustReservation(
            symbol: "BTC-USD", orderID: 1, newPrice: F.price("5100"), newRemainingQuantity: F.quantity("0.25"))
        #expect(ledger.balance("BTC") == Balance(available: F.amount("0.75"), locked: F.amount("0.25")))
        #expect(ledger.reservation(symbol: "BTC-USD", orderID: 1)?.price == F.price("5100"))
    }
}
