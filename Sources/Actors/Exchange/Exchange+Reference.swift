import Metrics
import Trading

/// Reference market data from a feed (a real exchange's trades and quotes, or a recorded file): it builds the
/// market's candles, which run its strategies, and tells the paper-liquidity provider where to quote.
extension Exchange {
    /// Journals `ticks` (price and size in units of 10⁻⁸, zero size for a quote) in `symbol`'s market as one
    /// record, after putting them on the market's grid (price to the nearest tick, size down to whole lots;
    /// a price that rounds to nothing is dropped). Returns the prints applied, once durable.
    @discardableResult
    public func referenceTicks(symbol: String, _ ticks: [(priceUnits: Int64, quantityUnits: Int64)]) async throws
        -> [ReferencePrint]
    {
        let since = ContinuousClock.now
        let actor = try symbolActor(symbol)
        let prints = ticks.compactMap {
            ReferencePrint(priceUnits: $0.priceUnits, quantityUnits: $0.quantityUnits, spec: actor.spec)
        }
        guard !prints.isEmpty else { return [] }
        guard ready.isSet else { throw BourseError(.unavailable, "the exchange is not serving") }
        try await actor.reference(prints, nowMillis: clock(), since: since)
        Exchange.referencePrints.increment(by: Int64(prints.count))
        return prints
    }

    /// The latest reference price of `symbol`'s market, if its feed has sent one.
    public func referencePrice(symbol: String) async throws -> Price? {
        try await symbolActor(symbol).referencePrice
    }

    /// Time from a print reaching its market (a reference tick or a trade) to the order of a strategy signal
    /// it fired being answered by the order flow.
    static let signalLatency = Metrics.Timer(label: "bourse_strategy_signal_latency")
    /// Time from a print reaching its market to the signals it fired being handed to the order flow: the
    /// strategies' evaluation (tick to signal), without the order's own journal commits.
    static let signalHandoverLatency = Metrics.Timer(label: "bourse_strategy_signal_handover_latency")
    /// Reference prints journaled.
    static let referencePrints = Counter(label: "bourse_reference_prints")
}
