import Testing
import Trading

@testable import Actors

/// The binary encoding of strategies in the symbol journal and snapshot.
@Suite("Strategy records and snapshots")
struct StrategyCodecTests {
    static let market = StrategyEvaluationTests.market

    static func indicator(_ spec: IndicatorSpec, _ field: IndicatorField? = nil, _ interval: Timeframe = .m1)
        -> Operand
    {
        .indicator(IndicatorOperand(spec, field: field, interval: interval))
    }

    /// Every node kind, indicator, field, operator and interval.
    static let definition = StrategyDefinition(
        name: "every → kind ✓", symbol: "BTC-USD",
        rules: [
            StrategyRule(
                when: .all([
                    .comparison(Comparison(indicator(.rsi(period: 14)), .lessThan, .value(30.5))),
                    .comparison(
                        Comparison(indicator(.price), .crossesAbove, indicator(.sma(period: 20), nil, .m5))),
                    .not(
                        .any([
                            .comparison(
                                Comparison(
                                    indicator(.macd(fast: 12, slow: 26, signal: 9), .histogram, .h1),
                                    .crossesBelow, .value(0))),
                            .comparison(
                                Comparison(
                                    indicator(.price, nil, .m15), .lessThanOrEqual,
                                    indicator(.bollinger(period: 20, k: 2.5), .upper, .h4))),
                            .comparison(Comparison(indicator(.volume, nil, .d1), .greaterThan, .value(-1e-7))),
                            .comparison(
                                Comparison(indicator(.ema(period: 1000)), .greaterThanOrEqual, .value(1e300))),
                        ])),
                ]),
                action: StrategyAction(side: .buy, quantity: Quantity(lots: 100))),
            StrategyRule(
                when: .comparison(
                    Comparison(
                        indicator(.bollinger(period: 5, k: 1), .lower), .lessThan,
                        indicator(.macd(fast: 3, slow: 4, signal: 5), .signal))),
                action: StrategyAction(side: .sell, quantity: Quantity(lots: 1))),
        ], cooldownSeconds: 2_592_000)

    @Test(
        "every strategy command round-trips through a journal record",
        arguments: [
            StrategyCommand.add(owner: 42, definition: definition), .pause(sequence: 7), .resume(sequence: 7),
            .delete(sequence: .max),
            .recordSignal(
                sequence: 3, candleCloseMillis: 1_714_564_860_000, firedAtMillis: 1_714_564_861_234, rule: 1,
                outcome: .pending),
            .recordSignal(
                sequence: 3, candleCloseMillis: 1, firedAtMillis: 2, rule: 0, outcome: .placed(orderID: 99)),
            .recordSignal(
                sequence: 3, candleCloseMillis: 1, firedAtMillis: 2, rule: 0,
                outcome: .refused(code: .insufficientFunds, reason: "insufficient BTC: available 0, needed 0.001")),
        ])
    func commandRoundTrip(_ command: StrategyCommand) throws {
        let record = SymbolState.Record(timestampMillis: 1_714_564_800_000, command: .strategy(command))
        let bytes = record.encoded()
        #expect(try SymbolState.Record(decoding: bytes) == record)
        // Truncated or extended records are refused, never misread.
        #expect(throws: BourseError.self) { try SymbolState.Record(decoding: Array(bytes.dropLast())) }
        #expect(throws: BourseError.self) { try SymbolState.Record(decoding: bytes + [0]) }
    }

    @Test("a corrupt rule tree is refused: unknown tags and absurd nesting")
    func corruptTrees() {
        var deep = RuleTree.comparison(Comparison(Self.indicator(.price), .lessThan, .value(1)))
        for _ in 0..<40 { deep = .not(deep) }
        var writer = BinaryWriter()
        writer.write(ruleTree: deep)
        var reader = BinaryReader(writer.bytes)
        #expect(throws: BourseError.self) { try reader.readRuleTree(depth: 1) }
        var unknown = BinaryReader([9])
        #expect(throws: BourseError.self) { try unknown.readRuleTree(depth: 1) }
    }

    /// A state with two strategies (one paused) and signals of every outcome.
    static func stateWithStrategies() -> SymbolState {
        var state = SymbolState(spec: market)
        let add = StrategyCommand.add(owner: 5, definition: definition)
        for command in [
            add, add, .pause(sequence: 2),
            .recordSignal(sequence: 1, candleCloseMillis: 60_000, firedAtMillis: 61_000, rule: 0, outcome: .pending),
            .recordSignal(
                sequence: 1, candleCloseMillis: 120_000, firedAtMillis: 121_000, rule: 1, outcome: .placed(orderID: 8)),
            .recordSignal(
                sequence: 2, candleCloseMillis: 180_000, firedAtMillis: 181_000, rule: 0,
                outcome: .refused(code: .orderRejected, reason: "no liquidity for a market order")),
        ] as [StrategyCommand] {
            _ = state.apply(SymbolState.Record(timestampMillis: 1_000, command: .strategy(command)))
        }
        return state
    }

    @Test("a snapshot keeps the strategies, their statuses, signals and next sequence")
    func snapshotRoundTrip() throws {
        let state = Self.stateWithStrategies()
        #expect(state.strategies.strategies.count == 2)
        let restored = try SymbolState(spec: Self.market, snapshot: state.snapshot())
        #expect(restored.strategies.strategies == state.strategies.strategies)
        #expect(restored.strategies.nextSequence == 3)
        #expect(restored.strategies.pending(symbol: "BTC-USD").map(\.candleCloseMillis) == [60_000])
        #expect(restored.strategies.indicators.count == state.strategies.indicators.count)
        #expect(restored.snapshot() == state.snapshot())
    }

    @Test("a version 1 snapshot (before strategies) still loads, with none")
    func versionOneSnapshot() throws {
        var state = SymbolState(spec: Self.market)
        state.halted = true
        var bytes = state.snapshot()
        // Version 1 is version 3 without the strategies (next sequence and count: 16 bytes) and the placement
        // log (its count: 8 bytes) at the end.
        bytes.replaceSubrange(0..<4, with: Array("BSY1".utf8))
        bytes.removeLast(24)
        let restored = try SymbolState(spec: Self.market, snapshot: bytes)
        #expect(restored.halted)
        #expect(restored.strategies.strategies.isEmpty)
        #expect(restored.strategies.nextSequence == 1)
    }

    @Test("a version 2 snapshot (before the placement log) still loads, with an empty log")
    func versionTwoSnapshot() throws {
        var state = SymbolState(spec: Self.market)
        _ = state.apply(
            SymbolState.Record(
                timestampMillis: 1,
                command: .place(
                    NewOrder(
                        id: OrderIDs.make(shard: 1, counter: 1), owner: 1, side: .buy, type: .limit,
                        price: Price(ticks: 100), stopPrice: nil, quantity: Quantity(lots: 1), timeInForce: .gtc,
                        postOnly: false), settledThrough: 0)))
        #expect(state.placements.remembered == 1)
        var bytes = state.snapshot()
        #expect(try SymbolState(spec: Self.market, snapshot: bytes).placements == state.placements)
        // Version 2 is version 3 without the placement log (one shard: count, index, watermark, pruned count,
        // count, id).
        bytes.replaceSubrange(0..<4, with: Array("BSY2".utf8))
        bytes.removeLast(48)
        let restored = try SymbolState(spec: Self.market, snapshot: bytes)
        #expect(restored.placements == PlacementLog())
        #expect(restored.book.stateHash == state.book.stateHash)
    }
}
