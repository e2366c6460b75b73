import Trading

/// How a market's paper-liquidity provider quotes around the reference price.
public struct LiquidityConfiguration: Sendable, Hashable {
    /// Distance between the best bid and the best ask it quotes, in basis points of the reference price.
    public var spreadBps: Int64
    /// Price levels on each side.
    public var levels: Int
    /// Distance between two levels of a side, in basis points of the reference price.
    public var stepBps: Int64
    /// Quantity at each level.
    public var size: Quantity
    /// What it keeps of the base and the quote currency (topped up to these at start).
    public var baseInventory: Amount
    public var quoteInventory: Amount
    /// How far the reference must move from the price last quoted around before it requotes, in basis points
    /// (0: at every new price). Every requote cancels and places each level through the journal, so a small
    /// threshold saves most of that churn on a feed that ticks every second.
    public var requoteBps: Int64 = 1

    public init(
        spreadBps: Int64 = 10, levels: Int = 5, stepBps: Int64 = 5, size: Quantity, baseInventory: Amount,
        quoteInventory: Amount
    ) {
        self.spreadBps = spreadBps
        self.levels = levels
        self.stepBps = stepBps
        self.size = size
        self.baseInventory = baseInventory
        self.quoteInventory = quoteInventory
    }

    /// Refuses settings that cannot quote: a spread or step outside 1–5,000 bps, 1–50 levels, a size that is
    /// not positive, or levels that would reach a zero price.
    public func validate(symbol: String) throws(BourseError) {
        guard (1...5_000).contains(spreadBps) else {
            throw .validation("liquidity.spread_bps of \(symbol) must be 1-5000")
        }
        guard (1...5_000).contains(stepBps) else { throw .validation("liquidity.step_bps of \(symbol) must be 1-5000") }
        guard (1...50).contains(levels) else { throw .validation("liquidity.levels of \(symbol) must be 1-50") }
        guard size.lots > 0 else { throw .validation("liquidity.size of \(symbol) must be positive") }
        guard spreadBps / 2 + Int64(levels - 1) * stepBps < 10_000 else {
            throw .validation("liquidity of \(symbol): the deepest bid would be at or below zero")
        }
        guard (0...1_000).contains(requoteBps) else {
            throw .validation("liquidity.requote_bps of \(symbol) must be 0-1000")
        }
        guard baseInventory.units >= 0, quoteInventory.units >= 0 else {
            throw .validation("liquidity inventory of \(symbol) must not be negative")
        }
    }

    /// Whether a move from `quoted` (the price last quoted around) to `reference` calls for a requote.
    public func shouldRequote(from quoted: Price?, to reference: Price) -> Bool {
        guard let quoted, quoted.ticks > 0 else { return true }
        guard reference != quoted else { return false }
        let move = Int128(abs(reference.ticks - quoted.ticks)) * 10_000
        return move >= Int128(requoteBps) * Int128(quoted.ticks)
    }
}
