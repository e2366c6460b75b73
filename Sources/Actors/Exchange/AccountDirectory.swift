import Trading

/// Finds the account shard actor of a user or an order. On one node every shard is local; the cluster
/// issue replaces the lookup with routing to the shard's owner.
final class AccountDirectory: Sendable {
    let shardCount: Int
    private let shards: [AccountShardActor]

    init(shards: [AccountShardActor]) {
        self.shards = shards
        shardCount = shards.count
    }

    var all: [AccountShardActor] { shards }

    func shard(ofUser user: UserID) -> AccountShardActor {
        shards[ShardKey.accountShardIndex(user, shards: shardCount)]
    }

    func shard(ofOrder id: OrderID) -> AccountShardActor? {
        let index = OrderIDs.shard(of: id)
        return index < shards.count ? shards[index] : nil
    }

    /// Settles the events in the shard; returns the journal sequence of its settlement record, if any.
    func deliver(symbol: String, batches: [BookEventBatch], toShard index: Int) async -> Int64? {
        guard index < shards.count else { return nil }
        return await shards[index].deliver(symbol: symbol, batches: batches)
    }

    /// Returns once the shard's journal is durable through `sequence`.
    func awaitDurable(shard index: Int, through sequence: Int64) async throws {
        guard index < shards.count else { return }
        try await shards[index].awaitDurable(through: sequence)
    }

    /// The account shards an event concerns (order ids carry their shard).
    static func shards(of event: BookEvent) -> Set<Int> { Set(event.orderIDs.map(OrderIDs.shard(of:))) }
}
