import Testing

@testable import Trading

/// A ledger's settled fill ids stay bounded however long a user trades (`SettledTrades`): the recent ones kept
/// exactly, the older ones as a watermark, in memory and in snapshots, with settlement still idempotent.
@Suite struct SettledTradesTests {
    typealias F = LedgerFixtures

    @Test func recentIdsAreKeptExactlyAndOlderOnesByTheWatermark() {
        var settled = SettledTrades()
        var maxKept = 0
        for id in stride(from: UInt64(3), through: 300_000, by: 3) {
            settled.insert(id)
            maxKept = max(maxKept, settled.count)
        }
        #expect(maxKept == 2 * SettledTrades.window)
        #expect(settled.count >= SettledTrades.window && settled.count <= 2 * SettledTrades.window)
        #expect(settled.settledThrough > 0)
        #expect(settled.recent.allSatisfy { $0 > settled.settledThrough })
        // Every id inserted still counts as settled; an id above the watermark that was never inserted does not.
        #expect(stride(from: UInt64(3), through: 300_000, by: 3).allSatisfy { settled.contains($0) })
        #expect(!settled.contains(299_999))
        #expect(!settled.contains(300_001))
        // Out of order within the window: recognized exactly.
        var unordered: SettledTrades = [10, 30, 20]
        #expect(unordered.contains(20) && !unordered.contains(25))
        unordered.insert(25)
        #expect(unordered.contains(25) && unordered.settledThrough == 0)
    }

    /// A seller filled in 30,000 small fills (trade ids far apart, as when other users trade in between).
    func longLivedSeller(fills: Int) throws -> AccountLedger {
        var ledger = AccountLedger(userID: 7)
        try ledger.deposit(currency: "BTC", amount: F.amount("100"), reference: "d")
        try ledger.reserve(order: F.sell(1, owner: 7, "100", "50"), spec: F.btcUSD)
        for index in 0..<fills {
            let fill = F.fill(UInt64(index) * 5 + 1, order: 1, owner: 7, .sell, "100", "0.0001", .maker)
            #expect(try ledger.settle(fill: fill).applied)
            _ = ledger.drainEntries()
        }
        return ledger
    }

    @Test func aLongLivedLedgerAndItsSnapshotStayBounded() throws {
        var ledger = try longLivedSeller(fills: 30_000)
        let settled = try #require(ledger.appliedFills["BTC-USD"])
        #expect(settled.count <= 2 * SettledTrades.window)
        #expect(ledger.appliedFillCount == 30_000)
        // 30,000 ids would be 240 KB; the snapshot holds at most twice the window.
        let bytes = ledger.snapshot()
        #expect(bytes.count < 2 * SettledTrades.window * 8 + 2_048, "snapshot of \(bytes.count) bytes")
        // The oldest fill and the newest are both still settled: settling either again changes nothing.
        for tradeID in [UInt64(1), UInt64(29_999 * 5 + 1)] {
            let before = ledger
            let again = try ledger.settle(fill: F.fill(tradeID, order: 1, owner: 7, .sell, "100", "0.0001", .maker))
            #expect(!again.applied)
            #expect(ledger == before)
        }
        // Restoring and going on is the same as never stopping.
        var restored = try AccountLedger(snapshot: bytes)
        #expect(restored == ledger)
        #expect(restored.stateHash == ledger.stateHash)
        for index in 30_000..<40_000 {
            let fill = F.fill(UInt64(index) * 5 + 1, order: 1, owner: 7, .sell, "100", "0.0001", .maker)
            #expect(try ledger.settle(fill: fill).applied)
            #expect(try restored.settle(fill: fill).applied)
        }
        _ = ledger.drainEntries()
        _ = restored.drainEntries()
        #expect(restored.stateHash == ledger.stateHash)
        #expect(restored.snapshot() == ledger.snapshot())
    }

    /// A version-1 snapshot (every settled id listed, no watermark) still restores.
    @Test func versionOneSnapshotsStillRestore() throws {
        var ledger = try longLivedSeller(fills: 50)
        try ledger.reserve(order: F.buy(2, owner: 7, "0.05", "1", spec: F.ethBTC), spec: F.ethBTC)
        try ledger.settle(fill: F.fill(9, order: 2, owner: 7, .buy, "0.05", "1", .taker, spec: F.ethBTC))
        _ = ledger.drainEntries()
        #expect(ledger.appliedFills.values.allSatisfy { $0.settledThrough == 0 })
        let current = ledger.snapshot()
        // Version 1: the same bytes without the number of fills settled before the fills section and the
        // 8-byte watermark after each of its symbols.
        var old = current
        old[4] = 1
        let section = Self.littleEndian(51) + Self.littleEndian(2) + Self.littleEndian(7) + Array("BTC-USD".utf8)
        let sectionStart = try #require(Self.lastRange(of: section, in: old))
        old.removeSubrange(sectionStart..<sectionStart + 8)
        for symbol in ["ETH-BTC", "BTC-USD"] {
            let marker = Self.littleEndian(UInt64(symbol.utf8.count)) + Array(symbol.utf8) + Self.littleEndian(0)
            let start = try #require(Self.lastRange(of: marker, in: old))
            old.removeSubrange(start + marker.count - 8..<start + marker.count)
        }
        #expect(old.count == current.count - 24)
        let restored = try AccountLedger(snapshot: old)
        #expect(restored == ledger)
        #expect(restored.snapshot() == current)
    }

    @Test func aSnapshotListingAnIdAtItsWatermarkIsRefused() throws {
        let ledger = try longLivedSeller(fills: 2 * SettledTrades.window + 1)
        let settled = try #require(ledger.appliedFills["BTC-USD"])
        #expect(settled.settledThrough > 0)
        var bytes = ledger.snapshot()
        // The first id listed after the watermark: made equal to it.
        let symbol = Self.littleEndian(7) + Array("BTC-USD".utf8)
        let start = try #require(Self.lastRange(of: symbol + Self.littleEndian(settled.settledThrough), in: bytes))
        let firstID = start + symbol.count + 8 + 8  // after the watermark and the count
        #expect(Array(bytes[firstID..<firstID + 8]) == Self.littleEndian(settled.recent.min()!))
        bytes.replaceSubrange(firstID..<firstID + 8, with: Self.littleEndian(settled.settledThrough))
        #expect(throws: BourseError.self) { try AccountLedger(snapshot: bytes) }
    }

    static func littleEndian(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    static func lastRange(of pattern: [UInt8], in bytes: [UInt8]) -> Int? {
        guard bytes.count >= pattern.count else { return nil }
        return stride(from: bytes.count - pattern.count, through: 0, by: -1).first {
            Array(bytes[$0..<$0 + pattern.count]) == pattern
        }
    }
}
