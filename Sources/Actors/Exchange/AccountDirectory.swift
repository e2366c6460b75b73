import Trading

/// Finds the account shard actor of a user or an order, and delivers book events and durability waits to
/// account shards wherever they are served: here, or on another node through `ShardPeers`.
final class AccountDirectory: Sendable {
    let shardCount: Int
    private let shards: [AccountShardActor]
    /// Per shard index, whether this node serves it.
    private let servedHere: [Bool]
    private let peers: (any ShardPeers)?

    init(shards: [AccountShardActor], serves: (Int) -> Bool = { _ in true }, peers: (any ShardPeers)? = nil) {
        self.shards = shards
        shardCount = shards.count
        servedHere = shards.indices.map(serves)
        self.peers = peers
    }

    /// Every account shard's actor, served here or not.
    var all: [AccountShardActor] { shards }
    /// The account shards this node serves.
    var served: [AccountShardActor] { shards.indices.filter { servedHere[$0] }.map { shards[$0] } }

    func serves(_ index: Int) -> Bool { index < servedHere.count && servedHere[index] }

    func shard(ofUser user: UserID) -> AccountShardActor {
        shards[ShardKey.accountShardIndex(user, shards: shardCount)]
    }

    func shard(ofOrder id: OrderID) -> AccountShardActor? {
        let index = OrderIDs.shard(of: id)
        return index < shards.count ? shards[index] : nil
    }

    /// Settles the events in the shard; returns the journal sequence of its settlement record, if any.
    /// - Throws: when the shard is served elsewhere and its owner could not be reached (deliver again later).
    func deliver(symbol: String, batches: [BookEventBatch], toShard index: Int) async throws -> Int64? {
        guard index < shards.count else { return nil }
        if servedHere[index] { return await shards[index].deliver(symbol: symbol, batches: batches) }
        return try await remote().deliver(symbol: symbol, batches: batches, toShard: index)
    }

    /// Returns once the shard's journal is durable through `sequence`.
    func awaitDurable(shard index: Int, through sequence: Int64) async throws {
        guard index < shards.count else { return }
        if servedHere[index] { return try await shards[index].awaitDurable(through: sequence) }
        try await remote().awaitDurable(accountShard: index, through: sequence)
    }

    private func remote() throws(BourseError) -> any ShardPeers {
        guard let peers else { throw BourseError(.unavailable, "no route to the node serving this account shard") }
        return peers
    }

    /// The account shards an event concerns (order ids carry their shard).
    static func shards(of event: BookEvent) -> Set<Int> { Set(event.orderIDs.map(OrderIDs.shard(of:))) }
}
