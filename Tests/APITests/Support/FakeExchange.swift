import Actors
import Synchronization
import Trading

/// A thread-safe count.
final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    var value: Int { count.load(ordering: .relaxed) }
    func increment() { count.add(1, ordering: .relaxed) }
}

/// An error that is not a `BourseError`, to check that the API hides it behind a bare 500.
struct FakeFailure: Error, CustomStringConvertible {
    var description: String { "secret internal detail" }
}

/// Just enough of an exchange for the API's tests: two markets, a balance map, orders that rest
/// without matching, and a stream whose events the test pushes.
actor FakeExchange: ExchangeService {
    static let btc = try! MarketSpec(
        symbol: "BTC-USD", base: "BTC", quote: "USD", tickSize: "0.01", lotSize: "0.00001", minQuantity: "0.00001",
        makerFeeBps: 10, takerFeeBps: 20)
    static let eth = try! MarketSpec(
        symbol: "ETH-USD", base: "ETH", quote: "USD", tickSize: "0.01", lotSize: "0.0001", minQuantity: "0.001",
        makerFeeBps: 10, takerFeeBps: 20)
    /// A market whose ticker fails with a non-Bourse error.
    static let broken = try! MarketSpec(
        symbol: "BOOM-USD", base: "BOOM", quote: "USD", tickSize: "1", lotSize: "1", minQuantity: "1", makerFeeBps: 0,
        takerFeeBps: 0)

    var specs: [MarketSpec] = [btc, eth, broken]
    var ready = true
    var balances: [UserID: [String: Amount]] = [:]
    var orders: [OrderID: (user: UserID, view: OrderView, request: OrderRequest)] = [:]
    var nextOrderID: OrderID = 1
    var nextTransaction = 1
    /// Every order request received, in order.
    var placed: [OrderRequest] = []
    /// Idempotency keys received with deposits and withdrawals.
    var idempotencyKeys: [String?] = []
    var subscriptions:
        [(channels: [StreamChannel], user: UserID?, continuation: AsyncStream<StreamEvent>.Continuation)] =
            []
    var now: Int64 = 1_714_564_800_000  // 2024-05-01T12:00:00Z
    var strategies: [String: StrategyView] = [:]
    var nextStrategy: UInt64 = 0
    /// Signals by strategy id, newest last.
    var signals: [String: [SignalView]] = [:]
    /// Subscriptions whose stream has been dropped (the client left or the server ended the stream).
    nonisolated let endedSubscriptions = Counter()

    func setReady(_ value: Bool) { ready = value }

    /// Sends `event` to every subscription that asked for its channel.
    func publish(_ event: StreamEvent) {
        for subscription in subscriptions where subscription.channels.contains(where: { $0.name == event.channel }) {
            subscription.continuation.yield(event)
        }
    }

    var subscriptionCount: Int { subscriptions.count }

    func markets() async -> [MarketInfo] { specs.map { MarketInfo(spec: $0, halted: false) } }

    func market(_ symbol: String) async throws -> MarketInfo {
        guard let spec = specs.first(where: { $0.symbol == symbol }) else {
            throw BourseError(.notFound, "unknown symbol")
        }
        return MarketInfo(spec: spec, halted: false)
    }

    func ticker(symbol: String) async throws -> TickerView {
        let spec = try await market(symbol).spec
        if spec.symbol == Self.broken.symbol { throw FakeFailure() }
        return TickerView(
            symbol: symbol, lastPrice: Price(ticks: 5_000_025), bestBid: Price(ticks: 5_000_000), bestAsk: nil,
            open24h: nil, high24h: nil, low24h: nil, volume24h: Quantity(lots: 150_000), timestampMillis: now)
    }

    func orderBook(symbol: String, depth: Int) async throws -> DepthView {
        _ = try await market(symbol)
        let bids = (0..<3).map { PriceLevel(price: Price(ticks: 5_000_000 - Int64($0)), quantity: Quantity(lots: 100)) }
        let asks = (0..<3).map { PriceLevel(price: Price(ticks: 5_000_100 + Int64($0)), quantity: Quantity(lots: 200)) }
        return DepthView(symbol: symbol, sequence: 7, bids: Array(bids.prefix(depth)), asks: Array(asks.prefix(depth)))
    }

    func recentTrades(symbol: String, limit: Int) async throws -> [PublicTrade] {
        _ = try await market(symbol)
        return [
            PublicTrade(
                tradeID: 9, price: Price(ticks: 5_000_000), quantity: Quantity(lots: 10), takerSide: .buy,
                timestampMillis: now)
        ]
    }

    func candles(symbol: String, interval: CandleInterval, limit: Int) async throws -> [CandleView] {
        _ = try await market(symbol)
        let price = Price(ticks: 5_000_000)
        return [
            CandleView(
                openTimeMillis: now, open: price, high: price, low: price, close: price, volume: Quantity(lots: 1))
        ]
    }

    func deposit(user: UserID, currency: String, amount: Amount, idempotencyKey: String?) async throws -> BalanceChange
    {
        idempotencyKeys.append(idempotencyKey)
        let balance = (balances[user]?[currency] ?? .zero).units + amount.units
        balances[user, default: [:]][currency] = Amount(units: balance)
        return change(user: user, currency: currency)
    }

    func withdraw(user: UserID, currency: String, amount: Amount, idempotencyKey: String?) async throws -> BalanceChange
    {
        idempotencyKeys.append(idempotencyKey)
        let balance = balances[user]?[currency] ?? .zero
        guard balance >= amount else { throw BourseError(.insufficientFunds, "insufficient \(currency)") }
        balances[user, default: [:]][currency] = Amount(units: balance.units - amount.units)
        return change(user: user, currency: currency)
    }

    private func change(user: UserID, currency: String) -> BalanceChange {
        defer { nextTransaction += 1 }
        let available = balances[user]?[currency] ?? .zero
        return BalanceChange(
            transactionID: String(nextTransaction),
            balance: BalanceView(currency: currency, available: available, locked: .zero))
    }

    func balances(user: UserID) async throws -> [BalanceView] {
        (balances[user] ?? [:]).sorted { $0.key < $1.key }.map {
            BalanceView(currency: $0.key, available: $0.value, locked: .zero)
        }
    }

    func transactions(user: UserID, limit: Int) async throws -> [TimedEntry] {
        [
            TimedEntry(
                entry: LedgerEntry(
                    id: 1, type: .deposit, currency: "USD", amount: Amount(units: 100_000_000_000),
                    availableAfter: Amount(units: 100_000_000_000), lockedAfter: .zero, referenceID: "d1"),
                timestampMillis: 1_700_000_000_000)
        ]
    }
}
