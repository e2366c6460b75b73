import Trading

/// The surface shared by every order book implementation that the matching tests drive.
///
/// The scenario and differential tests are written against this protocol so that the same command streams
/// and expectations run against `ReferenceBook` and against the fast `OrderBook` (which conforms in the test
/// target, so that this module compiles without it).
public protocol MatchingBook {
    /// An empty book whose market orders without a price are protected `protectionBps` through the best
    /// opposite price.
    init(protectionBps: Int64)
    /// Applies one command and returns the events it produced, in order.
    mutating func apply(_ command: BookCommand) -> [BookEvent]
    /// The hash of the whole book state, as defined in docs/matching.md ("State hash").
    var stateHash: UInt64 { get }
    /// Highest resting bid price, if any.
    var bestBid: Price? { get }
    /// Lowest resting ask price, if any.
    var bestAsk: Price? { get }
}

extension ReferenceBook: MatchingBook {}
