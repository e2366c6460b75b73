import Trading

/// Helpers shared by the ledger tests (namespaced so they cannot clash with other test files).
enum LedgerFixtures {
    /// BTC-USD: tick 0.01, lot 0.0001, maker 10 bps, taker 20 bps.
    static let btcUSD = try! MarketSpec(
        symbol: "BTC-USD", base: "BTC", quote: "USD", tickSize: "0.01", lotSize: "0.0001", minQuantity: "0.0001",
        makerFeeBps: 10, takerFeeBps: 20)
    /// ETH-BTC: BTC is the quote here. Odd fee rates so that rounding shows.
    static let ethBTC = try! MarketSpec(
        symbol: "ETH-BTC", base: "ETH", quote: "BTC", tickSize: "0.00001", lotSize: "0.001", minQuantity: "0.001",
        makerFeeBps: 7, takerFeeBps: 13)

    static func amount(_ text: String) -> Amount { try! Amount(parsing: text) }
    static func price(_ text: String, _ spec: MarketSpec = btcUSD) -> Price { try! spec.price(parsing: text) }
    static func quantity(_ text: String, _ spec: MarketSpec = btcUSD) -> Quantity { try! spec.quantity(parsing: text) }

    static func buy(_ id: OrderID, owner: UserID = 1, _ price: String, _ quantity: String, spec: MarketSpec = btcUSD)
        -> NewOrder
    {
        NewOrder(
            id: id, owner: owner, side: .buy, type: .limit, price: self.price(price, spec),
            quantity: self.quantity(quantity, spec))
    }

    static func sell(_ id: OrderID, owner: UserID = 1, _ price: String?, _ quantity: String, spec: MarketSpec = btcUSD)
        -> NewOrder
    {
        NewOrder(
            id: id, owner: owner, side: .sell, type: price == nil ? .market : .limit,
            price: price.map { self.price($0, spec) }, quantity: self.quantity(quantity, spec))
    }

    static func fill(
        _ tradeID: UInt64, order: OrderID, owner: UserID = 1, _ side: Side, _ price: String, _ quantity: String,
        _ liquidity: LiquidityRole, spec: MarketSpec = btcUSD
    ) -> Fill {
        Fill(
            tradeID: tradeID, orderID: order, owner: owner, side: side, price: self.price(price, spec),
            quantity: self.quantity(quantity, spec), liquidity: liquidity, spec: spec)
    }

    /// A ledger of user 1 with the given deposits.
    static func ledger(_ deposits: [(String, String)]) -> AccountLedger {
        var ledger = AccountLedger(userID: 1)
        for (index, (currency, value)) in deposits.enumerated() {
            try! ledger.deposit(currency: currency, amount: amount(value), reference: "dep-\(index)")
        }
        _ = ledger.drainEntries()
        return ledger
    }
}
