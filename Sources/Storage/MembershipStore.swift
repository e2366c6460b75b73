/// The lifecycle state of a member row: `joining` → `active` → `leaving` → `dead` (a failed node goes
/// straight to `dead`).
public enum MemberStatus: String, Sendable, Hashable, CaseIterable {
    /// Registered, not yet in the shard assignment (or rejoining after a restart).
    case joining
    /// In the shard assignment; owns shards, votes and may change the membership.
    case active
    /// Out of the shard assignment, still alive to hand its shards off.
    case leaving
    /// Failed (voted dead) or left. A process that finds its own incarnation dead must stop.
    case dead
}

/// One node's row in the membership table.
public struct MemberRow: Sendable, Hashable {
    /// The node's stable id (the StatefulSet pod name, `bourse-0`).
    public var nodeID: String
    /// `host:port` of the inter-node transport.
    public var peerAddress: String
    /// `host:port` of the client API.
    public var apiAddress: String
    public var status: MemberStatus
    /// Which run of the node this row describes (its start time in ms): a restarted node has a higher one,
    /// and the store refuses heartbeats of an older incarnation.
    public var incarnation: Int64
    /// Milliseconds since 1970 of the last heartbeat.
    public var heartbeatMillis: Int64
    /// Suspicion votes against this incarnation: voter node id → when the vote was cast (ms). Read-only:
    /// votes are added with `suspect(nodeID:incarnation:by:nowMillis:)` and ignored by `changeMembership`.
    public var suspicions: [String: Int64]

    public init(
        nodeID: String, peerAddress: String, apiAddress: String, status: MemberStatus, incarnation: Int64,
        heartbeatMillis: Int64, suspicions: [String: Int64] = [:]
    ) {
        self.nodeID = nodeID
        self.peerAddress = peerAddress
        self.apiAddress = apiAddress
        self.status = status
        self.incarnation = incarnation
        self.heartbeatMillis = heartbeatMillis
        self.suspicions = suspicions
    }
}

/// The membership table as of one version, read in one consistent snapshot.
public struct MembershipSnapshot: Sendable, Hashable {
    /// 0 before the first change; every `changeMembership` adds 1.
    public var version: Int64
    /// Every row (dead ones included), ordered by node id.
    public var members: [MemberRow]
    /// The shard assignment stored with `version`; nil at version 0.
    public var assignment: [UInt8]?

    public init(version: Int64, members: [MemberRow], assignment: [UInt8]?) {
        self.version = version
        self.members = members
        self.assignment = assignment
    }
}

/// What `heartbeat` found.
public enum HeartbeatOutcome: Sendable, Hashable {
    /// The row of this incarnation now carries the heartbeat.
    case recorded
    /// No row of this incarnation: the node must register (`changeMembership`) first.
    case notRegistered
    /// The row belongs to a newer incarnation: this process is a zombie of an old run and must stop.
    case superseded
    /// This incarnation was declared dead (or left): the process must stop.
    case declaredDead
}

/// The cluster's membership table (the Orleans model): PostgreSQL is the arbiter of who is in the cluster.
///
/// Each node registers its row, heartbeats, and votes silent peers suspect; membership changes (join,
/// admit, leave, death) are a compare-and-swap on the table version that also stores that version's shard
/// assignment, so that every node reads the same owners for the same version. Heartbeats and votes do not
/// change the version.
public protocol MembershipStore: Sendable {
    /// The version, every row with its current incarnation's votes, and the version's assignment, from one
    /// consistent snapshot.
    func membership() async throws -> MembershipSnapshot

    /// Records a heartbeat of `nodeID`'s `incarnation` (never moving it back in time). Changes nothing
    /// unless the row is of that incarnation and not dead; the outcome says why.
    func heartbeat(nodeID: String, incarnation: Int64, nowMillis: Int64) async throws -> HeartbeatOutcome

    /// Adds (or refreshes) `voter`'s suspicion vote against `nodeID`'s `incarnation`. Returns false, changing
    /// nothing, when the row is not of that incarnation or is dead. A vote of an old incarnation never counts
    /// against a new one.
    func suspect(nodeID: String, incarnation: Int64, by voter: String, nowMillis: Int64) async throws -> Bool

    /// Compare-and-swap: if the table is still at `expectedVersion`, upserts `members` (by node id; votes
    /// are not written), moves to version `expectedVersion + 1` and stores `assignment` with it, all in one
    /// transaction. Returns false, changing nothing, when the version has moved on: of concurrent callers
    /// with the same expected version exactly one succeeds.
    ///
    /// A row's heartbeat never moves back for the same incarnation. Assignments of all but the newest
    /// `assignmentsKept` versions are deleted, and so are votes against incarnations no row has any more.
    func changeMembership(expectedVersion: Int64, members: [MemberRow], assignment: [UInt8]) async throws -> Bool

    /// The assignment stored with `version`, if it is still kept.
    func assignment(version: Int64) async throws -> [UInt8]?
}

extension MembershipStore {
    /// Assignments kept: those of the newest 100 membership versions.
    public static var assignmentsKept: Int64 { 100 }
}

/// A status read from the database.
func memberStatus(_ text: String) throws -> MemberStatus {
    guard let status = MemberStatus(rawValue: text) else {
        throw StorageError(.corrupt, "member status \(text) is unknown")
    }
    return status
}

/// Why a heartbeat of `incarnation` changed nothing, given the stored row.
func heartbeatRefusal(stored: Int64, status: String, incarnation: Int64) -> HeartbeatOutcome {
    if stored > incarnation { return .superseded }
    if stored == incarnation && status == MemberStatus.dead.rawValue { return .declaredDead }
    return .notRegistered
}

/// The rows to upsert, one per node id (the last given wins), so that one statement never touches a row twice.
func uniqueRows(_ rows: [MemberRow]) -> [MemberRow] {
    var positions: [String: Int] = [:]
    var unique: [MemberRow] = []
    for row in rows {
        if let position = positions[row.nodeID] {
            unique[position] = row
        } else {
            positions[row.nodeID] = unique.count
            unique.append(row)
        }
    }
    return unique
}
