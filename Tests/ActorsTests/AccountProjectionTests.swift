import Actors
import Storage
import Testing
import Trading

/// The read-model rows of an account shard as pure functions of its state.
@Suite struct AccountProjectionTests {
    static let btc = ExchangeFlowTests.btc
    static let symbol = "BTC-USD"

    /// Applies `command` at `time` and returns the rows it changed.
    static func apply(_ state: inout AccountShardState, _ command: AccountShardState.Command, at time: Int64)
        throws -> ProjectionBatch
    {
        let marks = state.projectionMarks(for: command)
        let outcome = try state.apply(AccountShardState.Record(timestampMillis: time, command: command))
        return state.projection(since: marks, outcome: outcome)
    }

    /// Two users of shard 0: a seller resting 0.5 BTC at 50 000 and a buyer taking 0.2 of it.
    static func trade() throws -> (state: AccountShardState, batches: [ProjectionBatch], sell: OrderID, buy: OrderID) {
        var state = AccountShardState(index: 0, markets: [symbol: btc])
        var batches: [ProjectionBatch] = []
        batches.append(
            try apply(
                &state, .deposit(user: 1, currency: "BTC", amount: ExchangeFlowTests.amount("1"), key: nil), at: 10))
        batches.append(
            try apply(
                &state, .deposit(user: 2, currency: "USD", amount: ExchangeFlowTests.amount("100000"), key: "k"),
                at: 11))
        let sell = OrderRequest(
            symbol: symbol, side: .sell, type: .limit, quantity: ExchangeFlowTests.quantity("0.5"),
            price: ExchangeFlowTests.price("50000"), clientOrderID: "s-1")
        batches.append(try apply(&state, .place(user: 1, request: sell, protection: nil), at: 12))
        let sellID = OrderIDs.make(shard: 0, counter: 1)
        batches.append(
            try apply(
                &state, .bookEvents(symbol: symbol, events: [BookEvent(sequence: 1, kind: .accepted(sellID))]), at: 13))
        let buy = OrderRequest(
            symbol: symbol, side: .buy, type: .limit, quantity: ExchangeFlowTests.quantity("0.2"),
            price: ExchangeFlowTests.price("51000"))
        batches.append(try apply(&state, .place(user: 2, request: buy, protection: nil), at: 14))
        let buyID = OrderIDs.make(shard: 0, counter: 2)
        let trade = Trade(
            id: 1, price: ExchangeFlowTests.price("50000"), quantity: ExchangeFlowTests.quantity("0.2"),
            takerSide: .buy,
            makerOrderID: sellID, makerOwner: 1, makerRemaining: ExchangeFlowTests.quantity("0.3"), takerOrderID: buyID,
            takerOwner: 2, takerRemaining: .zero)
        batches.append(
            try apply(
                &state, .bookEvents(symbol: symbol, events: [BookEvent(sequence: 2, kind: .trade(trade))]), at: 15))
        return (state, batches, sellID, buyID)
    }

    @Test func aDepositProjectsItsLedgerRowAndBalance() throws {
        var state = AccountShardState(index: 0, markets: [Self.symbol: Self.btc])
        let rows = try Self.apply(
            &state, .deposit(user: 7, currency: "USD", amount: ExchangeFlowTests.amount("250.5"), key: nil), at: 99)
        #expect(rows.orders.isEmpty && rows.trades.isEmpty && rows.holdings.isEmpty)
        #expect(
            rows.transactions == [
                TransactionRow(
                    userID: 7, entryID: 1, type: "DEPOSIT", currency: "USD", amount: ExchangeFlowTests.amount("250.5"),
                    availableAfter: ExchangeFlowTests.amount("250.5"), lockedAfter: .zero, referenceID: "deposit-1",
                    timestampMillis: 99)
            ])
        #expect(
            rows.wallets == [
                WalletRow(userID: 7, currency: "USD", available: ExchangeFlowTests.amount("250.5"), locked: .zero)
            ])
        #expect(rows.offsets.isEmpty)
    }

    /// A deposit of the base asset journals its valuation (tag 6; a deposit without one keeps the old layout, which
    /// still reads) and projects the position it joins.
    @Test func aValuedDepositRoundTripsAndProjectsItsHolding() throws {
        let amount = ExchangeFlowTests.amount
        let valuation = AccountShardState.DepositValuation(symbol: Self.symbol, price: amount("50000"))
        let valued = AccountShardState.Record(
            timestampMillis: 5,
            command: .deposit(user: 7, currency: "BTC", amount: amount("0.5"), key: "k", valuation: valuation))
        let plain = AccountShardState.Record(
            timestampMillis: 6, command: .deposit(user: 7, currency: "BTC", amount: amount("0.5"), key: nil))
        #expect(valued.encoded()[8] == 6 && plain.encoded()[8] == 0)
        #expect(try AccountShardState.Record(decoding: valued.encoded()) == valued)
        #expect(try AccountShardState.Record(decoding: plain.encoded()) == plain)
        #expect(throws: BourseError.self) {
            try AccountShardState.Record(decoding: valued.encoded().dropLast(1).map { $0 })
        }

        var state = AccountShardState(index: 0, markets: [Self.symbol: Self.btc])
        let rows = try Self.apply(&state, valued.command, at: 5)
        #expect(
            rows.holdings == [
                HoldingRow(
                    userID: 7, symbol: Self.symbol, base: "BTC", quote: "USD", quantity: amount("0.5"),
                    costBasis: amount("25000"), realizedPnL: .zero, feesPaid: .zero)
            ])
        // A valuation in a market the shard does not know is ignored, like one without a position to join.
        let unknown = AccountShardState.DepositValuation(symbol: "DOGE-USD", price: amount("1"))
        let more = try Self.apply(
            &state, .deposit(user: 7, currency: "BTC", amount: amount("1"), key: nil, valuation: unknown), at: 6)
        #expect(more.holdings.map(\.quantity) == [amount("0.5")])
    }

    @Test func aPlacedOrderProjectsTheOrderItsLockAndTheBalance() throws {
        let (_, batches, sell, _) = try Self.trade()
        let placed = batches[2]
        #expect(placed.orders.count == 1)
        let order = try #require(placed.orders.first)
        #expect(order.orderID == sell && order.userID == 1 && order.clientOrderID == "s-1")
        #expect(order.side == "sell" && order.type == "limit" && order.status == "new" && order.timeInForce == "gtc")
        #expect(order.price == ExchangeFlowTests.price("50000") && order.stopPrice == nil && order.rejectReason == nil)
        #expect(order.createdAtMillis == 12 && order.updatedAtMillis == 12)
        #expect(placed.transactions.map(\.type) == ["LOCK"])
        #expect(
            placed.wallets == [
                WalletRow(
                    userID: 1, currency: "BTC", available: ExchangeFlowTests.amount("0.5"),
                    locked: ExchangeFlowTests.amount("0.5"))
            ])
    }

    @Test func aTradeProjectsBothSides() throws {
        let (_, batches, sell, buy) = try Self.trade()
        let traded = batches[5]
        #expect(traded.orders.map(\.orderID) == [sell, buy])
        #expect(traded.orders.map(\.status) == ["partially_filled", "filled"])
        #expect(traded.trades.map(\.userID) == [1, 2])
        #expect(traded.trades.map(\.liquidity) == ["maker", "taker"])
        #expect(traded.trades.map(\.fee) == [ExchangeFlowTests.amount("10"), ExchangeFlowTests.amount("20")])
        #expect(traded.trades.allSatisfy { $0.tradeID == 1 && $0.symbol == Self.symbol && $0.timestampMillis == 15 })
        #expect(Set(traded.transactions.map(\.type)).isSuperset(of: ["TRADE", "FEE"]))
        #expect(Set(traded.wallets.map(\.userID)) == [1, 2])
        let holding = try #require(traded.holdings.first { $0.userID == 2 })
        #expect(holding.quantity == ExchangeFlowTests.amount("0.2"))
        #expect(holding.costBasis == ExchangeFlowTests.amount("10020"))
    }

    @Test func redeliveredEventsProjectNoNewHistory() throws {
        let traded = try Self.trade()
        var state = traded.state
        let (sell, buy) = (traded.sell, traded.buy)
        let trade = Trade(
            id: 1, price: ExchangeFlowTests.price("50000"), quantity: ExchangeFlowTests.quantity("0.2"),
            takerSide: .buy,
            makerOrderID: sell, makerOwner: 1, makerRemaining: ExchangeFlowTests.quantity("0.3"), takerOrderID: buy,
            takerOwner: 2, takerRemaining: .zero)
        let again = try Self.apply(
            &state, .bookEvents(symbol: Self.symbol, events: [BookEvent(sequence: 2, kind: .trade(trade))]), at: 20)
        #expect(again.trades.isEmpty)
        #expect(again.transactions.isEmpty)
    }

    /// The incremental rows of every command, coalesced, are exactly the full projection of the users.
    @Test func incrementalRowsAddUpToTheFullProjection() throws {
        let (state, batches, _, _) = try Self.trade()
        var incremental = ProjectionBatch()
        for batch in batches { incremental.append(batch) }
        let coalesced = incremental.coalesced()
        let full = state.projection(of: [2, 1, 3]).coalesced()
        #expect(Set(coalesced.orders) == Set(full.orders))
        #expect(Set(coalesced.trades) == Set(full.trades))
        #expect(Set(coalesced.transactions) == Set(full.transactions))
        #expect(Set(coalesced.wallets) == Set(full.wallets))
        #expect(Set(coalesced.holdings) == Set(full.holdings))
        #expect(full.transactions.count == state.users.values.reduce(0) { $0 + $1.entries.count })
        #expect(full.offsets.isEmpty)
    }
}
