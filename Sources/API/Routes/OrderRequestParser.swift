import Actors
import Trading

/// Reads an order request (`POST /v1/orders`, each element of a batch) onto its market's grid.
struct OrderRequestParser {
    let services: APIServices

    /// - Throws: 400 for missing, malformed or off-grid fields and unknown enum values; 404 for an
    ///   unknown symbol.
    func parse(_ body: JSONValue) async throws -> OrderRequest {
        let fields = try RequestFields(body, what: "order")
        let symbol = try fields.string("symbol")
        guard MarketSpec.isValidSymbol(symbol) else { throw BourseError.notFound("unknown symbol") }
        let side = try fields.choice("side", Side.apiNames)
        let type = try fields.choice("type", OrderType.apiNames)
        let timeInForce = try fields.optionalChoice("time_in_force", TimeInForce.apiNames) ?? .gtc
        let postOnly = try fields.optionalBool("post_only") ?? false
        let clientOrderID = try fields.optionalString("client_order_id")
        if let clientOrderID {
            guard (1...64).contains(clientOrderID.utf8.count), clientOrderID.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
            else { throw BourseError.validation("client_order_id must be 1-64 visible ASCII characters") }
        }
        let quantityText = try fields.decimalText("quantity")
        let priceText = try fields.optionalDecimalText("price")
        let stopPriceText = try fields.optionalDecimalText("stop_price")

        switch type {
        case .limit, .stopLimit:
            guard priceText != nil else { throw BourseError.validation("price is required for \(type.apiName) orders") }
        case .market, .stop:
            guard priceText == nil else {
                throw BourseError.validation("price is not allowed for \(type.apiName) orders")
            }
        }
        switch type {
        case .stop, .stopLimit:
            guard stopPriceText != nil else {
                throw BourseError.validation("stop_price is required for \(type.apiName) orders")
            }
        case .limit, .market:
            guard stopPriceText == nil else {
                throw BourseError.validation("stop_price is not allowed for \(type.apiName) orders")
            }
        }
        if postOnly, type != .limit { throw BourseError.validation("post_only is only allowed for limit orders") }

        let spec = try await services.exchange.market(symbol).spec
        return OrderRequest(
            symbol: symbol, side: side, type: type, quantity: try spec.quantity(parsing: quantityText),
            price: try priceText.map { text throws(BourseError) in try spec.price(parsing: text) },
            stopPrice: try stopPriceText.map { text throws(BourseError) in
                try spec.price(parsing: text, field: "stop_price")
            },
            timeInForce: timeInForce, postOnly: postOnly, clientOrderID: clientOrderID)
    }
}
