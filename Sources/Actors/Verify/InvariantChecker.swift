import Trading

/// Checks the invariants of design.md over the audits of every account shard and every book: a pure
/// function of its inputs (`Exchange.verify` gathers them and adds the read-model check).
struct InvariantChecker {
    /// One check of one pass.
    struct Outcome: Sendable, Hashable {
        var name: String
        var summary: String
        var checked: Int
        var findings: Findings
        var note: String?

        /// This check as a later pass found it, keeping only the violations this pass found too.
        func persisting(in later: Outcome) -> Outcome {
            var result = later
            result.findings = findings.persisting(in: later.findings)
            return result
        }

        var check: InvariantReport.Check {
            InvariantReport.Check(
                name: name, summary: summary, checked: checked, violations: findings.count,
                examples: findings.examples, note: note)
        }
    }

    let accounts: [AccountShardAudit]
    let symbols: [SymbolAudit]

    /// The checks of memory, in report order.
    func checks() -> [Outcome] {
        [moneyConservation(), nonNegativeBalances(), fillsSettled(), booksUncrossed(), reservations(), anomalies()]
    }

    /// Per currency: deposits − withdrawals = Σ available + Σ locked + Σ fees collected.
    func moneyConservation() -> Outcome {
        var totals: [String: AccountShardAudit.CurrencyTotals] = [:]
        for audit in accounts {
            for (currency, shard) in audit.totals { totals[currency, default: .init()].add(shard) }
        }
        var findings = Findings()
        for (currency, total) in totals.sorted(by: { $0.key < $1.key }) {
            let held = total.available + total.locked + total.fees
            guard held != total.netDeposits else { continue }
            findings.add(
                "currency/\(currency)",
                "\(currency): deposits − withdrawals \(describe(total.netDeposits)) ≠ available "
                    + "\(describe(total.available)) + locked \(describe(total.locked)) + fees "
                    + "\(describe(total.fees)) (difference \(describe(held - total.netDeposits)))")
        }
        return check(
            InvariantReport.Name.moneyConservation,
            "per currency, deposits − withdrawals = available + locked + fees collected", totals.count, findings)
    }

    func nonNegativeBalances() -> Outcome {
        var findings = Findings()
        for audit in accounts { findings.merge(audit.negativeBalances) }
        return check(
            InvariantReport.Name.nonNegativeBalances, "no available or locked balance is negative",
            accounts.reduce(0) { $0 + $1.balancesChecked }, findings)
    }

    /// Every trade of every book is settled by exactly two ledgers (maker and taker), no ledger settled a
    /// trade the book never made, and no fill is recorded twice in one role. A ledger lists the ids of its
    /// recent fills only (`SettledTrades`), so the count of each trade is checked above the highest watermark
    /// of the market's ledgers: every trade while no ledger has pruned its list.
    func fillsSettled() -> Outcome {
        var findings = Findings()
        for audit in accounts { findings.merge(audit.fillProblems) }
        let books = Dictionary(symbols.map { ($0.symbol, $0) }, uniquingKeysWith: { first, _ in first })
        var settled: [String: [UInt64]] = [:]
        var floors: [String: UInt64] = [:]
        var records: [String: [UInt64: AccountShardAudit.RoleCount]] = [:]
        for audit in accounts {
            for (symbol, tradeIDs) in audit.settledFills { settled[symbol, default: []].append(contentsOf: tradeIDs) }
            for (symbol, floor) in audit.settledThrough { floors[symbol] = max(floors[symbol] ?? 0, floor) }
            for (symbol, counts) in audit.fillRecords {
                records[symbol, default: [:]].merge(counts) {
                    .init(maker: $0.maker + $1.maker, taker: $0.taker + $1.taker)
                }
            }
        }
        var checked = 0
        var unchecked: [String] = []
        for symbol in Set(books.keys).union(settled.keys).sorted() {
            let made = books[symbol]?.lastTradeID ?? 0
            let floor = min(floors[symbol] ?? 0, made)
            if floor > 0 { unchecked.append("\(symbol) through trade \(floor)") }
            checked += Int(clamping: made - floor)
            var sides = [Int32](repeating: 0, count: Int(clamping: made - floor) + 1)
            for id in settled[symbol] ?? [] {
                guard id >= 1, id <= made else {
                    findings.add(
                        "trade/\(symbol)/\(id)/unknown",
                        "\(symbol) trade \(id): settled, but the book made \(made) trades")
                    continue
                }
                if id > floor { sides[Int(id - floor)] += 1 }
            }
            for offset in sides.indices.dropFirst() where sides[offset] != 2 {
                let id = floor + UInt64(offset)
                findings.add(
                    "trade/\(symbol)/\(id)/sides",
                    "\(symbol) trade \(id): settled by \(sides[offset]) accounts (expected 2: maker and taker)")
            }
            for (id, count) in (records[symbol] ?? [:]).sorted(by: { $0.key < $1.key })
            where count.maker > 1 || count.taker > 1 {
                findings.add(
                    "trade/\(symbol)/\(id)/records",
                    "\(symbol) trade \(id): \(count.maker) maker and \(count.taker) taker fill records")
            }
        }
        var outcome = check(
            InvariantReport.Name.fillsSettled,
            "every trade is settled once on the maker's side and once on the taker's, and nothing else is settled",
            checked, findings)
        if !unchecked.isEmpty {
            outcome.note =
                "counted above the ledgers' watermarks (each keeps the ids of its last \(SettledTrades.window)+ "
                + "fills per market); not counted: \(unchecked.joined(separator: ", "))"
        }
        return outcome
    }

    func booksUncrossed() -> Outcome {
        var findings = Findings()
        for book in symbols {
            guard let bid = book.bestBid, let ask = book.bestAsk, bid >= ask else { continue }
            findings.add(
                "book/\(book.symbol)", "\(book.symbol): best bid \(bid.ticks) ticks ≥ best ask \(ask.ticks) ticks")
        }
        return check(
            InvariantReport.Name.booksUncrossed, "every book's best bid is below its best ask", symbols.count, findings)
    }

    /// The accounts' own findings, then every reservation against its book: each open order's reservation
    /// matches an order resting (or waiting as a stop) with the same remaining quantity, and every order
    /// in a book has one.
    func reservations() -> Outcome {
        var findings = Findings()
        for audit in accounts { findings.merge(audit.reservationProblems) }
        var unmatched: [String: [OrderID: SymbolAudit.BookOrder]] = [:]
        for book in symbols {
            unmatched[book.symbol] = Dictionary(
                book.orders.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        }
        var checked = 0
        for audit in accounts {
            for reservation in audit.reservations {
                checked += 1
                let label = "order \(reservation.orderID) (\(reservation.symbol)) of user \(reservation.owner)"
                guard let order = unmatched[reservation.symbol]?.removeValue(forKey: reservation.orderID) else {
                    // A place its book has not answered yet is on its way (or sent again once `resubmitAfter` old);
                    // like any command in flight, it is not in the book yet.
                    if reservation.inFlight { continue }
                    findings.add(
                        "order/\(reservation.orderID)/missing", "\(label) holds a reservation but is not in the book")
                    continue
                }
                if order.owner != reservation.owner || order.remaining != reservation.remaining {
                    findings.add(
                        "order/\(reservation.orderID)/remaining",
                        "\(label): \(reservation.remaining.lots) lots reserved, \(order.remaining.lots) lots "
                            + "in the book (owner \(order.owner))")
                }
            }
        }
        for (symbol, orders) in unmatched.sorted(by: { $0.key < $1.key }) {
            for order in orders.values.sorted(by: { $0.id < $1.id }) {
                checked += 1
                findings.add(
                    "order/\(order.id)/unreserved",
                    "order \(order.id) of user \(order.owner) is in the \(symbol) book without a reservation")
            }
        }
        return check(
            InvariantReport.Name.reservations,
            "locked funds equal the reservations of open orders, and every open order is in its book", checked,
            findings)
    }

    func anomalies() -> Outcome {
        var findings = Findings()
        for audit in accounts where audit.anomalies != 0 {
            findings.add(
                "shard/\(audit.progress.shard)",
                "\(audit.progress.shard): \(audit.anomalies) book events could not be applied")
        }
        return check(
            InvariantReport.Name.anomalies, "no account shard met a book event it could not apply", accounts.count,
            findings)
    }

    private func check(_ name: String, _ summary: String, _ checked: Int, _ findings: Findings) -> Outcome {
        Outcome(name: name, summary: summary, checked: checked, findings: findings)
    }

    private func describe(_ units: Int128) -> String { AccountShardState.describe(units) }
}
