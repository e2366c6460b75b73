import Synchronization
import Trading

/// Finds the account shard actor of a user or an order, and delivers book events and durability waits to
/// account shards wherever they are served: here, or on another node through `ShardPeers`.
///
/// A shard taken again after a move gets a new actor (`replace`): the old one keeps the state it had when
/// the shard left, which the journal has moved on from.
final class AccountDirectory: Sendable {
    let shardCount: Int
    private let shards: Mutex<[AccountShardActor]>
    /// The shards this node serves (shared with the exchange).
    private let servedShards: ServedShards
    private let peers: (any ShardPeers)?

    init(shards: [AccountShardActor], served: ServedShards = ServedShards(nil), peers: (any ShardPeers)? = nil) {
        self.shards = Mutex(shards)
        shardCount = shards.count
        servedShards = served
        self.peers = peers
    }

    /// Every account shard's actor, served here or not.
    var all: [AccountShardActor] { shards.withLock { $0 } }
    /// The account shards this node serves.
    var served: [AccountShardActor] { all.filter { serves($0.index) } }

    /// Whether other nodes may serve some of the shards (a cluster routing by shard, or tests that partition).
    var hasPeers: Bool { peers != nil }

    func serves(_ index: Int) -> Bool { index < shardCount && servedShards.contains(account: index) }

    func shard(ofUser user: UserID) -> AccountShardActor {
        let index = ShardKey.accountShardIndex(user, shards: shardCount)
        return shards.withLock { $0[index] }
    }

    func shard(ofOrder id: OrderID) -> AccountShardActor? {
        let index = OrderIDs.shard(of: id)
        return index < shardCount ? shards.withLock { $0[index] } : nil
    }

    func shard(index: Int) -> AccountShardActor { shards.withLock { $0[index] } }

    /// Puts a fresh actor in the place of the shard's (a shard taken again: see the type).
    func replace(_ actor: AccountShardActor) { shards.withLock { $0[actor.index] = actor } }

    /// Settles the events in the shard (see `AccountShardActor.deliver`); nil for a shard index out of range.
    /// - Throws: when the shard's owner could not be reached or refused them (deliver again later), `.conflict`
    ///   when its epoch is not `expectedEpoch`.
    func deliver(symbol: String, batches: [BookEventBatch], toShard index: Int, expectedEpoch: Int64? = nil)
        async throws -> DeliveryReceipt?
    {
        guard index < shardCount else { return nil }
        if serves(index) {
            return try await shard(index: index).deliver(
                symbol: symbol, batches: batches, expectedEpoch: expectedEpoch)
        }
        return try await remote().deliver(
            symbol: symbol, batches: batches, toShard: index, expectedEpoch: expectedEpoch)
    }

    /// Returns once the shard's journal is durable through `sequence`, written with `epoch` when given
    /// (`.conflict` when the shard is at another epoch now).
    func awaitDurable(shard index: Int, through sequence: Int64, epoch: Int64? = nil) async throws {
        guard index < shardCount else { return }
        if serves(index) { return try await shard(index: index).awaitDurable(through: sequence, epoch: epoch) }
        try await remote().awaitDurable(accountShard: index, through: sequence, epoch: epoch)
    }

    private func remote() throws(BourseError) -> any ShardPeers {
        guard let peers else { throw BourseError(.unavailable, "no route to the node serving this account shard") }
        return peers
    }

    /// The account shards an event concerns (order ids carry their shard).
    static func shards(of event: BookEvent) -> Set<Int> { Set(event.orderIDs.map(OrderIDs.shard(of:))) }
}
