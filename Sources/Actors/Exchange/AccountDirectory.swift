import Trading

/// Finds the account shard actor of a user or an order. On one node every shard is local; the cluster
/// issue replaces the lookup with routing to the shard's owner.
final class AccountDirectory: Sendable {
    let shardCount: Int
    private let shards: [AccountShardActor]
    private let clock: @Sendable () -> Int64

    init(shards: [AccountShardActor], clock: @escaping @Sendable () -> Int64) {
        self.shards = shards
        shardCount = shards.count
        self.clock = clock
    }

    var all: [AccountShardActor] { shards }

    func shard(ofUser user: UserID) -> AccountShardActor {
        shards[ShardKey.accountShardIndex(user, shards: shardCount)]
    }

    func shard(ofOrder id: OrderID) -> AccountShardActor? {
        let index = OrderIDs.shard(of: id)
        return index < shards.count ? shards[index] : nil
    }

    func deliver(symbol: String, events: [BookEvent], toShard index: Int) async {
        guard index < shards.count else { return }
        await shards[index].deliver(symbol: symbol, events: events, nowMillis: clock())
    }

    /// The account shards an event concerns (order ids carry their shard).
    static func shards(of event: BookEvent) -> Set<Int> { Set(event.orderIDs.map(OrderIDs.shard(of:))) }
}
