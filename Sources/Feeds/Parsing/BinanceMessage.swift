import Trading

/// Pure parser of Binance's public market stream messages.
///
/// - `trade` (and `aggTrade`, which has the same fields): a trade tick at `p` × `q`, timed by the trade time `T`.
/// - `bookTicker` (no `e` on spot, `"e":"bookTicker"` on futures): a quote tick at the mid `(b + a) / 2`, rounded
///   half up to 10⁻⁸, timed by the receive time (spot book tickers carry none).
/// - The combined-stream wrapper `{"stream": "btcusdt@trade", "data": {…}}` is unwrapped.
/// - Subscription replies (`{"result": null, "id": 1}`) and unknown events yield no ticks; error replies
///   (`{"code": …, "msg": …}`) throw.
public enum BinanceMessage {
    /// The ticks in one message.
    /// - Parameter receivedAtMillis: When the message arrived (ms since the epoch), for messages without a time.
    public static func parse(_ text: String, receivedAtMillis: Int64) throws(BourseError) -> [ReferenceTick] {
        try parse(JSONFields(parsing: text), receivedAtMillis: receivedAtMillis)
    }

    /// Whether a decoded object looks like a Binance message (for recorded files that mix formats).
    static func recognizes(_ fields: JSONFields) -> Bool {
        (fields.has("stream") && fields.has("data")) || fields.has("e")
            || (fields.has("u") && fields.has("b") && fields.has("a"))
    }

    static func parse(_ message: JSONFields, receivedAtMillis: Int64) throws(BourseError) -> [ReferenceTick] {
        if let payload = message.object("data"), message.has("stream") {
            return try parse(payload, receivedAtMillis: receivedAtMillis)
        }
        if message.has("code") || message.has("error") {
            let reason = (try? message.string("msg")) ?? (try? message.object("error")?.string("msg")) ?? nil
            throw BourseError(
                .unavailable, "binance refused the request: \(String((reason ?? "no reason").prefix(200)))")
        }
        let event = try message.string("e")
        if event == "trade" || event == "aggTrade" {
            let price = try message.units("p", field: "price")
            let quantity = try message.units("q", field: "quantity")
            guard price > 0 else { throw .validation("price must be positive") }
            guard quantity > 0 else { throw .validation("quantity must be positive") }
            let time = try message.millis(["T", "E"], default: receivedAtMillis)
            return [ReferenceTick(kind: .trade, priceUnits: price, quantityUnits: quantity, timestampMillis: time)]
        }
        if event == "bookTicker" || (event == nil && message.has("b") && message.has("a")) {
            let bid = try message.units("b", field: "bid")
            let ask = try message.units("a", field: "ask")
            guard bid > 0, ask > 0 else { throw .validation("bid and ask must be positive") }
            let time = try message.millis(["T", "E"], default: receivedAtMillis)
            return [ReferenceTick(kind: .quote, priceUnits: mid(bid, ask), quantityUnits: 0, timestampMillis: time)]
        }
        return []
    }

    /// `(bid + ask) / 2` rounded half up, without overflow for positive inputs.
    static func mid(_ bid: Int64, _ ask: Int64) -> Int64 {
        bid / 2 + ask / 2 + (bid % 2 + ask % 2 + 1) / 2
    }
}
