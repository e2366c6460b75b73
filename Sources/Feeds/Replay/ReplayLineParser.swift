import Trading

/// Turns the lines of a recording into ticks, one line at a time (pure).
///
/// The first non-blank line decides the format: `{` starts JSONL, anything else is a CSV header.
/// - CSV: a header naming at least `time` and `price` (any case and order; `timestamp` and `size`/`qty` are read as
///   `time` and `quantity`), then rows. A row with a quantity is a trade; without one, a quote. Times are ms since
///   the epoch or RFC 3339.
/// - JSONL: each line either `{"time": …, "price": "…", "quantity": "…"}` (quantity optional, numbers as strings)
///   or a raw Binance or Coinbase message, read with ``BinanceMessage`` and ``CoinbaseMessage``. A raw message
///   without a time of its own (a Binance book ticker) takes the time of the tick before it.
///
/// Blank lines and lines starting with `#` are ignored.
struct ReplayLineParser {
    private struct Columns {
        var time: Int
        var price: Int
        var quantity: Int?
    }

    private enum Format {
        case csv(Columns)
        case jsonl
    }

    private var format: Format?
    private var lastTime: Int64?

    /// Whether the format is known; an error before that (a bad CSV header) means the file cannot be read at all.
    var isReady: Bool { format != nil }

    /// The ticks of `line`: none for blank lines, comments and the CSV header; an error for a bad line.
    mutating func ticks(in line: String?) throws(BourseError) -> [ReferenceTick] {
        guard let line else { throw .validation("line is too long") }
        let trimmed = line[...].trimmingWhitespace()
        if trimmed.isEmpty || trimmed.hasPrefix("#") { return [] }
        let ticks: [ReferenceTick]
        switch format {
        case nil where trimmed.hasPrefix("{"):
            format = .jsonl
            ticks = try jsonTicks(trimmed)
        case nil:
            format = .csv(try Self.columns(header: trimmed))
            return []
        case .jsonl:
            ticks = try jsonTicks(trimmed)
        case .csv(let columns):
            ticks = [try csvTick(trimmed, columns: columns)]
        }
        if let last = ticks.last { lastTime = last.timestampMillis }
        return ticks
    }

    private static func columns(header: Substring) throws(BourseError) -> Columns {
        let names = header.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingWhitespace().trimmingQuotes().lowercased()
        }
        func index(_ candidates: [String]) -> Int? { names.firstIndex(where: candidates.contains) }
        guard let time = index(["time", "timestamp"]), let price = index(["price"]) else {
            throw .validation("the CSV header must name a time and a price column")
        }
        return Columns(time: time, price: price, quantity: index(["quantity", "size", "qty"]))
    }

    private func csvTick(_ row: Substring, columns: Columns) throws(BourseError) -> ReferenceTick {
        let fields = row.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingWhitespace().trimmingQuotes()
        }
        guard fields.count > max(columns.time, columns.price) else { throw .validation("row has too few columns") }
        let time = try FeedTime.millis(parsing: String(fields[columns.time]))
        let price = try FixedDecimal.parse(fields[columns.price], scale: ReferenceTick.scale, field: "price")
        guard price > 0 else { throw .validation("price must be positive") }
        guard let index = columns.quantity, index < fields.count, !fields[index].isEmpty else {
            return ReferenceTick(kind: .quote, priceUnits: price, quantityUnits: 0, timestampMillis: time)
        }
        let quantity = try FixedDecimal.parse(fields[index], scale: ReferenceTick.scale, field: "quantity")
        guard quantity > 0 else { throw .validation("quantity must be positive") }
        return ReferenceTick(kind: .trade, priceUnits: price, quantityUnits: quantity, timestampMillis: time)
    }

    private func jsonTicks(_ line: Substring) throws(BourseError) -> [ReferenceTick] {
        let fields = try JSONFields(parsing: String(line))
        let isRaw = BinanceMessage.recognizes(fields) || CoinbaseMessage.recognizes(fields)
        if isRaw {
            // Messages without their own time take the previous tick's; before any, there is nothing to place them.
            let received = lastTime ?? .min
            let ticks =
                try BinanceMessage.recognizes(fields)
                ? BinanceMessage.parse(fields, receivedAtMillis: received)
                : CoinbaseMessage.parse(fields, receivedAtMillis: received)
            guard !ticks.contains(where: { $0.timestampMillis == .min }) else {
                throw .validation("a message without a time comes before any timed line")
            }
            return ticks
        }
        guard let time = try fields.millis("time") else { throw .validation("time is missing") }
        let price = try fields.units("price", field: "price")
        guard price > 0 else { throw .validation("price must be positive") }
        guard try fields.string("quantity") != nil else {
            return [ReferenceTick(kind: .quote, priceUnits: price, quantityUnits: 0, timestampMillis: time)]
        }
        let quantity = try fields.units("quantity", field: "quantity")
        guard quantity > 0 else { throw .validation("quantity must be positive") }
        return [ReferenceTick(kind: .trade, priceUnits: price, quantityUnits: quantity, timestampMillis: time)]
    }
}

extension Substring {
    /// Without leading and trailing spaces, tabs and carriage returns.
    func trimmingWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return self[endIndex...]
        }
        return self[first...last]
    }

    /// Without one pair of surrounding double quotes.
    func trimmingQuotes() -> Substring {
        count >= 2 && hasPrefix("\"") && hasSuffix("\"") ? dropFirst().dropLast() : self[...]
    }
}
