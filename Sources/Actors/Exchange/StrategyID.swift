import Trading

/// Strategy ids, which name their market so that any request routes from the id alone:
/// `st_<symbol>_<sequence>` (e.g. `st_BTC-USD_17`), the sequence counting the market's strategies from 1,
/// never reused. Symbols hold no `_`, so the id splits unambiguously.
///
/// The order a signal places carries the client order id `<strategy id>_<candle close millis>_<rule>`: one
/// per strategy, close and rule, so a signal delivered twice (after a restart) places one order.
public enum StrategyID {
    static let prefix = "st"

    public static func make(symbol: String, sequence: UInt64) -> String { "\(prefix)_\(symbol)_\(sequence)" }

    /// The symbol and sequence of a well-formed id (the canonical spelling only), nil for anything else.
    public static func parse(_ id: String) -> (symbol: String, sequence: UInt64)? {
        let parts = id.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == prefix, MarketSpec.isValidSymbol(String(parts[1])),
            let sequence = UInt64(parts[2]), sequence > 0, String(sequence) == parts[2]
        else { return nil }
        return (String(parts[1]), sequence)
    }

    public static func clientOrderID(strategyID: String, candleCloseMillis: Int64, rule: Int) -> String {
        "\(strategyID)_\(candleCloseMillis)_\(rule)"
    }
}
