/// Where one shard stands, as its actor sees it.
struct ShardProgress: Sendable, Hashable {
    var shard: String
    var epoch: Int64
    var journalSequence: Int64
    var durableSequence: Int64
    var lastSnapshotSequence: Int64
}

/// One shard for `GET /admin/v1/shards`: its owner and lease epoch (as the store holds them), its journal
/// and its last snapshot.
public struct ShardView: Sendable, Hashable {
    /// `symbol/BTC-USD` or `accounts/0417`.
    public var shard: String
    /// The node holding the shard's lease.
    public var owner: String
    /// The lease epoch (fencing token) the owner writes with.
    public var epoch: Int64
    /// Sequence of the last record handed to the journal.
    public var journalSequence: Int64
    /// Sequence of the last durable record.
    public var durableSequence: Int64
    /// Sequence of the last snapshot taken or restored (0: none).
    public var lastSnapshotSequence: Int64

    public init(
        shard: String, owner: String, epoch: Int64, journalSequence: Int64, durableSequence: Int64,
        lastSnapshotSequence: Int64
    ) {
        self.shard = shard
        self.owner = owner
        self.epoch = epoch
        self.journalSequence = journalSequence
        self.durableSequence = durableSequence
        self.lastSnapshotSequence = lastSnapshotSequence
    }

    /// `symbol` or `accounts`.
    public var kind: String { shard.hasPrefix("symbol/") ? "symbol" : "accounts" }
}

/// One member of the cluster.
public struct ClusterMember: Sendable, Hashable {
    public var id: String
    /// Its client API address, `host:port`.
    public var apiAddress: String
    /// `serving`, `starting` or `draining`.
    public var status: String
    /// Shards it owns.
    public var shards: Int

    public init(id: String, apiAddress: String, status: String, shards: Int) {
        self.id = id
        self.apiAddress = apiAddress
        self.status = status
        self.shards = shards
    }
}

/// The cluster as `GET /admin/v1/cluster` shows it.
public struct ClusterView: Sendable, Hashable {
    /// The node that answered.
    public var nodeID: String
    /// The membership version the shard assignment belongs to.
    public var ringVersion: UInt64
    public var members: [ClusterMember]
    public var symbolShards: Int
    public var accountShards: Int

    public init(nodeID: String, ringVersion: UInt64, members: [ClusterMember], symbolShards: Int, accountShards: Int) {
        self.nodeID = nodeID
        self.ringVersion = ringVersion
        self.members = members
        self.symbolShards = symbolShards
        self.accountShards = accountShards
    }
}
