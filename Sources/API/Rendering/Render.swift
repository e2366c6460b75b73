import Trading

/// JSON renderings of the exchange's views, field for field as api.md names them.
///
/// Prices and quantities are strings on the market's grid (`MarketSpec.format`), currency amounts are
/// strings with 8 decimals, timestamps RFC 3339, ids strings; absent values are `null`.
enum Render {
    static func price(_ price: Price?, _ spec: MarketSpec) -> JSONValue {
        guard let price else { return .null }
        return .string(spec.format(price))
    }

    static func quantity(_ quantity: Quantity, _ spec: MarketSpec) -> JSONValue { .string(spec.format(quantity)) }

    static func amount(_ amount: Amount?) -> JSONValue {
        guard let amount else { return .null }
        return .string(amount.description)
    }

    static func time(_ millis: Int64) -> JSONValue { .string(Timestamp.rfc3339(millis: millis)) }

    static func id(_ id: UInt64) -> JSONValue { .string(String(id)) }

    /// A ratio or percentage (not money) as a JSON number, `null` when absent or not finite.
    static func ratio(_ value: Double?) -> JSONValue {
        guard let value else { return .null }
        return .double(value)
    }
}
