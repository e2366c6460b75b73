import Testing

@testable import API

/// What a forwarder routing by shard reads of a request before authentication.
@Suite struct RequestRouteTests {
    static func bearer(payload: String) -> String {
        "Bearer " + Base64URL.encode(Array(#"{"alg":"RS256"}"#.utf8)) + "."
            + Base64URL.encode(Array(payload.utf8)) + ".c2lnbmF0dXJl"
    }

    @Test("the user is the sub of a bearer JWT, unverified; anything else names no user")
    func user() {
        #expect(RequestRoute(target: "/v1/orders", authorization: Self.bearer(payload: #"{"sub":"42"}"#)).user == 42)
        for authorization in [
            nil, "Basic YWxpY2U6cHc=", "Bearer not-a-jwt", Self.bearer(payload: #"{"sub":"alice"}"#),
            Self.bearer(payload: #"{"sub":"0"}"#), Self.bearer(payload: #"{"role":"admin"}"#),
            "Bearer a.!!!.c",
        ] {
            #expect(
                RequestRoute(target: "/v1/orders", authorization: authorization).user == nil,
                "\(authorization ?? "nil")")
        }
    }

    @Test("the path drops the query; a market is /v1/markets/{symbol}, below, and its admin routes; admin is /admin/…")
    func pathAndMarket() {
        let book = RequestRoute(target: "/v1/markets/BTC-USD/orderbook?depth=5", authorization: nil)
        #expect(book.path == "/v1/markets/BTC-USD/orderbook")
        #expect(book.market == "BTC-USD")
        #expect(RequestRoute(target: "/v1/markets", authorization: nil).market == nil)
        #expect(RequestRoute(target: "/v1/markets?x=1", authorization: nil).market == nil)
        #expect(RequestRoute(target: "/v1/orders", authorization: nil).market == nil)
        // A market's admin routes go to its book's owner; adding a market is about no book yet.
        let halt = RequestRoute(target: "/admin/v1/markets/ETH-USD/halt", authorization: nil)
        #expect(halt.market == "ETH-USD" && halt.isAdmin)
        #expect(RequestRoute(target: "/admin/v1/markets", authorization: nil).market == nil)
        #expect(RequestRoute(target: "/admin/v1/shards", authorization: nil).isAdmin)
        // A stream's channels, percent-decoded; none on other paths or without the parameter.
        let stream = RequestRoute(target: "/v1/stream?x=1&channels=ticker%3AETH-USD,orders", authorization: nil)
        #expect(stream.streamChannels == ["ticker:ETH-USD", "orders"])
        #expect(RequestRoute(target: "/v1/stream", authorization: nil).streamChannels == nil)
        #expect(RequestRoute(target: "/v1/orders?channels=orders", authorization: nil).streamChannels == nil)
        #expect(!RequestRoute(target: "/v1/admin", authorization: nil).isAdmin)
    }
}
