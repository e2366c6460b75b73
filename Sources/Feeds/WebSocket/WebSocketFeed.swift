import Trading

/// What a WebSocket feed needs: where to connect, what to send after connecting, and how to read its messages.
struct WebSocketFeed: Sendable, Hashable {
    enum Dialect: Sendable, Hashable {
        case binance
        case coinbase
    }

    var url: WebSocketURL
    var subscribeMessages: [String]
    var dialect: Dialect

    func parse(_ text: String, receivedAtMillis: Int64) throws(BourseError) -> [ReferenceTick] {
        switch dialect {
        case .binance: try BinanceMessage.parse(text, receivedAtMillis: receivedAtMillis)
        case .coinbase: try CoinbaseMessage.parse(text, receivedAtMillis: receivedAtMillis)
        }
    }

    /// Binance: `<url>/<symbol>@<stream>` for one stream, else the combined endpoint
    /// `<url without /ws>/stream?streams=<symbol>@<a>/<symbol>@<b>`. Binance wants lowercase symbols.
    static func binance(url: String, symbol: String, streams: [String]) throws(BourseError) -> WebSocketFeed {
        let symbol = symbol.lowercased()
        guard !symbol.isEmpty, symbol.allSatisfy(isNameCharacter) else {
            throw .validation("binance symbol must be letters and digits, like btcusdt")
        }
        guard !streams.isEmpty, streams.allSatisfy({ !$0.isEmpty && $0.allSatisfy(isNameCharacter) }) else {
            throw .validation("binance streams must be names like trade or bookTicker")
        }
        var base = Substring(url)
        while base.hasSuffix("/") { base = base.dropLast() }
        let names = streams.map { "\(symbol)@\($0)" }
        let address: String
        if names.count == 1 {
            address = "\(base)/\(names[0])"
        } else {
            let root = base.hasSuffix("/ws") ? base.dropLast(3) : base
            address = "\(root)/stream?streams=\(names.joined(separator: "/"))"
        }
        return WebSocketFeed(url: try WebSocketURL(parsing: address), subscribeMessages: [], dialect: .binance)
    }

    /// Coinbase: connect to `url`, then subscribe to `channels` for `productID`.
    static func coinbase(url: String, productID: String, channels: [String]) throws(BourseError) -> WebSocketFeed {
        guard !productID.isEmpty, productID.allSatisfy({ isNameCharacter($0) || $0 == "-" }) else {
            throw .validation("coinbase product must look like BTC-USD")
        }
        guard !channels.isEmpty, channels.allSatisfy({ !$0.isEmpty && $0.allSatisfy(isNameCharacter) }) else {
            throw .validation("coinbase channels must be names like matches or ticker")
        }
        return WebSocketFeed(
            url: try WebSocketURL(parsing: url),
            subscribeMessages: [CoinbaseMessage.subscribe(productID: productID, channels: channels)],
            dialect: .coinbase)
    }

    private static func isNameCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || character == "_" || character == "@")
    }
}
