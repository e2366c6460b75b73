import Logging
import Trading

/// Paper liquidity for one market: a system account that quotes a `QuoteLadder` around the latest reference
/// price and requotes when it moves, so that users' market and limit orders fill at realistic prices (with
/// slippage through the levels). Its orders go through the normal flow (reservation, journal, matching), so
/// its money is audited like anyone's; a market without a feed has no provider.
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
        let balances = try await exchange.balances(user: user)
        for (currency, target) in [
            (spec.base, configuration.baseInventory), (spec.quote, configuration.quoteInventory),
        ] {
            let held = balances.first { $0.currency == currency }.map { $0.available.units &+ $0.locked.units } ?? 0
            guard held < target.units else { continue }
            _ = try await exchange.deposit(
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

    /// Cancels the provider's resting orders in the market and places the ladder at `reference`. Returns false
    /// when the exchange could not take it (it is stopping, or a shard is moving): the next price retries.
    @discardableResult
    public func requote(at reference: Price) async -> Bool {
        do {
            _ = try await exchange.cancelAll(user: user, symbol: symbol)
        } catch {
            logger.debug("liquidity requote skipped", metadata: ["error": "\(error)"])
            return false
        }
        var refused = 0
        for quote in QuoteLadder(reference: reference, configuration: configuration).quotes {
            let request = OrderRequest(
                symbol: symbol, side: quote.side, type: .limit, quantity: quote.quantity, price: quote.price)
            do {
                _ = try await exchange.placeOrder(user: user, request: request)
            } catch let error as BourseError
                where error.code == .insufficientFunds || error.code == .orderRejected
            {
                refused += 1
            } catch {
                logger.debug("liquidity requote stopped", metadata: ["error": "\(error)"])
                return false
            }
        }
        if refused > 0 {
            logger.warning(
                "liquidity quotes refused (inventory spent or market halted)", metadata: ["refused": "\(refused)"])
        }
        return true
    }
}
