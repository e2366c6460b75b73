import Testing
import Trading

@Suite("Market spec and grid")
struct MarketSpecTests {
    static func btc() throws -> MarketSpec {
        try MarketSpec(
            symbol: "BTC-USD", base: "BTC", quote: "USD", tickSize: "0.01", lotSize: "0.00001", minQuantity: "0.0001",
            makerFeeBps: 10, takerFeeBps: 20)
    }

    @Test("prices and quantities on the grid are read and written exactly")
    func grid() throws {
        let spec = try Self.btc()
        let price = try spec.price(parsing: "50000.25")
        #expect(price == Price(ticks: 5_000_025))
        #expect(spec.format(price) == "50000.25")
        #expect(spec.format(Price(ticks: 5_000_000)) == "50000.00")
        let quantity = try spec.quantity(parsing: "0.015")
        #expect(quantity == Quantity(lots: 1_500))
        #expect(spec.format(quantity) == "0.01500")
        #expect(try spec.quantity(parsing: "1.5e-2") == quantity)
        #expect(try spec.notional(price, quantity) == Amount(parsing: "750.00375"))
        #expect(spec.priceDecimals == 2)
        #expect(spec.quantityDecimals == 5)
    }

    @Test(
        "off-grid, non-positive, below minimum and huge values are validation errors",
        arguments: ["50000.255", "0", "-1", "abc", "1e30"])
    func badPrices(text: String) throws {
        let spec = try Self.btc()
        #expect {
            try spec.price(parsing: text)
        } throws: { error in
            (error as? BourseError)?.code == .validation
        }
    }

    @Test("quantity rules", arguments: ["0.000001", "0.00005", "0", "-0.001", "1e20"])
    func badQuantities(text: String) throws {
        let spec = try Self.btc()
        #expect(throws: BourseError.self) { try spec.quantity(parsing: text) }
    }

    @Test("a spec whose notional would not be exact at 8 decimals is refused")
    func inexactSpec() {
        #expect(throws: BourseError.self) {
            try MarketSpec(
                symbol: "X-Y", base: "X", quote: "Y", tickSize: "0.0001", lotSize: "0.00001", minQuantity: "0.00001",
                makerFeeBps: 0, takerFeeBps: 0)
        }
        #expect(throws: BourseError.self) {
            try MarketSpec(
                symbol: "btc-usd", base: "BTC", quote: "USD", tickSize: "0.01", lotSize: "0.01", minQuantity: "0.01",
                makerFeeBps: 0, takerFeeBps: 0)
        }
        #expect(throws: BourseError.self) {
            try MarketSpec(
                symbol: "BTC-USD", base: "BTC", quote: "USD", tickSize: "0.01", lotSize: "0.01", minQuantity: "0.015",
                makerFeeBps: 0, takerFeeBps: 0)
        }
        #expect(throws: BourseError.self) {
            try MarketSpec(
                symbol: "BTC-USD", base: "BTC", quote: "USD", tickSize: "0.01", lotSize: "0.01", minQuantity: "0.01",
                makerFeeBps: 0, takerFeeBps: 1_001)
        }
    }

    @Test("market protection price rounds away from the book onto the grid")
    func protection() {
        #expect(MarketSpec.protectionPrice(side: .buy, reference: Price(ticks: 100), bps: 500) == Price(ticks: 105))
        #expect(MarketSpec.protectionPrice(side: .buy, reference: Price(ticks: 101), bps: 500) == Price(ticks: 107))
        #expect(MarketSpec.protectionPrice(side: .sell, reference: Price(ticks: 101), bps: 500) == Price(ticks: 95))
        #expect(MarketSpec.protectionPrice(side: .sell, reference: Price(ticks: 1), bps: 500) == Price(ticks: 1))
    }
}
