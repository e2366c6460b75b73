import API
import Testing

/// The JSON api.md promises, built field by field, for exact comparisons.
enum Expected {
    /// An order as `POST/GET/DELETE/PATCH /v1/orders…` render it.
    static func order(
        _ id: JSONValue, _ side: String, _ quantity: String, at price: JSONValue, type: String = "limit",
        filled: String = "0.00000", remaining: String, average: JSONValue = nil, status: String,
        timeInForce: String = "gtc", postOnly: Bool = false, stopPrice: JSONValue = nil,
        clientOrderID: JSONValue = nil, created: Int64 = 0, updated: Int64 = 0, fills: [JSONValue] = [],
        rejectReason: String? = nil, symbol: String = "BTC-USD"
    ) -> JSONValue {
        var object: JSONObject = [
            "order_id": id, "client_order_id": clientOrderID, "symbol": .string(symbol), "side": .string(side),
            "type": .string(type), "price": price, "stop_price": stopPrice, "quantity": .string(quantity),
            "filled_quantity": .string(filled), "remaining_quantity": .string(remaining), "average_price": average,
            "status": .string(status), "time_in_force": .string(timeInForce), "post_only": .bool(postOnly),
            "created_at": InProcessNode.time(created), "updated_at": InProcessNode.time(updated),
            "fills": .array(fills),
        ]
        if let rejectReason { object["reject_reason"] = .string(rejectReason) }
        return .object(object)
    }

    /// One of an order's fills.
    static func fill(
        _ tradeID: String, _ price: String, _ quantity: String, fee: String, _ liquidity: String, at time: Int64 = 0
    ) -> JSONValue {
        [
            "trade_id": .string(tradeID), "price": .string(price), "quantity": .string(quantity),
            "fee": .string(fee), "fee_currency": "USD", "liquidity": .string(liquidity),
            "timestamp": InProcessNode.time(time),
        ]
    }

    /// `[bids, asks]` of an order book, each `[[price, quantity], …]`.
    static func book(bids: [(String, String)] = [], asks: [(String, String)] = []) -> JSONValue {
        [
            .array(bids.map { [.string($0.0), .string($0.1)] }),
            .array(asks.map { [.string($0.0), .string($0.1)] }),
        ]
    }
}

/// Traders funded for the tests: 1,000,000 USD and 10 BTC each unless told otherwise.
extension InProcessNode {
    func trader(_ name: String, usd: String? = "1000000", btc: String? = "10") async throws -> Session {
        let session = try await api.signUp(name)
        if let usd { try await api.deposit(session, "USD", usd) }
        if let btc { try await api.deposit(session, "BTC", btc) }
        return session
    }

    /// The order `id` as its owner sees it.
    func order(_ session: Session, _ id: JSONValue?) async throws -> JSONValue {
        let id = try #require(id?.stringValue)
        return try await api.json(.get, "/v1/orders/\(id)", token: session.token)
    }
}
