import Trading

/// The order in which a liquidity provider replaces its resting quotes by a new ladder without ever leaving a
/// side of its quotes empty ("make before break"): one side's new quotes are placed, then that side's old
/// quotes cancelled, then the same for the other side.
///
/// The side placed first is the one whose new quotes cannot cross the provider's old quotes of the other side:
/// after a rise the new asks (above the new reference) are above every old bid, while the new bids may be
/// above some old asks, so asks go first and the old asks are gone before the new bids arrive; after a fall,
/// bids go first. So the provider never trades with itself on a requote, however far the price jumped.
public struct RequotePlan: Sendable, Hashable {
    /// One of the provider's orders resting in the book.
    public struct Resting: Sendable, Hashable {
        public var orderID: OrderID
        public var side: Side
        public var price: Price

        public init(orderID: OrderID, side: Side, price: Price) {
            self.orderID = orderID
            self.side = side
            self.price = price
        }
    }

    /// What to do for one side, in order: place `quotes`, then cancel `cancels`.
    public struct Step: Sendable, Hashable {
        public var side: Side
        public var quotes: [QuoteLadder.Quote]
        public var cancels: [OrderID]
    }

    /// The two sides' steps, the first to run first.
    public var steps: [Step]

    public init(resting: [Resting], ladder: QuoteLadder) {
        func newQuotes(_ side: Side) -> [QuoteLadder.Quote] { ladder.quotes.filter { $0.side == side } }
        func old(_ side: Side) -> [OrderID] { resting.filter { $0.side == side }.map(\.orderID) }
        let highestNewBid = newQuotes(.buy).map(\.price.ticks).max()
        let lowestOldAsk = resting.filter { $0.side == .sell }.map(\.price.ticks).min()
        // New bids at or above an old ask would trade with it: asks first then.
        let asksFirst = highestNewBid.map { bid in lowestOldAsk.map { bid >= $0 } ?? false } ?? false
        let order: [Side] = asksFirst ? [.sell, .buy] : [.buy, .sell]
        steps = order.map { Step(side: $0, quotes: newQuotes($0), cancels: old($0)) }
    }
}
