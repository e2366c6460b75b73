import Storage
import Trading

/// The domain value whose read-model spelling is `name`.
/// - Throws: `INTERNAL` naming `row` when no value is spelt so.
private func named<Value: CaseIterable>(_ name: String, in row: String, _ spelling: (Value) -> String) throws -> Value {
    guard let value = Value.allCases.first(where: { spelling($0) == name }) else {
        throw BourseError(.internal, "\(row) has an unknown value \(name) in the read models")
    }
    return value
}

extension UserTrade {
    /// The fill as `trade_history` holds it.
    /// - Throws: `INTERNAL` for a row whose names are not the read models' spellings.
    init(archived row: TradeRow) throws {
        let what = "trade \(row.tradeID) of order \(row.orderID)"
        self.init(
            tradeID: row.tradeID, orderID: row.orderID, symbol: row.symbol,
            side: try named(row.side, in: what) { (side: Side) in side.readModelName }, price: row.price,
            quantity: row.quantity, fee: row.fee, feeCurrency: row.feeCurrency,
            liquidity: try named(row.liquidity, in: what) { (role: LiquidityRole) in role.name },
            timestampMillis: row.timestampMillis)
    }
}

extension OrderView {
    /// The order as the read models hold it (`orders` and its `trade_history` rows).
    /// - Throws: `INTERNAL` for a row whose names are not the read models' spellings.
    init(archived row: OrderRow, fills: [TradeRow]) throws {
        func named<Value: CaseIterable>(_ name: String, _ spelling: (Value) -> String) throws -> Value {
            try Actors.named(name, in: "order \(row.orderID)", spelling)
        }
        guard let status = OrderStatus(rawValue: row.status) else {
            throw BourseError(.internal, "order \(row.orderID) has an unknown status \(row.status) in the read models")
        }
        self.init(
            orderID: row.orderID, clientOrderID: row.clientOrderID, symbol: row.symbol,
            side: try named(row.side) { (side: Side) in side.readModelName },
            type: try named(row.type) { (type: OrderType) in type.readModelName }, price: row.price,
            stopPrice: row.stopPrice, quantity: row.quantity, filledQuantity: row.filledQuantity,
            filledNotional: row.filledNotional, status: status,
            timeInForce: try named(row.timeInForce) { (tif: TimeInForce) in tif.readModelName },
            postOnly: row.postOnly,
            rejectReason: try row.rejectReason.map { try named($0) { (reason: RejectReason) in reason.readModelName } },
            createdAtMillis: row.createdAtMillis, updatedAtMillis: row.updatedAtMillis,
            fills: try fills.map { fill in
                OrderFill(
                    tradeID: fill.tradeID, price: fill.price, quantity: fill.quantity, fee: fill.fee,
                    feeCurrency: fill.feeCurrency,
                    liquidity: try named(fill.liquidity) { (role: LiquidityRole) in role.name },
                    timestampMillis: fill.timestampMillis)
            })
    }
}
