import Storage
import TestSupport
import Testing
import Trading

@testable import Actors

/// A new order reaches its book once, however often its place is sent: retried after a lost answer, reordered
/// with other places, or sent again long after (the account shard's watermark and the book's `PlacementLog`).
@Suite("Placements applied once")
struct PlacementTests {
    typealias Flow = ExchangeFlowTests
    static let shard = 2
    static func id(_ counter: UInt64) -> OrderID { OrderIDs.make(shard: shard, counter: counter) }

    @Test("the watermark is just below the oldest order no book has answered")
    func unansweredWatermark() {
        var orders = UnansweredOrders()
        #expect(orders.settledThrough(latest: Self.id(0)) == Self.id(0))
        for counter in 1...3 { orders.add(Self.id(UInt64(counter))) }
        #expect(orders.settledThrough(latest: Self.id(3)) == Self.id(0))
        orders.answer(Self.id(2))
        #expect(orders.settledThrough(latest: Self.id(3)) == Self.id(0))
        orders.answer(Self.id(1))
        #expect(orders.settledThrough(latest: Self.id(3)) == Self.id(2))
        orders.answer(Self.id(1))  // twice: nothing
        orders.answer(Self.id(3))
        #expect(orders.isEmpty)
        #expect(orders.settledThrough(latest: Self.id(3)) == Self.id(3))

        // Many, answered in a random order: always just below the smallest still open (compaction included).
        var random = SeededRandom(seed: 11)
        var open = Set<OrderID>()
        var next: UInt64 = 4
        for _ in 0..<20_000 {
            if open.isEmpty || random.chance(55) {
                orders.add(Self.id(next))
                open.insert(Self.id(next))
                next += 1
            } else {
                let victim = open.randomElement(using: &random)!
                open.remove(victim)
                orders.answer(victim)
            }
            let expected = open.min().map { $0 - 1 } ?? Self.id(next - 1)
            #expect(orders.settledThrough(latest: Self.id(next - 1)) == expected)
            if orders.settledThrough(latest: Self.id(next - 1)) != expected { return }
        }
        #expect(orders.count == open.count)
    }

    @Test("the log refuses an id placed before or at its shard's watermark, and forgets what the watermark covers")
    func placementLog() {
        var log = PlacementLog()
        #expect(!log.isRepeat(Self.id(5)))
        log.record(Self.id(5), settledThrough: Self.id(2))
        log.record(Self.id(7), settledThrough: Self.id(2))
        #expect(log.isRepeat(Self.id(5)) && log.isRepeat(Self.id(7)) && log.isRepeat(Self.id(1)))
        #expect(!log.isRepeat(Self.id(6)) && !log.isRepeat(Self.id(3)))
        #expect(log.remembered == 2)
        // Ids the watermark covers are forgotten in bulk, once there are `pruneAt`.
        var bulk = PlacementLog()
        for counter in 1...UInt64(PlacementLog.pruneAt - 1) { bulk.record(Self.id(counter), settledThrough: 0) }
        bulk.record(Self.id(1_000), settledThrough: Self.id(999))
        #expect(bulk.remembered == PlacementLog.pruneAt)
        bulk.record(Self.id(1_001), settledThrough: Self.id(999))
        #expect(bulk.remembered == 2)
        #expect(bulk.isRepeat(Self.id(5)) && bulk.isRepeat(Self.id(1_000)) && !bulk.isRepeat(Self.id(1_002)))
        // Another shard's ids are its own.
        #expect(!log.isRepeat(OrderIDs.make(shard: 3, counter: 1)))
        log.record(Self.id(8), settledThrough: Self.id(6))
        #expect(log.isRepeat(Self.id(3)) && log.isRepeat(Self.id(6)))
        // A lower watermark later (an older place arriving late) moves nothing back.
        log.record(Self.id(9), settledThrough: Self.id(4))
        #expect(log.isRepeat(Self.id(6)))
        // A watermark naming another shard's id is ignored.
        log.record(Self.id(10), settledThrough: OrderIDs.make(shard: 3, counter: 100))
        #expect(!log.isRepeat(Self.id(11)))
    }

    /// The property: one account shard places orders into one book over a network that reorders, repeats and
    /// delays every place, while book events reach the account at least once, and both sides are snapshotted
    /// and restored now and then. Every order is accepted by the book exactly once; the book's log keeps only
    /// the ids above the highest watermark; a state rebuilt from its journal (repeats are never journaled) is
    /// the same as the live one.
    @Test("seeded: reordered, repeated and late places are each booked once", arguments: [1, 2, 3, 4, 5] as [UInt64])
    func placedOnce(seed: UInt64) throws {
        let btc = Flow.btc
        var random = SeededRandom(seed: seed)
        var account = AccountShardState(index: Self.shard, markets: [btc.symbol: btc])
        var book = SymbolState(spec: btc)
        var journal: [SymbolState.Record] = []
        var events: [BookEvent] = []
        var deliveredTo = 0
        var inFlight: [(order: NewOrder, watermark: OrderID)] = []
        var sent: [(order: NewOrder, watermark: OrderID)] = []
        var highestWatermark: OrderID = 0
        var now: Int64 = 1_714_564_800_000
        func apply(_ command: AccountShardState.Command) throws -> AccountShardState.Outcome {
            now += 1
            return try account.apply(AccountShardState.Record(timestampMillis: now, command: command))
        }
        for user in 1...4 as ClosedRange<UserID> {
            _ = try apply(.deposit(user: user, currency: "USD", amount: Flow.amount("10000000"), key: nil))
            _ = try apply(.deposit(user: user, currency: "BTC", amount: Flow.amount("1000"), key: nil))
        }
        func send(_ place: (order: NewOrder, watermark: OrderID)) {
            now += 1
            let record = SymbolState.Record(
                timestampMillis: now, command: .place(place.order, settledThrough: place.watermark))
            let repeated = book.placements.isRepeat(place.order.id)
            let produced = book.apply(record)
            if repeated {
                #expect(produced.isEmpty)
            } else {
                journal.append(record)
                events += produced
                if OrderIDs.shard(of: place.watermark) == Self.shard {
                    highestWatermark = max(highestWatermark, place.watermark)
                }
            }
        }
        func deliver(from start: Int) throws {
            guard start < events.count else { return }
            _ = try apply(.bookEvents(symbol: btc.symbol, events: Array(events[start...])))
            deliveredTo = events.count
        }
        for _ in 0..<4_000 {
            switch random.int(in: 0...99) {
            case 0..<30:
                let request = OrderRequest(
                    symbol: btc.symbol, side: random.chance(50) ? .buy : .sell, type: .limit,
                    quantity: Quantity(lots: random.int(in: 100...1_000)),
                    price: Price(ticks: 5_000_000 + random.int(in: -10...10)))
                guard
                    case .order(let order, let watermark) = try apply(
                        .place(user: 1 + random.next() % 4, request: request, protection: nil))
                else { throw BourseError(.internal, "no order") }
                #expect(watermark < order.id)
                inFlight.append((order, watermark))
                sent.append((order, watermark))
            case 30..<60 where !inFlight.isEmpty:
                let index = Int(random.next() % UInt64(inFlight.count))
                send(inFlight[index])
                if !random.chance(30) { inFlight.remove(at: index) }  // else: a retry will come
            case 60..<70 where !sent.isEmpty:
                send(sent[Int(random.next() % UInt64(sent.count))])  // late: sent again long after
            case 70..<90:
                // At least once: from some point at or before what was delivered.
                try deliver(from: Int(random.int(in: Int64(max(0, deliveredTo - 20))...Int64(deliveredTo))))
            case 90..<94:
                if let resting = sent.randomElement(using: &random) {
                    now += 1
                    let record = SymbolState.Record(timestampMillis: now, command: .book(.cancel(resting.order.id)))
                    journal.append(record)
                    events += book.apply(record)
                }
            case 94..<97:
                book = try SymbolState(spec: btc, snapshot: book.snapshot())
            case 97..<100:
                account = try AccountShardState(
                    index: Self.shard, markets: [btc.symbol: btc], snapshot: account.snapshot())
            default:
                break
            }
            // The log holds at most `pruneAt`, or as many again, ids at or below the highest watermark it has applied.
            // `sent` ascends by id: count those above the watermark by bisection (a scan per step was slow).
            var low = 0
            var high = sent.count
            while low < high {
                let middle = (low + high) / 2
                if sent[middle].order.id > highestWatermark { high = middle } else { low = middle + 1 }
            }
            let above = sent.count - low
            #expect(book.placements.remembered <= max(above * 2 + 1, above + PlacementLog.pruneAt))
        }
        for place in inFlight { send(place) }
        try deliver(from: deliveredTo)

        var accepted: [OrderID: Int] = [:]
        for event in events {
            if case .accepted(let id) = event.kind { accepted[id, default: 0] += 1 }
        }
        #expect(sent.count > 900)
        #expect(sent.allSatisfy { accepted[$0.order.id] == 1 })
        #expect(accepted.count == sent.count)
        #expect(account.unanswered.isEmpty)
        #expect(account.settledThrough == sent.last!.order.id)
        #expect(account.anomalies == 0)

        var replayed = SymbolState(spec: btc)
        for record in journal { _ = replayed.apply(record) }
        #expect(replayed.book.stateHash == book.book.stateHash)
        #expect(replayed.placements == book.placements)
    }

    @Test("a place sent again to the symbol actor changes nothing and journals nothing")
    func actorIgnoresRepeats() async throws {
        try await TestExchange.run(markets: [Flow.btc], accountShards: 4) { exchange in
            _ = try await exchange.deposit(user: 1, currency: "USD", amount: Flow.amount("100000"), idempotencyKey: nil)
            _ = try await exchange.deposit(user: 2, currency: "BTC", amount: Flow.amount("10"), idempotencyKey: nil)
            let bid = try await exchange.placeOrder(
                user: 1,
                request: OrderRequest(
                    symbol: "BTC-USD", side: .buy, type: .limit, quantity: Flow.quantity("0.5"),
                    price: Flow.price("50000"))
            ).order
            _ = try await exchange.placeOrder(
                user: 2,
                request: OrderRequest(
                    symbol: "BTC-USD", side: .sell, type: .limit, quantity: Flow.quantity("0.5"),
                    price: Flow.price("50000")))
            let symbol = try exchange.symbolActor("BTC-USD")
            let before = await symbol.progress.journalSequence
            let hash = await symbol.stateHash()
            // The bid filled and left the book: only the log knows it was placed. Send it again.
            let again = NewOrder(
                id: bid.orderID, owner: 1, side: .buy, type: .limit, price: bid.price, stopPrice: nil,
                quantity: bid.quantity, timeInForce: .gtc, postOnly: false)
            let events = try await symbol.place(again, settledThrough: 0, nowMillis: Exchange.wallClockMillis())
            #expect(events.isEmpty)
            #expect(await symbol.progress.journalSequence == before)
            #expect(await symbol.stateHash() == hash)
            let view = try await exchange.order(user: 1, orderID: bid.orderID)
            #expect(view.status == .filled)
            #expect(view.filledQuantity == Flow.quantity("0.5"))
            VerifyTests.expectClean(await exchange.verify())
        }
    }
}
