import Trading

/// The shard's part of `verify`: everything that can be checked without another shard, and the totals and
/// lists that `InvariantChecker` matches across shards and books.
extension AccountShardState {
    /// - Parameter sampleUsers: how many users' balances to keep for the read-model comparison.
    func audit(progress: ShardProgress, sampleUsers: Int = 0) -> AccountShardAudit {
        var audit = AccountShardAudit(progress: progress, anomalies: anomalies)
        audit.users = userCount
        forEachAccount { user, account in
            Self.auditMoney(account, user: user, into: &audit)
            Self.auditReservations(account, user: user, into: &audit)
            Self.auditFills(account, user: user, into: &audit)
            if audit.sampledBalances.count < sampleUsers { audit.sampledBalances[user] = account.ledger.balances }
        }
        return audit
    }

    /// Totals per currency (balances, fees, what was paid in) and negative balances.
    private static func auditMoney(_ account: UserAccount, user: UserID, into audit: inout AccountShardAudit) {
        let ledger = account.ledger
        for (currency, balance) in ledger.balances {
            audit.balancesChecked += 1
            audit.totals[currency, default: .init()].available += Int128(balance.available.units)
            audit.totals[currency, default: .init()].locked += Int128(balance.locked.units)
            if balance.available.units < 0 || balance.locked.units < 0 {
                audit.negativeBalances.add(
                    "balance/\(user)/\(currency)",
                    "user \(user) \(currency): available \(balance.available), locked \(balance.locked)")
            }
        }
        for (currency, fees) in ledger.feesCharged {
            audit.totals[currency, default: .init()].fees += Int128(fees.units)
        }
        // The daily series keeps every day's deposits minus withdrawals (and is part of the snapshot).
        for day in account.daily.days {
            for (currency, amount) in day.netDeposits {
                audit.totals[currency, default: .init()].netDeposits += Int128(amount.units)
            }
        }
    }

    /// Locked funds equal the reservations of open orders; every reservation belongs to an open order and
    /// every open order holds one; each reservation holds what its remaining quantity can still cost.
    private static func auditReservations(
        _ account: UserAccount, user: UserID, into audit: inout AccountShardAudit
    ) {
        let ledger = account.ledger
        let before = audit.reservationProblems.count
        var held: [String: Int128] = [:]
        for (key, reservation) in ledger.reservations.sorted(by: { $0.key < $1.key }) {
            audit.reservationsChecked += 1
            held[reservation.currency, default: 0] += Int128(reservation.locked.units)
            audit.reservations.append(
                .init(
                    symbol: key.symbol, orderID: key.orderID, owner: user, remaining: reservation.remaining,
                    inFlight: account.orders[key.orderID]?.acknowledged == false))
            let status = account.orders[key.orderID]?.view.status
            if status?.isOpen != true {
                audit.reservationProblems.add(
                    "order/\(key.orderID)/status",
                    "user \(user): order \(key.orderID) (\(key.symbol)) holds a reservation but is "
                        + (status.map { $0.rawValue } ?? "unknown"))
            }
        }
        for (currency, balance) in ledger.balances.sorted(by: { $0.key < $1.key })
        where Int128(balance.locked.units) != held[currency, default: 0] {
            audit.reservationProblems.add(
                "locked/\(user)/\(currency)",
                "user \(user) \(currency): locked \(balance.locked) but open orders reserve "
                    + Self.describe(held[currency, default: 0]))
        }
        for (currency, units) in held where ledger.balances[currency] == nil && units != 0 {
            audit.reservationProblems.add(
                "held/\(user)/\(currency)", "user \(user): reservations hold \(currency) without a balance")
        }
        for id in account.orderIDs {
            guard let order = account.orders[id], order.view.status.isOpen,
                ledger.reservation(symbol: order.view.symbol, orderID: id) == nil
            else { continue }
            audit.reservationProblems.add(
                "order/\(id)/unreserved", "user \(user): open order \(id) (\(order.view.symbol)) holds no reservation")
        }
        // The ledger's own invariants (each reservation holds exactly what it can still cost), when nothing
        // above already explains its failure; negative balances are reported by their own check.
        let negative = ledger.balances.values.contains { $0.available.units < 0 || $0.locked.units < 0 }
        if audit.reservationProblems.count == before, !negative {
            do {
                try ledger.verifyInvariants()
            } catch {
                audit.reservationProblems.add("ledger/\(user)", "user \(user): \(error.message)")
            }
        }
    }

    /// Trade ids settled by the ledger, and the fill records of the history (each must be settled).
    private static func auditFills(_ account: UserAccount, user: UserID, into audit: inout AccountShardAudit) {
        let ledger = account.ledger
        for (symbol, settled) in ledger.appliedFills {
            audit.settledFills[symbol, default: []].append(contentsOf: settled.recent)
            if settled.settledThrough > audit.settledThrough[symbol] ?? 0 {
                audit.settledThrough[symbol] = settled.settledThrough
            }
        }
        for trade in account.trades {
            var count = audit.fillRecords[trade.symbol, default: [:]][trade.tradeID, default: .init()]
            if trade.liquidity == .maker { count.maker += 1 } else { count.taker += 1 }
            audit.fillRecords[trade.symbol, default: [:]][trade.tradeID] = count
            if !ledger.hasApplied(FillID(symbol: trade.symbol, tradeID: trade.tradeID)) {
                audit.fillProblems.add(
                    "record/\(user)/\(trade.symbol)/\(trade.tradeID)",
                    "user \(user): fill of \(trade.symbol) trade \(trade.tradeID) recorded but not settled")
            }
        }
    }

    /// An amount of units of 10⁻⁸ that may exceed `Int64`.
    static func describe(_ units: Int128) -> String {
        guard let narrow = Int64(exactly: units) else { return "\(units) units" }
        return Amount(units: narrow).description
    }
}
