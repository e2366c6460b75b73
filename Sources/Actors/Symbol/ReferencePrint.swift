import Trading

/// A price from a market's reference feed on the market's grid: the size traded at it (zero for a quote).
public struct ReferencePrint: Sendable, Hashable {
    public var price: Price
    public var quantity: Quantity

    public init(price: Price, quantity: Quantity) {
        self.price = price
        self.quantity = quantity
    }

    /// A feed's price and size (units of 10⁻⁸) on `spec`'s grid: the price to the nearest tick (half up), the
    /// size down to whole lots. Nil for a price that rounds to zero ticks or is out of the book's range.
    public init?(priceUnits: Int64, quantityUnits: Int64, spec: MarketSpec) {
        let tick = spec.tickSize.units
        let lot = spec.lotSize.units
        guard priceUnits > 0, quantityUnits >= 0, tick > 0, lot > 0 else { return nil }
        let (quotient, remainder) = priceUnits.quotientAndRemainder(dividingBy: tick)
        let ticks = quotient + (remainder >= tick - remainder ? 1 : 0)
        guard ticks > 0, ticks <= MarketSpec.maxTicks else { return nil }
        price = Price(ticks: ticks)
        quantity = Quantity(lots: min(quantityUnits / lot, MarketSpec.maxLots))
    }
}
