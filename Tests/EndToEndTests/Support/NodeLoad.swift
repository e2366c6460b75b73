import API
import Synchronization
import TestSupport
import Testing

/// Users and order flow for a node process, and what the node shows of its state.
enum NodeLoad {
    /// Registers (bcrypt cost 12 in the real node: done in parallel) and funds `count` users.
    static func users(_ api: NodeClient, count: Int, prefix: String = "user") async throws -> [Session] {
        try await withThrowingTaskGroup(of: (Int, Session).self) { group in
            for index in 0..<count {
                group.addTask {
                    let session = try await api.signUp("\(prefix)\(index)")
                    try await api.deposit(session, "USD", "1000000")
                    try await api.deposit(session, "BTC", "10")
                    return (index, session)
                }
            }
            var sessions: [(Int, Session)] = []
            for try await session in group { sessions.append(session) }
            return sessions.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    /// The request of order number `index`: prices around 50,000 so that many cross, some IOC, market
    /// and post-only orders.
    static func request(_ index: Int, seed: UInt64) -> JSONValue {
        var random = SeededRandom(seed: seed &+ UInt64(index) &* 0x9E37)
        let side = random.chance(50) ? "buy" : "sell"
        let quantity = "0.0\(random.int(in: 1...5))"
        let price = "\(49_950 + random.int(in: 0...10) * 10)"
        let kind = random.int(in: 0...19)
        switch kind {
        case 0, 1: return order(side, quantity, at: price, extra: ["time_in_force": "ioc"])
        case 2, 3: return order(side, quantity, type: "market")
        case 4: return order(side, quantity, at: price, extra: ["post_only": true])
        default: return order(side, quantity, at: price, extra: ["client_order_id": .string("o-\(seed)-\(index)")])
        }
    }

    /// Places `count` orders from `users` in turn, `parallel` at a time; returns every acknowledged
    /// (201) order, and records an issue for any answer but 201 and 422.
    static func orders(_ api: NodeClient, _ users: [Session], count: Int, seed: UInt64, parallel: Int = 16)
        async throws -> [(user: Int, order: JSONValue)]
    {
        let acknowledged = Acknowledged()
        try await orders(api, users, count: count, seed: seed, parallel: parallel, into: acknowledged)
        return acknowledged.all
    }

    /// `orders(…)` collecting into `acknowledged` as answers arrive. With `untilFailure`, a request that
    /// fails (the node was killed) or answers 503 (its active node was) ends the load instead of throwing.
    static func orders(
        _ api: NodeClient, _ users: [Session], count: Int, seed: UInt64, parallel: Int = 16,
        into acknowledged: Acknowledged, untilFailure: Bool = false, counting503: Bool = false
    ) async throws {
        try await withThrowingTaskGroup(of: (Int, APIResponse?).self) { group in
            var failed = false
            func collect(_ result: (Int, APIResponse?)) {
                guard let response = result.1 else {
                    failed = true
                    return
                }
                if untilFailure, response.status == 503 {
                    // A standby whose active node died answers 503 until another takes over.
                    failed = true
                    return
                }
                if counting503, response.status == 503 {
                    acknowledged.refuse()
                    return
                }
                if response.status == 201 {
                    // A body cut short (the node was killed while answering) is no acknowledgement.
                    if response.json["order_id"] != nil {
                        acknowledged.append(user: result.0, order: response.json)
                    } else {
                        #expect(untilFailure, "201 without an order: \(response)")
                    }
                } else {
                    #expect(response.status == 422, "\(response)")
                }
            }
            for index in 0..<count where !failed {
                if index >= parallel, let done = try await group.next() { collect(done) }
                let user = index % users.count
                group.addTask {
                    do {
                        return (user, try await api.place(users[user], request(index, seed: seed)))
                    } catch  where untilFailure {
                        return (user, nil)
                    }
                }
            }
            for try await done in group { collect(done) }
        }
    }
}

/// Acknowledged orders, in the order their answers arrived.
final class Acknowledged: Sendable {
    private let orders = Mutex<[(user: Int, order: JSONValue)]>([])
    private let refusals = Mutex(0)
    func append(user: Int, order: JSONValue) { orders.withLock { $0.append((user, order)) } }
    /// Counts a 503 answer (`counting503`).
    func refuse() { refusals.withLock { $0 += 1 } }
    var refused: Int { refusals.withLock { $0 } }
    var count: Int { orders.withLock { $0.count } }
    var all: [(user: Int, order: JSONValue)] { orders.withLock { $0 } }

    /// Returns once `count` orders are acknowledged, after 30 s, or when the task is cancelled (a fault test
    /// strikes once the load is under way).
    func wait(forAtLeast count: Int) async {
        let deadline = ContinuousClock.now + .seconds(30)
        while self.count < count, ContinuousClock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(2))
        }
    }
}

/// Everything the API shows of a node's state, for comparing before and after a restart.
struct NodeState: Sendable, Equatable {
    /// Per user: orders, fills, balances, history and portfolio.
    var accounts: [String: [String: JSONValue]]
    /// Per symbol: ticker, order book (with its sequence), recent trades and candles.
    var markets: [String: [String: JSONValue]]

    static let symbols = ["BTC-USD", "ETH-USD"]

    static func capture(_ api: NodeClient, _ users: [Session]) async throws -> NodeState {
        var accounts: [String: [String: JSONValue]] = [:]
        for user in users {
            var views: [String: JSONValue] = [:]
            for (name, path) in [
                ("orders", "/v1/orders?limit=1000"), ("fills", "/v1/trades?limit=1000"),
                ("balances", "/v1/account/balances"), ("transactions", "/v1/account/transactions?limit=1000"),
                ("portfolio", "/v1/portfolio"),
            ] {
                views[name] = try await api.json(.get, path, token: user.token)
            }
            accounts[user.username] = views
        }
        var markets: [String: [String: JSONValue]] = [:]
        for symbol in symbols {
            var ticker = try await api.json(.get, "/v1/markets/\(symbol)/ticker").objectValue
            ticker?["timestamp"] = nil  // the time of the request
            markets[symbol] = [
                "ticker": ticker.map(JSONValue.object) ?? .null,
                "orderbook": try await api.json(.get, "/v1/markets/\(symbol)/orderbook?depth=1000"),
                "trades": try await api.json(.get, "/v1/markets/\(symbol)/trades?limit=1000"),
                "candles": try await api.json(.get, "/v1/markets/\(symbol)/candles?interval=1m&limit=1000"),
            ]
        }
        return NodeState(accounts: accounts, markets: markets)
    }

    /// Records an issue per view that differs from `expected`.
    func expectSame(as expected: NodeState, _ context: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for (user, views) in expected.accounts {
            for (name, value) in views where accounts[user]?[name] != value {
                Issue.record(
                    "\(context): \(user) \(name) differs\nbefore: \(value.compact)\nafter:  \(accounts[user]?[name]?.compact ?? "nil")",
                    sourceLocation: sourceLocation)
            }
        }
        for (symbol, views) in expected.markets {
            for (name, value) in views where markets[symbol]?[name] != value {
                Issue.record(
                    "\(context): \(symbol) \(name) differs\nbefore: \(value.compact)\nafter:  \(markets[symbol]?[name]?.compact ?? "nil")",
                    sourceLocation: sourceLocation)
            }
        }
    }

    /// Every acknowledged order is in its owner's orders: a closed one exactly as acknowledged, an open
    /// one with at least the fills it was acknowledged with.
    func expectContains(
        _ acknowledged: [(user: Int, order: JSONValue)], of users: [Session],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for (user, ack) in acknowledged {
            let orders = accounts[users[user].username]?["orders"]?.arrayValue ?? []
            guard let now = orders.first(where: { $0["order_id"] == ack["order_id"] }) else {
                Issue.record("acknowledged order missing: \(ack.compact)", sourceLocation: sourceLocation)
                continue
            }
            let closed = ["filled", "cancelled", "rejected"].contains(ack["status"]?.stringValue ?? "")
            if closed {
                #expect(now == ack, "\(now.compact) vs acknowledged \(ack.compact)", sourceLocation: sourceLocation)
            } else {
                let fills = ack["fills"]?.arrayValue ?? []
                #expect(
                    Array((now["fills"]?.arrayValue ?? []).prefix(fills.count)) == fills,
                    "\(now.compact) vs acknowledged \(ack.compact)", sourceLocation: sourceLocation)
            }
        }
    }

    /// Each order book is exactly the open limit orders of every user, aggregated per price.
    func expectBooksMatchOpenOrders(sourceLocation: SourceLocation = #_sourceLocation) {
        for (symbol, name, book, open) in bookMismatches() {
            #expect(book == open, "\(symbol) \(name): book vs open orders", sourceLocation: sourceLocation)
        }
    }

    /// Whether `expectBooksMatchOpenOrders` would pass.
    var booksMatchOpenOrders: Bool { bookMismatches().isEmpty }

    /// The sides of books that differ from the open limit orders of every user: (symbol, bids or asks, the
    /// book's levels, the open orders' levels).
    private func bookMismatches() -> [(String, String, [String: Int64], [String: Int64])] {
        var mismatches: [(String, String, [String: Int64], [String: Int64])] = []
        for (symbol, views) in markets {
            var levels: [String: [String: Int64]] = ["buy": [:], "sell": [:]]
            for order in accounts.values.flatMap({ $0["orders"]?.arrayValue ?? [] })
            where order["symbol"]?.stringValue == symbol {
                guard ["new", "partially_filled"].contains(order["status"]?.stringValue ?? ""),
                    let side = order["side"]?.stringValue, let price = order["price"]?.stringValue
                else { continue }
                levels[side]![price, default: 0] += Units.parse(order["remaining_quantity"])
            }
            for (side, name) in [("buy", "bids"), ("sell", "asks")] {
                var book: [String: Int64] = [:]
                for level in views["orderbook"]?[name]?.arrayValue ?? [] {
                    book[level[0]?.stringValue ?? "?"] = Units.parse(level[1])
                }
                if book != levels[side] { mismatches.append((symbol, name, book, levels[side] ?? [:])) }
            }
        }
        return mismatches
    }

    /// Money is conserved: per currency, what was deposited = Σ balances (+ Σ fees for the quote).
    func expectConservation(deposited: [String: Int64], sourceLocation: SourceLocation = #_sourceLocation) {
        var totals: [String: Int64] = [:]
        var fees: Int64 = 0
        for views in accounts.values {
            for balance in views["balances"]?.arrayValue ?? [] {
                totals[balance["currency"]?.stringValue ?? "?", default: 0] += Units.parse(balance["total"])
            }
            fees += (views["fills"]?.arrayValue ?? []).reduce(0) { $0 + Units.parse($1["fee"]) }
        }
        totals["USD", default: 0] += fees
        #expect(totals == deposited, "balances + fees vs deposits", sourceLocation: sourceLocation)
    }
}
