/// Conversions between decimal text, grid units (ticks, lots) and currency amounts.
extension MarketSpec {
    /// Reads a price: positive, on the tick grid, within range.
    public func price(parsing text: some StringProtocol, field: String = "price") throws(BourseError) -> Price {
        let units = try FixedDecimal.parse(text, scale: Amount.scale, field: field)
        return try price(units: units, field: field)
    }

    /// A price from quote units (10⁻⁸): positive, on the tick grid, within range.
    public func price(units: Int64, field: String = "price") throws(BourseError) -> Price {
        guard units > 0 else { throw .validation("\(field) must be positive") }
        guard units % tickSize.units == 0 else {
            throw .validation("\(field) must be a multiple of the tick size \(formatAmount(tickSize, priceDecimals))")
        }
        let ticks = units / tickSize.units
        guard ticks <= MarketSpec.maxTicks else { throw .overflow(field) }
        return Price(ticks: ticks)
    }

    /// Reads a quantity: positive, on the lot grid, at least the minimum, within range.
    public func quantity(parsing text: some StringProtocol, field: String = "quantity") throws(BourseError)
        -> Quantity
    {
        let units = try FixedDecimal.parse(text, scale: Amount.scale, field: field)
        guard units > 0 else { throw .validation("\(field) must be positive") }
        guard units % lotSize.units == 0 else {
            throw .validation("\(field) must be a multiple of the lot size \(formatAmount(lotSize, quantityDecimals))")
        }
        let lots = units / lotSize.units
        guard lots >= minQuantity.lots else {
            throw .validation("\(field) is below the minimum \(format(minQuantity))")
        }
        guard lots <= MarketSpec.maxLots else { throw .overflow(field) }
        return Quantity(lots: lots)
    }

    public func format(_ price: Price) -> String {
        FixedDecimal.format(price.ticks &* tickSize.units, scale: Amount.scale, fractionDigits: priceDecimals)
    }

    public func format(_ quantity: Quantity) -> String {
        FixedDecimal.format(quantity.lots &* lotSize.units, scale: Amount.scale, fractionDigits: quantityDecimals)
    }

    /// The price as an amount of the quote currency per whole base unit.
    public func amount(of price: Price) throws(BourseError) -> Amount {
        Amount(units: try Checked.multiply(price.ticks, tickSize.units))
    }

    /// The quantity as an amount of the base currency.
    public func amount(of quantity: Quantity) throws(BourseError) -> Amount {
        Amount(units: try Checked.multiply(quantity.lots, lotSize.units))
    }

    /// `price × quantity` in quote units; exact by construction of the spec.
    public func notional(_ price: Price, _ quantity: Quantity) throws(BourseError) -> Amount {
        let product = Int128(price.ticks) * Int128(tickSize.units) * Int128(quantity.lots) * Int128(lotSize.units)
        guard let units = Int64(exactly: product / Int128(Amount.unitsPerCoin)) else { throw .overflow("notional") }
        return Amount(units: units)
    }

    /// The protection price of a market order: `bps` through `reference`, rounded away from the book
    /// onto the tick grid (up for buys, down for sells, never below one tick).
    public static func protectionPrice(side: Side, reference: Price, bps: Int64) -> Price {
        let reference = Int128(reference.ticks)
        switch side {
        case .buy:
            let numerator = reference * Int128(10_000 + bps)
            let ticks = (numerator + 9_999) / 10_000
            return Price(ticks: Int64(min(ticks, Int128(MarketSpec.maxTicks))))
        case .sell:
            let ticks = reference * Int128(max(0, 10_000 - bps)) / 10_000
            return Price(ticks: Int64(max(ticks, 1)))
        }
    }

    private func formatAmount(_ amount: Amount, _ decimals: Int) -> String {
        FixedDecimal.format(amount.units, scale: Amount.scale, fractionDigits: decimals)
    }
}
