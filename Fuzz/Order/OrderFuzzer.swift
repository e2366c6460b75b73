import Actors
import Trading

/// Fuzzes the order request reader (`OrderRequestParser`, on `RequestFields` and `JSONParser`) with arbitrary
/// bytes as a `POST /v1/orders` body, on the markets of `FuzzExchange`.
///
/// Properties: the JSON ones (`JSONChecks`); a refusal is a `BourseError` 400 or 404; an accepted order says what
/// the body says (symbol, side, type, time in force, client order id), has a price exactly for limit and stop-limit
/// orders and a stop price exactly for stop and stop-limit orders, is post-only only as a limit order, and its
/// quantity and prices are the body's decimals on the market's grid, in range, formatting to text that parses
/// back to them.
enum OrderFuzzer {
    /// The API's default (`APIConfiguration.maxJSONDepth`).
    static let maxDepth = 64

    static func run(_ bytes: [UInt8]) {
        guard let body = JSONChecks.parse(bytes, maxDepth: maxDepth) else { return }
        let outcome = runBlocking {
            try await OrderRequestParser(services: APIServices(exchange: FuzzExchange())).parse(body)
        }
        switch outcome {
        case .success(let order): check(order, from: body)
        case .failure(let error as BourseError):
            fuzzCheck(error.code == .validation || error.code == .notFound, "order refused with \(error)")
        case .failure(let error): fuzzCheck(false, "order refused with \(type(of: error)): \(error)")
        }
    }

    static func check(_ order: OrderRequest, from body: JSONValue) {
        let fields = body.objectValue!
        func text(_ key: String) -> String? {
            switch fields[key] {
            case .string(let text)?, .number(let text)?: text
            default: nil
            }
        }
        let spec: MarketSpec
        do {
            spec = try FuzzExchange.spec(order.symbol)
        } catch {
            return fuzzCheck(false, "accepted an order on \(order.symbol)")
        }
        fuzzCheck(
            fields["symbol"] == .string(order.symbol),
            "symbol \(order.symbol) from \(String(describing: fields["symbol"]))")
        fuzzCheck(text("side") == order.side.apiName, "side \(order.side) from \(String(describing: fields["side"]))")
        fuzzCheck(text("type") == order.type.apiName, "type \(order.type) from \(String(describing: fields["type"]))")
        fuzzCheck(
            (text("time_in_force") ?? "gtc") == order.timeInForce.apiName,
            "time in force \(order.timeInForce) from \(String(describing: fields["time_in_force"]))")
        fuzzCheck(
            text("client_order_id") == order.clientOrderID, "client order id \(String(describing: order.clientOrderID))"
        )
        if let id = order.clientOrderID {
            fuzzCheck(
                (1...64).contains(id.utf8.count) && id.utf8.allSatisfy { (0x21...0x7E).contains($0) },
                "client order id \(id)")
        }
        fuzzCheck(
            (order.price != nil) == [.limit, .stopLimit].contains(order.type),
            "a \(order.type) order with price \(String(describing: order.price))")
        fuzzCheck(
            (order.stopPrice != nil) == [.stop, .stopLimit].contains(order.type),
            "a \(order.type) order with stop price \(String(describing: order.stopPrice))")
        fuzzCheck(!order.postOnly || order.type == .limit, "a post-only \(order.type) order")

        fuzzCheck(
            (spec.minQuantity.lots...MarketSpec.maxLots).contains(order.quantity.lots), "quantity \(order.quantity)")
        fuzzCheck(
            text("quantity").flatMap { try? FixedDecimal.parse($0, scale: Amount.scale) }
                == order.quantity.lots * spec.lotSize.units,
            "quantity \(order.quantity) from \(String(describing: text("quantity")))")
        let quantityText = spec.format(order.quantity)
        fuzzCheck((try? spec.quantity(parsing: quantityText)) == order.quantity, "quantity formats as \(quantityText)")
        for (key, price) in [("price", order.price), ("stop_price", order.stopPrice)] {
            guard let price else { continue }
            fuzzCheck((1...MarketSpec.maxTicks).contains(price.ticks), "\(key) \(price)")
            fuzzCheck(
                text(key).flatMap { try? FixedDecimal.parse($0, scale: Amount.scale) }
                    == price.ticks * spec.tickSize.units,
                "\(key) \(price) from \(String(describing: text(key)))")
            let priceText = spec.format(price)
            fuzzCheck((try? spec.price(parsing: priceText)) == price, "\(key) formats as \(priceText)")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOrder(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    OrderFuzzer.run(fuzzBytes(data, count))
    return 0
}
