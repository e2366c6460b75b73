import Actors
import Trading

/// The markets the request fuzzers know, each on a different grid; any other symbol is not found, as on a node.
struct FuzzExchange: ExchangeService {
    static let markets: [MarketSpec] = [
        try! MarketSpec(
            symbol: "BTC-USD", base: "BTC", quote: "USD", tickSize: "0.01", lotSize: "0.00001",
            minQuantity: "0.00001", makerFeeBps: 10, takerFeeBps: 20),
        try! MarketSpec(
            symbol: "SHIB-USD", base: "SHIB", quote: "USD", tickSize: "0.00000001", lotSize: "1",
            minQuantity: "100", makerFeeBps: 0, takerFeeBps: 0),
        try! MarketSpec(
            symbol: "IDX-EUR", base: "IDX", quote: "EUR", tickSize: "25", lotSize: "0.01", minQuantity: "0.05",
            makerFeeBps: 1_000, takerFeeBps: 1_000),
    ]

    static func spec(_ symbol: String) throws(BourseError) -> MarketSpec {
        guard let spec = markets.first(where: { $0.symbol == symbol }) else { throw .notFound("unknown symbol") }
        return spec
    }

    func market(_ symbol: String) async throws -> MarketInfo {
        MarketInfo(spec: try Self.spec(symbol), halted: false)
    }
}
