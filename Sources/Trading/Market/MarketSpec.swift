/// The static description of a market: its currencies, its price and quantity grid and its fees.
///
/// A spec is validated when made, so that every price × quantity on its grid is an exact number of
/// 10⁻⁸ quote units: `tick_size × lot_size` must be a multiple of 10⁻⁸.
public struct MarketSpec: Hashable, Sendable {
    public let symbol: String
    public let base: String
    public let quote: String
    /// Tick size as an amount of the quote currency (8 decimals).
    public let tickSize: Amount
    /// Lot size as an amount of the base currency (8 decimals).
    public let lotSize: Amount
    /// Smallest order quantity, in lots.
    public let minQuantity: Quantity
    public let makerFeeBps: Int64
    public let takerFeeBps: Int64

    /// Largest price and quantity the book accepts, so that level totals and notionals stay in range.
    public static let maxTicks: Int64 = 1 << 40
    public static let maxLots: Int64 = 1 << 40
    /// Fee rates are capped at 10%.
    public static let maxFeeBps: Int64 = 1_000

    public init(
        symbol: String, base: String, quote: String, tickSize: Amount, lotSize: Amount, minQuantity: Amount,
        makerFeeBps: Int64, takerFeeBps: Int64
    ) throws(BourseError) {
        guard MarketSpec.isValidSymbol(symbol) else { throw .validation("symbol must be 1-20 of [A-Z0-9-]") }
        guard MarketSpec.isValidCurrency(base), MarketSpec.isValidCurrency(quote), base != quote else {
            throw .validation("base and quote must be distinct currency codes of 1-10 of [A-Z0-9]")
        }
        guard tickSize.units > 0 else { throw .validation("tick_size must be positive") }
        guard lotSize.units > 0 else { throw .validation("lot_size must be positive") }
        guard (Int128(tickSize.units) * Int128(lotSize.units)) % Int128(Amount.unitsPerCoin) == 0 else {
            throw .validation("tick_size × lot_size must be a multiple of 0.00000001")
        }
        guard minQuantity.units >= lotSize.units, minQuantity.units % lotSize.units == 0 else {
            throw .validation("min_quantity must be a positive multiple of lot_size")
        }
        guard (0...MarketSpec.maxFeeBps).contains(makerFeeBps), (0...MarketSpec.maxFeeBps).contains(takerFeeBps)
        else { throw .validation("fees must be 0-\(MarketSpec.maxFeeBps) bps") }
        self.symbol = symbol
        self.base = base
        self.quote = quote
        self.tickSize = tickSize
        self.lotSize = lotSize
        self.minQuantity = Quantity(lots: minQuantity.units / lotSize.units)
        self.makerFeeBps = makerFeeBps
        self.takerFeeBps = takerFeeBps
    }

    /// Convenience for configuration: every decimal as text.
    public init(
        symbol: String, base: String, quote: String, tickSize: String, lotSize: String, minQuantity: String,
        makerFeeBps: Int64, takerFeeBps: Int64
    ) throws(BourseError) {
        try self.init(
            symbol: symbol, base: base, quote: quote, tickSize: Amount(parsing: tickSize, field: "tick_size"),
            lotSize: Amount(parsing: lotSize, field: "lot_size"),
            minQuantity: Amount(parsing: minQuantity, field: "min_quantity"), makerFeeBps: makerFeeBps,
            takerFeeBps: takerFeeBps)
    }

    public static func isValidSymbol(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 20
            && text.utf8.allSatisfy { ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
    }

    public static func isValidCurrency(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 10
            && text.utf8.allSatisfy { ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) }
    }

    /// Decimals shown for prices (those of the tick size) and quantities (those of the lot size).
    public var priceDecimals: Int { FixedDecimal.decimals(of: tickSize.units, scale: Amount.scale) }
    public var quantityDecimals: Int { FixedDecimal.decimals(of: lotSize.units, scale: Amount.scale) }
}
