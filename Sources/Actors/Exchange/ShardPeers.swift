import Trading

/// How an exchange reaches the shards another node serves: its account shards' orders go to a book served
/// elsewhere, and a book's events go to the account shards of the orders concerned wherever they are served.
///
/// Every call may fail (the owner moved, stopped or cannot be reached) and be made again: `place` is
/// idempotent by order id (`PlacementLog`), `deliver` by the account shard's watermark per symbol (events at or
/// below the last one applied are skipped), `cancel`/`amend` answer "unknown order" or repeat the same change,
/// and the reads change nothing. A node's cluster transport implements it; tests connect exchanges in-process.
public protocol ShardPeers: Sendable {
    /// `SymbolActor.place` on the symbol's owner.
    func place(_ order: NewOrder, settledThrough: OrderID, symbol: String, nowMillis: Int64) async throws
        -> [BookEvent]
    /// `SymbolActor.submit` (a cancel or an amend) on the symbol's owner.
    func submit(_ command: BookCommand, symbol: String, nowMillis: Int64) async throws -> [BookEvent]
    /// What a new order needs to know of the book before it is reserved.
    func quote(symbol: String) async throws -> SymbolQuote
    /// Settles book events in an account shard on its owner, unless its epoch there is not `expectedEpoch`
    /// (`.conflict`: it changed owners).
    func deliver(symbol: String, batches: [BookEventBatch], toShard index: Int, expectedEpoch: Int64?) async throws
        -> DeliveryReceipt
    /// Returns once the account shard's journal is durable through `sequence` on its owner, written with `epoch`
    /// (`.conflict` when the owner is at another epoch).
    func awaitDurable(accountShard index: Int, through sequence: Int64, epoch: Int64?) async throws
    /// Runs a user's account call on the owner of their account shard `index` (its refusal comes back as
    /// `ShardAnswer.failed`).
    func account(_ call: AccountCall, shard index: Int) async throws -> ShardAnswer
    /// Runs a call on the strategies of `symbol`'s market on its book's owner (its refusal comes back as
    /// `ShardAnswer.failed`).
    func strategy(_ call: StrategyCall, symbol: String) async throws -> ShardAnswer
}

/// An account shard's answer to a delivery of book events: the journal sequence of its settlement record (nil
/// when nothing was new), the epoch of the owner that settled them, and how far that owner's journal is durable.
/// Sequences of different epochs are not comparable: a new owner's journal goes on from what the old one made
/// durable, not from what it settled in memory.
public struct DeliveryReceipt: Sendable, Hashable {
    public var sequence: Int64?
    public var epoch: Int64
    public var durable: Int64

    public init(sequence: Int64?, epoch: Int64, durable: Int64) {
        self.sequence = sequence
        self.epoch = epoch
        self.durable = durable
    }
}

/// A book as a new order sees it: halted or not, and its best prices (a market buy's protection price); and
/// its last trade's price, which values positions in the market.
public struct SymbolQuote: Sendable, Hashable {
    public var halted: Bool
    public var bid: Price?
    public var ask: Price?
    public var last: Price?

    public init(halted: Bool, bid: Price?, ask: Price?, last: Price? = nil) {
        self.halted = halted
        self.bid = bid
        self.ask = ask
        self.last = last
    }
}

/// A symbol's book, served here or reached through `ShardPeers`.
enum SymbolRoute: Sendable {
    case local(SymbolActor)
    case remote(symbol: String, peers: any ShardPeers)

    /// The book's node is this one and its market is not halted: an order that needs no price of the book
    /// before its reservation can skip `quote` (a remote book is asked, as its halt is not known here).
    var isKnownOpen: Bool {
        switch self {
        case .local(let actor): !actor.isHaltedNow
        case .remote: false
        }
    }

    func quote() async throws -> SymbolQuote {
        switch self {
        case .local(let actor): await actor.quote
        case .remote(let symbol, let peers): try await peers.quote(symbol: symbol)
        }
    }

    func place(_ order: NewOrder, settledThrough: OrderID, nowMillis: Int64) async throws -> [BookEvent] {
        switch self {
        case .local(let actor): try await actor.place(order, settledThrough: settledThrough, nowMillis: nowMillis)
        case .remote(let symbol, let peers):
            try await peers.place(order, settledThrough: settledThrough, symbol: symbol, nowMillis: nowMillis)
        }
    }

    func submit(_ command: BookCommand, nowMillis: Int64) async throws -> [BookEvent] {
        switch self {
        case .local(let actor): try await actor.submit(command, nowMillis: nowMillis)
        case .remote(let symbol, let peers): try await peers.submit(command, symbol: symbol, nowMillis: nowMillis)
        }
    }
}
