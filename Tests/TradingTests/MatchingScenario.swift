import TestSupport
import Testing
import Trading

/// A hand-written command sequence with the exact events every step must produce.
///
/// Scenarios are data so that the same list runs against every `MatchingBook` (the reference book here,
/// the fast `OrderBook` in its own tests).
struct MatchingScenario: Sendable, CustomTestStringConvertible {
    struct Step: Sendable {
        var command: BookCommand
        var events: [BookEvent.Kind]
        var checks: [Check]
    }

    /// Extra expectations after a step.
    enum Check: Sendable {
        case bestBid(Int64?)
        case bestAsk(Int64?)
        /// The command changed nothing but the sequence: the state equals that of the same book to which a
        /// cancel of an unknown id (one `rejected` event) was applied instead.
        case unchanged
    }

    var name: String
    var steps: [Step]

    var testDescription: String { name }

    init(_ name: String, _ steps: [Step]) {
        self.name = name
        self.steps = steps
    }
}

/// Builds a scenario step: `step(command, expect: [events], .bestBid(100), .unchanged)`.
func step(_ command: BookCommand, expect events: [BookEvent.Kind], _ checks: MatchingScenario.Check...)
    -> MatchingScenario.Step
{
    MatchingScenario.Step(command: command, events: events, checks: checks)
}

// MARK: Commands

func limit(
    _ id: OrderID, owner: UserID, _ side: Side, price: Int64, quantity: Int64, _ tif: TimeInForce = .gtc,
    postOnly: Bool = false
) -> BookCommand {
    .place(.limit(id, owner: owner, side, price: price, quantity: quantity, tif: tif, postOnly: postOnly))
}

func market(
    _ id: OrderID, owner: UserID, _ side: Side, quantity: Int64, protection: Int64? = nil, _ tif: TimeInForce = .ioc
) -> BookCommand {
    .place(
        NewOrder(
            id: id, owner: owner, side: side, type: .market, price: protection.map { Price(ticks: $0) },
            quantity: Quantity(lots: quantity), timeInForce: tif))
}

/// A stop order (`price` is its protection) or, with `limitPrice`, a stop-limit order.
func stop(
    _ id: OrderID, owner: UserID, _ side: Side, stopPrice: Int64, quantity: Int64, limitPrice: Int64? = nil,
    _ tif: TimeInForce = .gtc
) -> BookCommand {
    .place(
        NewOrder(
            id: id, owner: owner, side: side, type: limitPrice == nil ? .stop : .stopLimit,
            price: limitPrice.map { Price(ticks: $0) }, stopPrice: Price(ticks: stopPrice),
            quantity: Quantity(lots: quantity), timeInForce: tif))
}

func amend(_ id: OrderID, price: Int64? = nil, quantity: Int64? = nil) -> BookCommand {
    .amend(id, price: price.map { Price(ticks: $0) }, quantity: quantity.map { Quantity(lots: $0) })
}

// MARK: Events

/// A trade event: `(id, owner, remaining after)` of the maker and of the taker.
func trade(
    _ id: UInt64, price: Int64, quantity: Int64, taker side: Side, maker: (OrderID, UserID, Int64),
    taker: (OrderID, UserID, Int64)
) -> BookEvent.Kind {
    .trade(
        Trade(
            id: id, price: Price(ticks: price), quantity: Quantity(lots: quantity), takerSide: side,
            makerOrderID: maker.0, makerOwner: maker.1, makerRemaining: Quantity(lots: maker.2),
            takerOrderID: taker.0, takerOwner: taker.1, takerRemaining: Quantity(lots: taker.2)))
}

func cancelled(_ id: OrderID, remaining: Int64, _ reason: CancelReason) -> BookEvent.Kind {
    .cancelled(id, remaining: Quantity(lots: remaining), reason: reason)
}

func expired(_ id: OrderID, remaining: Int64) -> BookEvent.Kind {
    .expired(id, remaining: Quantity(lots: remaining))
}

func amended(_ id: OrderID, price: Int64, quantity: Int64, remaining: Int64) -> BookEvent.Kind {
    .amended(id, price: Price(ticks: price), quantity: Quantity(lots: quantity), remaining: Quantity(lots: remaining))
}

// MARK: Running

extension MatchingScenario {
    /// An id no scenario uses: cancelling it only emits `rejected(unknownOrder)`.
    static let unusedID: OrderID = 999_999

    /// Runs the scenario against a fresh `Book`, recording an issue for every mismatch.
    func run<Book: MatchingBook>(on _: Book.Type, sourceLocation: SourceLocation = #_sourceLocation) {
        var book = Book(protectionBps: 500)
        var sequence: UInt64 = 0
        for (index, step) in steps.enumerated() {
            let events = book.apply(step.command)
            let context = "\(Book.self), scenario '\(name)', step \(index): \(BookText.describe(step.command))"
            #expect(
                events.map(\.kind) == step.events,
                """
                \(context)
                 got:
                \(events.map { "  " + BookText.describe($0.kind) }.joined(separator: "\n"))
                want:
                \(step.events.map { "  " + BookText.describe($0) }.joined(separator: "\n"))
                """, sourceLocation: sourceLocation)
            let numbers = events.map(\.sequence)
            #expect(
                numbers == Array(sequence + 1..<sequence + 1 + UInt64(events.count)),
                "\(context): sequence numbers \(numbers) after \(sequence)", sourceLocation: sourceLocation)
            sequence += UInt64(events.count)
            for check in step.checks {
                switch check {
                case .bestBid(let ticks):
                    #expect(
                        book.bestBid == ticks.map { Price(ticks: $0) }, "\(context): best bid",
                        sourceLocation: sourceLocation)
                case .bestAsk(let ticks):
                    #expect(
                        book.bestAsk == ticks.map { Price(ticks: $0) }, "\(context): best ask",
                        sourceLocation: sourceLocation)
                case .unchanged:
                    var control = Book(protectionBps: 500)
                    for earlier in steps[..<index] { _ = control.apply(earlier.command) }
                    _ = control.apply(.cancel(MatchingScenario.unusedID))
                    #expect(
                        book.stateHash == control.stateHash, "\(context): the state changed",
                        sourceLocation: sourceLocation)
                }
            }
        }
    }
}
