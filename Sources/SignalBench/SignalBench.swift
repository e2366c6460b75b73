import Actors
import Foundation
import Logging
import Storage
import Synchronization
import Trading

/// One run: `strategies` active strategies on BTC-USD, of which exactly one fires at every close.
struct SignalBench {
    let strategies: Int
    let closes: Int
    let directory: String

    static let market = try! MarketSpec(
        symbol: "BTC-USD", base: "BTC", quote: "USD", tickSize: "0.01", lotSize: "0.00001", minQuantity: "0.00001",
        makerFeeBps: 0, takerFeeBps: 0)
    /// 2024-05-01T12:00:00Z.
    static let start: Int64 = 1_714_564_800_000
    /// Tick → the signal's order answered by the order flow (durable).
    static let orderLabel = "bourse_strategy_signal_latency"
    /// Tick → the signal handed to the order flow (evaluation done).
    static let signalLabel = "bourse_strategy_signal_handover_latency"
    static let maker: UserID = 1_000_000
    static let firing: UserID = 1_000_001

    /// The strategies that never fire but are evaluated at every close, over a spread of indicators (SMA and
    /// EMA of 40 periods, RSI of 10, MACD, Bollinger: ~100 distinct indicator instances shared by all).
    static func quiet(_ index: Int) -> StrategyDefinition {
        let price = Operand.indicator(IndicatorOperand(.price))
        let period = 5 + index % 40
        let trend: Comparison =
            switch index % 4 {
            case 0: Comparison(price, .greaterThan, .indicator(IndicatorOperand(.sma(period: period))))
            case 1: Comparison(price, .crossesAbove, .indicator(IndicatorOperand(.ema(period: period))))
            case 2:
                Comparison(
                    .indicator(IndicatorOperand(.macd(fast: 12, slow: 26, signal: 9), field: .histogram)),
                    .greaterThan, .value(0))
            default:
                Comparison(
                    price, .lessThan,
                    .indicator(IndicatorOperand(.bollinger(period: period, k: 2), field: .lower)))
            }
        // RSI never goes below 0: the rule never holds, so these strategies are evaluated but never trade.
        let never = Comparison(.indicator(IndicatorOperand(.rsi(period: 7 + index % 10))), .lessThan, .value(0))
        return StrategyDefinition(
            name: "quiet \(index)", symbol: "BTC-USD",
            rules: [
                StrategyRule(
                    when: .all([.comparison(trend), .comparison(never)]),
                    action: StrategyAction(side: .buy, quantity: Quantity(lots: 1)))
            ])
    }

    /// Fires at every close: price > 1.
    static let firingStrategy = StrategyDefinition(
        name: "always", symbol: "BTC-USD",
        rules: [
            StrategyRule(
                when: .comparison(Comparison(.indicator(IndicatorOperand(.price)), .greaterThan, .value(1))),
                action: StrategyAction(side: .buy, quantity: Quantity(lots: 1)))
        ])

    func run(capture: LatencyCapture) async throws -> String {
        try? FileManager.default.removeItem(atPath: directory)
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let store = try await SQLiteStore(directory: directory, logger: logger)
        let clock = ManualClock(Self.start)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            try await store.migrate()
            let exchange = Exchange(
                configuration: .init(markets: [Self.market], accountShards: 64, snapshotEvery: 100_000), store: store,
                logger: logger, clock: { clock.millis })
            try await exchange.start()
            let result = try await measure(exchange, clock: clock, capture: capture)
            await exchange.stop()
            await store.shutdown()
            return result
        }
    }

    private func measure(_ exchange: Exchange, clock: ManualClock, capture: LatencyCapture) async throws -> String {
        // Liquidity for the market buys, and money for the firing owner.
        _ = try await exchange.deposit(
            user: Self.maker, currency: "BTC", amount: Amount(units: 1_000 * Amount.unitsPerCoin), idempotencyKey: nil)
        _ = try await exchange.deposit(
            user: Self.firing, currency: "USD", amount: Amount(units: 1_000_000 * Amount.unitsPerCoin),
            idempotencyKey: nil)
        _ = try await exchange.placeOrder(
            user: Self.maker,
            request: OrderRequest(
                symbol: "BTC-USD", side: .sell, type: .limit, quantity: Quantity(lots: 100_000_000),
                price: Price(ticks: 1_000_000)))
        for index in 0..<(strategies - 1) {
            _ = try await exchange.createStrategy(user: UserID(1 + index / 50), definition: Self.quiet(index))
        }
        _ = try await exchange.createStrategy(user: Self.firing, definition: Self.firingStrategy)

        // Warm-up: 60 closes so that the indicators are defined (and evaluated in full) when measuring.
        let warmUp = 60
        var random = SplitMix(seed: 42)
        var price: Int64 = 50_000 * 100
        var tickLatencies: [Int64] = []
        _ = capture.drain(Self.orderLabel)
        for minute in 0..<(warmUp + closes) {
            price += Int64(random.next() % 2_001) - 1_000
            clock.set(Self.start + Int64(minute) * 60_000 + 1_000)
            let before = capture.count(Self.orderLabel)
            let started = ContinuousClock.now
            try await exchange.referenceTicks(
                symbol: "BTC-USD", [(priceUnits: price * 1_000_000, quantityUnits: Amount.unitsPerCoin / 100)])
            let journaled = ContinuousClock.now - started
            // The close fires one signal (from the second tick on): wait until its order is answered.
            if minute > 0 {
                let deadline = ContinuousClock.now + .seconds(30)
                while capture.count(Self.orderLabel) == before, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .microseconds(200))
                }
            }
            if minute == warmUp - 1 {
                _ = capture.drain(Self.orderLabel)
                _ = capture.drain(Self.signalLabel)
            }
            if minute >= warmUp { tickLatencies.append(Int64(journaled / .nanoseconds(1))) }
        }
        let orderLatencies = capture.drain(Self.orderLabel)
        let signalLatencies = capture.drain(Self.signalLabel)
        let evaluation = try evaluationOnly()
        return Self.json([
            ("strategies", "\(strategies)"), ("closes", "\(closes)"),
            ("tick_to_signal_p50_us", Self.micros(Self.percentile(signalLatencies, 0.50))),
            ("tick_to_signal_p99_us", Self.micros(Self.percentile(signalLatencies, 0.99))),
            ("tick_to_order_p50_us", Self.micros(Self.percentile(orderLatencies, 0.50))),
            ("tick_to_order_p99_us", Self.micros(Self.percentile(orderLatencies, 0.99))),
            ("tick_journaled_p50_us", Self.micros(Self.percentile(tickLatencies, 0.50))),
            ("tick_journaled_p99_us", Self.micros(Self.percentile(tickLatencies, 0.99))),
            ("evaluation_p50_us", Self.micros(Self.percentile(evaluation, 0.50))),
            ("evaluation_p99_us", Self.micros(Self.percentile(evaluation, 0.99))),
            ("signals_measured", "\(signalLatencies.count)"), ("orders_measured", "\(orderLatencies.count)"),
        ])
    }

    /// The closing tick applied to a bare `SymbolState` holding the same strategies: indicator updates and rule
    /// evaluation alone, without the actor, the journal or the order.
    private func evaluationOnly() throws -> [Int64] {
        var state = SymbolState(spec: Self.market)
        for index in 0..<(strategies - 1) {
            _ = state.apply(
                .init(timestampMillis: Self.start, command: .strategy(.add(owner: 1, definition: Self.quiet(index)))))
        }
        _ = state.apply(
            .init(timestampMillis: Self.start, command: .strategy(.add(owner: 2, definition: Self.firingStrategy))))
        var random = SplitMix(seed: 7)
        var price: Int64 = 50_000 * 100
        var samples: [Int64] = []
        let clock = ContinuousClock()
        for minute in 0..<(60 + closes) {
            price += Int64(random.next() % 2_001) - 1_000
            let record = SymbolState.Record(
                timestampMillis: Self.start + Int64(minute) * 60_000 + 1_000,
                command: .reference([ReferencePrint(price: Price(ticks: price), quantity: Quantity(lots: 1_000))]))
            let elapsed = clock.measure { _ = state.apply(record) }
            if minute >= 60 { samples.append(Int64(elapsed / .nanoseconds(1))) }
        }
        return samples
    }

    static func percentile(_ values: [Int64], _ p: Double) -> Int64 {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
    }

    static func micros(_ nanoseconds: Int64) -> String { String(format: "%.1f", Double(nanoseconds) / 1_000) }

    static func json(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
    }
}

/// SplitMix64: a seeded generator, so every run replays the same prices.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE5_E9B5
        z = (z ^ (z >> 27)) &* 0x94D0_49EB_1138_11EB
        return z ^ (z >> 31)
    }
}

/// The exchange's clock, set by the bench: one tick a minute.
final class ManualClock: Sendable {
    private let value: Atomic<Int64>
    init(_ millis: Int64) { value = Atomic(millis) }
    var millis: Int64 { value.load(ordering: .relaxed) }
    func set(_ millis: Int64) { value.store(millis, ordering: .relaxed) }
}
