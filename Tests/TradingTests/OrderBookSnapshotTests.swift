import TestSupport
import Testing

@testable import Trading

@Suite("Order book snapshots and index")
struct OrderBookSnapshotTests {
    /// A book with resting orders on both sides, several levels, partial fills and stops.
    static func sampleBook() -> OrderBook {
        var book = OrderBook()
        var id: OrderID = 1
        for price in stride(from: Int64(90), through: 99, by: 1) {
            for owner in 1...3 as ClosedRange<UInt64> {
                _ = book.apply(.place(.limit(id, owner: owner, .buy, price: price, quantity: 10)))
                id += 1
                _ = book.apply(.place(.limit(id, owner: owner, .sell, price: price + 11, quantity: 10)))
                id += 1
            }
        }
        _ = book.apply(.place(.limit(id, owner: 9, .sell, price: 99, quantity: 15)))  // partial fill of bids
        id += 1
        _ = book.apply(
            .place(
                NewOrder(
                    id: id, owner: 4, side: .buy, type: .stopLimit, price: Price(ticks: 120),
                    stopPrice: Price(ticks: 115), quantity: Quantity(lots: 5))))
        id += 1
        _ = book.apply(
            .place(
                NewOrder(
                    id: id, owner: 5, side: .sell, type: .stop, price: nil, stopPrice: Price(ticks: 80),
                    quantity: Quantity(lots: 7))))
        return book
    }

    @Test("snapshot then restore gives the same state hash and the same future")
    func roundTrip() throws {
        var original = Self.sampleBook()
        var restored = try OrderBook(snapshot: original.snapshot())
        #expect(restored.stateHash == original.stateHash)
        #expect(restored.restingOrders == original.restingOrders)
        #expect(restored.stopOrders == original.stopOrders)
        #expect(restored.snapshot() == original.snapshot())
        // Continue both with the same commands: a sweep that triggers the buy stop.
        let commands: [BookCommand] = [
            .place(.limit(1_000, owner: 7, .buy, price: 116, quantity: 100)),
            .cancel(5), .amend(8, price: Price(ticks: 103), quantity: nil),
            .place(.limit(1_001, owner: 8, .sell, price: 50, quantity: 200)),
        ]
        for command in commands {
            #expect(restored.apply(command) == original.apply(command))
        }
        #expect(restored.stateHash == original.stateHash)
    }

    @Test("every truncation of a snapshot is an error, not a trap")
    func truncated() {
        let bytes = Self.sampleBook().snapshot()
        for length in stride(from: 0, to: bytes.count, by: 7) {
            #expect(throws: BourseError.self) { try OrderBook(snapshot: Array(bytes[..<length])) }
        }
        #expect(throws: BourseError.self) { try OrderBook(snapshot: bytes + [0]) }
    }

    @Test("corrupt snapshots are refused")
    func corrupted() throws {
        let bytes = Self.sampleBook().snapshot()
        var random = SeededRandom(seed: 3)
        var refused = 0
        for _ in 0..<2_000 {
            var copy = bytes
            let position = Int(random.next() % UInt64(copy.count))
            copy[position] ^= UInt8(truncatingIfNeeded: random.next() | 1)
            // Either refused or decoded into a book that still holds its invariants.
            if let book = try? OrderBook(snapshot: copy) {
                if let bid = book.bestBid, let ask = book.bestAsk { #expect(bid < ask) }
            } else {
                refused += 1
            }
        }
        #expect(refused > 0)
    }

    @Test("the open-addressing index agrees with a dictionary under random inserts and removals")
    func indexMatchesDictionary() {
        var index = OrderIndex(capacity: 4)
        var model: [UInt64: Int32] = [:]
        var random = SeededRandom(seed: 11)
        for step in 0..<200_000 {
            // Few distinct keys so removals and re-inserts collide a lot.
            let key = random.next() % 5_000
            if model[key] == nil, random.chance(60) {
                index.insert(key, Int32(step % 1_000_000))
                model[key] = Int32(step % 1_000_000)
            } else {
                index.remove(key)
                model[key] = nil
            }
            let probe = random.next() % 5_000
            #expect(index.find(probe) == (model[probe] ?? -1))
        }
        #expect(index.count == model.count)
        for (key, value) in model { #expect(index.find(key) == value) }
    }
}
