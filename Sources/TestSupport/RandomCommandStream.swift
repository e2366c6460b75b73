import Trading

/// A seeded, endless stream of realistic order book commands for differential and property tests.
///
/// The mix: limit orders (GTC, IOC, FOK, post-only), market orders with and without an explicit protection
/// price, stop and stop-limit orders, cancels and amends of live, finished, stop and unknown ids, duplicate and
/// reused ids, and a few structurally invalid orders. Six owners trade with each other (and with themselves,
/// so self-trade prevention runs), at prices clustered around a drifting mid so that orders cross often.
///
/// Feed the events of every command back with `observe(_:)`: the stream then knows which orders are live,
/// cancels and amends them, and keeps the book from growing without bound. The same seed and the same
/// observed events give the same commands on every machine.
public struct RandomCommandStream: Sendable {
    /// What the stream knows of a live order (resting or untriggered stop).
    struct LiveOrder: Sendable {
        var side: Side
        var price: Price?
        var quantity: Quantity
        var filled: Int64
        var isStop: Bool
    }

    /// The seed the stream started from.
    public let seed: UInt64
    /// How many commands the stream has produced.
    public private(set) var count = 0
    var random: SeededRandom
    /// Owners are 1…`owners`.
    public let owners: UInt64
    /// The centre of new order prices, in ticks; drifts as a bounded random walk.
    public private(set) var mid: Int64
    /// How far from the mid new prices spread (6: from 4 ticks through the mid to 8 ticks behind it).
    public let spread: Int64
    var nextID: OrderID = 1
    /// The last placement, until its events are observed.
    var pendingPlacement: NewOrder?
    var live: [OrderID: LiveOrder] = [:]
    /// Live ids, for uniform picks (swap-remove keeps `positions` in step).
    var liveIDs: [OrderID] = []
    var positions: [OrderID: Int] = [:]
    /// Ids of finished orders, some of which are placed again (a valid reuse).
    var finishedIDs: [OrderID] = []
    /// Where the next finished id overwrites an old one once `finishedIDs` is full.
    var finishedCursor = 0

    /// A stream with `owners` owners (ids 1…owners) and prices around `mid` ticks: from `2·spread/3` ticks
    /// through the mid to `4·spread/3` ticks behind it, most often `spread/3` behind. A small spread piles
    /// many orders onto few price levels; a large one spreads the book out.
    public init(seed: UInt64, owners: UInt64 = 6, mid: Int64 = 10_000, spread: Int64 = 6) {
        precondition(owners >= 1 && mid >= 1 && spread >= 1)
        self.seed = seed
        self.random = SeededRandom(seed: seed)
        self.owners = owners
        self.mid = mid
        self.spread = spread
    }

    /// The number of orders the stream believes are live (resting or untriggered stops).
    public var liveCount: Int { liveIDs.count }

    /// The next command.
    public mutating func next() -> BookCommand {
        count += 1
        drift()
        pendingPlacement = nil
        // Cancel more when the book is large, so that it stays a realistic size.
        let cancelPercent: Int64 = liveIDs.count > 400 ? 30 : liveIDs.count > 200 ? 16 : 8
        let roll = random.int(in: 0...99)
        switch roll {
        case 0..<cancelPercent: return cancelCommand()
        case cancelPercent..<(cancelPercent + 12): return amendCommand()
        case (cancelPercent + 12)..<(cancelPercent + 14): return duplicatePlacement()
        case (cancelPercent + 14)..<(cancelPercent + 16): return place(invalidOrder())
        case (cancelPercent + 16)..<(cancelPercent + 23): return place(marketOrder())
        case (cancelPercent + 23)..<(cancelPercent + 30): return place(stopOrder())
        default: return place(limitOrder())
        }
    }

    // MARK: Building blocks

    mutating func drift() {
        guard random.chance(15) else { return }
        // A random walk pulled back towards 10,000 so that long runs stay in a sensible range.
        let pull: Int64 = mid > 10_300 ? -1 : mid < 9_700 ? 1 : 0
        mid = max(100, mid + random.int(in: -2...2) + pull)
    }

    mutating func owner() -> UserID { UInt64(random.int(in: 1...Int64(owners))) }

    mutating func side() -> Side { random.chance(50) ? .buy : .sell }

    /// A price for `side`: mostly a few ticks on its own side of the mid, sometimes through it.
    mutating func price(_ side: Side) -> Price {
        if random.chance(1) { return Price(ticks: random.chance(50) ? 1 : MarketSpec.maxTicks) }
        // With spread 6: offsets from -4 (crossing) to 8 (passive), centred on 2.
        let offset = random.int(in: 0...spread) + random.int(in: 0...spread) - 2 * spread / 3
        let ticks = side == .buy ? mid - offset : mid + offset
        return Price(ticks: max(1, ticks))
    }

    mutating func quantity() -> Quantity {
        if random.chance(1) { return Quantity(lots: MarketSpec.maxLots - random.int(in: 0...3)) }
        if random.chance(10) { return Quantity(lots: random.int(in: 10...100)) }
        return Quantity(lots: random.int(in: 1...10))
    }

    mutating func newID() -> OrderID {
        if !finishedIDs.isEmpty && random.chance(3) {
            return finishedIDs.remove(at: Int(random.int(in: 0...Int64(finishedIDs.count - 1))))
        }
        defer { nextID += 1 }
        return nextID
    }

    mutating func pickLive(stops: Bool) -> OrderID? {
        let candidates = liveIDs.filter { live[$0]!.isStop == stops }
        guard !candidates.isEmpty else { return nil }
        return candidates[Int(random.int(in: 0...Int64(candidates.count - 1)))]
    }

    mutating func unknownID() -> OrderID {
        if !finishedIDs.isEmpty && random.chance(50) {
            return finishedIDs[Int(random.int(in: 0...Int64(finishedIDs.count - 1)))]
        }
        return nextID + UInt64(random.int(in: 0...1_000_000))
    }

    mutating func place(_ order: NewOrder) -> BookCommand {
        pendingPlacement = order
        return .place(order)
    }

    // MARK: Orders

    mutating func limitOrder() -> NewOrder {
        let side = side()
        let tifRoll = random.int(in: 0...99)
        let tif: TimeInForce = tifRoll < 80 ? .gtc : tifRoll < 92 ? .ioc : .fok
        let postOnly = tif == .gtc && random.chance(12)
        return NewOrder(
            id: newID(), owner: owner(), side: side, type: .limit, price: price(side), quantity: quantity(),
            timeInForce: tif, postOnly: postOnly)
    }

    mutating func marketOrder() -> NewOrder {
        let side = side()
        // Half carry an explicit protection price, from well inside to well outside the touch.
        let protection: Price? = random.chance(50) ? price(side.opposite) : nil
        let tifRoll = random.int(in: 0...99)
        let tif: TimeInForce = tifRoll < 60 ? .ioc : tifRoll < 80 ? .gtc : .fok
        return NewOrder(
            id: newID(), owner: owner(), side: side, type: .market, price: protection, quantity: quantity(),
            timeInForce: tif)
    }

    mutating func stopOrder() -> NewOrder {
        let side = side()
        let isLimit = random.chance(50)
        // Stop prices around the mid: some trigger at once, some after a few trades, some rarely.
        let stopPrice = Price(ticks: max(1, mid + random.int(in: -(spread + 2)...(spread + 2))))
        let price: Price? = isLimit ? self.price(side) : (random.chance(30) ? self.price(side.opposite) : nil)
        let tifRoll = random.int(in: 0...99)
        let tif: TimeInForce = tifRoll < 70 ? .gtc : tifRoll < 90 ? .ioc : .fok
        let postOnly = isLimit && tif == .gtc && random.chance(5)
        return NewOrder(
            id: newID(), owner: owner(), side: side, type: isLimit ? .stopLimit : .stop, price: price,
            stopPrice: stopPrice, quantity: quantity(), timeInForce: tif, postOnly: postOnly)
    }

    /// A placement reusing the id of a live order (rejected), or of a finished one (accepted).
    mutating func duplicatePlacement() -> BookCommand {
        var order = limitOrder()
        if let id = pickLive(stops: random.chance(20)) {
            order.id = id
            return .place(order)
        }
        return place(order)
    }

    /// An order breaking one `invalidOrder` rule.
    mutating func invalidOrder() -> NewOrder {
        var order = limitOrder()
        order.postOnly = false
        switch random.int(in: 0...9) {
        case 0: order.quantity = Quantity(lots: -random.int(in: 0...2))
        case 1: order.quantity = Quantity(lots: MarketSpec.maxLots + random.int(in: 1...2))
        case 2: order.price = Price(ticks: random.chance(50) ? 0 : MarketSpec.maxTicks + 1)
        case 3: order.price = nil
        case 4: order.stopPrice = order.price
        case 5:
            order.type = .market
            order.stopPrice = Price(ticks: mid)
        case 6:
            order.type = random.chance(50) ? .stop : .stopLimit
            order.stopPrice = random.chance(50) ? nil : Price(ticks: -mid)
        case 7:
            order.type = .stopLimit
            order.stopPrice = Price(ticks: mid)
            order.price = nil
        case 8:
            order.type = random.chance(50) ? .market : .stop
            order.stopPrice = order.type == .stop ? Price(ticks: mid) : nil
            order.postOnly = true
        default:
            order.timeInForce = random.chance(50) ? .ioc : .fok
            order.postOnly = true
        }
        return order
    }

    // MARK: Cancels and amends

    mutating func cancelCommand() -> BookCommand {
        let roll = random.int(in: 0...99)
        if roll < 80, let id = pickLive(stops: false) { return .cancel(id) }
        if roll < 90, let id = pickLive(stops: true) { return .cancel(id) }
        return .cancel(unknownID())
    }

    mutating func amendCommand() -> BookCommand {
        let roll = random.int(in: 0...99)
        guard roll < 88, let id = pickLive(stops: false), let order = live[id], let current = order.price else {
            if roll < 94, let id = pickLive(stops: true) {
                return .amend(id, price: price(live[id]!.side), quantity: nil)
            }
            return .amend(unknownID(), price: nil, quantity: Quantity(lots: random.int(in: 1...10)))
        }
        let total = order.quantity.lots
        switch random.int(in: 0...9) {
        case 0, 1, 2:
            // Quantity down (keeps priority), or at or below what has filled (rejected).
            return .amend(
                id, price: nil,
                quantity: Quantity(lots: order.filled + random.int(in: 0...max(1, total - order.filled))))
        case 3:
            return .amend(id, price: nil, quantity: Quantity(lots: total + random.int(in: 1...10)))
        case 4, 5, 6:
            return .amend(id, price: price(order.side), quantity: nil)
        case 7:
            return .amend(id, price: price(order.side), quantity: Quantity(lots: order.filled + random.int(in: 0...12)))
        case 8:
            // No change, or the current values given explicitly.
            return .amend(
                id, price: random.chance(50) ? current : nil, quantity: random.chance(50) ? order.quantity : nil)
        default:
            let bad: [(Price?, Quantity?)] = [
                (Price(ticks: 0), nil), (Price(ticks: MarketSpec.maxTicks + 1), nil),
                (nil, Quantity(lots: MarketSpec.maxLots + 1)), (nil, Quantity(lots: 0)),
                (Price(ticks: MarketSpec.maxTicks), nil),
            ]
            let (price, quantity) = bad[Int(random.int(in: 0...Int64(bad.count - 1)))]
            return .amend(id, price: price, quantity: quantity)
        }
    }
}
