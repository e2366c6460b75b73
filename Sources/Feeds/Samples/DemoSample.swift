/// The bundled recordings for the demo markets, replayed by ``FeedConfiguration/sample(symbol:speed:)``.
///
/// They are synthetic — a seeded random walk written once by `scripts/make-demo-sample.py` — not market data:
/// 1,500 ticks per market, about 1 s apart (25 minutes a lap), BTC-USD around 50,000 and ETH-USD around 3,000,
/// prices on a 0.01 grid and trade sizes on 0.0001. Each walk ends where it started, so a loop has no jump.
public enum DemoSample {
    /// The markets with a sample.
    public static let symbols = ["BTC-USD", "ETH-USD"]

    /// The sample of `symbol` (any case) in the JSONL replay format, or nil when there is none.
    public static func jsonl(for symbol: String) -> String? {
        switch symbol.uppercased() {
        case "BTC-USD": btcUSD
        case "ETH-USD": ethUSD
        default: nil
        }
    }
}
