import Trading

/// Deposits, withdrawals, balances and history: one account shard each.
extension Exchange {
    public func deposit(user: UserID, currency: String, amount: Amount, idempotencyKey: String?) async throws
        -> BalanceChange
    {
        try await deposit(user: user, currency: currency, amount: amount, idempotencyKey: idempotencyKey, valued: true)
    }

    /// - Parameter valued: whether a deposit of a market's base asset joins that market's position
    ///   (`depositValuation(of:)`); system accounts' inventory deposits do not.
    func deposit(user: UserID, currency: String, amount: Amount, idempotencyKey: String?, valued: Bool) async throws
        -> BalanceChange
    {
        let valuation = valued ? await depositValuation(of: currency) : nil
        return try await moveMoney(
            .deposit(user: user, currency: currency, amount: amount, key: idempotencyKey, valuation: valuation), user)
    }

    /// A deposit of a market's base asset joins the position of the first market that trades it against the
    /// portfolio's quote currency, at that market's price (`markPrice`; zero when it has none; `Position`).
    private func depositValuation(of currency: String) async -> AccountShardState.DepositValuation? {
        let quote = portfolioQuote
        guard let spec = symbolDirectory.specs.first(where: { $0.base == currency && $0.quote == quote }) else {
            return nil
        }
        let price = await markPrice(of: spec, quotes: await quotes(of: [spec.symbol]))
        return AccountShardState.DepositValuation(symbol: spec.symbol, price: price ?? .zero)
    }

    /// The currency the portfolio counts cash and values positions in: the first market's quote currency.
    var portfolioQuote: String { configuration.markets.first?.quote ?? "USD" }

    /// What a position in the market is worth per whole unit of its base asset: the last trade price, or before
    /// the market's first trade the middle of its best bid and ask (a demo market quoted by paper liquidity),
    /// else nil. From `quotes` (the owners' answers, for books served elsewhere: this node's copy of such a book
    /// is idle and stale), else from the book here.
    func markPrice(of spec: MarketSpec, quotes: [String: SymbolQuote]) async -> Amount? {
        let (last, bid, ask): (Price?, Price?, Price?)
        if let quote = quotes[spec.symbol] {
            (last, bid, ask) = (quote.last, quote.bid, quote.ask)
        } else if let actor = symbolDirectory.actor(spec.symbol) {
            let ticker = await actor.ticker(nowMillis: clock())
            (last, bid, ask) = (ticker.lastPrice, ticker.bestBid, ticker.bestAsk)
        } else {
            return nil
        }
        if let last { return try? spec.amount(of: last) }
        guard let bid, let ask, let low = try? spec.amount(of: bid), let high = try? spec.amount(of: ask) else {
            return nil
        }
        return Amount(units: low.units / 2 + high.units / 2 + (low.units % 2 + high.units % 2) / 2)
    }

    public func withdraw(user: UserID, currency: String, amount: Amount, idempotencyKey: String?) async throws
        -> BalanceChange
    {
        try await moveMoney(.withdraw(user: user, currency: currency, amount: amount, key: idempotencyKey), user)
    }

    private func moveMoney(_ command: AccountShardState.Command, _ user: UserID) async throws -> BalanceChange {
        let outcome = try await accountShard(ofUser: user).execute(command, nowMillis: clock())
        guard case .balance(let change) = outcome else { throw BourseError(.internal, "unexpected outcome") }
        return change
    }

    public func balances(user: UserID) async throws -> [BalanceView] {
        guard let account = try await accountShard(ofUser: user).account(user) else { return [] }
        return account.ledger.currencies.map { currency in
            let balance = account.ledger.balance(currency)
            return BalanceView(currency: currency, available: balance.available, locked: balance.locked)
        }
    }

    public func transactions(user: UserID, limit: Int) async throws -> [TimedEntry] {
        guard let account = try await accountShard(ofUser: user).account(user) else { return [] }
        return Array(account.entries.suffix(limit).reversed())
    }

    public func userTrades(user: UserID, symbol: String?, limit: Int) async throws -> [UserTrade] {
        guard let account = try await accountShard(ofUser: user).account(user) else { return [] }
        var result: [UserTrade] = []
        for trade in account.trades.reversed() where symbol == nil || trade.symbol == symbol {
            result.append(trade)
            if result.count >= limit { break }
        }
        // Short of the limit with fills trimmed from memory: the older ones are in the read models.
        guard result.count < limit, account.tradesTrimmed, let store = projections?.store else { return result }
        let inMemory = Set(account.trades.map { TradeKey(tradeID: $0.tradeID, orderID: $0.orderID) })
        let older = try await readHistory("trade history") {
            try await store.trades(user: user, symbol: symbol, limit: limit)
                .filter { !inMemory.contains(TradeKey(tradeID: $0.tradeID, orderID: $0.orderID)) }
                .map(UserTrade.init(archived:))
        }
        return Array(
            (result + older).sorted {
                ($0.timestampMillis, $0.tradeID, $0.orderID) > ($1.timestampMillis, $1.tradeID, $1.orderID)
            }.prefix(limit))
    }

    private struct TradeKey: Hashable {
        var tradeID: UInt64
        var orderID: OrderID
    }

    public func portfolio(user: UserID) async throws -> PortfolioView {
        let account = try await accountShard(ofUser: user).account(user)
        let quote = portfolioQuote
        let cash = account?.ledger.balance(quote).total ?? .zero
        var positions: [PositionView] = []
        var marketValues: Int64 = 0
        var costs: Int64 = 0
        var pnl: Int64 = 0
        let held = (account?.ledger.positions ?? [:]).sorted(by: { $0.key < $1.key })
        let quotes = await quotes(of: held.map(\.key))
        for (symbol, position) in held {
            guard let spec = symbolDirectory.actor(symbol)?.spec else { continue }
            let marketPrice = await markPrice(of: spec, quotes: quotes)
            let value =
                marketPrice.map {
                    Amount(
                        units: (try? Checked.mulDivFloor(position.quantity.units, $0.units, Amount.unitsPerCoin)) ?? 0)
                } ?? .zero
            let unrealized = Amount(units: value.units &- position.costBasis.units)
            positions.append(
                PositionView(
                    symbol: symbol, quantity: position.quantity, averagePrice: position.averagePrice,
                    marketPrice: marketPrice, marketValue: value, costBasis: position.costBasis,
                    unrealizedPnL: unrealized, realizedPnL: position.realizedPnL))
            marketValues &+= value.units
            costs &+= position.costBasis.units
            pnl &+= unrealized.units &+ position.realizedPnL.units
        }
        let roi = costs > 0 ? Double(pnl) / Double(costs) * 100 : 0
        return PortfolioView(
            quoteCurrency: quote, cash: cash, positions: positions,
            totalValue: Amount(units: cash.units &+ marketValues),
            totalCost: Amount(units: costs), totalPnL: Amount(units: pnl), roiPercent: (roi * 100).rounded() / 100)
    }

    /// Returns and P&L as the portfolio shows them, and statistics of the user's daily equity in the
    /// quote currency (`PerformanceStatistics`; the curve is `equityCurve(user:)`).
    public func performance(user: UserID) async throws -> PerformanceView {
        let portfolio = try await portfolio(user: user)
        let account = try await accountShard(ofUser: user).account(user)
        let realized = portfolio.positions.reduce(Int64(0)) { $0 &+ $1.realizedPnL.units }
        let unrealized = portfolio.positions.reduce(Int64(0)) { $0 &+ $1.unrealizedPnL.units }
        let series = account?.daily ?? DailySeries()
        let statistics = PerformanceStatistics(curve: await equityCurve(series, portfolio: portfolio))
        let sells = series.sellCounts
        return PerformanceView(
            totalReturnPercent: portfolio.roiPercent, realizedPnL: Amount(units: realized),
            unrealizedPnL: Amount(units: unrealized),
            maxDrawdownPercent: Self.rounded(statistics.maxDrawdownPercent, decimals: 2),
            sharpe: statistics.sharpe.map { Self.rounded($0, decimals: 4) },
            sortino: statistics.sortino.map { Self.rounded($0, decimals: 4) },
            winRate: PerformanceStatistics.winRate(sells: sells.sells, winning: sells.winning).map {
                Self.rounded($0, decimals: 4)
            },
            tradeCount: account?.trades.count ?? 0)
    }

    /// The user's daily equity in the quote currency, from the first day of its daily series through
    /// today: cash plus holdings at each day's close (the market's 1d candles), today's point at the
    /// prices `portfolio(user:)` uses, so that it equals the portfolio's `total_value`.
    public func equityCurve(user: UserID) async throws -> [EquityPoint] {
        let portfolio = try await portfolio(user: user)
        let series = try await accountShard(ofUser: user).account(user)?.daily ?? DailySeries()
        return await equityCurve(series, portfolio: portfolio)
    }

    private func equityCurve(_ series: DailySeries, portfolio: PortfolioView) async -> [EquityPoint] {
        guard let first = series.days.first else { return [] }
        let today = DailyBalances.day(ofMillis: clock())
        let span = Int(min(max(today - first.day + 1, 1), EquityCurve.maxDays))
        let held = Set(series.days.suffix(span).flatMap { $0.holdings.filter { $0.value.quantity.units != 0 }.keys })
        var closes: [String: [DailyClose]] = [:]
        for symbol in held.sorted() {
            guard let actor = symbolDirectory.actor(symbol) else { continue }
            let spec = actor.spec
            closes[symbol] = await actor.candles(.d1, limit: span).compactMap { candle in
                (try? spec.amount(of: candle.close)).map {
                    DailyClose(day: DailyBalances.day(ofMillis: candle.openTimeMillis), price: $0)
                }
            }
        }
        var current: [String: Amount] = [:]
        for position in portfolio.positions { current[position.symbol] = position.marketPrice }
        var positions: [String: String] = [:]
        for spec in symbolDirectory.specs.reversed() where spec.quote == portfolio.quoteCurrency {
            positions[spec.base] = spec.symbol  // the first such market wins, as `depositValuation` picks it
        }
        return EquityCurve.points(
            series, currency: portfolio.quoteCurrency, through: today, closes: closes, current: current,
            positions: positions)
    }

    private static func rounded(_ value: Double, decimals: Int) -> Double {
        guard value.isFinite else { return value }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        return (value * scale).rounded() / scale
    }
}
