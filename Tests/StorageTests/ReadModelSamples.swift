import Storage
import Trading

/// Read-model rows for the storage tests: every column used, NULLs and extreme values included.
enum ReadModelSamples {
    /// A batch of one user's rows: `orders` orders (ids `user << 20 | n`), `entries` ledger rows, two fills,
    /// two balances and one position.
    static func batch(
        shard: String, sequence: Int64, user: UserID, orders: Int = 3, entries: Int = 4
    ) -> ProjectionBatch {
        var batch = ProjectionBatch(shard: shard, sequence: sequence)
        for number in 0..<orders {
            let limit = number % 3 != 1
            batch.orders.append(
                OrderRow(
                    orderID: user << 20 | OrderID(number + 1), userID: user,
                    clientOrderID: number % 2 == 0 ? "client-\(number)" : nil, symbol: "BTC-USD",
                    side: number % 2 == 0 ? "buy" : "sell", type: limit ? "limit" : "market",
                    price: limit ? Price(ticks: 5_000_000 + Int64(number)) : nil,
                    stopPrice: number % 3 == 2 ? Price(ticks: 4_900_000) : nil, quantity: Quantity(lots: 20_000),
                    filledQuantity: Quantity(lots: Int64(number * 100)),
                    filledNotional: Amount(units: Int64(number) * 1_000_000_000_000), status: "partially_filled",
                    timeInForce: "gtc", postOnly: number % 2 == 1,
                    rejectReason: number % 3 == 1 ? "no_liquidity" : nil,
                    createdAtMillis: 1_714_564_800_000 + Int64(number), updatedAtMillis: 1_714_564_900_000))
        }
        for number in 0..<entries {
            batch.transactions.append(
                TransactionRow(
                    userID: user, entryID: UInt64(number + 1), type: number == 0 ? "DEPOSIT" : "WITHDRAWAL",
                    currency: "USD", amount: Amount(units: number == 0 ? 10_000_000_000_000 : -100_000_000),
                    availableAfter: Amount(units: 10_000_000_000_000 - Int64(number) * 100_000_000),
                    lockedAfter: .zero, referenceID: "ref-\(user)-\(number)",
                    timestampMillis: 1_714_564_800_000 + Int64(number)))
        }
        batch.trades = [
            TradeRow(
                symbol: "BTC-USD", tradeID: 7, orderID: user << 20 | 1, userID: user, side: "buy",
                price: Price(ticks: 5_000_000), quantity: Quantity(lots: 100), fee: Amount(units: 2_000_000_000),
                feeCurrency: "USD", liquidity: "taker", timestampMillis: 1_714_564_800_010),
            TradeRow(
                symbol: "BTC-USD", tradeID: UInt64.max, orderID: user << 20 | 2, userID: user, side: "sell",
                price: Price(ticks: 5_000_100), quantity: Quantity(lots: 1), fee: .zero, feeCurrency: "USD",
                liquidity: "maker", timestampMillis: 1_714_564_800_020),
        ]
        batch.wallets = [
            WalletRow(userID: user, currency: "USD", available: Amount(units: Int64.max - 1), locked: Amount(units: 1)),
            WalletRow(userID: user, currency: "BTC", available: Amount(units: 12_345), locked: .zero),
        ]
        batch.holdings = [
            HoldingRow(
                userID: user, symbol: "BTC-USD", base: "BTC", quote: "USD", quantity: Amount(units: 100_000_000),
                costBasis: Amount(units: 5_000_000_000_000), realizedPnL: Amount(units: -42), feesPaid: Amount(units: 7)
            )
        ]
        return batch
    }
}
