import Testing
import Trading

/// Snapshot round trips, the state hash and the binary writer and reader.
@Suite struct LedgerSnapshotTests {
    typealias F = LedgerFixtures

    /// A ledger with every kind of state: balances, open buy and sell reservations with fills,
    /// positions, fees, applied fills and undrained rows.
    func busyLedger() throws -> AccountLedger {
        var ledger = AccountLedger(userID: 42)
        try ledger.deposit(currency: "USD", amount: F.amount("10000"), reference: "dépôt-1")
        try ledger.deposit(currency: "BTC", amount: F.amount("3"), reference: "d2")
        try ledger.reserve(order: F.buy(1, "5000", "1"), spec: F.btcUSD)
        try ledger.settle(fill: F.fill(1, order: 1, owner: 42, .buy, "4999.99", "0.3", .maker))
        try ledger.reserve(order: F.sell(2, "5100", "2"), spec: F.btcUSD)
        try ledger.settle(fill: F.fill(2, order: 2, owner: 42, .sell, "5100", "0.7", .taker))
        try ledger.reserve(order: F.buy(1, "0.05", "10", spec: F.ethBTC), spec: F.ethBTC)
        try ledger.settle(fill: F.fill(1, order: 1, owner: 42, .buy, "0.04999", "10", .taker, spec: F.ethBTC))
        try ledger.reserve(
            order: NewOrder(id: 3, owner: 42, side: .buy, type: .market, price: nil, quantity: F.quantity("0.1")),
            spec: F.btcUSD, protectionPrice: F.price("5200"))
        return ledger
    }

    @Test func snapshotRoundTripPreservesEverything() throws {
        var ledger = try busyLedger()
        let bytes = ledger.snapshot()
        let restored = try AccountLedger(snapshot: bytes)
        #expect(restored == ledger)
        #expect(restored.stateHash == ledger.stateHash)
        #expect(restored.snapshot() == bytes)
        // Draining changes the snapshot but not the state hash.
        let hash = ledger.stateHash
        #expect(!ledger.drainEntries().isEmpty)
        #expect(ledger.stateHash == hash)
        #expect(try AccountLedger(snapshot: ledger.snapshot()) == ledger)
    }

    @Test func stateHashDependsOnStateNotHistory() throws {
        var a = AccountLedger(userID: 1)
        var b = AccountLedger(userID: 1)
        try a.deposit(currency: "USD", amount: F.amount("1"), reference: "x")
        try a.deposit(currency: "BTC", amount: F.amount("2"), reference: "y")
        try b.deposit(currency: "BTC", amount: F.amount("2"), reference: "y")
        try b.deposit(currency: "USD", amount: F.amount("1"), reference: "x")
        #expect(a.stateHash == b.stateHash)
        try b.withdraw(currency: "USD", amount: Amount(units: 1), reference: "z")
        #expect(a.stateHash != b.stateHash)
        #expect(AccountLedger(userID: 1).stateHash != AccountLedger(userID: 2).stateHash)
    }

    @Test func truncatedOrCorruptSnapshotsThrow() throws {
        let bytes = try busyLedger().snapshot()
        for length in 0..<bytes.count {
            #expect(throws: BourseError.self) { try AccountLedger(snapshot: Array(bytes[..<length])) }
        }
        #expect(throws: BourseError.self) { try AccountLedger(snapshot: bytes + [0]) }
        var wrongVersion = bytes
        wrongVersion[4] = 9
        #expect(throws: BourseError.self) { try AccountLedger(snapshot: wrongVersion) }
        // Flipping any byte either fails cleanly or decodes to a ledger that passes its invariants.
        for index in stride(from: 0, to: bytes.count, by: 3) {
            var corrupt = bytes
            corrupt[index] ^= 0x5A
            if let ledger = try? AccountLedger(snapshot: corrupt) { try ledger.verifyInvariants() }
        }
    }

    @Test func binaryWriterAndReaderRoundTrip() throws {
        var writer = BinaryWriter()
        writer.write(UInt8(0xAB))
        writer.write(true)
        writer.write(UInt16(0xBEEF))
        writer.write(UInt32(0xDEAD_BEEF))
        writer.write(UInt64.max - 1)
        writer.write(Int64.min)
        writer.write(Int128(-12_345_678_901_234_567_890) * 1_000_000)
        writer.write("héllo")
        writer.write(bytes: [1, 2, 3])
        writer.writeRaw([9, 9])
        writer.writeCount(2)
        #expect(Array(writer.bytes[4..<6]) == [0xEF, 0xBE])  // little-endian

        var reader = BinaryReader(writer.bytes)
        #expect(try reader.readUInt8() == 0xAB)
        #expect(try reader.readBool())
        #expect(try reader.readUInt16() == 0xBEEF)
        #expect(try reader.readUInt32() == 0xDEAD_BEEF)
        #expect(try reader.readUInt64() == UInt64.max - 1)
        #expect(try reader.readInt64() == Int64.min)
        #expect(try reader.readInt128() == Int128(-12_345_678_901_234_567_890) * 1_000_000)
        #expect(try reader.readString() == "héllo")
        #expect(try reader.readBytes() == [1, 2, 3])
        #expect(try reader.readRaw(count: 2) == [9, 9])
        #expect(try reader.readCount(minimumElementSize: 0) == 2)
        #expect(reader.isAtEnd)
        try reader.expectEnd()
        #expect(throws: BourseError.self) { try reader.readUInt8() }
    }

    @Test func binaryReaderRefusesBadInput() {
        var short = BinaryReader([1, 2, 3])
        let error = #expect(throws: BourseError.self) { try short.readUInt64() }
        #expect(error?.code == .validation)
        #expect(short.offset == 0)
        var hugeCount = BinaryWriter()
        hugeCount.write(UInt64.max)
        var reader = BinaryReader(hugeCount.bytes)
        #expect(throws: BourseError.self) { try reader.readString() }
        var badUTF8 = BinaryWriter()
        badUTF8.write(bytes: [0xFF, 0xFE])
        reader = BinaryReader(badUTF8.bytes)
        #expect(throws: BourseError.self) { try reader.readString() }
        reader = BinaryReader([2])
        #expect(throws: BourseError.self) { try reader.readBool() }
        #expect(throws: BourseError.self) { try BinaryReader([0]).expectEnd() }
    }
}
