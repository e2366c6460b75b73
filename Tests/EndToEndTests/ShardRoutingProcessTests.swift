import API
import Actors
import Foundation
import Synchronization
import TestSupport
import Testing
import Trading

/// Three real `bourse start` processes sharing one PostgreSQL database, routing by shard (`BOURSE_ROUTING=shard`):
/// each node serves the shards the membership's assignment gives it, every request goes to the owner of its
/// shard, and a killed node's shards are taken by the others once its leases lapse. Nested in the active/standby
/// cluster suite, which is serialized: one three-node cluster at a time on the machine's two cores (two at
/// once starved the other process tests in CI).
extension ClusterProcessTests {
    @Suite("End to end: a cluster routing by shard")
    struct ShardRouting {
        /// A node routing by shard: node id `id`, its own peer port, the shared database and secret.
        static func start(_ storage: NodeStorage, _ id: String, nodes: NodeGuard, feeds: Bool = false)
            async throws -> NodeProcess
        {
            try await ClusterProcessTests.start(storage, id, nodes: nodes, routing: "shard", feeds: feeds)
        }

        /// Shard → owning node id, from the leases (`GET /admin/v1/shards`; owners are `<node id>#<incarnation>`).
        static func owners(via node: NodeProcess, admin: Session) async throws -> [String: String] {
            try await ProcessRestartTests.with(node) { api in
                let shards = try await api.json(.get, "/admin/v1/shards", token: admin.token)
                var owners: [String: String] = [:]
                for shard in shards.arrayValue ?? [] {
                    guard let name = shard["shard"]?.stringValue, let owner = shard["owner"]?.stringValue else {
                        continue
                    }
                    owners[name] = String(owner.split(separator: "#").first ?? "")
                }
                return owners
            }
        }

        /// Waits until the leases spread the shards evenly over exactly `members`: each holds at least 4/5 of its
        /// fair share (a lease released in a move names its old owner until the new one takes it, so a lopsided
        /// spread is a rebalance under way).
        static func waitForSpread(
            over members: Set<String>, via node: NodeProcess, admin: Session, within timeout: Duration = .seconds(60)
        ) async throws -> [String: String] {
            let deadline = ContinuousClock.now + timeout
            var last = "no answer"
            while ContinuousClock.now < deadline {
                do {
                    let owners = try await owners(via: node, admin: admin)
                    let counts = Dictionary(grouping: owners.values, by: { $0 }).mapValues(\.count)
                    let fair = owners.count / max(1, members.count)
                    if !owners.isEmpty, Set(owners.values) == members, counts.values.allSatisfy({ $0 * 5 >= fair * 4 })
                    {
                        return owners
                    }
                    last = "owners \(counts)"
                } catch {
                    last = "\(error)"
                }
                try await Task.sleep(for: .milliseconds(250))
            }
            throw HarnessError("shards never spread over \(members.sorted()): \(last)")
        }

        static func url(_ node: NodeProcess) -> String { "http://127.0.0.1:\(node.port)" }

        /// The users' state read through `node`, once every open order is in its book, or after 20 s. A place
        /// whose book did not answer (it moved, died or froze) is sent again once `resubmitAfter` (10 s) old:
        /// until then its order is open in its account but not in the book.
        static func settledState(via node: NodeProcess, _ users: [Session]) async throws -> NodeState {
            var state = try await ProcessRestartTests.with(node) { api in try await NodeState.capture(api, users) }
            let resubmitted = ContinuousClock.now + .seconds(20)
            while !state.booksMatchOpenOrders, ContinuousClock.now < resubmitted {
                try await Task.sleep(for: .milliseconds(500))
                state = try await ProcessRestartTests.with(node) { api in try await NodeState.capture(api, users) }
            }
            return state
        }

        static func accountShard(of session: Session) throws -> String {
            let user = try #require(UserID(session.userID))
            return ShardKey.account(index: ShardKey.accountShardIndex(user, shards: ShardKey.defaultAccountShards))
        }

        /// Nodes a, b and c on a fresh database whose admin password is `AdminCLITests.password`, once the leases
        /// spread the shards over the three; `body` gets them, an admin session and each shard's owner.
        static func withCluster(
            feeds: Bool = false,
            _ body:
                @escaping @Sendable (
                    NodeStorage, NodeGuard, NodeProcess, NodeProcess, NodeProcess, Session, [String: String]
                ) async throws -> Void
        ) async throws {
            try await ProcessRestartTests.withNodes(.postgres, timeout: .seconds(200)) { storage, nodes in
                let storage = try AdminCLITests.withAdminConfiguration(storage)
                let a = try await start(storage, "node-a", nodes: nodes, feeds: feeds)
                let b = try await start(storage, "node-b", nodes: nodes, feeds: feeds)
                let c = try await start(storage, "node-c", nodes: nodes, feeds: feeds)
                // Logged in without `/v1/me`: that one is routed to the admin's account shard, which may still be
                // loading (the nodes have just started); the admin routes and sign-in answer on any node.
                let admin = try await ProcessRestartTests.with(b) { api in
                    let credentials: JSONValue = ["username": "admin", "password": .string(AdminCLITests.password)]
                    let login = try await api.json(.post, "/v1/auth/login", json: credentials)
                    return Session(
                        userID: "", username: "admin", token: try #require(login["access_token"]?.stringValue))
                }
                let owners = try await waitForSpread(over: ["node-a", "node-b", "node-c"], via: a, admin: admin)
                try await body(storage, nodes, a, b, c, admin, owners)
            }
        }

        @Test(.timeLimit(.minutes(4)))
        func liquidityStrategiesMovesAndAddedMarketsAcrossNodes() async throws {
            try await Self.withCluster(feeds: true) { _, nodes, a, b, c, admin, owners in
                // Each node reports the shards it serves, and they add up to every shard once spread; each renews
                // its leases (1.5 s after taking them).
                var served: [Double] = []
                var renewed: [Double] = []
                var settled = false
                let metricsDeadline = ContinuousClock.now + .seconds(10)
                repeat {
                    if !served.isEmpty { try await Task.sleep(for: .milliseconds(250)) }
                    served = []
                    renewed = []
                    for node in [a, b, c] {
                        let metrics = try await ClusterProcessTests.scrape(node)
                        served.append(metrics.value("bourse_shards_owned") ?? 0)
                        renewed.append(metrics.value("bourse_lease_renewals", ["outcome": "ok"]) ?? 0)
                    }
                    settled = served.reduce(0, +) == 1_024 + 3 && !renewed.contains(0)
                } while !settled && ContinuousClock.now < metricsDeadline
                #expect(served.allSatisfy { $0 > 0 } && served.reduce(0, +) == 1_024 + 3, "\(served)")
                #expect(renewed.allSatisfy { $0 > 0 }, "\(renewed)")

                // Each book's feed and provider run on its node (the demo's BTC-USD and ETH-USD; SOL-USD has none);
                // the provider's one account lives on one node, so a book on another is quoted only through account
                // calls to it.
                let byID = ["node-a": a, "node-b": b, "node-c": c]
                for symbol in ["BTC-USD", "ETH-USD"] {
                    let bookOwner = try #require(owners["symbol/\(symbol)"])
                    let book = try #require(byID[bookOwner])
                    var sides = (bids: 0, asks: 0)
                    let deadline = ContinuousClock.now + .seconds(60)
                    while ContinuousClock.now < deadline {
                        let depth = try await ProcessRestartTests.with(book) { api in
                            try await api.json(.get, "/v1/markets/\(symbol)/orderbook?depth=10")
                        }
                        sides = (depth["bids"]?.arrayValue?.count ?? 0, depth["asks"]?.arrayValue?.count ?? 0)
                        if sides.bids == 5 && sides.asks == 5 { break }
                        try await Task.sleep(for: .milliseconds(250))
                    }
                    #expect(sides.bids == 5 && sides.asks == 5, "\(symbol): \(sides) \(nodes.logs)")
                }

                // A user whose account lives off BTC-USD's node makes a strategy through the third node: it is
                // kept in the book, listed from anywhere, and its signal's market buy is placed in the account.
                let bookNode = try #require(owners["symbol/BTC-USD"])
                var user: Session?
                for index in 0..<12 where user == nil {
                    let session = try await ProcessRestartTests.with(a) { api in
                        try await api.signUp("strategist\(index)")
                    }
                    if owners[try Self.accountShard(of: session)] != bookNode { user = session }
                }
                let owner = try #require(user)
                let accountNode = try #require(owners[try Self.accountShard(of: owner)])
                let third = try #require(byID.first { $0.key != bookNode && $0.key != accountNode }?.value)
                let strategyID = try await ProcessRestartTests.with(third) { api in
                    _ = try await api.deposit(owner, "USD", "10000")
                    return try await api.alwaysBuyingStrategy(owner)
                }
                for node in [a, b, c] {
                    let listed = try await ProcessRestartTests.with(node) { api in
                        try await api.json(.get, "/v1/strategies", token: owner.token)
                    }
                    #expect(listed.arrayValue?.compactMap { $0["strategy_id"]?.stringValue } == [strategyID])
                }
                // It fires at the first candle close after it was made (at most a minute later).
                var placed: JSONValue?
                let signalDeadline = ContinuousClock.now + .seconds(100)
                while placed == nil, ContinuousClock.now < signalDeadline {
                    try await Task.sleep(for: .seconds(1))
                    let signals = try await ProcessRestartTests.with(b) { api in
                        try await api.json(.get, "/v1/strategies/\(strategyID)/signals", token: owner.token)
                    }
                    placed = signals.arrayValue?.first { $0["status"] != "pending" }
                }
                let signal = try #require(placed, "no signal was placed or refused within 100 s")
                #expect(signal["status"] == "placed", "\(signal)")
                let orderID = try #require(signal["order_id"]?.stringValue)
                try await ProcessRestartTests.with(c) { api in
                    let order = try await api.json(.get, "/v1/orders/\(orderID)", token: owner.token)
                    #expect(order["status"] == "filled" && order["type"] == "market", "\(order)")
                    let deleted = try await api.json(.delete, "/v1/strategies/\(strategyID)", token: owner.token)
                    #expect(deleted["status"] == "deleted", "\(deleted)")
                }

                // An operator moves the book to the owner's account node, and the owner's account shard to where
                // the book was: the leases follow, the feed and the provider follow the book, and the owner's market
                // buy through the third node fills against the quotes on the book's new node.
                let accountShard = try Self.accountShard(of: owner)
                for (shard, node) in [("symbol/BTC-USD", accountNode), (accountShard, bookNode)] {
                    let move = try await CLI.run(["admin", "--node", Self.url(third), "move", shard, node])
                    #expect(move.status == 0, "\(move)")
                }
                var moved: [String: String] = [:]
                let moveDeadline = ContinuousClock.now + .seconds(30)
                while ContinuousClock.now < moveDeadline {
                    moved = try await Self.owners(via: third, admin: admin)
                    if moved["symbol/BTC-USD"] == accountNode && moved[accountShard] == bookNode { break }
                    try await Task.sleep(for: .milliseconds(250))
                }
                #expect(moved["symbol/BTC-USD"] == accountNode && moved[accountShard] == bookNode, "\(nodes.logs)")
                var buy = (status: 0, order: JSONValue.null)
                let buyDeadline = ContinuousClock.now + .seconds(30)
                while buy.order["status"] != "filled", ContinuousClock.now < buyDeadline {
                    buy = try await ProcessRestartTests.with(third) { api in
                        let response = try await api.place(
                            owner, ["symbol": "BTC-USD", "side": "buy", "type": "market", "quantity": "0.001"])
                        return (response.status, response.json)
                    }
                    // 422 (no liquidity yet: the provider is requoting on the new node) places nothing.
                    if buy.order["status"] != "filled" { try await Task.sleep(for: .milliseconds(500)) }
                }
                #expect(buy.status == 201 && buy.order["status"] == "filled", "\(buy)")

                // A market added at run time through one node: its shard joins the assignment, the member it lands
                // on serves it, every node loads it, and it trades between accounts of two nodes through a third.
                let add = try await CLI.run([
                    "admin", "--node", Self.url(b), "markets", "add", "ADA-USD", "--tick-size", "0.0001", "--lot-size",
                    "1", "--min-quantity", "10",
                ])
                #expect(add.status == 0, "\(add)")
                var listed: [Bool] = []
                let listDeadline = ContinuousClock.now + .seconds(20)
                while ContinuousClock.now < listDeadline {
                    listed = []
                    for node in [a, b, c] {
                        let markets = try await ProcessRestartTests.with(node) { api in
                            try await api.json(.get, "/v1/markets")
                        }
                        listed.append(markets.arrayValue?.contains { $0["symbol"] == "ADA-USD" } == true)
                    }
                    if listed.allSatisfy({ $0 }) { break }
                    try await Task.sleep(for: .milliseconds(250))
                }
                #expect(listed == [true, true, true])
                let adaOwner = try await Self.owners(via: c, admin: admin)["symbol/ADA-USD"]
                #expect(adaOwner != nil, "ADA-USD has no lease owner")
                let seller = try await ProcessRestartTests.with(a) { api in
                    let seller = try await api.signUp("ada-seller")
                    _ = try await api.deposit(seller, "ADA", "100")
                    return seller
                }
                var sold = (status: 0, order: JSONValue.null)
                let sellDeadline = ContinuousClock.now + .seconds(20)
                while sold.status != 201, ContinuousClock.now < sellDeadline {
                    sold = try await ProcessRestartTests.with(a) { api in
                        let response = try await api.place(
                            seller,
                            ["symbol": "ADA-USD", "side": "sell", "type": "limit", "quantity": "20", "price": "0.5"])
                        return (response.status, response.json)
                    }
                    // 503 while the new book's owner takes its shard.
                    if sold.status != 201 { try await Task.sleep(for: .milliseconds(250)) }
                }
                #expect(sold.status == 201 && sold.order["status"] == "new", "\(sold)")
                let bought = try await ProcessRestartTests.with(third) { api in
                    try await api.placed(
                        owner, ["symbol": "ADA-USD", "side": "buy", "type": "limit", "quantity": "20", "price": "0.5"])
                }
                #expect(bought["status"] == "filled", "\(bought)")
                let verify = try await CLI.run(["admin", "--node", Self.url(a), "verify"])
                #expect(verify.status == 0, "\(verify)")
            }
        }

        @Test(.timeLimit(.minutes(4)))
        func ordersCrossNodesAndAKilledNodesShardsAreServedAgain() async throws {
            try await Self.withCluster { _, nodes, a, b, c, admin, owners in

                // Sign-up on b, orders through c, state read through a and through b. Users are signed up six at a
                // time until one's account lives on neither c (the node the orders go through) nor the book's node.
                let book = try #require(owners["symbol/BTC-USD"])
                var users: [Session] = []
                var accounts: [String] = []
                for batch in 0..<5 where !accounts.contains(where: { $0 != book && $0 != "node-c" }) {
                    let more = try await ProcessRestartTests.with(b) { api in
                        try await NodeLoad.users(api, count: 6, prefix: "sharded\(batch)-")
                    }
                    users += more
                    accounts += try more.map { try #require(owners[try Self.accountShard(of: $0)]) }
                }
                #expect(accounts.contains { $0 != book && $0 != "node-c" }, "accounts on \(accounts), book on \(book)")
                let first = try await ProcessRestartTests.with(c) { api in
                    try await NodeLoad.orders(api, users, count: 150, seed: 5)
                }
                #expect(first.count > 80, "\(nodes.logs)")
                let before = try await ProcessRestartTests.with(a) { api in try await NodeState.capture(api, users) }
                before.expectContains(first, of: users)
                before.expectBooksMatchOpenOrders()
                before.expectConservation(deposited: ProcessRestartTests.deposited(users: users.count))
                try await ProcessRestartTests.with(b) { api in
                    try await NodeState.capture(api, users).expectSame(as: before, "read through b")
                }

                // Halted through a node that does not hold the book: the halt runs on the book's owner, and an
                // order through c is refused until the market resumes.
                let elsewhere = try #require(["node-a": a, "node-b": b, "node-c": c].first { $0.key != book }?.value)
                let halt = try await CLI.run(["admin", "--node", Self.url(elsewhere), "markets", "halt", "BTC-USD"])
                #expect(halt.status == 0 && halt.stdout == "BTC-USD: halted\n", "\(halt)")
                let refused = try await ProcessRestartTests.with(c) { api in
                    try await api.call(
                        .post, "/v1/orders", json: order("buy", "0.01", at: "100"), token: users[0].token)
                }
                #expect(refused.status == 422 && refused.json["error"]?["code"] == "ORDER_REJECTED", "\(refused)")
                let resume = try await CLI.run(["admin", "--node", Self.url(elsewhere), "markets", "resume", "BTC-USD"])
                #expect(resume.status == 0, "\(resume)")

                // One stream of a market's trades and a user's orders, whose book and account live on two nodes:
                // opened through c, it is merged from one upstream per owner. A sell and the user's buy at a low
                // price make a trade (with each other, or the sell with a resting bid) and an order update.
                let trader = users[try #require(accounts.firstIndex { $0 != book })]
                let counterparty = try #require(users.first { $0.userID != trader.userID })
                let seen = Mutex("")
                var failure: (any Error)?
                do {
                    try await ProcessRestartTests.with(c) { api in
                        // Bounded: after 30 s the connection is closed, which ends the stream (and the wait).
                        let watchdog = Task {
                            try await Task.sleep(for: .seconds(30))
                            api.h2.channel.close(promise: nil)
                        }
                        defer { watchdog.cancel() }
                        try await api.h2.streamingRequest(
                            method: .get, path: "/v1/stream?channels=trades:BTC-USD,orders",
                            headers: [.authorization: "Bearer \(trader.token)"]
                        ) { head, body in
                            #expect(head.status == .ok)
                            let id = try await ProcessRestartTests.with(b) { other in
                                _ = try await other.placed(counterparty, order("sell", "0.001", at: "100"))
                                return try await other.placed(trader, order("buy", "0.001", at: "100"))["order_id"]
                            }
                            let orderID = try #require(id?.stringValue)
                            for try await chunk in body {
                                let text = seen.withLock { text in
                                    text += String(buffer: chunk)
                                    return text
                                }
                                if text.contains(orderID), text.contains("\"channel\":\"trades:BTC-USD\"") { return }
                            }
                            throw HarnessError("the stream ended first")
                        }
                    }
                } catch {
                    failure = error
                }
                let streamed = seen.withLock { $0 }
                #expect(
                    failure == nil,
                    "the merged stream carried the book's trade and the account's order: \(String(describing: failure)) \(streamed)"
                )

                // Kill -9 the book's node (or a, if the book is on c) while orders flow through c; from the kill,
                // time until the leases spread the shards over the two others (polled through c).
                let victim = book == "node-c" ? "node-a" : book
                let process = ["node-a": a, "node-b": b][victim]!
                let survivors = Set(["node-a", "node-b", "node-c"]).subtracting([victim])
                let acknowledged = Acknowledged()
                let failover = try await ProcessRestartTests.with(c) { api in
                    async let killing: Duration = {
                        await acknowledged.wait(forAtLeast: 30)
                        process.kill()
                        let killed = ContinuousClock.now
                        _ = try await Self.waitForSpread(over: survivors, via: c, admin: admin)
                        return ContinuousClock.now - killed
                    }()
                    try await NodeLoad.orders(api, users, count: 300, seed: 9, into: acknowledged, untilFailure: true)
                    return try await killing
                }
                #expect(acknowledged.count >= 30)
                #expect(!process.isRunning)
                // The goal is 10 s: membership declares the node dead in about 3 s, its leases lapse within 4 s.
                #expect(failover < .seconds(10), "the shards were served again \(failover) after the kill")

                // Everything acknowledged, before and during the kill, is there.
                _ = try await ClusterProcessTests.whenServing(c, users[0]) { _ in }
                let after = try await Self.settledState(via: c, users)
                after.expectContains(first + acknowledged.all, of: users)
                after.expectBooksMatchOpenOrders()
                after.expectConservation(deposited: ProcessRestartTests.deposited(users: users.count))
                let other = survivors.subtracting(["node-c"]).first!
                try await ClusterProcessTests.whenServing(other == "node-a" ? a : b, users[0]) { api in
                    try await NodeState.capture(api, users).expectSame(as: after, "read through \(other)")
                    try await ProcessRestartTests.expectTradingContinues(api, after)
                }
                // Checked across the two survivors: every shard audited once, every invariant holding.
                let verify = try await CLI.run(["admin", "--node", Self.url(c), "verify"])
                #expect(verify.status == 0, "\(verify)")
            }
        }

        @Test(.timeLimit(.minutes(4)))
        func aNodeStoppedUnderLoadFailsNoRequestAndAJoiningNodeTakesItsShare() async throws {
            try await Self.withCluster { storage, nodes, a, b, c, admin, _ in
                let users = try await ProcessRestartTests.with(b) { api in
                    try await NodeLoad.users(api, count: 4, prefix: "leaving")
                }

                // SIGTERM a while orders flow through c: a leaves the assignment, its shards move to b and c while
                // it still answers, and every order gets its answer: no 503 (counted, to say how many), nothing but
                // 201 or 422.
                let acknowledged = Acknowledged()
                let (status, handoff) = try await ProcessRestartTests.with(c) { api in
                    async let stopping: (Int32?, Duration) = {
                        await acknowledged.wait(forAtLeast: 20)
                        let started = ContinuousClock.now
                        async let status = a.terminate(within: .seconds(30))
                        _ = try await Self.waitForSpread(over: ["node-b", "node-c"], via: c, admin: admin)
                        let moved = ContinuousClock.now - started
                        return (await status, moved)
                    }()
                    try await NodeLoad.orders(api, users, count: 400, seed: 11, into: acknowledged, counting503: true)
                    return try await stopping
                }
                #expect(status == 0, "\(a.tail())")
                // SIGTERM → moved includes the endpoint delay (1 s) before the node leaves.
                #expect(handoff < .seconds(15), "a's shards were served by b and c \(handoff) after its SIGTERM")
                #expect(acknowledged.count > 200)
                #expect(
                    acknowledged.refused == 0, "\(acknowledged.refused) of 400 orders answered 503 during the drain")

                // A fourth node joins: it takes its share of the shards, and trading through it goes on.
                let d = try await Self.start(storage, "node-d", nodes: nodes)
                _ = try await Self.waitForSpread(over: ["node-b", "node-c", "node-d"], via: d, admin: admin)
                let more = try await ProcessRestartTests.with(d) { api in
                    try await NodeLoad.orders(api, users, count: 60, seed: 12)
                }
                #expect(more.count > 30)
                // An order whose book did not answer during the move was accepted; its place is sent again.
                let final = try await Self.settledState(via: b, users)
                final.expectContains(acknowledged.all + more, of: users)
                final.expectBooksMatchOpenOrders()
                final.expectConservation(deposited: ProcessRestartTests.deposited(users: users.count))
                // The admin views across nodes: three members serving their ring's shares, every shard once.
                try await ProcessRestartTests.with(c) { api in
                    let cluster = try await api.json(.get, "/admin/v1/cluster", token: admin.token)
                    let members = cluster["members"]?.arrayValue ?? []
                    let shares = members.compactMap { member -> Int? in
                        guard case .number(let count)? = member["shards"] else { return nil }
                        return Int(count)
                    }
                    #expect(members.compactMap { $0["id"]?.stringValue }.sorted() == ["node-b", "node-c", "node-d"])
                    #expect(shares.count == 3 && shares.allSatisfy { $0 > 0 }, "\(cluster)")
                    let shards = try await api.json(.get, "/admin/v1/shards", token: admin.token).arrayValue ?? []
                    #expect(shares.reduce(0, +) == shards.count, "\(cluster)")
                }
                let verify = try await CLI.run(["admin", "--node", Self.url(d), "verify"])
                #expect(verify.status == 0, "\(verify)")
            }
        }

        @Test(.timeLimit(.minutes(4)))
        func aFrozenNodesShardsAreTakenAndItCommitsNothingWhenItThaws() async throws {
            try await Self.withCluster { _, _, a, b, c, admin, owners in
                let users = try await ProcessRestartTests.with(b) { api in
                    try await NodeLoad.users(api, count: 6, prefix: "frozen")
                }
                // Freeze (SIGSTOP) the book's node — or a, if the book is on c — while orders flow through c: it
                // holds its leases and whatever it was writing, but cannot renew. The others take its shards once
                // the leases lapse, and trading goes on through c.
                let book = try #require(owners["symbol/BTC-USD"])
                let victim = book == "node-c" ? "node-a" : book
                let frozen = try #require(["node-a": a, "node-b": b][victim])
                let survivors = Set(["node-a", "node-b", "node-c"]).subtracting([victim])
                let acknowledged = Acknowledged()
                try await ProcessRestartTests.with(c) { api in
                    async let freezing: Void = {
                        await acknowledged.wait(forAtLeast: 30)
                        frozen.pause()
                        _ = try await Self.waitForSpread(over: survivors, via: c, admin: admin)
                    }()
                    try await NodeLoad.orders(api, users, count: 300, seed: 21, into: acknowledged, untilFailure: true)
                    try await freezing
                }
                #expect(acknowledged.count >= 30)
                let whileFrozen = try await ClusterProcessTests.whenServing(c, users[0]) { api in
                    try await NodeLoad.orders(api, users, count: 60, seed: 22)
                }
                #expect(whileFrozen.count > 30)

                // Thawed, it finds itself declared dead and its leases taken: it stops, and nothing it held back
                // lands (its writes carry the old epochs, which the store refuses).
                frozen.resume()
                let status = await frozen.waitForExit(within: .seconds(30))
                #expect(status != nil && status != 0, "the thawed node must stop: \(frozen.tail())")
                // A place whose book froze unanswered is sent again.
                let after = try await Self.settledState(via: c, users)
                after.expectContains(acknowledged.all + whileFrozen, of: users)
                after.expectBooksMatchOpenOrders()
                after.expectConservation(deposited: ProcessRestartTests.deposited(users: users.count))
                let verify = try await CLI.run(["admin", "--node", Self.url(c), "verify"])
                #expect(verify.status == 0, "\(verify)")
            }
        }
    }
}
