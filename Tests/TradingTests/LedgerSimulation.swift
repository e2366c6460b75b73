import TestSupport
import Testing
import Trading

/// The model of the property test: ledgers plus what the test knows independently of them.
struct LedgerSimulation {
    struct OpenOrder {
        var user: Int
        var market: Int
        var id: OrderID
        var side: Side
        /// Limit price; protection price of a market buy; 1 tick for a market sell.
        var price: Price
        var remaining: Quantity
        var isMarket: Bool
        /// Most fees the order may pay (buys not amended), and what it paid.
        var feeBound: Amount?
        var feesPaid: Amount = .zero
    }

    /// What an operation that fails must leave as it was.
    struct Fingerprint: Equatable {
        var balances: [String: Balance]
        var positions: [String: Position]
        var fees: [String: Amount]
        var reservations: Int
        var applied: Int
        var nextEntryID: UInt64
        var entries: Int

        init(_ ledger: AccountLedger) {
            balances = ledger.balances
            positions = ledger.positions
            fees = ledger.feesCharged
            reservations = ledger.reservations.count
            applied = ledger.appliedFillCount
            nextEntryID = ledger.nextEntryID
            entries = ledger.entries.count
        }
    }

    static let currencies = ["USD", "BTC", "ETH"]
    let markets = [LedgerFixtures.btcUSD, LedgerFixtures.ethBTC]
    let mids: [Int64] = [500_000, 5_000]
    let maxLots: [Int64] = [20_000, 5_000]

    var random: SeededRandom
    var ledgers: [AccountLedger]
    var deposited: [String: Int64] = [:]
    var withdrawn: [String: Int64] = [:]
    var open: [OpenOrder] = []
    var nextOrderID: OrderID = 1
    var nextTradeID: [UInt64] = [1, 1]
    /// Balances as replayed from the rows: user → currency → (available, locked).
    var rowModel: [[String: (Int64, Int64)]]
    var lastRowID: [UInt64]
    var recentFills: [(user: Int, fill: Fill)] = []
    var fills = 0
    var closedByFill = 0

    init(seed: UInt64, users: Int) {
        random = SeededRandom(seed: seed)
        ledgers = (0..<users).map { AccountLedger(userID: UserID($0 + 1)) }
        rowModel = Array(repeating: [:], count: users)
        lastRowID = Array(repeating: 0, count: users)
    }

    /// Counts failures (a reference, so that `check` need not be mutating).
    final class Failures {
        var count = 0
    }

    let failureLog = Failures()
    var failures: Int { failureLog.count }

    /// Records an issue unless `condition` holds; the message is only built on failure.
    func check(_ condition: Bool, _ message: @autoclosure () -> String) {
        guard !condition else { return }
        failureLog.count += 1
        if failureLog.count <= 10 { Issue.record(Comment(rawValue: message())) }
    }

    mutating func pick(_ count: Int) -> Int { Int(random.int(in: 0...Int64(count - 1))) }

    mutating func run(steps: Int) {
        let snapshotEvery = max(25_000, steps / 8)
        for step in 1...steps {
            let roll = random.int(in: 0...99)
            switch roll {
            case 0..<10: deposit()
            case 10..<15: withdraw()
            case 15..<45: place()
            case 45..<52: cancel()
            case 52..<57: amend()
            case 57..<59: bogusFill()
            default: fill()
            }
            if open.count > 150 { cancel() }
            checkBalances(step: step)
            if step % 1_000 == 0 {
                for user in ledgers.indices {
                    do { try ledgers[user].verifyInvariants() } catch { check(false, "step \(step): \(error)") }
                }
            }
            if step % snapshotEvery == 0 { checkSnapshots(step: step) }
            if failures > 0 { return }
        }
        // Quiescence: cancel everything; nothing may stay locked.
        while !open.isEmpty { cancel() }
        checkBalances(step: steps + 1)
        for ledger in ledgers {
            for currency in LedgerSimulation.currencies {
                check(ledger.balance(currency).locked == .zero, "locked \(currency) left at quiescence")
            }
        }
    }

    // MARK: Operations

    mutating func deposit() {
        let user = pick(ledgers.count)
        let currency = LedgerSimulation.currencies[pick(3)]
        let top: Int64 = currency == "USD" ? 2_000_000_000_000 : currency == "BTC" ? 500_000_000 : 5_000_000_000
        let amount = Amount(units: random.int(in: 1...top))
        do {
            try ledgers[user].deposit(currency: currency, amount: amount, reference: "d")
            deposited[currency, default: 0] += amount.units
        } catch { check(false, "deposit: \(error)") }
    }

    mutating func withdraw() {
        let user = pick(ledgers.count)
        let currency = LedgerSimulation.currencies[pick(3)]
        let available = ledgers[user].balance(currency).available.units
        let amount = Amount(units: random.int(in: 1...max(1, available + available / 5)))
        let before = Fingerprint(ledgers[user])
        do {
            try ledgers[user].withdraw(currency: currency, amount: amount, reference: "w")
            withdrawn[currency, default: 0] += amount.units
            check(amount.units <= available, "withdrew more than available")
        } catch {
            check(error.code == .insufficientFunds && amount.units > available, "withdraw: \(error)")
            check(Fingerprint(ledgers[user]) == before, "failed withdrawal changed the ledger")
        }
    }

    mutating func place() {
        let user = pick(ledgers.count)
        let market = pick(2)
        let spec = markets[market]
        let side: Side = random.chance(50) ? .buy : .sell
        let isMarket = random.chance(12)
        let mid = mids[market]
        let ticks = mid + random.int(in: -mid / 20...mid / 20)
        let lots = random.chance(80) ? random.int(in: 1...maxLots[market] / 20) : random.int(in: 1...maxLots[market])
        let type: OrderType =
            isMarket ? (random.chance(80) ? .market : .stop) : (random.chance(90) ? .limit : .stopLimit)
        let protection = Price(ticks: mid + mid / 20)
        let order = NewOrder(
            id: nextOrderID, owner: UserID(user + 1), side: side, type: type,
            price: isMarket ? nil : Price(ticks: ticks),
            quantity: Quantity(lots: lots))
        let reservePrice = isMarket ? (side == .buy ? protection : Price(ticks: 1)) : Price(ticks: ticks)
        let before = Fingerprint(ledgers[user])
        do {
            let reservation = try ledgers[user].reserve(
                order: order, spec: spec, protectionPrice: isMarket ? protection : nil)
            nextOrderID += 1
            var bound: Amount? = nil
            if side == .buy {
                let notional = try spec.notional(reservePrice, order.quantity)
                bound = try notional.feeRoundedUp(bps: max(spec.makerFeeBps, spec.takerFeeBps))
                check(reservation.locked == (try notional.adding(bound!)), "buy reservation is not notional + max fee")
            } else {
                check(
                    reservation.locked == (try spec.amount(of: order.quantity)), "sell reservation is not the quantity")
            }
            open.append(
                OpenOrder(
                    user: user, market: market, id: order.id, side: side, price: reservePrice,
                    remaining: order.quantity,
                    isMarket: isMarket, feeBound: bound))
            if random.chance(3) {
                let again = Fingerprint(ledgers[user])
                do {
                    try ledgers[user].reserve(order: order, spec: spec, protectionPrice: protection)
                    check(false, "duplicate order id accepted")
                } catch {
                    check(error.code == .conflict, "duplicate: \(error)")
                    check(Fingerprint(ledgers[user]) == again, "duplicate reservation changed the ledger")
                }
            }
        } catch {
            check(error.code == .insufficientFunds, "reserve: \(error)")
            check(Fingerprint(ledgers[user]) == before, "failed reservation changed the ledger")
        }
    }

    mutating func cancel() {
        guard !open.isEmpty else { return }
        let index = pick(open.count)
        let order = open.remove(at: index)
        let symbol = markets[order.market].symbol
        let held = ledgers[order.user].reservation(symbol: symbol, orderID: order.id)?.locked
        do {
            let released = try ledgers[order.user].release(symbol: symbol, orderID: order.id)
            check(released != nil && released == held, "release returned \(String(describing: released))")
            let again = try ledgers[order.user].release(symbol: symbol, orderID: order.id)
            check(again == nil, "second release released something")
        } catch { check(false, "release: \(error)") }
    }

    mutating func amend() {
        guard !open.isEmpty else { return }
        let index = pick(open.count)
        let order = open[index]
        guard !order.isMarket else { return }
        let spec = markets[order.market]
        let mid = mids[order.market]
        let newPrice = random.chance(50) ? Price(ticks: mid + random.int(in: -mid / 20...mid / 20)) : nil
        let newLots = random.int(in: 1...order.remaining.lots * 2)
        let before = Fingerprint(ledgers[order.user])
        let reservation = ledgers[order.user].reservation(symbol: spec.symbol, orderID: order.id)
        do {
            try ledgers[order.user].adjustReservation(
                symbol: spec.symbol, orderID: order.id, newPrice: newPrice,
                newRemainingQuantity: Quantity(lots: newLots))
            open[index].remaining = Quantity(lots: newLots)
            if order.side == .buy || newPrice != nil { open[index].price = newPrice ?? order.price }
            open[index].feeBound = nil
        } catch {
            check(error.code == .insufficientFunds, "amend: \(error)")
            check(Fingerprint(ledgers[order.user]) == before, "failed amend changed the ledger")
            check(
                ledgers[order.user].reservation(symbol: spec.symbol, orderID: order.id) == reservation,
                "failed amend changed the reservation")
        }
    }

    mutating func bogusFill() {
        let user = pick(ledgers.count)
        let spec = markets[pick(2)]
        let fill = Fill(
            tradeID: 1 << 60 | random.next() >> 8, orderID: 1 << 50, owner: UserID(user + 1), side: .buy,
            price: Price(ticks: 1), quantity: Quantity(lots: 1), liquidity: .taker, spec: spec)
        let before = Fingerprint(ledgers[user])
        do {
            try ledgers[user].settle(fill: fill)
            check(false, "a fill without a reservation was applied")
        } catch {
            check(error.code == .internal, "bogus fill: \(error)")
            check(Fingerprint(ledgers[user]) == before, "bogus fill changed the ledger")
        }
    }

    mutating func fill() {
        guard open.count >= 2 else { return }
        let market = pick(2)
        let start = pick(open.count)
        var buyIndex: Int? = nil
        for offset in 0..<open.count {
            let index = (start + offset) % open.count
            if open[index].market == market, open[index].side == .buy {
                buyIndex = index
                break
            }
        }
        guard let buyIndex else { return }
        let buy = open[buyIndex]
        var sellIndex: Int? = nil
        for offset in 0..<open.count {
            let index = (start + offset) % open.count
            let sell = open[index]
            if sell.market == market, sell.side == .sell, sell.user != buy.user, sell.price <= buy.price,
                !(sell.isMarket && buy.isMarket)
            {
                sellIndex = index
                break
            }
        }
        guard let sellIndex else { return }
        let sell = open[sellIndex]
        let buyIsMaker = sell.isMarket || (!buy.isMarket && random.chance(50))
        let price = buyIsMaker ? buy.price : sell.price
        let quantity = Quantity(lots: random.int(in: 1...min(buy.remaining.lots, sell.remaining.lots)))
        let spec = markets[market]
        let tradeID = nextTradeID[market]
        nextTradeID[market] += 1
        let buyFill = Fill(
            tradeID: tradeID, orderID: buy.id, owner: UserID(buy.user + 1), side: .buy, price: price,
            quantity: quantity,
            liquidity: buyIsMaker ? .maker : .taker, spec: spec)
        let sellFill = Fill(
            tradeID: tradeID, orderID: sell.id, owner: UserID(sell.user + 1), side: .sell, price: price,
            quantity: quantity, liquidity: buyIsMaker ? .taker : .maker, spec: spec)
        fills += 1
        for (index, user, fill) in [(buyIndex, buy.user, buyFill), (sellIndex, sell.user, sellFill)] {
            do {
                let settlement = try ledgers[user].settle(fill: fill)
                check(settlement.applied, "fresh fill not applied")
                open[index].remaining.lots -= quantity.lots
                open[index].feesPaid = (try? open[index].feesPaid.adding(settlement.fee)) ?? .zero
                let closed = open[index].remaining.lots == 0
                check(settlement.orderClosed == closed, "orderClosed is \(settlement.orderClosed)")
                check(
                    (ledgers[user].reservation(symbol: spec.symbol, orderID: fill.orderID) == nil) == closed,
                    "reservation presence does not match the remaining quantity")
                if let bound = open[index].feeBound {
                    check(open[index].feesPaid <= bound, "order fees \(open[index].feesPaid) exceed \(bound)")
                }
                recentFills.append((user, fill))
            } catch { check(false, "settle \(fill.side): \(error)") }
        }
        // Remove filled orders (higher index first), expire what is left of market orders sometimes.
        for index in [buyIndex, sellIndex].sorted(by: >) {
            let order = open[index]
            if order.remaining.lots == 0 {
                open.remove(at: index)
                closedByFill += 1
            } else if order.isMarket, random.chance(50) {
                open.remove(at: index)
                do {
                    let released = try ledgers[order.user].release(symbol: spec.symbol, orderID: order.id)
                    check(released != nil, "market order remainder had no reservation")
                } catch { check(false, "expire: \(error)") }
            }
        }
        if recentFills.count > 64 { recentFills.removeFirst(32) }
        if random.chance(10), !recentFills.isEmpty {
            let (user, fill) = recentFills[pick(recentFills.count)]
            let before = Fingerprint(ledgers[user])
            do {
                let settlement = try ledgers[user].settle(fill: fill)
                check(!settlement.applied, "replayed fill applied again")
            } catch { check(false, "replay: \(error)") }
            check(Fingerprint(ledgers[user]) == before, "replayed fill changed the ledger")
        }
    }

    // MARK: Checks

    mutating func checkBalances(step: Int) {
        var totals: [String: Int64] = [:]
        for user in ledgers.indices {
            checkRows(user: user, step: step)
            let ledger = ledgers[user]
            for currency in LedgerSimulation.currencies {
                let balance = ledger.balance(currency)
                check(balance.available.units >= 0 && balance.locked.units >= 0, "step \(step): negative \(currency)")
                totals[currency, default: 0] += balance.total.units + (ledger.feesCharged[currency]?.units ?? 0)
            }
        }
        for currency in LedgerSimulation.currencies {
            let expected = deposited[currency, default: 0] - withdrawn[currency, default: 0]
            check(
                totals[currency] == expected,
                "step \(step): \(currency) balances + fees \(totals[currency] ?? 0) ≠ deposits − withdrawals \(expected)"
            )
        }
    }

    /// Replays the new rows of `user` onto the row model and compares it with the ledger.
    mutating func checkRows(user: Int, step: Int) {
        let rows = ledgers[user].drainEntries()
        for row in rows {
            check(row.id == lastRowID[user] + 1, "step \(step): row id \(row.id) after \(lastRowID[user])")
            lastRowID[user] = row.id
            let (available, locked) = rowModel[user][row.currency] ?? (0, 0)
            let amount = row.amount.units
            let after = (row.availableAfter.units, row.lockedAfter.units)
            let consistent: Bool
            switch row.type {
            case .deposit: consistent = amount > 0 && after == (available + amount, locked)
            case .withdrawal: consistent = amount < 0 && after == (available + amount, locked)
            case .lock: consistent = amount > 0 && after == (available - amount, locked + amount)
            case .unlock: consistent = amount > 0 && after == (available + amount, locked - amount)
            case .fee:
                consistent =
                    amount < 0 && (after == (available + amount, locked) || after == (available, locked + amount))
            case .trade:
                consistent =
                    amount != 0 && (after == (available + amount, locked) || after == (available, locked + amount))
            }
            check(consistent, "step \(step): row \(row) does not follow (\(available), \(locked))")
            check(row.balanceAfter.units == after.0 + after.1, "balanceAfter")
            rowModel[user][row.currency] = after
        }
        for (currency, model) in rowModel[user] {
            let balance = ledgers[user].balance(currency)
            check(
                model == (balance.available.units, balance.locked.units),
                "step \(step): rows of \(currency) give \(model), ledger has \(balance)")
        }
    }

    mutating func checkSnapshots(step: Int) {
        for ledger in ledgers {
            do {
                let restored = try AccountLedger(snapshot: ledger.snapshot())
                check(restored == ledger && restored.stateHash == ledger.stateHash, "step \(step): snapshot round trip")
            } catch { check(false, "step \(step): snapshot: \(error)") }
        }
    }
}
