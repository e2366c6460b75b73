import Actors
import Trading

extension Render {
    static func order(_ order: OrderView, _ spec: MarketSpec) -> JSONValue {
        var object: JSONObject = [
            "order_id": id(order.orderID), "client_order_id": .optional(order.clientOrderID),
            "symbol": .string(order.symbol), "side": .string(order.side.apiName), "type": .string(order.type.apiName),
            "price": price(order.price, spec), "stop_price": price(order.stopPrice, spec),
            "quantity": quantity(order.quantity, spec), "filled_quantity": quantity(order.filledQuantity, spec),
            "remaining_quantity": quantity(order.remainingQuantity, spec),
            "average_price": amount(averagePrice(order, spec)), "status": .string(order.status.rawValue),
            "time_in_force": .string(order.timeInForce.apiName), "post_only": .bool(order.postOnly),
            "created_at": time(order.createdAtMillis), "updated_at": time(order.updatedAtMillis),
            "fills": .array(order.fills.map { fill($0, spec) }),
        ]
        if let reason = order.rejectReason { object["reject_reason"] = .string(reason.apiName) }
        return .object(object)
    }

    static func fill(_ fill: OrderFill, _ spec: MarketSpec) -> JSONValue {
        [
            "trade_id": id(fill.tradeID), "price": price(fill.price, spec), "quantity": quantity(fill.quantity, spec),
            "fee": amount(fill.fee), "fee_currency": .string(fill.feeCurrency),
            "liquidity": .string(fill.liquidity.name),
            "timestamp": time(fill.timestampMillis),
        ]
    }

    static func userTrade(_ trade: UserTrade, _ spec: MarketSpec) -> JSONValue {
        [
            "trade_id": id(trade.tradeID), "order_id": id(trade.orderID), "symbol": .string(trade.symbol),
            "side": .string(trade.side.apiName), "price": price(trade.price, spec),
            "quantity": quantity(trade.quantity, spec), "fee": amount(trade.fee),
            "fee_currency": .string(trade.feeCurrency), "liquidity": .string(trade.liquidity.name),
            "timestamp": time(trade.timestampMillis),
        ]
    }

    /// filledNotional / filled base quantity, in quote per whole base unit, rounded half-even to
    /// 8 decimals; nil when nothing has filled.
    static func averagePrice(_ order: OrderView, _ spec: MarketSpec) -> Amount? {
        guard order.filledQuantity.lots > 0 else { return nil }
        let baseUnits = Int128(order.filledQuantity.lots) * Int128(spec.lotSize.units)
        let numerator = Int128(order.filledNotional.units) * Int128(Amount.unitsPerCoin)
        var quotient = numerator / baseUnits
        let remainder = numerator % baseUnits
        let twice = 2 * (remainder < 0 ? -remainder : remainder)
        if twice > baseUnits || (twice == baseUnits && quotient % 2 != 0) {
            quotient += numerator < 0 ? -1 : 1
        }
        guard let units = Int64(exactly: quotient) else { return nil }
        return Amount(units: units)
    }
}
