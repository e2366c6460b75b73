import TestSupport
import Trading

/// Replays one seeded `RandomCommandStream` into `ReferenceBook` and `OrderBook` side by side and reports the
/// first divergence with everything needed to debug it: seed, command index, command, both event lists.
///
/// Optionally keeps a third book, restored from a snapshot every `snapshotEvery` commands, that must follow
/// the uninterrupted one exactly.
struct DifferentialReplay {
    let seed: UInt64
    let protectionBps: Int64
    var stream: RandomCommandStream
    var reference: ReferenceBook
    var book: OrderBook
    var restored: OrderBook?
    var tracker = ConservationTracker()
    /// How many commands have been applied.
    var index = 0
    /// The latest commands, for context in failure messages.
    var recent: [BookCommand] = []
    var buffer: [BookEvent] = []
    /// The events of the last command.
    var lastEvents: [BookEvent] = []
    /// How many snapshots have been restored.
    var checkpoints = 0

    init(seed: UInt64, protectionBps: Int64, owners: UInt64 = 6, spread: Int64 = 6) {
        self.seed = seed
        self.protectionBps = protectionBps
        stream = RandomCommandStream(seed: seed, owners: owners, spread: spread)
        reference = ReferenceBook(protectionBps: protectionBps)
        book = OrderBook(protectionBps: protectionBps)
    }

    /// Applies `count` more commands; returns the first failure, if any.
    ///
    /// State hashes are compared every `hashEvery` commands and at the end; the open orders are checked
    /// against the book then too. With `snapshotEvery`, a snapshot-restored copy of the book joins the replay
    /// at that interval (alternately from the uninterrupted book and from the previous restored copy).
    mutating func run(_ count: Int, hashEvery: Int = 100, snapshotEvery: Int? = nil) -> String? {
        for _ in 0..<count {
            if let every = snapshotEvery, index % every == 0, index > 0 {
                if let problem = restoreSnapshot() { return problem }
            }
            if let problem = step() { return problem }
            if index % hashEvery == 0, let problem = compareState() { return problem }
        }
        return compareState()
    }

    /// One command into every book.
    mutating func step() -> String? {
        let command = stream.next()
        recent.append(command)
        if recent.count > 8 { recent.removeFirst() }
        let expected = reference.apply(command)
        // Alternate between the two entry points of the fast book.
        let actual: [BookEvent]
        if index % 2 == 0 {
            actual = book.apply(command)
        } else {
            buffer.removeAll(keepingCapacity: true)
            book.apply(command, into: &buffer)
            actual = buffer
        }
        index += 1
        if actual != expected {
            return divergence("events differ", command, expected: expected, actual: actual)
        }
        if var copy = restored {
            restored = nil
            let events = copy.apply(command)
            if events != actual {
                return divergence(
                    "the snapshot-restored book's events differ", command, expected: actual, actual: events,
                    names: ("uninterrupted OrderBook", "restored OrderBook"))
            }
            restored = copy
        }
        lastEvents = expected
        stream.observe(expected)
        if let problem = tracker.record(command, expected) {
            return divergence("quantity conservation: \(problem)", command, expected: expected, actual: actual)
        }
        if let bid = book.bestBid, let ask = book.bestAsk, bid >= ask {
            return divergence(
                "the book is crossed at rest: \(bid) ≥ \(ask)", command, expected: expected, actual: actual)
        }
        if book.bestBid != reference.bestBid || book.bestAsk != reference.bestAsk {
            return divergence(
                "best prices differ: reference \(String(describing: reference.bestBid))/"
                    + "\(String(describing: reference.bestAsk)), OrderBook \(String(describing: book.bestBid))/"
                    + "\(String(describing: book.bestAsk))", command, expected: expected, actual: actual)
        }
        return nil
    }

    /// Compares the state hashes of every book and checks the open orders against the fast book.
    func compareState() -> String? {
        let header = "seed \(seed) (\(settings)), after command #\(index - 1)"
        if book.stateHash != reference.stateHash {
            return "\(header): state hash differs\n\(stateDifference(reference, book))\n\(firstHashDivergence())"
        }
        for side in [Side.buy, .sell] {
            let expected = reference.depth(side, levels: 10).map { "\($0.price) \($0.quantity)" }
            let actual = book.depth(side, levels: 10).map { "\($0.price) \($0.quantity)" }
            if expected != actual { return "\(header): \(side) depth differs\n  \(expected)\nvs\n  \(actual)" }
        }
        if let restored, restored.stateHash != book.stateHash {
            return "\(header): the snapshot-restored book's state hash differs from the uninterrupted one"
        }
        let resting = book.restingOrders.map { (id: $0.id, quantity: $0.quantity, remaining: $0.remaining) }
        if let problem = tracker.check(resting: resting, stops: book.stopOrders.map(\.id)) {
            return "\(header): quantity conservation: \(problem)"
        }
        return nil
    }

    var settings: String {
        "protectionBps \(protectionBps), owners \(stream.owners), spread \(stream.spread)"
    }

    /// Takes a snapshot (of the uninterrupted book, or of the restored copy every other time) and restores it.
    mutating func restoreSnapshot() -> String? {
        checkpoints += 1
        let source = checkpoints % 2 == 0 ? restored ?? book : book
        let bytes = source.snapshot()
        do {
            let copy = try OrderBook(snapshot: bytes)
            if copy.stateHash != book.stateHash {
                return "seed \(seed), before command #\(index): restored book's state hash differs right after restore"
            }
            restored = copy
        } catch {
            return "seed \(seed), before command #\(index): snapshot of \(bytes.count) bytes does not restore: \(error)"
        }
        return nil
    }

    func divergence(
        _ what: String, _ command: BookCommand, expected: [BookEvent], actual: [BookEvent],
        names: (String, String) = ("ReferenceBook", "OrderBook")
    ) -> String {
        """
        \(what)
        seed: \(seed) (\(settings)), command index: \(index - 1)
        command: \(BookText.describe(command))
                 \(command)
        \(names.0) events:
        \(BookText.describe(expected))
        \(names.1) events:
        \(BookText.describe(actual))
        preceding commands (oldest first):
        \(recent.dropLast().map { "  " + BookText.describe($0) }.joined(separator: "\n"))
        """
    }

    /// Replays the same stream from the start, comparing state hashes after every command, and describes the
    /// first command after which they differ (the periodic comparison only says in which window it happened).
    func firstHashDivergence() -> String {
        var replay = DifferentialReplay(
            seed: seed, protectionBps: protectionBps, owners: stream.owners, spread: stream.spread)
        while replay.index < index {
            if let failure = replay.step() { return "while locating it: \(failure)" }
            if replay.book.stateHash != replay.reference.stateHash {
                return replay.divergence(
                    "first command after which the state hashes differ", replay.recent.last!,
                    expected: replay.lastEvents, actual: replay.lastEvents)
                    + "\n(both books emitted these events)\n"
                    + stateDifference(replay.reference, replay.book)
            }
        }
        return "(not reproduced by replaying with a hash comparison after every command)"
    }

    /// A description of how two books' states differ, for a state hash mismatch.
    func stateDifference(_ reference: ReferenceBook, _ book: OrderBook) -> String {
        var lines: [String] = []
        if reference.sequence != book.sequence { lines.append("sequence: \(reference.sequence) vs \(book.sequence)") }
        if reference.lastTradePrice != book.lastTradePrice {
            lines.append(
                "lastTradePrice: \(String(describing: reference.lastTradePrice)) vs "
                    + "\(String(describing: book.lastTradePrice))")
        }
        let left = reference.restingOrders.map {
            "\($0.id) owner \($0.owner) \($0.side) \($0.price) \($0.remaining)/\($0.quantity)"
        }
        let right = book.restingOrders.map {
            "\($0.id) owner \($0.owner) \($0.side) \($0.price) \($0.remaining)/\($0.quantity)"
                + ($0.postOnly ? " post-only" : "")
        }
        if left.count != right.count { lines.append("resting orders: \(left.count) vs \(right.count)") }
        for (position, (a, b)) in zip(left, right).enumerated() where !b.hasPrefix(a) {
            lines.append("resting #\(position): \(a) vs \(b)")
            if lines.count > 12 { break }
        }
        let leftStops = reference.stopOrders.map { "\($0)" }
        let rightStops = book.stopOrders.map { "\($0)" }
        if leftStops != rightStops { lines.append("stops:\n  \(leftStops)\nvs\n  \(rightStops)") }
        if lines.isEmpty { lines.append("(no difference in sequence, last price, resting orders or stops)") }
        return lines.joined(separator: "\n")
    }
}
