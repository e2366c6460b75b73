/// The trade ids of the fills a ledger has settled in one market: each id of its most recent fills, and below
/// them a watermark — every trade id at or below `settledThrough` counts as settled.
///
/// A market's trade ids only grow, and an account shard applies its book's events in book order (a redelivery
/// at or below the last sequence it applied is skipped before it reaches the ledger), so a fill never arrives
/// after thousands of later fills of the same user in the same market. Keeping every id instead would grow a
/// busy user's ledger, and every snapshot of their shard, by 8 bytes and more per fill for as long as the
/// exchange runs. The most recent ids are kept exactly, so a fill settled twice, or out of order within that
/// window, is still recognized.
public struct SettledTrades: Sendable, Hashable, ExpressibleByArrayLiteral {
    /// Ids kept exactly once they have been pruned: between `window` and twice as many.
    public static let window = 4_096

    /// Every trade id at or below this one counts as settled (0: none pruned yet).
    public private(set) var settledThrough: UInt64 = 0
    /// The ids above `settledThrough` that were settled.
    public private(set) var recent: Set<UInt64> = []

    public init() {}

    public init(arrayLiteral ids: UInt64...) {
        for id in ids { insert(id) }
    }

    /// Restores the ids a snapshot held (`recent` above `settledThrough`).
    init(settledThrough: UInt64, recent: Set<UInt64>) {
        self.settledThrough = settledThrough
        self.recent = recent
    }

    public func contains(_ tradeID: UInt64) -> Bool { tradeID <= settledThrough || recent.contains(tradeID) }

    /// Ids kept individually (those at or below `settledThrough` are not).
    public var count: Int { recent.count }

    /// Records `tradeID` as settled; past twice the window, the oldest ids give way to the watermark.
    mutating func insert(_ tradeID: UInt64) {
        guard tradeID > settledThrough else { return }
        recent.insert(tradeID)
        if recent.count > 2 * Self.window { prune() }
    }

    /// Forgets one settled id (tests that corrupt a ledger on purpose); an id under the watermark stays settled.
    mutating func remove(_ tradeID: UInt64) {
        recent.remove(tradeID)
    }

    private mutating func prune() {
        let ascending = recent.sorted()
        let kept = ascending.suffix(Self.window)
        settledThrough = ascending[ascending.count - Self.window - 1]
        recent = Set(kept)
    }
}
