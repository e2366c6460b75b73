import API
import TestSupport
import Testing

/// Many users trading at once through the API: money is conserved, every change of money has a row,
/// and every trade is a maker fill and a taker fill.
@Suite("End to end: conservation")
struct ConservationTests {
    /// What one user moved in and out, per currency, in units of 10⁻⁸.
    struct Flows: Sendable {
        var deposited: [String: Int64] = [:]
        var withdrawn: [String: Int64] = [:]
        var unexpected: [String] = []
    }

    static let currencies = ["USD", "BTC", "ETH"]

    @Test(.timeLimit(.minutes(4))) func moneyIsConservedAcrossConcurrentTrading() async throws {
        try await InProcessNode.run { node in
            let api = node.api
            var users: [Session] = []
            for index in 0..<5 { users.append(try await api.signUp("trader\(index)")) }
            let flows = try await withThrowingTaskGroup(of: Flows.self) { group in
                for (index, user) in users.enumerated() {
                    group.addTask { try await Self.trade(api, user, seed: UInt64(index) + 11, operations: 40) }
                }
                var all: [Flows] = []
                for try await flow in group { all.append(flow) }
                return all
            }
            #expect(flows.flatMap(\.unexpected) == [])
            let trades = try await Self.checkFills(api, users)
            #expect(trades > 20, "the scenario should trade")

            var deposited: [String: Int64] = [:]
            var totals: [String: Int64] = [:]
            var fees: Int64 = 0
            for flow in flows {
                for (currency, amount) in flow.deposited { deposited[currency, default: 0] += amount }
                for (currency, amount) in flow.withdrawn { deposited[currency, default: 0] -= amount }
            }
            for user in users {
                for balance in try await api.json(.get, "/v1/account/balances", token: user.token).arrayValue ?? [] {
                    totals[balance["currency"]!.stringValue!, default: 0] += Units.parse(balance["total"])
                }
                let fills = try await api.json(.get, "/v1/trades?limit=1000", token: user.token)
                fees += (fills.arrayValue ?? []).reduce(0) { $0 + Units.parse($1["fee"]) }
                try await Self.checkHistory(api, user)
            }
            #expect(fees > 0)
            #expect(deposited["USD"] == (totals["USD"] ?? 0) + fees, "USD: deposits − withdrawals = balances + fees")
            #expect(deposited["BTC"] == totals["BTC"])
            #expect(deposited["ETH"] == totals["ETH"])

            // Cancelling everything releases every reservation and empties the books.
            for user in users {
                _ = try await api.json(.delete, "/v1/orders", token: user.token)
                for balance in try await api.json(.get, "/v1/account/balances", token: user.token).arrayValue ?? [] {
                    #expect(balance["locked"] == "0.00000000", "\(user.username): \(balance.compact)")
                }
                try await Self.checkHistory(api, user)
            }
            #expect(try await api.book("BTC-USD") == Expected.book())
            #expect(try await api.book("ETH-USD") == Expected.book())
        }
    }

    /// One user's random session: deposits, limit/market orders of every time in force, cancels,
    /// amends and withdrawals.
    static func trade(_ api: NodeClient, _ user: Session, seed: UInt64, operations: Int) async throws -> Flows {
        var random = SeededRandom(seed: seed)
        var flows = Flows()
        func note(_ response: APIResponse, _ allowed: Set<Int>, _ what: String) {
            if !allowed.contains(response.status) { flows.unexpected.append("\(user.username) \(what): \(response)") }
        }
        for (currency, amount) in [("USD", "300000"), ("BTC", "3"), ("ETH", "40")] {
            try await api.deposit(user, currency, amount)
            flows.deposited[currency, default: 0] += Units.parse(amount)
        }
        var open: [String] = []
        for _ in 0..<operations {
            let roll = random.int(in: 0...99)
            let btc = random.chance(70)
            let symbol = btc ? "BTC-USD" : "ETH-USD"
            let side = random.chance(50) ? "buy" : "sell"
            let quantity = btc ? "0.0\(random.int(in: 1...9))" : "0.\(random.int(in: 1...9))"
            let price = btc ? "\(49_900 + random.int(in: 0...20) * 10)" : "\(1_990 + random.int(in: 0...20))"
            if roll < 65 {
                var extra: JSONObject = [:]
                let tif = random.int(in: 0...9)
                if tif == 0 { extra["time_in_force"] = "ioc" } else if tif == 1 { extra["time_in_force"] = "fok" }
                if tif > 1, random.chance(10) { extra["post_only"] = true }
                let response = try await api.place(user, order(side, quantity, at: price, symbol: symbol, extra: extra))
                note(response, [201, 422], "place")
                if response.status == 201, let id = response.json["order_id"]?.stringValue { open.append(id) }
            } else if roll < 75 {
                let response = try await api.place(user, order(side, quantity, type: "market", symbol: symbol))
                note(response, [201, 422], "market")
            } else if roll < 87, !open.isEmpty {
                let id = open.remove(at: Int(random.int(in: 0...Int64(open.count - 1))))
                note(try await api.call(.delete, "/v1/orders/\(id)", token: user.token), [200, 409], "cancel")
            } else if roll < 95, let id = open.last {
                let current = try await api.json(.get, "/v1/orders/\(id)", token: user.token)
                guard current["type"] == "limit", let symbol = current["symbol"]?.stringValue else { continue }
                let better =
                    symbol == "BTC-USD"
                    ? "\(49_900 + random.int(in: 0...20) * 10)" : "\(1_990 + random.int(in: 0...20))"
                note(
                    try await api.call(.patch, "/v1/orders/\(id)", json: ["price": .string(better)], token: user.token),
                    [200, 400, 409, 422], "amend")
            } else {
                let currency = currencies[Int(random.int(in: 0...2))]
                let amount = currency == "USD" ? "1000" : "0.01"
                let response = try await api.call(
                    .post, "/v1/account/withdrawals", json: ["currency": .string(currency), "amount": .string(amount)],
                    token: user.token)
                note(response, [201, 422], "withdraw")
                if response.status == 201 { flows.withdrawn[currency, default: 0] += Units.parse(amount) }
            }
        }
        return flows
    }

    /// Every trade appears as exactly two fills of two users (one maker, one taker, opposite sides, same
    /// price and quantity), every public trade is there, and each order's fills add up to its filled
    /// quantity. Returns the number of trades.
    static func checkFills(_ api: NodeClient, _ users: [Session]) async throws -> Int {
        var fills: [String: [JSONValue]] = [:]
        for user in users {
            for fill in try await api.json(.get, "/v1/trades?limit=1000", token: user.token).arrayValue ?? [] {
                let key = "\(fill["symbol"]!.stringValue!)#\(fill["trade_id"]!.stringValue!)"
                fills[key, default: []].append(fill)
            }
            for order in try await api.json(.get, "/v1/orders?limit=1000", token: user.token).arrayValue ?? [] {
                let sum = (order["fills"]?.arrayValue ?? []).reduce(0) { $0 + Units.parse($1["quantity"]) }
                #expect(sum == Units.parse(order["filled_quantity"]), "\(order.compact)")
            }
        }
        for (key, pair) in fills {
            #expect(pair.count == 2, "\(key): \(pair.map(\.compact))")
            guard pair.count == 2 else { continue }
            #expect(Set(pair.compactMap { $0["liquidity"] }) == ["maker", "taker"], "\(key)")
            #expect(Set(pair.compactMap { $0["side"] }) == ["buy", "sell"], "\(key)")
            #expect(pair[0]["price"] == pair[1]["price"] && pair[0]["quantity"] == pair[1]["quantity"], "\(key)")
        }
        var published = 0
        for symbol in ["BTC-USD", "ETH-USD"] {
            let trades = try await api.json(.get, "/v1/markets/\(symbol)/trades?limit=1000").arrayValue ?? []
            published += trades.count
            for trade in trades {
                #expect(fills["\(symbol)#\(trade["trade_id"]!.stringValue!)"] != nil, "\(trade.compact)")
            }
        }
        #expect(published == fills.count)
        return fills.count
    }

    /// The user's history, oldest first: ids without gaps, and per currency each row's balance_after is
    /// the previous one plus its amount (LOCK and UNLOCK move money within the balance); the last one
    /// is the balance.
    static func checkHistory(_ api: NodeClient, _ user: Session) async throws {
        let rows = try await api.json(.get, "/v1/account/transactions?limit=1000", token: user.token).arrayValue ?? []
        #expect(rows.count < 1000, "the whole history must fit in one page")
        var running: [String: Int64] = [:]
        for (index, row) in rows.reversed().enumerated() {
            #expect(row["id"]?.stringValue == String(index + 1), "\(user.username): \(row.compact)")
            let currency = row["currency"]?.stringValue ?? "?"
            switch row["type"]?.stringValue {
            case "LOCK", "UNLOCK": #expect(Units.parse(row["amount"]) > 0, "\(row.compact)")
            case "DEPOSIT", "WITHDRAWAL", "TRADE", "FEE": running[currency, default: 0] += Units.parse(row["amount"])
            default: Issue.record("unknown type: \(row.compact)")
            }
            #expect(
                Units.parse(row["balance_after"]) == running[currency, default: 0], "\(user.username): \(row.compact)")
        }
        for balance in try await api.json(.get, "/v1/account/balances", token: user.token).arrayValue ?? [] {
            let currency = balance["currency"]?.stringValue ?? "?"
            #expect(Units.parse(balance["total"]) == running[currency, default: 0], "\(user.username) \(currency)")
        }
    }
}
