import Foundation
import Logging
import Storage
import Synchronization
import TestSupport
import Testing
import Trading

@testable import Actors

/// Exchanges that each serve some of the shards, over one store, connected in-process (`Mesh`): an order of an
/// account shard served by one node goes to a book served by another, whose events are settled in account
/// shards served by a third — the flow the cluster will run over its transport.
@Suite("Exchanges serving parts of the shards")
struct PartitionedExchangeTests {
    typealias Flow = ExchangeFlowTests
    static let markets = [Flow.btc, VerifyTests.eth]
    static let accountShards = 6
    static let nodes = ["a", "b", "c"]

    /// Connects the exchanges: each call goes, encoded, to the one serving the shard and is run by its
    /// `serve(_:)`; calls for shards in `unreachable` fail as a lost connection would.
    final class Mesh: ShardPeers {
        enum PlaceFault { case none, lost, answerLost }
        private let state = Mutex<
            (exchanges: [Exchange], unreachable: Set<String>, places: PlaceFault, unconfirmable: Set<Int>)
        >(([], [], .none, []))
        func setUnreachable(_ shards: Set<String>) { state.withLock { $0.unreachable = shards } }
        /// Account shards whose owner cannot be asked whether settlements are durable (deliveries still reach it).
        func setUnconfirmable(_ shards: Set<Int>) { state.withLock { $0.unconfirmable = shards } }
        /// Places lost on the way (`lost`) or applied with their answer lost (`answerLost`).
        func setPlaceFault(_ fault: PlaceFault) { state.withLock { $0.places = fault } }
        func replaceAll(_ exchanges: [Exchange]) { state.withLock { $0.exchanges = exchanges } }

        private func owner(_ shard: String) throws -> Exchange {
            try state.withLock { state in
                if state.unreachable.contains(shard) { throw BourseError(.unavailable, "\(shard) unreachable") }
                guard let owner = state.exchanges.first(where: { $0.serves(shard) }) else {
                    throw BourseError(.unavailable, "nobody serves \(shard)")
                }
                return owner
            }
        }

        /// Every call crosses in its wire encoding (`ShardCall`, `ShardAnswer`), as over the transport.
        private var calls: ShardCallPeers { ShardCallPeers { [self] call in try await carry(call) } }

        private func carry(_ call: ShardCall) async throws -> ShardAnswer {
            let received = try ShardCall(decoding: call.encoded())
            #expect(received == call)
            let fault = state.withLock { $0.places }
            if case .place = call, fault == .lost { throw BourseError(.unavailable, "place lost") }
            let answer = try await owner(received.shard).serve(received)
            if case .place = call, fault == .answerLost { throw BourseError(.unavailable, "answer lost") }
            return try ShardAnswer(decoding: answer.encoded())
        }

        func place(_ order: NewOrder, settledThrough: OrderID, symbol: String, nowMillis: Int64) async throws
            -> [BookEvent]
        {
            try await calls.place(order, settledThrough: settledThrough, symbol: symbol, nowMillis: nowMillis)
        }
        func submit(_ command: BookCommand, symbol: String, nowMillis: Int64) async throws -> [BookEvent] {
            try await calls.submit(command, symbol: symbol, nowMillis: nowMillis)
        }
        func quote(symbol: String) async throws -> SymbolQuote { try await calls.quote(symbol: symbol) }
        func deliver(symbol: String, batches: [BookEventBatch], toShard index: Int, expectedEpoch: Int64?)
            async throws -> DeliveryReceipt
        {
            try await calls.deliver(symbol: symbol, batches: batches, toShard: index, expectedEpoch: expectedEpoch)
        }
        func awaitDurable(accountShard index: Int, through sequence: Int64, epoch: Int64?) async throws {
            if state.withLock({ $0.unconfirmable.contains(index) }) {
                throw BourseError(.unavailable, "\(ShardKey.account(index: index)) unreachable")
            }
            try await calls.awaitDurable(accountShard: index, through: sequence, epoch: epoch)
        }
        func account(_ call: AccountCall, shard index: Int) async throws -> ShardAnswer {
            try await calls.account(call, shard: index)
        }
        func strategy(_ call: StrategyCall, symbol: String) async throws -> ShardAnswer {
            try await calls.strategy(call, symbol: symbol)
        }
    }

    /// Node `nodes[(i + rotation) % 3]` serves account shard i; BTC-USD's book is on the node after ETH-USD's.
    static func layout(rotation: Int) -> [String: Set<String>] {
        var served: [String: Set<String>] = [:]
        for index in 0..<accountShards {
            served[nodes[(index + rotation) % nodes.count], default: []].insert(ShardKey.account(index: index))
        }
        served[nodes[(1 + rotation) % nodes.count], default: []].insert(ShardKey.symbol("BTC-USD"))
        served[nodes[rotation % nodes.count], default: []].insert(ShardKey.symbol("ETH-USD"))
        return served
    }

    /// A user whose account shard is `index`.
    static func user(onShard index: Int, after start: UserID = 1_000) -> UserID {
        (start...).first { ShardKey.accountShardIndex($0, shards: accountShards) == index }!
    }

    /// Three started exchanges on `store`, serving `layout(rotation:)`, joined to `mesh`; by node name.
    static func start(
        store: SQLiteStore, mesh: Mesh, rotation: Int, resubmitAfter: Duration = .seconds(10),
        clock: @escaping @Sendable () -> Int64 = Exchange.wallClockMillis
    ) async throws -> [String: Exchange] {
        let served = layout(rotation: rotation)
        var exchanges: [String: Exchange] = [:]
        for node in nodes {
            var configuration = Exchange.Configuration(markets: markets, accountShards: accountShards, nodeID: node)
            configuration.servedShards = served[node] ?? []
            configuration.leaseWait = .seconds(5)
            configuration.resubmitAfter = resubmitAfter
            exchanges[node] = Exchange(
                configuration: configuration, store: store, logger: Logger(label: "test-\(node)"), peers: mesh,
                clock: clock)
        }
        mesh.replaceAll(nodes.map { exchanges[$0]! })
        // Side by side: a node's recovery may deliver replayed events to account shards of the others.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for exchange in exchanges.values { group.addTask { try await exchange.start() } }
            try await group.waitForAll()
        }
        return exchanges
    }

    /// Three started exchanges on a fresh store, serving `layout(rotation: 0)`, joined by a `Mesh`: `body` gets the
    /// store, the mesh and the nodes a, b and c.
    static func withThreeNodes(
        resubmitAfter: Duration = .seconds(10), clock: @escaping @Sendable () -> Int64 = Exchange.wallClockMillis,
        _ body: (SQLiteStore, Mesh, _ a: Exchange, _ b: Exchange, _ c: Exchange) async throws -> Void
    ) async throws {
        try await withStore { store in
            let mesh = Mesh()
            let nodes = try await start(
                store: store, mesh: mesh, rotation: 0, resubmitAfter: resubmitAfter, clock: clock)
            try await body(store, mesh, nodes["a"]!, nodes["b"]!, nodes["c"]!)
        }
    }

    /// `verify`'s checks of memory over every node's shards together; the names of the failed ones.
    static func failedChecks(_ exchanges: [Exchange]) async -> [String] {
        let (failed, accounts, symbols) = await Exchange.failedChecks(across: exchanges)
        #expect(accounts == accountShards && symbols == markets.count)
        return failed
    }

    static func withStore(_ body: (SQLiteStore) async throws -> Void) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-parts-\(UUID())").path
        let store = try await SQLiteStore(directory: directory, logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            // Closed on every path: a store released unclosed traps in SQLiteNIO and ends the whole test run.
            do {
                try await store.migrate()
                try await body(store)
            } catch {
                await store.shutdown()
                throw error
            }
            await store.shutdown()
        }
    }

    static func limit(_ side: Side, _ quantity: String, at price: String, symbol: String = "BTC-USD")
        -> OrderRequest
    {
        let spec = markets.first { $0.symbol == symbol }!
        return OrderRequest(
            symbol: symbol, side: side, type: .limit, quantity: try! spec.quantity(parsing: quantity),
            price: try! spec.price(parsing: price))
    }

    @Test("an account served by A trades in a book served by B against an account served by C")
    func acrossThreeNodes() async throws {
        try await Self.withThreeNodes { store, mesh, a, b, c in
            let buyer = Self.user(onShard: 0)  // served by a
            let seller = Self.user(onShard: 2)  // served by c
            #expect(a.serves(ShardKey.account(index: 0)) && c.serves(ShardKey.account(index: 2)))
            #expect(b.serves(ShardKey.symbol("BTC-USD")) && !a.serves(ShardKey.symbol("BTC-USD")))
            _ = try await a.deposit(user: buyer, currency: "USD", amount: Flow.amount("100000"), idempotencyKey: nil)
            _ = try await c.deposit(user: seller, currency: "BTC", amount: Flow.amount("2"), idempotencyKey: nil)

            let bid = try await a.placeOrder(user: buyer, request: Self.limit(.buy, "0.5", at: "50000")).order
            #expect(bid.status == .new)
            let book = try b.symbolActor("BTC-USD")
            #expect(await book.bestPrices().bid == Flow.price("50000"))
            let ask = try await c.placeOrder(user: seller, request: Self.limit(.sell, "0.8", at: "50000")).order
            #expect(ask.status == .partiallyFilled)
            #expect(ask.filledQuantity == Flow.quantity("0.5"))
            // The book delivered the trade to the buyer's shard on a before it answered c.
            let filled = try await a.order(user: buyer, orderID: bid.orderID)
            #expect(filled.status == .filled)
            let btc = try await a.balances(user: buyer).first { $0.currency == "BTC" }
            #expect(btc?.available == Flow.amount("0.5"))
            // a values the position at the last price of the book on b, and lists the market as b's book says.
            let position = try await a.portfolio(user: buyer).positions.first { $0.symbol == "BTC-USD" }
            #expect(position?.marketPrice == Flow.amount("50000"))
            try await b.setHalted(symbol: "BTC-USD", halted: true)
            #expect(await a.markets().first { $0.spec.symbol == "BTC-USD" }?.halted == true)
            try await b.setHalted(symbol: "BTC-USD", halted: false)
            #expect(await c.markets().first { $0.spec.symbol == "BTC-USD" }?.halted == false)

            // A cancel from c reaches the book on b; the rest of the ask goes back to the seller.
            let cancelled = try await c.cancelOrder(user: seller, orderID: ask.orderID)
            #expect(cancelled.status == .cancelled)
            let sellerBTC = try await c.balances(user: seller).first { $0.currency == "BTC" }
            #expect(sellerBTC?.available == Flow.amount("1.5") && sellerBTC?.locked == .zero)

            // The buyer's shard sends its place again (a retry after a lost answer): nothing happens.
            let before = await book.progress.journalSequence
            let again = NewOrder(
                id: bid.orderID, owner: buyer, side: .buy, type: .limit, price: bid.price, stopPrice: nil,
                quantity: bid.quantity, timeInForce: .gtc, postOnly: false)
            #expect(try await mesh.place(again, settledThrough: 0, symbol: "BTC-USD", nowMillis: 1).isEmpty)
            #expect(await book.progress.journalSequence == before)
            #expect(try await a.order(user: buyer, orderID: bid.orderID).filledQuantity == Flow.quantity("0.5"))

            #expect(await Self.failedChecks([a, b, c]) == [])
            // A node's audit missing (it did not answer), or one audited twice: the shards are not each audited
            // once, and verify says so.
            let withoutC = await Exchange.failedChecks(across: [a, b])
            #expect(withoutC.failed.contains(InvariantReport.Name.shardsAudited))
            #expect(withoutC.accountShards < Self.accountShards)
            let twice = await Exchange.failedChecks(across: [a, b, c, c])
            #expect(twice.failed.contains(InvariantReport.Name.shardsAudited), "\(twice.failed)")
        }
    }

    /// A bid the buyer's shard has placed in the book, and the book's snapshot saved right after it.
    struct RestingBid {
        var buyer: UserID
        var seller: UserID
        var bid: OrderView
        var symbol: SymbolActor
    }

    /// Three nodes where the buyer (account shard 0, on a) with 100,000 USD has a bid of 0.5 BTC at 50,000 resting
    /// in BTC-USD's book (on b), the seller (shard 2, on c) has 2 BTC, and the book has saved its snapshot since,
    /// so that only what `body` does can hold the next one back.
    static func withRestingBid(
        _ body: (Mesh, _ a: Exchange, _ b: Exchange, _ c: Exchange, RestingBid) async throws -> Void
    ) async throws {
        try await withThreeNodes { _, mesh, a, b, c in
            let buyer = user(onShard: 0)
            let seller = user(onShard: 2)
            _ = try await a.deposit(user: buyer, currency: "USD", amount: Flow.amount("100000"), idempotencyKey: nil)
            _ = try await c.deposit(user: seller, currency: "BTC", amount: Flow.amount("2"), idempotencyKey: nil)
            let bid = try await a.placeOrder(user: buyer, request: limit(.buy, "0.5", at: "50000")).order
            let symbol = try b.symbolActor("BTC-USD")
            #expect(await symbol.checkpoint(savingTailsFrom: 1) > 0)
            try await body(mesh, a, b, c, RestingBid(buyer: buyer, seller: seller, bid: bid, symbol: symbol))
        }
    }

    @Test("events an account shard's owner missed are delivered later, and the book snapshots only after")
    func undeliveredEventsWait() async throws {
        try await Self.withRestingBid { mesh, a, b, c, resting in
            let (buyer, seller, bid, symbol) = (resting.buyer, resting.seller, resting.bid, resting.symbol)
            mesh.setUnreachable([ShardKey.account(index: 0)])
            let ask = try await c.placeOrder(user: seller, request: Self.limit(.sell, "0.5", at: "50000")).order
            #expect(ask.status == .filled)
            #expect(try await a.order(user: buyer, orderID: bid.orderID).status == .new)
            #expect(await symbol.audit().undelivered > 0)
            #expect(await Self.failedChecks([a, b, c]).contains(InvariantReport.Name.fillsSettled))
            // No snapshot may cover events an account has not settled: the stop's checkpoint saves none.
            #expect(await symbol.checkpoint(savingTailsFrom: 1) == 0)

            mesh.setUnreachable([])
            // The next command of the book delivers what waited, ahead of its own events.
            _ = try await c.placeOrder(user: seller, request: Self.limit(.sell, "0.1", at: "60000"))
            #expect(await symbol.audit().undelivered == 0)
            let filled = try await a.order(user: buyer, orderID: bid.orderID)
            #expect(filled.status == .filled)
            #expect(await symbol.checkpoint(savingTailsFrom: 1) > 0)
            #expect(await Self.failedChecks([a, b, c]) == [])
        }
    }

    @Test("an order its book rejects is answered as rejected though the rejection could not reach its account")
    func rejectionUndeliveredIsStillAnswered() async throws {
        try await Self.withRestingBid { mesh, a, b, c, resting in
            // The seller's account shard (served by c) cannot be reached by the book's delivery, as when it moves
            // while the order is on its way: the post-only sell would cross the resting bid and is rejected.
            mesh.setUnreachable([ShardKey.account(index: 2)])
            var request = Self.limit(.sell, "0.1", at: "50000")
            request.postOnly = true
            await #expect {
                _ = try await c.placeOrder(user: resting.seller, request: request)
            } throws: { ($0 as? BourseError)?.code == .orderRejected }
            // Delivered later, the rejection settles there: the order is rejected, its funds free again.
            mesh.setUnreachable([])
            _ = try await a.placeOrder(user: resting.buyer, request: Self.limit(.buy, "0.1", at: "40000"))
            #expect(
                try await Self.eventually {
                    try await c.orders(user: resting.seller, filter: .init()).map(\.status) == [.rejected]
                })
            let btc = try #require(try await c.balances(user: resting.seller).first { $0.currency == "BTC" })
            #expect(btc.locked == .zero)
            #expect(await Self.failedChecks([a, b, c]) == [])
        }
    }

    @Test("a book's snapshot waits for the settlements of the records it covers, and only for those")
    func snapshotWaitsOnlyForItsRecords() async throws {
        try await Self.withRestingBid { mesh, a, b, c, resting in
            let (buyer, seller, bid, symbol) = (resting.buyer, resting.seller, resting.bid, resting.symbol)
            let covered = await symbol.progress.journalSequence

            // The fill's settlement in the buyer's shard is delivered, but its durability cannot be confirmed.
            mesh.setUnconfirmable([0])
            let ask = try await c.placeOrder(user: seller, request: Self.limit(.sell, "0.5", at: "50000")).order
            #expect(ask.status == .filled)
            #expect(try await a.order(user: buyer, orderID: bid.orderID).status == .filled)
            #expect(await symbol.progress.journalSequence > covered)

            // A snapshot of the state before the fill needs nothing of it; one that covers it must wait.
            try await symbol.prepareToSave(through: covered)
            await #expect(throws: BourseError.self) {
                try await symbol.prepareToSave(through: symbol.progress.journalSequence)
            }
            #expect(await symbol.checkpoint(savingTailsFrom: 1) == 0)

            mesh.setUnconfirmable([])
            #expect(await symbol.checkpoint(savingTailsFrom: 1) > 0)
            #expect(await Self.failedChecks([a, b, c]) == [])
        }
    }

    /// Whether `condition` holds within 10 s.
    static func eventually(_ condition: () async throws -> Bool) async rethrows -> Bool {
        try await TestSupport.eventually(within: .seconds(10), every: .milliseconds(20), condition)
    }

    /// Three exchanges that send unanswered places again after 200 ms; the buyer (account shard 0, on a) with
    /// 100,000 USD places a bid of 0.5 BTC at 50,000 (book on b) while `fault` hits places and `unreachable`
    /// shards cannot be called, so the book's answer never comes; then `body` runs (faults still on) with the nodes
    /// and the buyer.
    static func withFailedPlace(
        _ fault: Mesh.PlaceFault, unreachable: Set<String> = [],
        _ body: (Mesh, _ a: Exchange, _ b: Exchange, _ c: Exchange, UserID) async throws -> Void
    ) async throws {
        try await withThreeNodes(resubmitAfter: .milliseconds(200)) { _, mesh, a, b, c in
            let buyer = user(onShard: 0)
            _ = try await a.deposit(user: buyer, currency: "USD", amount: Flow.amount("100000"), idempotencyKey: nil)
            mesh.setPlaceFault(fault)
            mesh.setUnreachable(unreachable)
            // Reserved and journaled, the order is accepted without its book's answer (a 503 would have the
            // client place it again); its place is sent again later.
            let accepted = try await a.placeOrder(user: buyer, request: limit(.buy, "0.5", at: "50000"))
            #expect(accepted.created && accepted.order.status == .new)
            try await body(mesh, a, b, c, buyer)
        }
    }

    @Test("an order its book decides at once is answered with the decision even when its first place is lost")
    func anImmediateOrderWaitsForItsBook() async throws {
        try await Self.withThreeNodes(resubmitAfter: .milliseconds(200)) { _, mesh, a, _, _ in
            let buyer = Self.user(onShard: 0)
            let seller = Self.user(onShard: 0, after: buyer + 1)
            _ = try await a.deposit(user: buyer, currency: "USD", amount: Flow.amount("100000"), idempotencyKey: nil)
            _ = try await a.deposit(user: seller, currency: "BTC", amount: Flow.amount("2"), idempotencyKey: nil)
            let spec = Self.markets[0]
            let marketSell = OrderRequest(
                symbol: "BTC-USD", side: .sell, type: .market, quantity: try spec.quantity(parsing: "0.5"))
            // Lost on its way, sent again 200 ms later: the empty book rejects it, and so does the answer (422,
            // not 201 `new` followed by a rejection).
            mesh.setPlaceFault(.lost)
            let unfilled = Task { try await a.placeOrder(user: seller, request: marketSell) }
            try await Task.sleep(for: .milliseconds(100))
            mesh.setPlaceFault(.none)
            await #expect(throws: BourseError.self) { _ = try await unfilled.value }
            let rejected = try await a.orders(user: seller, filter: OrderFilter())
            #expect(rejected.count == 1 && rejected.first?.status == .rejected)
            #expect(try await a.balances(user: seller).first { $0.currency == "BTC" }?.locked == .zero)

            // With a bid to meet, an IOC sell is answered filled.
            _ = try await a.placeOrder(user: buyer, request: Self.limit(.buy, "0.5", at: "50000"))
            var ioc = Self.limit(.sell, "0.5", at: "50000")
            ioc.timeInForce = .ioc
            mesh.setPlaceFault(.lost)
            let filled = Task { try await a.placeOrder(user: seller, request: ioc) }
            try await Task.sleep(for: .milliseconds(100))
            mesh.setPlaceFault(.none)
            let answer = try await filled.value
            #expect(answer.created && answer.order.status == .filled, "\(answer.order)")
        }
    }

    @Test("a place that never reached its book is sent again and booked once")
    func lostPlaceIsSentAgain() async throws {
        try await Self.withFailedPlace(.lost) { mesh, a, b, c, buyer in
            let book = try b.symbolActor("BTC-USD")
            #expect(await book.bestPrices().bid == nil)
            let locked = try await a.balances(user: buyer).first { $0.currency == "USD" }?.locked
            #expect(locked.map { $0 > .zero } == true, "the reservation is kept for the order")
            let account = a.accounts.shard(ofUser: buyer)
            #expect(await account.unansweredPlaces(createdBy: .max).count == 1)
            // Reserved, on its way to its book and not there: in flight, which verify does not call a violation
            // (it did, for the 10 s until the place is sent again).
            #expect(await Self.failedChecks([a, b, c]) == [])

            mesh.setPlaceFault(.none)
            #expect(await Self.eventually { await account.unansweredPlaces(createdBy: .max).isEmpty })
            #expect(await book.bestPrices().bid == Flow.price("50000"))
            #expect(await book.depth(1).bids.first?.quantity == Flow.quantity("0.5"))
            let orders = try await a.orders(user: buyer, filter: OrderFilter())
            #expect(orders.count == 1 && orders.first?.status == .new)
            #expect(await Self.failedChecks([a, b, c]) == [])
        }
    }

    @Test("a place applied whose answer was lost is sent again and not booked twice")
    func answerLostPlaceIsNotBookedTwice() async throws {
        // The book places the order, but neither its answer nor its events reach the buyer's shard.
        try await Self.withFailedPlace(.answerLost, unreachable: [ShardKey.account(index: 0)]) { mesh, a, b, c, buyer in
            let book = try b.symbolActor("BTC-USD")
            #expect(await book.depth(1).bids.first?.quantity == Flow.quantity("0.5"))
            mesh.setPlaceFault(.none)
            // Sent again while the shard still has no answer: the book knows it and places nothing.
            let journal = await book.progress.journalSequence
            let again = await a.resubmitUnanswered(createdBy: .max)
            #expect(again.sent == 1 && again.abandoned == 0)
            #expect(await book.progress.journalSequence == journal)
            #expect(await book.depth(1).bids.first?.quantity == Flow.quantity("0.5"))

            mesh.setUnreachable([])
            let account = a.accounts.shard(ofUser: buyer)
            #expect(await Self.eventually { await account.unansweredPlaces(createdBy: .max).isEmpty })
            #expect(await book.depth(1).bids.first?.quantity == Flow.quantity("0.5"))
            #expect(await Self.failedChecks([a, b, c]) == [])
        }
    }

    @Test("a place its book refuses when sent again is abandoned and its funds released")
    func refusedResubmissionIsAbandoned() async throws {
        try await Self.withFailedPlace(.lost) { mesh, a, b, c, buyer in
            try await b.setHalted(symbol: "BTC-USD", halted: true)
            mesh.setPlaceFault(.none)
            let account = a.accounts.shard(ofUser: buyer)
            #expect(await Self.eventually { await account.unansweredPlaces(createdBy: .max).isEmpty })
            let orders = try await a.orders(user: buyer, filter: OrderFilter())
            #expect(orders.count == 1 && orders.first?.status == .rejected)
            let usd = try await a.balances(user: buyer).first { $0.currency == "USD" }
            #expect(usd?.locked == .zero && usd?.available == Flow.amount("100000"))
            #expect(await (try b.symbolActor("BTC-USD")).bestPrices().bid == nil)
            #expect(await Self.failedChecks([a, b, c]) == [])
        }
    }

    @Test("strategies and paper liquidity beside a book act on accounts that other nodes serve")
    func actingForUsersElsewhere() async throws {
        typealias Strategies = StrategyEvaluationTests
        let clock = Strategies.Clock()
        clock.set(Strategies.start + 1_000)
        try await Self.withThreeNodes(clock: { clock.nowMillis }) { store, mesh, a, b, c in
            // The book is on b; the provider's account on a, the taker's on b, the strategies' owners' on c.
            let provider = Self.user(onShard: 0)
            let taker = Self.user(onShard: 1)
            let owner = Self.user(onShard: 2)
            let poorOwner = Self.user(onShard: 2, after: owner + 1)
            #expect(b.serves(ShardKey.symbol("BTC-USD")) && !b.serves(ShardKey.account(index: 0)))
            _ = try await b.deposit(user: taker, currency: "USD", amount: Flow.amount("100000"), idempotencyKey: nil)
            _ = try await c.deposit(user: owner, currency: "USD", amount: Flow.amount("1000"), idempotencyKey: nil)

            // Paper liquidity for BTC-USD runs on b: it funds, lists, places and cancels through a.
            let liquidity = LiquidityProvider(
                exchange: b, user: provider, symbol: "BTC-USD",
                configuration: LiquidityConfiguration(
                    spreadBps: 10, levels: 3, stepBps: 5, size: Flow.quantity("0.1"),
                    baseInventory: Flow.amount("10"), quoteInventory: Flow.amount("1000000")),
                logger: Logger(label: "test-liquidity"))
            try await liquidity.fund()
            let funded = try await a.balances(user: provider)
            #expect(Set(funded.map(\.currency)) == ["BTC", "USD"])
            #expect(await liquidity.requote(at: Flow.price("50000")))
            let ladder = try await a.orders(user: provider, filter: OrderFilter(status: .open, symbol: "BTC-USD"))
            #expect(ladder.count == 6)
            let book = try b.symbolActor("BTC-USD")
            let quoted = await book.bestPrices()
            #expect(quoted.bid != nil && quoted.ask != nil && quoted.bid! < Flow.price("50000"))
            // A move requotes: the old ladder is cancelled (from b, on a) once the new one rests.
            #expect(await liquidity.requote(at: Flow.price("51000")))
            let moved = try await b.accountOwner.restingOrders(user: provider, symbol: "BTC-USD")
            #expect(moved.count == 6)
            #expect(Set(moved.map(\.orderID)).isDisjoint(with: ladder.map(\.orderID)))
            #expect(await book.bestPrices().bid! > Flow.price("50500"))

            // Strategies live in b's book; their owners' requests run on c (their account shard's node), and the
            // signals fire for accounts on c: one is placed, one refused.
            let placing = try await c.createStrategy(user: owner, definition: Strategies.above150())
            let refusing = try await c.createStrategy(user: poorOwner, definition: Strategies.above150())
            #expect(try await b.strategies(user: owner) == [placing])
            #expect(try await c.strategies(user: owner) == [placing])
            await #expect(throws: BourseError(.notFound, "strategy not found")) {
                try await c.strategy(user: owner, strategyID: refusing.strategyID)
            }
            for minute in Int64(0)...1 {
                clock.set(Strategies.start + minute * Strategies.minute + 1_000)
                let ask = await book.bestPrices().ask!
                let bought = try await b.placeOrder(
                    user: taker,
                    request: OrderRequest(
                        symbol: "BTC-USD", side: .buy, type: .limit, quantity: Flow.quantity("0.01"), price: ask))
                #expect(bought.order.status == .filled)
            }
            let outcome = { (strategy: StrategyView, user: UserID) async throws -> SignalOutcome? in
                try await b.strategySignals(user: user, strategyID: strategy.strategyID, limit: 10).first?.outcome
            }
            #expect(
                try await Self.eventually {
                    let outcomes = [try await outcome(placing, owner), try await outcome(refusing, poorOwner)]
                    return !outcomes.contains { $0 == nil || $0 == .pending }
                })
            guard case .placed(let orderID) = try await outcome(placing, owner) else {
                Issue.record("the funded owner's signal was not placed")
                return
            }
            let placed = try await c.order(user: owner, orderID: orderID)
            #expect(placed.status == .filled && placed.type == .market)
            #expect(placed.clientOrderID?.hasPrefix(placing.strategyID) == true)
            guard case .refused(let code, _) = try await outcome(refusing, poorOwner) else {
                Issue.record("the poor owner's signal was not refused")
                return
            }
            #expect(code == .insufficientFunds)
            let signals = try await c.strategySignals(user: owner, strategyID: placing.strategyID, limit: 10)
            #expect(signals.count == 1 && signals.first?.clientOrderID == placed.clientOrderID)
            #expect(try await c.pauseStrategy(user: owner, strategyID: placing.strategyID).status == .paused)
            #expect(try await b.strategy(user: owner, strategyID: placing.strategyID).status == .paused)
            #expect(try await c.resumeStrategy(user: owner, strategyID: placing.strategyID).status == .active)
            #expect(try await c.deleteStrategy(user: owner, strategyID: placing.strategyID).status == .deleted)
            #expect(try await c.strategies(user: owner).isEmpty)
            #expect(await Self.failedChecks([a, b, c]) == [])
        }
    }

    @Test("a fill settled in memory by an owner that lost its account shard is settled again by the next owner")
    func settlementLostWithItsOwnerIsRedelivered() async throws {
        try await Self.withThreeNodes { store, mesh, a, b, c in
            let buyer = Self.user(onShard: 0)  // served by a
            let seller = Self.user(onShard: 2)  // served by c
            _ = try await a.deposit(user: buyer, currency: "USD", amount: Flow.amount("100000"), idempotencyKey: nil)
            _ = try await c.deposit(user: seller, currency: "BTC", amount: Flow.amount("1"), idempotencyKey: nil)
            let bid = try await a.placeOrder(user: buyer, request: Self.limit(.buy, "0.5", at: "50000")).order

            // c takes the lease of the buyer's shard (a froze, say): a settles the coming trade in memory only,
            // its journal refusing the stale epoch.
            let shard = ShardKey.account(index: 0)
            let held = try #require(try await store.lease(shard: shard))
            try await store.releaseLease(shard: shard, owner: held.owner, epoch: held.epoch)
            let taken = try await store.acquireLeases(
                shards: [shard], owner: "c", ttlMillis: Exchange.singleNodeLeaseTTLMillis, nowMillis: 1)
            let epoch = try #require(taken.first?.epoch)
            let ask = try await c.placeOrder(user: seller, request: Self.limit(.sell, "0.5", at: "50000")).order
            #expect(ask.status == .filled)
            #expect(try await a.order(user: buyer, orderID: bid.orderID).status == .filled)

            // The shard moves to c, which recovers it from what a made durable: the reservation, not the fill.
            await a.dropShard(shard)
            try await c.takeShard(shard, epoch: epoch)
            // Another trade of the buyer's before the book asks a (500 ms after its delivery): the book kept the
            // first trade, and its delivery names a's epoch, so c refuses it and gets both, the first one first
            // (delivered unguarded, the second would have moved the shard past the first, skipped ever after).
            let again = try await c.placeOrder(user: buyer, request: Self.limit(.buy, "0.1", at: "50000")).order
            #expect(
                try await c.placeOrder(user: seller, request: Self.limit(.sell, "0.1", at: "50000")).order.status
                    == .filled)
            #expect(
                try await Self.eventually {
                    let first = try await c.order(user: buyer, orderID: bid.orderID).status
                    let second = try await c.order(user: buyer, orderID: again.orderID).status
                    return first == .filled && second == .filled
                })
            let btc = try await c.balances(user: buyer).first { $0.currency == "BTC" }
            #expect(btc?.available == Flow.amount("0.6"))
            #expect(await Self.failedChecks([a, b, c]) == [])
        }
    }

    @Test("verify waits for a shard no node audited (a move, a failover) instead of reporting violations")
    func verifyWaitsForEveryShard() async throws {
        try await Self.withThreeNodes { store, mesh, a, b, c in
            // c's shards go unaudited for the first six passes (more than verify's five attempts), as while another
            // node takes them.
            let passes = Mutex(0)
            let report = await a.verify(
                gathering: {
                    let pass = passes.withLock { count in
                        count += 1
                        return count
                    }
                    let audits =
                        pass > 6
                        ? [await a.audit(), await b.audit(), await c.audit()] : [await a.audit(), await b.audit()]
                    return (audits, pass > 6 ? [] : ["c"])
                }, coveragePatience: .seconds(5))
            #expect(report.ok, "\(report.checks.filter { !$0.passed })")
            #expect(passes.withLock { $0 } >= 7)
            // A node that never answers is reported once the patience is spent.
            let missing = await a.verify(
                gathering: { ([await a.audit(), await b.audit()], ["c"]) }, coveragePatience: .milliseconds(300))
            #expect(missing.checks.contains { $0.name == InvariantReport.Name.shardsAudited && !$0.passed })
        }
    }

    @Test("every shard call and answer crosses in its binary encoding unchanged")
    func wireEncoding() throws {
        let order = NewOrder(
            id: OrderIDs.make(shard: 5, counter: 9), owner: 77, side: .sell, type: .stopLimit,
            price: Price(ticks: 101), stopPrice: Price(ticks: 99), quantity: Quantity(lots: 3), timeInForce: .ioc,
            postOnly: true)
        let trade = Trade(
            id: 4, price: Price(ticks: 100), quantity: Quantity(lots: 2), takerSide: .buy, makerOrderID: 1,
            makerOwner: 2, makerRemaining: .zero, takerOrderID: order.id, takerOwner: 77,
            takerRemaining: Quantity(lots: 1))
        let events = [
            BookEvent(sequence: 7, kind: .accepted(order.id)), BookEvent(sequence: 8, kind: .trade(trade)),
            BookEvent(sequence: 9, kind: .cancelled(order.id, remaining: Quantity(lots: 1), reason: .user)),
        ]
        let calls: [ShardCall] = [
            .place(symbol: "BTC-USD", order: order, settledThrough: OrderIDs.make(shard: 5, counter: 8), nowMillis: 12),
            .submit(
                symbol: "ETH-USD", command: .amend(order.id, price: nil, quantity: Quantity(lots: 5)), nowMillis: 13),
            .submit(symbol: "ETH-USD", command: .cancel(order.id), nowMillis: 14),
            .quote(symbol: "BTC-USD"),
            .deliver(
                symbol: "BTC-USD", accountShard: 5,
                batches: [
                    BookEventBatch(timestampMillis: 1, events: events), BookEventBatch(timestampMillis: 2, events: []),
                ]),
            .awaitDurable(accountShard: 1_023, through: 41),
            .awaitDurable(accountShard: 1_023, through: 41, epoch: 6),
            .deliver(symbol: "ETH-USD", accountShard: 0, batches: [], expectedEpoch: 12),
            .account(
                accountShard: 3,
                call: .placeOrder(
                    user: 41,
                    request: OrderRequest(
                        symbol: "BTC-USD", side: .buy, type: .stopLimit, quantity: Quantity(lots: 2),
                        price: Price(ticks: 10), stopPrice: Price(ticks: 9), timeInForce: .fok, postOnly: true,
                        clientOrderID: "st_BTC-USD_1-60000-0"))),
            .account(accountShard: 3, call: .placeOrder(user: 41, request: Self.limit(.sell, "1", at: "50000"))),
            .account(accountShard: 0, call: .cancelOrder(user: 7, orderID: order.id)),
            .account(accountShard: 1, call: .restingOrders(user: 8, symbol: "ETH-USD")),
            .account(accountShard: 2, call: .balances(user: 9)),
            .account(
                accountShard: 2,
                call: .deposit(user: 9, currency: "USD", amount: Amount(units: 12_345), idempotencyKey: "liquidity-1")),
            .strategy(
                symbol: "BTC-USD", call: .add(owner: 5, definition: StrategyEvaluationTests.smaCross, nowMillis: 15)),
            .strategy(symbol: "BTC-USD", call: .list(owner: 5)),
            .strategy(symbol: "ETH-USD", call: .get(sequence: 2, owner: 5)),
            .strategy(symbol: "ETH-USD", call: .setPaused(sequence: 2, owner: 5, paused: true, nowMillis: 16)),
            .strategy(symbol: "ETH-USD", call: .delete(sequence: 2, owner: 5, nowMillis: 17)),
            .strategy(symbol: "ETH-USD", call: .signals(sequence: 2, owner: 5, limit: 500)),
        ]
        for call in calls { #expect(try ShardCall(decoding: call.encoded()) == call) }
        #expect(calls[0].shard == "symbol/BTC-USD")
        #expect(calls[5].shard == "accounts/1023")
        #expect(calls[8].shard == "accounts/0003")
        #expect(calls.last?.shard == "symbol/ETH-USD")
        let answers: [ShardAnswer] = [
            .events(events), .events([]),
            .quote(SymbolQuote(halted: true, bid: nil, ask: Price(ticks: 5), last: Price(ticks: 4))),
            .settled(DeliveryReceipt(sequence: nil, epoch: 3, durable: 9)),
            .settled(DeliveryReceipt(sequence: 17, epoch: 4, durable: 16)), .durable,
            .failed(BourseError(.unavailable, "accounts/0001 moved")),
            .placed(order.id), .done, .resting([]),
            .resting([
                RequotePlan.Resting(orderID: 3, side: .buy, price: Price(ticks: 99)),
                RequotePlan.Resting(orderID: 4, side: .sell, price: Price(ticks: 101)),
            ]),
            .balances([]),
            .balances([
                BalanceView(currency: "USD", available: Amount(units: 5), locked: Amount(units: -1)),
                BalanceView(currency: "BTC", available: .zero, locked: Amount(units: 7)),
            ]),
            .strategies([]),
            .strategies([
                StrategyView(
                    strategyID: "st_BTC-USD_1", owner: 5, definition: StrategyEvaluationTests.smaCross, status: .paused,
                    createdAtMillis: 3, lastFiredMillis: 4, signalCount: 2),
                StrategyView(
                    strategyID: "st_ETH-USD_2", owner: 5, definition: StrategyEvaluationTests.above150(.sell),
                    status: .active, createdAtMillis: 5),
            ]),
            .signals([
                SignalView(
                    strategyID: "st_BTC-USD_1", candleCloseMillis: 60_000, firedAtMillis: 61_000, ruleIndex: 0,
                    side: .buy, quantity: Quantity(lots: 100), outcome: .placed(orderID: order.id)),
                SignalView(
                    strategyID: "st_BTC-USD_1", candleCloseMillis: 120_000, firedAtMillis: 121_000, ruleIndex: 1,
                    side: .sell, quantity: Quantity(lots: 100),
                    outcome: .refused(code: .insufficientFunds, reason: "not enough BTC")),
                SignalView(
                    strategyID: "st_BTC-USD_1", candleCloseMillis: 180_000, firedAtMillis: 181_000, ruleIndex: 0,
                    side: .buy, quantity: Quantity(lots: 1), outcome: .pending),
            ]),
        ]
        for answer in answers { #expect(try ShardAnswer(decoding: answer.encoded()) == answer) }
        // Garbage is refused, never trusted.
        #expect(throws: BourseError.self) { try ShardCall(decoding: [9]) }
        #expect(throws: BourseError.self) { try ShardCall(decoding: calls[0].encoded() + [0]) }
        #expect(throws: BourseError.self) { try ShardAnswer(decoding: []) }
    }

    @Test("every shard moves to another node (handoff), and trading goes on where it stopped")
    func shardsMove() async throws {
        try await Self.withStore { store in
            let mesh = Mesh()
            var nodes = try await Self.start(store: store, mesh: mesh, rotation: 0)
            var random = SeededRandom(seed: 31)
            let users = (0..<Self.accountShards).map { Self.user(onShard: $0) }
            func serving(_ user: UserID) -> Exchange {
                nodes.values.first { $0.serves(ShardKey.account(index: ShardKey.accountShardIndex(user, shards: 6))) }!
            }
            for user in users {
                _ = try await serving(user).deposit(
                    user: user, currency: "USD", amount: Flow.amount("1000000"), idempotencyKey: nil)
                for currency in ["BTC", "ETH"] {
                    _ = try await serving(user).deposit(
                        user: user, currency: currency, amount: Flow.amount("100"), idempotencyKey: nil)
                }
            }
            func trade(_ count: Int) async throws -> Int {
                var placed = 0
                for _ in 0..<count {
                    let user = users[Int(random.next() % UInt64(users.count))]
                    let symbol = random.chance(50) ? "BTC-USD" : "ETH-USD"
                    let price = String(2_000 + random.int(in: -5...5))
                    let side: Side = random.chance(50) ? .buy : .sell
                    let quantity = String(format: "0.%02d", random.int(in: 1...20))
                    if (try? await serving(user).placeOrder(
                        user: user, request: Self.limit(side, quantity, at: price, symbol: symbol))) != nil
                    {
                        placed += 1
                    }
                }
                return placed
            }
            #expect(try await trade(150) == 150)
            #expect(await Self.failedChecks(Array(nodes.values)) == [])
            var views: [UserID: [OrderView]] = [:]
            for user in users {
                views[user] = try await serving(user).orders(user: user, filter: OrderFilter(limit: 1_000))
            }

            for exchange in nodes.values { await exchange.stop(releasingLeases: true) }
            nodes = try await Self.start(store: store, mesh: mesh, rotation: 1)
            #expect(nodes["a"]!.serves(ShardKey.symbol("ETH-USD")) == false)
            for user in users {
                #expect(try await serving(user).orders(user: user, filter: OrderFilter(limit: 1_000)) == views[user])
            }
            #expect(await Self.failedChecks(Array(nodes.values)) == [])
            #expect(try await trade(150) == 150)
            #expect(await Self.failedChecks(Array(nodes.values)) == [])
            for exchange in nodes.values { await exchange.stop(releasingLeases: true) }
        }
    }
}
