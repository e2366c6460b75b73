import Testing
import Trading

@testable import Feeds

@Suite("Binance messages")
struct BinanceMessageTests {
    let received: Int64 = 1_700_000_000_000

    static let trade = #"""
        {"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782130,"m":true,"M":true}
        """#
    static let bookTicker = #"""
        {"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}
        """#

    @Test("a trade is a trade tick at p × q, timed by T")
    func trade() throws {
        let ticks = try BinanceMessage.parse(Self.trade, receivedAtMillis: received)
        #expect(
            ticks == [
                ReferenceTick(
                    kind: .trade, priceUnits: 100_000, quantityUnits: units(100),
                    timestampMillis: 1_672_515_782_130)
            ])
    }

    @Test("the combined-stream wrapper is unwrapped")
    func combinedStream() throws {
        let wrapped = #"{"stream":"bnbbtc@trade","data":\#(Self.trade)}"#
        let ticks = try BinanceMessage.parse(wrapped, receivedAtMillis: received)
        #expect(ticks == (try BinanceMessage.parse(Self.trade, receivedAtMillis: received)))
        let book = #"{"stream":"bnbusdt@bookTicker","data":\#(Self.bookTicker)}"#
        #expect(try BinanceMessage.parse(book, receivedAtMillis: received).first?.kind == .quote)
    }

    @Test("a book ticker is a quote at the exact mid, timed by the receive time")
    func bookTicker() throws {
        let ticks = try BinanceMessage.parse(Self.bookTicker, receivedAtMillis: received)
        // (25.35190000 + 25.36520000) / 2 = 25.35855000
        #expect(
            ticks == [
                ReferenceTick(
                    kind: .quote, priceUnits: 2_535_855_000, quantityUnits: 0,
                    timestampMillis: received)
            ])
    }

    @Test("the mid rounds half up at 10⁻⁸")
    func midRounding() throws {
        let odd = #"{"u":1,"s":"X","b":"0.00000001","B":"1","a":"0.00000002","A":"1"}"#
        #expect(try BinanceMessage.parse(odd, receivedAtMillis: received).first?.priceUnits == 2)
        #expect(BinanceMessage.mid(3, 4) == 4)
        #expect(BinanceMessage.mid(3, 3) == 3)
        #expect(BinanceMessage.mid(.max - 1, .max) == .max)
    }

    @Test("aggTrade reads like trade; futures' bookTicker with an event time uses it")
    func variants() throws {
        let aggregate = #"{"e":"aggTrade","E":5,"s":"BTCUSDT","a":1,"p":"50000.01","q":"0.5","T":4,"m":false}"#
        #expect(
            try BinanceMessage.parse(aggregate, receivedAtMillis: received) == [
                ReferenceTick(
                    kind: .trade, priceUnits: units(50_000, 1_000_000), quantityUnits: 50_000_000,
                    timestampMillis: 4)
            ])
        let futures = #"{"e":"bookTicker","u":1,"s":"BTCUSDT","b":"10","B":"1","a":"12","A":"1","T":7,"E":8}"#
        #expect(try BinanceMessage.parse(futures, receivedAtMillis: received).first?.timestampMillis == 7)
    }

    @Test("subscription replies and unknown events yield nothing")
    func ignored() throws {
        #expect(try BinanceMessage.parse(#"{"result":null,"id":1}"#, receivedAtMillis: received).isEmpty)
        let kline = #"{"e":"kline","E":1,"s":"BTCUSDT","k":{"o":"1"}}"#
        #expect(try BinanceMessage.parse(kline, receivedAtMillis: received).isEmpty)
    }

    @Test("error replies throw UNAVAILABLE with Binance's reason")
    func errorReply() {
        #expect {
            try BinanceMessage.parse(#"{"code":2,"msg":"Invalid request"}"#, receivedAtMillis: received)
        } throws: { error in
            let error = error as? BourseError
            return error?.code == .unavailable && error?.message.contains("Invalid request") == true
        }
    }

    @Test(
        "bad prices and sizes are validation errors",
        arguments: [
            (#""p":"abc""#, "price is not a number"),
            (#""p":"0.000000001""#, "price has more than 8 decimal places"),
            (#""p":0.001"#, "price must be a decimal string"),
            (#""p":"0""#, "price must be positive"),
            (#""p":"-1""#, "price must be positive"),
            (#""p":"99999999999""#, "price is out of range"),
        ])
    func badPrice(field: String, message: String) {
        let text = #"{"e":"trade","T":1,"q":"1",\#(field)}"#
        #expect(throws: BourseError.validation(message)) {
            try BinanceMessage.parse(text, receivedAtMillis: received)
        }
    }

    @Test("missing fields and broken JSON are validation errors")
    func malformed() throws {
        #expect(throws: BourseError.validation("quantity is missing")) {
            try BinanceMessage.parse(#"{"e":"trade","T":1,"p":"1"}"#, receivedAtMillis: received)
        }
        #expect(throws: BourseError.validation("message is not valid JSON")) {
            try BinanceMessage.parse(#"{"e":"trade""#, receivedAtMillis: received)
        }
        #expect(throws: BourseError.validation("message is not a JSON object")) {
            try BinanceMessage.parse("[1,2]", receivedAtMillis: received)
        }
        #expect(throws: BourseError.validation("T must be ms since the epoch or an RFC 3339 time")) {
            try BinanceMessage.parse(#"{"e":"trade","T":true,"p":"1","q":"1"}"#, receivedAtMillis: received)
        }
        #expect(throws: BourseError.validation("T must be ms since the epoch or an RFC 3339 time")) {
            try BinanceMessage.parse(#"{"e":"trade","T":1.5,"p":"1","q":"1"}"#, receivedAtMillis: received)
        }
        // Small integers are times, not booleans.
        let early = #"{"e":"trade","T":1,"p":"1","q":"1"}"#
        #expect(try BinanceMessage.parse(early, receivedAtMillis: received).first?.timestampMillis == 1)
    }
}
