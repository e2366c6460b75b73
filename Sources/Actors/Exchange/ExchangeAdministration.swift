import Trading

/// What the admin API asks of the exchange (api.md "Operations"): the cluster and its shards, moving
/// shards, adding and halting markets, and checking the invariants.
///
/// Errors are `BourseError`s: `.notFound` for an unknown node, shard or symbol; `.conflict` for a request
/// the cluster cannot carry out as it stands (draining the only node, moving a shard to its owner, a
/// market that exists); `.validation` for a market spec that is not valid.
public protocol ExchangeAdministration: Sendable {
    /// Members, ring version and shard counts.
    func clusterStatus() async throws -> ClusterView
    /// Every shard: owner, epoch, journal and last snapshot.
    func shards() async throws -> [ShardView]
    /// Moves every shard off `node` so that it can stop.
    func drain(node: String) async throws
    /// Moves `shard` to `node`.
    func moveShard(_ shard: String, to node: String) async throws
    /// Adds a market, durably; it trades at once.
    func addMarket(_ spec: MarketSpec) async throws -> MarketInfo
    /// Halts or resumes a market (journaled: it survives a restart).
    func setHalted(symbol: String, halted: Bool) async throws
    /// Checks the invariants of design.md across every shard (and the read models where reachable).
    func verify() async -> InvariantReport
}
