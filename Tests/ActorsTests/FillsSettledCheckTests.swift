import Testing

@testable import Actors
@testable import Trading

/// `verify`'s fills check over ledgers that keep only their recent fill ids (`SettledTrades`): trades above
/// the highest watermark are counted one by one as before, the rest is named in the note, and the audit
/// carries the watermarks between nodes.
@Suite struct FillsSettledCheckTests {
    static func progress(_ shard: String) -> ShardProgress {
        ShardProgress(shard: shard, epoch: 1, journalSequence: 10, durableSequence: 10, lastSnapshotSequence: 0)
    }

    /// Two account shards whose users traded every trade of a book of `made` trades with each other; the
    /// first shard's ledger pruned its list up to `floor`.
    static func audits(made: UInt64, floor: UInt64) -> (accounts: [AccountShardAudit], symbol: SymbolAudit) {
        var maker = AccountShardAudit(progress: progress("accounts/0001"), anomalies: 0)
        var taker = AccountShardAudit(progress: progress("accounts/0002"), anomalies: 0)
        maker.settledFills["BTC-USD"] = Array((floor + 1)...made)
        if floor > 0 { maker.settledThrough["BTC-USD"] = floor }
        taker.settledFills["BTC-USD"] = Array(1...made)
        let symbol = SymbolAudit(
            symbol: "BTC-USD", progress: progress("symbol/BTC-USD"), bestBid: nil, bestAsk: nil, lastTradeID: made,
            orders: [], undelivered: 0)
        return ([maker, taker], symbol)
    }

    @Test func tradesAboveTheWatermarkAreCountedOneByOne() throws {
        let (accounts, symbol) = Self.audits(made: 20_000, floor: 12_000)
        let outcome = InvariantChecker(accounts: accounts, symbols: [symbol]).fillsSettled()
        #expect(outcome.findings.count == 0, "\(outcome.findings.examples)")
        #expect(outcome.checked == 8_000)
        #expect(outcome.note?.contains("BTC-USD through trade 12000") == true, "\(outcome.note ?? "no note")")

        // Without any watermark every trade is counted, and there is no note.
        let (all, book) = Self.audits(made: 500, floor: 0)
        let full = InvariantChecker(accounts: all, symbols: [book]).fillsSettled()
        #expect(full.findings.count == 0 && full.checked == 500 && full.note == nil)
    }

    @Test func aTradeAboveTheWatermarkSettledOnceOrThriceIsStillFound() throws {
        var (accounts, symbol) = Self.audits(made: 20_000, floor: 12_000)
        accounts[0].settledFills["BTC-USD"]!.removeAll { $0 == 15_000 }
        accounts[1].settledFills["BTC-USD"]!.append(19_999)
        accounts[1].settledFills["BTC-USD"]!.append(20_001)
        let outcome = InvariantChecker(accounts: accounts, symbols: [symbol]).fillsSettled()
        let examples = outcome.findings.examples
        #expect(outcome.findings.count == 3, "\(examples)")
        #expect(examples.contains("BTC-USD trade 15000: settled by 1 accounts (expected 2: maker and taker)"))
        #expect(examples.contains("BTC-USD trade 19999: settled by 3 accounts (expected 2: maker and taker)"))
        #expect(examples.contains("BTC-USD trade 20001: settled, but the book made 20000 trades"))
    }

    @Test func theAuditCarriesTheWatermarksBetweenNodes() throws {
        let (accounts, symbol) = Self.audits(made: 300, floor: 120)
        let decoded = try ExchangeAudit(decoding: ExchangeAudit(accounts: accounts, symbols: [symbol]).encoded())
        #expect(decoded.accounts.map(\.settledThrough) == accounts.map(\.settledThrough))
        #expect(decoded.accounts.map(\.settledFills) == accounts.map(\.settledFills))
        let outcome = InvariantChecker(accounts: decoded.accounts, symbols: decoded.symbols).fillsSettled()
        #expect(outcome.findings.count == 0 && outcome.checked == 180)
    }
}
