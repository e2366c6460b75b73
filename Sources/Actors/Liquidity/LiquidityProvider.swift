import Logging
import Trading

/// Paper liquidity for one market: a system account that quotes a `QuoteLadder` around the latest reference
/// price and requotes when it moves, so that users' market and limit orders fill at realistic prices (with
/// slippage through the levels). Its orders go through the normal flow (reservation, journal, matching), so
/// its money is audited like anyone's; a market without a feed has no provider. It runs beside the book and acts
/// on its account wherever that is served (`Exchange.accountOwner`).
public struct LiquidityProvider: Sendable {
    public let exchange: Exchange
    public let user: UserID
    public let symbol: String
    public let configuration: LiquidityConfiguration
    let logger: Logger

    public init(
        exchange: Exchange, user: UserID, symbol: String, configuration: LiquidityConfiguration, logger: Logger
    ) {
        self.exchange = exchange
        self.user = user
        self.symbol = symbol
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "symbol"] = "\(symbol)"
        self.logger = logger
    }

    /// Tops the account up to the configured inventory of the market's base and quote currencies (a deposit,
    /// audited like a user's, of what is missing).
    public func fund() async throws {
        let spec = try await exchange.market(symbol).spec
        let balances = try await exchange.accountOwner.balances(user: user)
        for (currency, target) in [
            (spec.base, configuration.baseInventory), (spec.quote, configuration.quoteInventory),
        ] {
            let held = balances.first { $0.currency == currency }.map { $0.available.units &+ $0.locked.units } ?? 0
            guard held < target.units else { continue }
            try await exchange.accountOwner.deposit(
                user: user, currency: currency, amount: Amount(units: target.units - held),
                idempotencyKey: "liquidity-\(symbol)-\(currency)-\(Exchange.wallClockMillis())")
            logger.info("liquidity account funded", metadata: ["currency": "\(currency)"])
        }
    }

    /// Quotes at each price of `references` that moved at least `requoteBps` from the last one quoted around (a
    /// stream that keeps only the newest: prices that arrive while a requote runs are coalesced), until the
    /// stream ends or the task is cancelled.
    public func run(references: AsyncStream<Price>) async {
        var quoted: Price?
        for await reference in references {
            guard !Task.isCancelled else { return }
            guard configuration.shouldRequote(from: quoted, to: reference) else { continue }
            if await requote(at: reference) { quoted = reference }
        }
    }

    /// Replaces the provider's resting orders in the market by the ladder at `reference`, make before break
    /// (`RequotePlan`): a side's new quotes are placed before its old ones are cancelled, so a user's market
    /// order never finds a side empty because of a requote. When the inventory cannot hold both ladders of a
    /// side at once, that side's old quotes are cancelled first and the refused quotes placed again. Returns
    /// false when the exchange could not take it (it is stopping, or a shard is moving): the next price
    /// retries, and cancels whatever this attempt left resting.
    @discardableResult
    public func requote(at reference: Price) async -> Bool {
        let resting: [RequotePlan.Resting]
        do {
            resting = try await exchange.accountOwner.restingOrders(user: user, symbol: symbol)
        } catch {
            logger.debug("liquidity requote skipped", metadata: ["error": "\(error)"])
            return false
        }
        let plan = RequotePlan(
            resting: resting, ladder: QuoteLadder(reference: reference, configuration: configuration))
        var refused = 0
        do {
            for step in plan.steps {
                var cancelled = false
                for quote in step.quotes {
                    if try await place(quote) { continue }
                    // Both ladders of this side do not fit the inventory (or the market refuses): make room.
                    if !cancelled {
                        await cancel(step.cancels)
                        cancelled = true
                        if try await place(quote) { continue }
                    }
                    refused += 1
                }
                if !cancelled { await cancel(step.cancels) }
            }
        } catch {
            logger.debug("liquidity requote stopped", metadata: ["error": "\(error)"])
            return false
        }
        if refused > 0 {
            logger.warning(
                "liquidity quotes refused (inventory spent or market halted)", metadata: ["refused": "\(refused)"])
        }
        return true
    }

    /// Places one quote; false when the exchange refuses it for lack of funds or because the market refuses
    /// orders (halted), throws when the exchange cannot take orders at all.
    private func place(_ quote: QuoteLadder.Quote) async throws -> Bool {
        let request = OrderRequest(
            symbol: symbol, side: quote.side, type: .limit, quantity: quote.quantity, price: quote.price)
        do {
            _ = try await exchange.accountOwner.placeOrder(user: user, request: request)
            return true
        } catch let error as BourseError where error.code == .insufficientFunds || error.code == .orderRejected {
            return false
        }
    }

    /// Cancels old quotes; one that has filled or was cancelled meanwhile is skipped.
    private func cancel(_ orders: [OrderID]) async {
        for order in orders { try? await exchange.accountOwner.cancelOrder(user: user, orderID: order) }
    }
}
