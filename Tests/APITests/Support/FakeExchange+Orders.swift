import Actors
import Trading

extension FakeExchange {
    func placeOrder(user: UserID, request: OrderRequest) async throws -> (order: OrderView, created: Bool) {
        placed.append(request)
        let spec = try await market(request.symbol).spec
        if let clientOrderID = request.clientOrderID,
            let existing = orders.values.first(where: { $0.user == user && $0.view.clientOrderID == clientOrderID })
        {
            guard existing.request == request else { throw BourseError(.conflict, "client_order_id reused") }
            return (existing.view, false)
        }
        if request.side == .buy, let price = request.price {
            let cost = try spec.notional(price, request.quantity)
            guard (balances[user]?[spec.quote] ?? .zero) >= cost else {
                throw BourseError(.insufficientFunds, "insufficient \(spec.quote)")
            }
        }
        if request.type == .market { throw BourseError(.orderRejected, "no liquidity") }
        let id = nextOrderID
        nextOrderID += 1
        // A half-filled order (two fills) when the client order id asks for it, to exercise rendering.
        let partial = request.clientOrderID == "partial"
        var fills: [OrderFill] = []
        var filled = Quantity.zero
        var notional = Amount.zero
        if partial, let price = request.price {
            let half = Quantity(lots: request.quantity.lots / 2)
            fills = [
                OrderFill(
                    tradeID: 1, price: price, quantity: half, fee: Amount(units: 1), feeCurrency: spec.quote,
                    liquidity: .taker, timestampMillis: now),
                OrderFill(
                    tradeID: 2, price: Price(ticks: price.ticks - 1), quantity: Quantity(lots: 1),
                    fee: Amount(units: 1),
                    feeCurrency: spec.quote, liquidity: .taker, timestampMillis: now),
            ]
            filled = Quantity(lots: half.lots + 1)
            notional = Amount(
                units: try spec.notional(price, half).units
                    + spec.notional(Price(ticks: price.ticks - 1), Quantity(lots: 1)).units)
        }
        let view = OrderView(
            orderID: id, clientOrderID: request.clientOrderID, symbol: request.symbol, side: request.side,
            type: request.type,
            price: request.price, stopPrice: request.stopPrice, quantity: request.quantity, filledQuantity: filled,
            filledNotional: notional,
            status: request.stopPrice != nil ? .pendingTrigger : (partial ? .partiallyFilled : .new),
            timeInForce: request.timeInForce, postOnly: request.postOnly, rejectReason: nil, createdAtMillis: now,
            updatedAtMillis: now, fills: fills)
        orders[id] = (user, view, request)
        return (view, true)
    }

    func order(user: UserID, orderID: OrderID) async throws -> OrderView {
        guard let entry = orders[orderID], entry.user == user else { throw BourseError(.notFound, "order not found") }
        return entry.view
    }

    func orders(user: UserID, filter: OrderFilter) async throws -> [OrderView] {
        orders.values.filter { entry in
            entry.user == user && (filter.symbol == nil || entry.view.symbol == filter.symbol)
                && (filter.status == .all || (filter.status == .open) == entry.view.status.isOpen)
        }.map(\.view).sorted { $0.orderID > $1.orderID }.prefix(filter.limit).map { $0 }
    }

    func cancelOrder(user: UserID, orderID: OrderID) async throws -> OrderView {
        var view = try await order(user: user, orderID: orderID)
        guard view.status.isOpen else { throw BourseError(.conflict, "order is not open") }
        view.status = .cancelled
        orders[orderID]?.view = view
        return view
    }

    func cancelAll(user: UserID, symbol: String?) async throws -> [OrderView] {
        var cancelled: [OrderView] = []
        for view in try await orders(user: user, filter: OrderFilter(status: .open, symbol: symbol, limit: 1000)) {
            cancelled.append(try await cancelOrder(user: user, orderID: view.orderID))
        }
        return cancelled
    }

    func amendOrder(user: UserID, orderID: OrderID, price: Price?, quantity: Quantity?) async throws -> OrderView {
        var view = try await order(user: user, orderID: orderID)
        guard view.status.isOpen else { throw BourseError(.conflict, "order is not open") }
        if let quantity {
            guard quantity > view.filledQuantity else {
                throw BourseError.validation("quantity must exceed the filled quantity")
            }
            view.quantity = quantity
        }
        if let price { view.price = price }
        orders[orderID]?.view = view
        return view
    }

    func userTrades(user: UserID, symbol: String?, limit: Int) async throws -> [UserTrade] {
        orders.values.filter { $0.user == user }.flatMap { entry in
            entry.view.fills.map { fill in
                UserTrade(
                    tradeID: fill.tradeID, orderID: entry.view.orderID, symbol: entry.view.symbol,
                    side: entry.view.side,
                    price: fill.price, quantity: fill.quantity, fee: fill.fee, feeCurrency: fill.feeCurrency,
                    liquidity: fill.liquidity, timestampMillis: fill.timestampMillis)
            }
        }
    }

    func portfolio(user: UserID) async throws -> PortfolioView {
        let cash = balances[user]?["USD"] ?? .zero
        let position = PositionView(
            symbol: "BTC-USD", quantity: Amount(units: 50_000_000), averagePrice: Amount(units: 4_000_000_000_000),
            marketPrice: Amount(units: 5_000_000_000_000), marketValue: Amount(units: 2_500_000_000_000),
            costBasis: Amount(units: 2_000_000_000_000), unrealizedPnL: Amount(units: 500_000_000_000),
            realizedPnL: .zero)
        return PortfolioView(
            quoteCurrency: "USD", cash: cash, positions: [position],
            totalValue: Amount(units: cash.units + 2_500_000_000_000),
            totalCost: Amount(units: 2_000_000_000_000), totalPnL: Amount(units: 500_000_000_000), roiPercent: 25.004)
    }

    func performance(user: UserID) async throws -> PerformanceView {
        PerformanceView(
            totalReturnPercent: 12.5, realizedPnL: .zero, unrealizedPnL: Amount(units: 500_000_000_000),
            maxDrawdownPercent: 3.25, sharpe: 1.5, sortino: nil, winRate: nil, tradeCount: 0)
    }

    func subscribe(channels: [StreamChannel], user: UserID?) async throws -> AsyncStream<StreamEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: StreamEvent.self)
        continuation.onTermination = { [endedSubscriptions] _ in endedSubscriptions.increment() }
        subscriptions.append((channels, user, continuation))
        return stream
    }

    func isReady() async -> Bool { ready }
}
