import Foundation
import TestSupport
import Testing
import Trading

extension OrderBook: MatchingBook {
    /// `MatchingBook`'s initializer (the book's own has a defaulted `expectedOrders` too).
    public init(protectionBps: Int64) {
        self.init(protectionBps: protectionBps, expectedOrders: 1024)
    }
}

/// The fast `OrderBook` against `ReferenceBook`: the hand-written scenarios, then long seeded random command
/// streams compared event by event, with state hashes, a never-crossed book, quantity conservation and
/// snapshot → restore → continue.
///
/// `BOURSE_LONG_TESTS=1` replays 10,000,000 random commands instead of about 120,000.
@Suite("OrderBook differential")
struct OrderBookDifferentialTests {
    /// One random stream: its seed and shape, and the books' market order protection.
    struct Case: Sendable, CustomTestStringConvertible {
        var seed: UInt64
        var protectionBps: Int64
        var owners: UInt64 = 6
        var spread: Int64 = 6
        var testDescription: String {
            "seed \(seed), protection \(protectionBps) bps, \(owners) owners, spread \(spread)"
        }

        func replay() -> DifferentialReplay {
            DifferentialReplay(seed: seed, protectionBps: protectionBps, owners: owners, spread: spread)
        }
    }

    static let isLong = ProcessInfo.processInfo.environment["BOURSE_LONG_TESTS"] == "1"

    static let cases: [Case] = [
        Case(seed: 1, protectionBps: 500), Case(seed: 2, protectionBps: 500),
        Case(seed: 0xB0_05E, protectionBps: 500, owners: 8),
        // Few price levels, many orders on each: FIFO within a level is exercised hard.
        Case(seed: 4, protectionBps: 50, owners: 5, spread: 2),
        Case(seed: 5, protectionBps: 0),
        // Two owners: self-trade prevention everywhere.
        Case(seed: 6, protectionBps: 9_999, owners: 2, spread: 3),
        // A wide book: deep sweeps, many levels.
        Case(seed: 7, protectionBps: 500, spread: 30),
    ]

    /// Commands per case: 7 × 40,000 = 280,000, or 10,000,000 in all in long mode.
    static let commandsPerCase = isLong ? (10_000_000 + cases.count - 1) / cases.count : 40_000

    @Test("scenario", arguments: MatchingScenario.all)
    func scenario(_ scenario: MatchingScenario) {
        scenario.run(on: OrderBook.self)
    }

    @Test("random command streams give the same events and state", arguments: cases)
    func randomStream(_ testCase: Case) {
        var replay = testCase.replay()
        if let failure = replay.run(Self.commandsPerCase) {
            Issue.record(Comment(rawValue: failure))
        } else {
            #expect(replay.index == Self.commandsPerCase)
        }
    }

    @Test(
        "snapshot, restore and continue follows the uninterrupted book",
        arguments: [Case(seed: 11, protectionBps: 500), Case(seed: 12, protectionBps: 300, owners: 4, spread: 3)])
    func snapshotRestoreContinue(_ testCase: Case) {
        var replay = testCase.replay()
        let count = Self.isLong ? 1_000_000 : 20_000
        if let failure = replay.run(count, snapshotEvery: Self.isLong ? 10_000 : 1_500) {
            Issue.record(Comment(rawValue: failure))
        }
        #expect(replay.checkpoints > 1)
    }

    @Test("the random stream covers every event and keeps a realistic book")
    func streamShape() {
        // A guard on the generator, not on either book: it must keep producing what the other tests rely on.
        var replay = DifferentialReplay(seed: 99, protectionBps: 500)
        var seen: Set<String> = []
        var crossingPlacements = 0
        var largestBook = 0
        for _ in 0..<20_000 {
            let bid = replay.reference.bestBid
            let ask = replay.reference.bestAsk
            if let failure = replay.step() {
                Issue.record(Comment(rawValue: failure))
                return
            }
            if case .place(let order) = replay.recent.last!, order.type == .limit, let price = order.price {
                if order.side == .buy, let ask, price >= ask { crossingPlacements += 1 }
                if order.side == .sell, let bid, price <= bid { crossingPlacements += 1 }
            }
            largestBook = max(largestBook, replay.reference.restingOrders.count)
            for event in replay.lastEvents {
                switch event.kind {
                case .accepted: seen.insert("accepted")
                case .trade: seen.insert("trade")
                case .expired: seen.insert("expired")
                case .triggered: seen.insert("triggered")
                case .amended: seen.insert("amended")
                case .cancelled(_, _, let reason): seen.insert("cancelled \(reason)")
                case .rejected(_, let reason): seen.insert("rejected \(reason)")
                }
            }
        }
        let expected: Set<String> = Set(
            ["accepted", "trade", "expired", "triggered", "amended", "cancelled user", "cancelled selfTrade"]
                + RejectReason.allCases.map { "rejected \($0)" })
        #expect(expected.subtracting(seen).isEmpty, "never seen: \(expected.subtracting(seen).sorted())")
        #expect(crossingPlacements > 2_000)
        #expect(replay.reference.restingOrders.count > 20)
        #expect(largestBook < 1_000)
    }
}
