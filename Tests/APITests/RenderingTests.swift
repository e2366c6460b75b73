import Actors
import Testing
import Trading

@testable import API

@Suite("Rendering of views")
struct RenderingTests {
    @Test func timestampsAreRFC3339WithMilliseconds() {
        #expect(Timestamp.rfc3339(millis: 0) == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp.rfc3339(millis: 1_714_564_800_250) == "2024-05-01T12:00:00.250Z")
        #expect(Timestamp.rfc3339(millis: 951_782_400_000) == "2000-02-29T00:00:00.000Z")
        #expect(Timestamp.rfc3339(millis: -1) == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp.rfc3339(millis: 253_402_300_799_999) == "9999-12-31T23:59:59.999Z")
    }

    func order(filled lots: Int64, notional units: Int64) -> OrderView {
        OrderView(
            orderID: 1, clientOrderID: nil, symbol: "BTC-USD", side: .buy, type: .limit, price: Price(ticks: 1),
            stopPrice: nil, quantity: Quantity(lots: 1000), filledQuantity: Quantity(lots: lots),
            filledNotional: Amount(units: units), status: .partiallyFilled, timeInForce: .gtc, postOnly: false,
            rejectReason: nil, createdAtMillis: 0, updatedAtMillis: 0, fills: [])
    }

    @Test func averagePriceIsExactAndRoundsHalfEven() {
        let spec = FakeExchange.btc  // lot 0.00001 = 1000 units
        #expect(Render.averagePrice(order(filled: 0, notional: 0), spec) == nil)
        // 3 lots (0.00003 BTC) for 1.00000000 USD: 33333.333333333… → 33333.33333333
        #expect(Render.averagePrice(order(filled: 3, notional: 100_000_000), spec)?.description == "33333.33333333")
        // 2 lots for 0.00000001 USD: 0.0005 → exact
        #expect(Render.averagePrice(order(filled: 2, notional: 1), spec)?.description == "0.00050000")
        // 16 lots (0.00016) for 0.00000001: 0.0000625 → 0.00006250 exact; 1.6e7 lots → half-even ties
        let tie = Render.averagePrice(order(filled: 200_000_000, notional: 1), spec)  // 2000 BTC → 5e-12 → 0
        #expect(tie == Amount(units: 0))
        let odd = Render.averagePrice(order(filled: 200_000, notional: 3), spec)  // 2 BTC, 3e-8 → 1.5e-8 → 2e-8
        #expect(odd == Amount(units: 2))
        let even = Render.averagePrice(order(filled: 200_000, notional: 5), spec)  // 2.5e-8 → 2e-8
        #expect(even == Amount(units: 2))
    }

    @Test func orderRendersEveryField() {
        let json = Render.order(order(filled: 3, notional: 100_000_000), FakeExchange.btc)
        let expected = [
            "order_id", "client_order_id", "symbol", "side", "type", "price", "stop_price", "quantity",
            "filled_quantity", "remaining_quantity", "average_price", "status", "time_in_force", "post_only",
            "created_at", "updated_at", "fills",
        ]
        #expect(json.objectValue?.keys == expected)
        #expect(json["order_id"] == .string("1"))
        #expect(json["price"] == .string("0.01"))
        #expect(json["quantity"] == .string("0.01000"))
        #expect(json["remaining_quantity"] == .string("0.00997"))
        #expect(json["client_order_id"] == .null)
    }
}
