import Trading

/// Pure parser of Coinbase Exchange WebSocket feed messages.
///
/// - `match` and `last_match` (the `matches` channel): a trade tick at `price` × `size`, timed by `time`
///   (RFC 3339 with microseconds, truncated to ms).
/// - `ticker`: a quote tick at `price`, timed by `time` (the receive time when absent).
/// - `subscriptions`, `heartbeat` and unknown types yield no ticks; `error` throws with Coinbase's message.
public enum CoinbaseMessage {
    /// The ticks in one message.
    /// - Parameter receivedAtMillis: When the message arrived (ms since the epoch), for messages without a time.
    public static func parse(_ text: String, receivedAtMillis: Int64) throws(BourseError) -> [ReferenceTick] {
        try parse(JSONFields(parsing: text), receivedAtMillis: receivedAtMillis)
    }

    /// The message to send after connecting:
    /// `{"type":"subscribe","product_ids":["BTC-USD"],"channels":["matches","ticker"]}`.
    public static func subscribe(productID: String, channels: [String]) -> String {
        let products = jsonArray([productID])
        return #"{"type":"subscribe","product_ids":\#(products),"channels":\#(jsonArray(channels))}"#
    }

    /// Whether a decoded object looks like a Coinbase message (for recorded files that mix formats).
    static func recognizes(_ fields: JSONFields) -> Bool {
        fields.has("type")
    }

    static func parse(_ message: JSONFields, receivedAtMillis: Int64) throws(BourseError) -> [ReferenceTick] {
        switch try message.requiredString("type") {
        case "match", "last_match":
            let price = try message.units("price", field: "price")
            let size = try message.units("size", field: "size")
            guard price > 0 else { throw .validation("price must be positive") }
            guard size > 0 else { throw .validation("size must be positive") }
            let time = try message.millis("time") ?? receivedAtMillis
            return [ReferenceTick(kind: .trade, priceUnits: price, quantityUnits: size, timestampMillis: time)]
        case "ticker":
            let price = try message.units("price", field: "price")
            guard price > 0 else { throw .validation("price must be positive") }
            let time = try message.millis("time") ?? receivedAtMillis
            return [ReferenceTick(kind: .quote, priceUnits: price, quantityUnits: 0, timestampMillis: time)]
        case "error":
            let reason = (try? message.string("message")) ?? nil
            throw BourseError(
                .unavailable, "coinbase reported an error: \(String((reason ?? "no reason").prefix(200)))")
        default:
            // subscriptions, heartbeat, status, l2update, …
            return []
        }
    }

    /// A JSON array of strings, escaping what JSON requires.
    private static func jsonArray(_ items: [String]) -> String {
        "[" + items.map(jsonString).joined(separator: ",") + "]"
    }

    private static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{00}"..."\u{1F}":
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
