/// One normalized observation of an outside market: a trade print or a quote.
///
/// Every feed (Binance, Coinbase, a recorded file, the bundled sample) produces this one type. Prices and sizes are
/// exact integers in units of 10⁻⁸, read from the source's decimal text with `FixedDecimal`, never through `Double`.
public struct ReferenceTick: Sendable, Hashable {
    /// What the source reported.
    public enum Kind: Sendable, Hashable {
        /// A print: a price and the size traded at it.
        case trade
        /// A quote: the best bid/ask mid or a ticker's price; no size.
        case quote
    }

    /// The units of `priceUnits` and `quantityUnits`: 10⁻⁸.
    public static let scale = 8

    /// Trade or quote.
    public var kind: Kind
    /// Price in units of 10⁻⁸ (exact, parsed from the decimal text with `FixedDecimal.parse(_:scale:field:)`).
    public var priceUnits: Int64
    /// Traded size in units of 10⁻⁸; 0 for quotes.
    public var quantityUnits: Int64
    /// The source's event time (ms since epoch), or the receive time when the message has none.
    public var timestampMillis: Int64

    /// Creates a tick.
    public init(kind: Kind, priceUnits: Int64, quantityUnits: Int64, timestampMillis: Int64) {
        self.kind = kind
        self.priceUnits = priceUnits
        self.quantityUnits = quantityUnits
        self.timestampMillis = timestampMillis
    }
}
