import Foundation
import Testing
import Trading

@testable import Feeds

@Suite("Coinbase messages")
struct CoinbaseMessageTests {
    let received: Int64 = 1_700_000_000_000

    static let match = #"""
        {"type":"match","trade_id":10,"sequence":50,"maker_order_id":"ac928c66-ca53-498f-9c13-a110027a60e8",\#
        "taker_order_id":"132fb6ae-456b-4654-b4e0-d681ac05cea1","time":"2014-11-07T08:19:27.028459Z",\#
        "product_id":"BTC-USD","size":"5.23512","price":"400.23","side":"sell"}
        """#
    static let ticker = #"""
        {"type":"ticker","sequence":37475248783,"product_id":"BTC-USD","price":"4388.01","open_24h":"4254.1",\#
        "volume_24h":"1000.5","low_24h":"4200","high_24h":"4400","volume_30d":"9000","best_bid":"4388",\#
        "best_ask":"4388.01","side":"buy","time":"2017-09-02T17:05:49.250000Z","trade_id":3053,"last_size":"0.03"}
        """#

    @Test("a match is a trade tick at price × size, timed by its RFC 3339 time in ms")
    func match() throws {
        let ticks = try CoinbaseMessage.parse(Self.match, receivedAtMillis: received)
        #expect(
            ticks == [
                ReferenceTick(
                    kind: .trade, priceUnits: units(400, 23_000_000), quantityUnits: 523_512_000,
                    timestampMillis: 1_415_348_367_028)
            ])
    }

    @Test("last_match reads like match")
    func lastMatch() throws {
        let last = Self.match.replacingOccurrences(of: #""type":"match""#, with: #""type":"last_match""#)
        #expect(
            try CoinbaseMessage.parse(last, receivedAtMillis: received)
                == (try CoinbaseMessage.parse(Self.match, receivedAtMillis: received)))
    }

    @Test("a ticker is a quote at its price")
    func ticker() throws {
        let ticks = try CoinbaseMessage.parse(Self.ticker, receivedAtMillis: received)
        #expect(
            ticks == [
                ReferenceTick(
                    kind: .quote, priceUnits: units(4_388, 1_000_000), quantityUnits: 0,
                    timestampMillis: 1_504_371_949_250)
            ])
        let untimed = #"{"type":"ticker","product_id":"BTC-USD","price":"4388.01"}"#
        #expect(try CoinbaseMessage.parse(untimed, receivedAtMillis: received).first?.timestampMillis == received)
    }

    @Test("subscription acks, heartbeats and unknown types yield nothing")
    func ignored() throws {
        let messages = [
            #"{"type":"subscriptions","channels":[{"name":"matches","product_ids":["BTC-USD"]}]}"#,
            #"{"type":"heartbeat","sequence":90,"last_trade_id":20,"product_id":"BTC-USD","time":"2014-11-07T08:19:28.464459Z"}"#,
            #"{"type":"l2update","product_id":"BTC-USD","changes":[["buy","10101.80","0.162567"]]}"#,
        ]
        for message in messages {
            #expect(try CoinbaseMessage.parse(message, receivedAtMillis: received).isEmpty)
        }
    }

    @Test("an error message throws UNAVAILABLE with Coinbase's message")
    func errorMessage() {
        let text = #"{"type":"error","message":"Failed to subscribe","reason":"BTC-XYZ is not a valid product"}"#
        #expect(throws: BourseError(.unavailable, "coinbase reported an error: Failed to subscribe")) {
            try CoinbaseMessage.parse(text, receivedAtMillis: received)
        }
    }

    @Test("bad prices, sizes and times are validation errors")
    func invalid() {
        let cases: [(String, String)] = [
            (#"{"type":"match","price":"4x","size":"1","time":"2014-11-07T08:19:27Z"}"#, "price is not a number"),
            (
                #"{"type":"match","price":"1","size":"0.123456789","time":"2014-11-07T08:19:27Z"}"#,
                "size has more than 8 decimal places"
            ),
            (
                #"{"type":"match","price":"1","size":"1","time":"07/11/2014"}"#,
                "time must be ms since the epoch or an RFC 3339 time"
            ),
            (#"{"type":"ticker","price":""}"#, "price is not a number"),
            (#"{"product_id":"BTC-USD"}"#, "type is missing"),
        ]
        for (text, message) in cases {
            #expect(throws: BourseError.validation(message)) {
                try CoinbaseMessage.parse(text, receivedAtMillis: received)
            }
        }
    }

    @Test("the subscribe message names the product and channels")
    func subscribe() {
        #expect(
            CoinbaseMessage.subscribe(productID: "BTC-USD", channels: ["matches", "ticker"])
                == #"{"type":"subscribe","product_ids":["BTC-USD"],"channels":["matches","ticker"]}"#)
        #expect(
            CoinbaseMessage.subscribe(productID: "A\"B", channels: [])
                == #"{"type":"subscribe","product_ids":["A\"B"],"channels":[]}"#)
    }
}
