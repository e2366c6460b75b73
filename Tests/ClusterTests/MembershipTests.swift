import Cluster
import Testing

/// The membership state machine, driven by a simulated table (with the store's compare-and-swap, heartbeat
/// and vote semantics) and a simulated clock: several nodes tick on the same snapshot each step, so their
/// changes race as they would against PostgreSQL.
@Suite struct MembershipTests {
    static let shards = ["symbol/BTC-USD", "symbol/ETH-USD"] + (0..<1_024).map { "accounts/" + pad($0) }

    static func pad(_ value: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// `a` bootstraps alone, then `b` and `c` join, each getting ⌊S/n⌋ shards from the others and no more.
    @Test func firstNodeBootstrapsThenTwoJoin() throws {
        var cluster = SimulatedCluster()
        cluster.start("a")
        cluster.step()
        #expect(cluster.table.view.version == 1)
        #expect(cluster.table.view.member("a")?.status == .active)
        #expect(cluster.assignment.members == ["a"] && cluster.assignment.version == 1)

        cluster.start("b")
        cluster.step()
        #expect(cluster.table.view.member("b")?.status == .joining)
        #expect(cluster.assignment.members == ["a"])  // version 2: joining owns nothing yet
        let one = cluster.assignment
        cluster.settle()
        #expect(cluster.statuses == ["a": .active, "b": .active])
        let two = cluster.assignment
        #expect(one.moves(to: two).count == Self.shards.count / 2)
        #expect(one.moves(to: two).allSatisfy { $0.from == "a" && $0.to == "b" })
        #expect(cluster.admitted == ["b"])

        cluster.start("c")
        cluster.settle()
        let three = cluster.assignment
        #expect(cluster.statuses == ["a": .active, "b": .active, "c": .active])
        #expect(two.moves(to: three).count == Self.shards.count / 3)
        #expect(two.moves(to: three).allSatisfy { $0.to == "c" })
        #expect(Set(three.loads) == [342])
        #expect(three.version == UInt64(cluster.table.view.version))
        #expect(cluster.stopped.isEmpty)
    }

    /// Two nodes start on an empty table at once: both try to bootstrap, one wins, the other joins.
    @Test func simultaneousBootstrapHasOneWinner() {
        var cluster = SimulatedCluster()
        cluster.start("a")
        cluster.start("b")
        cluster.step()
        #expect(cluster.table.view.version == 1)
        #expect(cluster.table.view.members.count == 1)
        cluster.settle()
        #expect(cluster.statuses == ["a": .active, "b": .active])
        #expect(Set(cluster.assignment.loads) == [513])
    }

    /// A node that stops answering is suspected by both peers; the second voter declares it dead well
    /// before the `deadAfter` fallback, and only its shards move.
    @Test func silentNodeIsVotedDead() throws {
        var cluster = try SimulatedCluster.running(["a", "b", "c"])
        let before = cluster.assignment
        let silentSince = cluster.now
        cluster.freeze("c")
        let deathAt = cluster.runUntil { $0.table.view.member("c")?.status == .dead }
        let died = try #require(deathAt)
        #expect(died - silentSince <= 5_000)
        #expect(cluster.votes.contains { $0.target == "c" })
        let moves = before.moves(to: cluster.assignment)
        #expect(moves.count == before.shards(ownedBy: "c").count)
        #expect(moves.allSatisfy { $0.from == "c" && ($0.to == "a" || $0.to == "b") })
        #expect(cluster.assignment.members.sorted() == ["a", "b"])
    }

    /// A node cut off from its peers but not from the database keeps heartbeating: the two others vote it
    /// dead (it cannot muster two votes against either of them alone), and it stops itself.
    @Test func partitionedMinorityIsVotedOutAndStops() throws {
        var cluster = try SimulatedCluster.running(["a", "b", "c"])
        cluster.unreachable = ["c"]
        _ = try #require(cluster.runUntil { $0.stopped["c"] != nil })
        #expect(cluster.stopped == ["c": .declaredDead])
        #expect(cluster.statuses == ["a": .active, "b": .active, "c": .dead])
        #expect(cluster.votes.contains { $0.voter == "c" })  // it did suspect the others, to no avail
    }

    /// With two nodes one vote is enough (min(2, active − 1) = 1): the survivor takes every shard.
    @Test func twoNodeClusterSurvivesALoss() throws {
        var cluster = try SimulatedCluster.running(["a", "b"])
        let silentSince = cluster.now
        cluster.freeze("b")
        let died = try #require(cluster.runUntil { $0.table.view.member("b")?.status == .dead })
        #expect(died - silentSince <= 5_000)
        #expect(cluster.assignment.members == ["a"])
        #expect(cluster.assignment.loads == [Self.shards.count])
    }

    /// Two of three fail at once: the survivor cannot gather two live votes, so the heartbeat fallback
    /// declares them dead after `deadAfter`, not before.
    @Test func heartbeatFallbackWhenTooFewVotersRemain() throws {
        var cluster = try SimulatedCluster.running(["a", "b", "c"])
        let silentSince = cluster.now
        cluster.freeze("b")
        cluster.freeze("c")
        let died = try #require(cluster.runUntil { $0.table.view.member("b")?.status == .dead })
        #expect(died - silentSince > 10_000 && died - silentSince <= 12_000)
        #expect(cluster.statuses == ["a": .active, "b": .dead, "c": .dead])
        #expect(cluster.assignment.loads == [Self.shards.count])
    }

    /// A database outage stops every node's reads and heartbeats at once. The first node back reads everyone's
    /// heartbeat as old, but it could not read them either: it must not declare the others dead before they could
    /// write theirs again (it did, and a 10 s outage took a two-node cluster down).
    @Test(arguments: [["a", "b"], ["a", "b", "c"]])
    func aDatabaseOutageDeclaresNobodyDead(_ nodes: [String]) throws {
        var cluster = try SimulatedCluster.running(nodes)
        let version = cluster.table.view.version
        for node in nodes { cluster.freeze(node) }
        cluster.run(steps: 15)  // past deadAfter
        cluster.frozen.remove("a")  // back first: the others' reads still fail for two more seconds
        cluster.run(steps: 2)
        cluster.frozen = []
        cluster.run(steps: 20)
        #expect(cluster.stopped.isEmpty)
        #expect(cluster.statuses == Dictionary(uniqueKeysWithValues: nodes.map { ($0, .active) }))
        #expect(cluster.table.view.version == version)
    }

    /// The active node of an active/standby cluster stops ~3 s into a database outage (its lease renewals fail)
    /// and is restarted while the server is still down; its first read finds every other heartbeat old. It must not
    /// declare its live peers dead at registration (it did: both standbys stopped after a 12 s outage, chaos run).
    @Test func aNodeRestartedAfterAnOutageDeclaresNobodyDead() throws {
        var cluster = try SimulatedCluster.running(["a", "b", "c"])
        for node in ["a", "b", "c"] { cluster.freeze(node) }
        cluster.run(steps: 15)  // past deadAfter
        cluster.restart("a")  // a new process, whose reads work first
        cluster.run(steps: 2)
        cluster.frozen = []
        cluster.run(steps: 20)
        #expect(cluster.stopped.isEmpty)
        #expect(cluster.statuses == ["a": .active, "b": .active, "c": .active])
        // Peers that stay silent are still found dead, from a's first read on.
        cluster.freeze("b")
        cluster.freeze("c")
        cluster.restart("a")
        let back = cluster.now
        let died = try #require(cluster.runUntil { $0.statuses["b"] == .dead && $0.statuses["c"] == .dead })
        #expect(died - back <= 12_000)
        #expect(cluster.assignment.members == ["a"])
    }

    /// The active node stops during a database outage and is restarted once the server is back; it registers
    /// active (its previous incarnation is in the assignment). Its peers' clients to its address are still backing
    /// off from the previous process, so their first probes of it fail: that must not get it voted dead (it was,
    /// 3 s after it came back, and exited: chaos `dbstop`, seed 2). One that is silent after its restart is still
    /// found dead by its heartbeat.
    @Test func aRestartedActiveNodeWhoseFirstProbesFailIsNotVotedDead() throws {
        var cluster = try SimulatedCluster.running(["a", "b", "c"])
        for node in ["a", "b", "c"] { cluster.freeze(node) }
        cluster.run(steps: 12)
        cluster.restart("a")
        cluster.frozen = []
        cluster.unreachable = ["a"]
        cluster.run(steps: 6)
        #expect(cluster.stopped["a"] == nil)
        #expect(cluster.statuses["a"] == .active)
        cluster.unreachable = []
        cluster.run(steps: 10)
        #expect(cluster.stopped.isEmpty)
        #expect(cluster.statuses == ["a": .active, "b": .active, "c": .active])
        // Unreachable for longer than the grace: voted dead by its probes as before.
        cluster.unreachable = ["a"]
        _ = try #require(cluster.runUntil { $0.stopped["a"] != nil })
        #expect(cluster.statuses["a"] == .dead)
        // Restarted and then silent: its heartbeat gives it away.
        cluster.stopped = [:]
        cluster.unreachable = []
        cluster.restart("a")
        cluster.run(steps: 1)
        let silentSince = cluster.now
        cluster.freeze("a")
        let died = try #require(cluster.runUntil { $0.table.view.member("a")?.status == .dead })
        #expect(died - silentSince <= 12_000)
    }

    /// After a database outage the nodes' pools reconnect at different times: one still backing off (postgres-nio
    /// spaces its attempts by up to ~3.5 s after a 10 s outage) reads and heartbeats seconds after the others. It is
    /// alive and answers probes; it must not be voted dead for that silence (a standby was: chaos `dbstop`, seed 2).
    /// A peer that really died during the outage is still found dead, by its probes or after `deadAfter`.
    @Test func aPeerWhoseDatabaseReconnectLagsIsNotVotedDead() throws {
        var cluster = try SimulatedCluster.running(["a", "b", "c"])
        for node in ["a", "b", "c"] { cluster.freeze(node) }
        cluster.run(steps: 12)
        cluster.frozen = []
        cluster.readless = ["b"]
        cluster.run(steps: 6)
        cluster.readless = []
        cluster.run(steps: 10)
        #expect(cluster.stopped.isEmpty)
        #expect(cluster.statuses == ["a": .active, "b": .active, "c": .active])
        // Dead during the outage instead: found dead after the others are back.
        for node in ["a", "b", "c"] { cluster.freeze(node) }
        cluster.run(steps: 12)
        cluster.frozen = ["b"]
        let back = cluster.now
        let died = try #require(cluster.runUntil { $0.table.view.member("b")?.status == .dead })
        #expect(died - back <= 12_000)
        #expect(cluster.assignment.members.sorted() == ["a", "c"])
    }

    /// A node restarted after it was declared dead registers `joining`; probes of it that fail (the survivor's
    /// client to its address still backing off from the previous process) do not get it voted dead, and it is
    /// admitted once a probe answers. One that stays silent is still found dead.
    @Test func aJoinerWhoseProbesFailIsNotVotedDead() throws {
        var cluster = try SimulatedCluster.running(["a", "b"])
        cluster.freeze("b")
        _ = try #require(cluster.runUntil { $0.table.view.member("b")?.status == .dead })
        cluster.restart("b")
        cluster.unreachable = ["b"]
        cluster.run(steps: 8)
        #expect(cluster.statuses["b"] == .joining)
        #expect(cluster.stopped["b"] == nil)
        cluster.unreachable = []
        _ = try #require(cluster.runUntil { $0.statuses["b"] == .active })
        #expect(cluster.assignment.members.sorted() == ["a", "b"])
        // Silent instead: found dead by its heartbeat.
        cluster.restart("b")
        cluster.freeze("b")
        _ = try #require(cluster.runUntil { $0.table.view.member("b")?.status == .dead })
    }

    /// A peer that does not come back after the outage is still found dead, counted from the survivor's return.
    @Test func aPeerThatStaysSilentAfterAnOutageIsDeclaredDead() throws {
        var cluster = try SimulatedCluster.running(["a", "b"])
        cluster.freeze("a")
        cluster.freeze("b")
        cluster.run(steps: 15)
        cluster.frozen.remove("a")
        let back = cluster.now
        let died = try #require(cluster.runUntil { $0.table.view.member("b")?.status == .dead })
        // By its unanswered probes (three in a row) or its silence (over 3 s), not at a's first read.
        #expect(died - back >= 3_000 && died - back <= 5_000)
        #expect(cluster.assignment.members == ["a"])
    }

    /// A quick restart keeps the node's shards: the new incarnation registers active with the same owners,
    /// and the old process, were it still running, stops as superseded and cannot heartbeat.
    @Test func restartWithNewIncarnationKeepsItsShards() throws {
        var cluster = try SimulatedCluster.running(["a", "b", "c"])
        let before = cluster.assignment
        let version = cluster.table.view.version
        cluster.restart("b", keepingZombie: true)
        cluster.step()
        #expect(cluster.table.view.version == version + 1)
        #expect(before.moves(to: cluster.assignment).isEmpty)
        #expect(cluster.table.view.member("b")?.incarnation == cluster.incarnation(of: "b"))
        #expect(cluster.table.view.member("b")?.status == .active)
        cluster.run(steps: 3)
        #expect(cluster.stopped == ["b-zombie": .superseded])
        #expect(
            cluster.table.heartbeat("b", incarnation: cluster.incarnation(of: "b") - 1, now: cluster.now) == .superseded
        )
        cluster.run(steps: 15)
        #expect(cluster.statuses == ["a": .active, "b": .active, "c": .active])
        #expect(before.moves(to: cluster.assignment).isEmpty)
    }

    /// Declared dead, then back with a new incarnation: it joins like a new node.
    @Test func restartAfterDeathJoinsAgain() throws {
        var cluster = try SimulatedCluster.running(["a", "b", "c"])
        cluster.freeze("b")
        _ = try #require(cluster.runUntil { $0.table.view.member("b")?.status == .dead })
        let two = cluster.assignment
        cluster.restart("b")
        cluster.step()
        #expect(cluster.table.view.member("b")?.status == .joining)
        cluster.settle()
        #expect(cluster.statuses == ["a": .active, "b": .active, "c": .active])
        #expect(two.moves(to: cluster.assignment).count == Self.shards.count / 3)
    }

    /// A leave moves exactly the leaver's shards; after its handoff it marks itself dead and stops, and
    /// nobody suspects it meanwhile.
    @Test func leaveMovesOnlyTheLeaversShards() throws {
        var cluster = try SimulatedCluster.running(["a", "b", "c"])
        let before = cluster.assignment
        cluster.machines["c"]?.requestLeave()
        cluster.step()
        #expect(cluster.table.view.member("c")?.status == .leaving)
        let moves = before.moves(to: cluster.assignment)
        #expect(moves.count == before.shards(ownedBy: "c").count && moves.allSatisfy { $0.from == "c" })
        cluster.run(steps: 8)  // handing off; still heartbeating
        #expect(cluster.table.view.member("c")?.status == .leaving && cluster.votes.isEmpty)
        cluster.machines["c"]?.finishLeave()
        cluster.run(steps: 2)
        #expect(cluster.stopped == ["c": .left])
        #expect(cluster.statuses == ["a": .active, "b": .active, "c": .dead])
        #expect(before.moves(to: cluster.assignment).count == moves.count)
    }

    /// A shard added to the assignment by one node (a market added at run time) stays in the changes of a node
    /// that has not learnt of it yet, with its owner; a member joining then moves its fair share as before.
    @Test func aShardAddedElsewhereIsKept() {
        let members = ["a", "b", "c"].map {
            ClusterMember(
                nodeID: $0, peerAddress: $0, apiAddress: $0, status: .active, incarnation: 1, heartbeatMillis: 1)
        }
        let added = "symbol/ADA-USD"
        let before = ShardAssignment(members: ["a", "b", "c"], shards: Self.shards, version: 3)
        let withAdded = before.rebalanced(to: before.members, shards: Self.shards + [added], version: 4)
        #expect(before.moves(to: withAdded).map(\.shard) == [added])
        let view = MembershipView(version: 4, members: members, assignment: withAdded)
        let joiner = ClusterMember(
            nodeID: "d", peerAddress: "d", apiAddress: "d", status: .active, incarnation: 1, heartbeatMillis: 1)
        let next = view.change(upserting: [joiner], shards: Self.shards).assignment
        #expect(next.shards.contains(added))
        #expect(withAdded.moves(to: next).allSatisfy { $0.to == "d" })
    }

    /// The vote rule in isolation: a suspect needs `min(2, active − 1)` live voters, counting the node about
    /// to vote; votes of silent voters and expired votes do not count.
    @Test func votesOfLiveVotersWithinTheWindowCount() {
        let now: Int64 = 100_000
        func member(_ id: String, heartbeat: Int64, votes: [String: Int64] = [:]) -> ClusterMember {
            ClusterMember(
                nodeID: id, peerAddress: id, apiAddress: id, status: .active, incarnation: 1,
                heartbeatMillis: heartbeat, suspicions: votes)
        }
        func actions(suspectVotes: [String: Int64], bHeartbeat: Int64 = now) -> [MembershipAction] {
            let members = [
                member("a", heartbeat: now), member("b", heartbeat: bHeartbeat), member("c", heartbeat: now),
                member("d", heartbeat: now - 5_000, votes: suspectVotes),
            ]
            let view = MembershipView(
                version: 7, members: members,
                assignment: ShardAssignment(members: ["a", "b", "c", "d"], shards: Self.shards, version: 7))
            var machine = MembershipStateMachine(
                nodeID: "a", peerAddress: "a", apiAddress: "a", incarnation: 1, shards: Self.shards)
            // a has read the table without a gap for the last 11 s, and heard from every peer since, so the peers'
            // silences count in full.
            for earlier in stride(from: now - 11_000, to: now, by: 1_000) {
                _ = machine.tick(view: view, nowMillis: earlier)
            }
            return machine.tick(view: view, nowMillis: now).filter { if case .probe = $0 { false } else { true } }
        }
        #expect(actions(suspectVotes: [:]) == [.heartbeat, .suspect(nodeID: "d", incarnation: 1)])
        #expect(actions(suspectVotes: ["b": now - 1_000]).compactMap(\.deadNodes) == [["d"]])
        // An expired vote, or one from a voter that is itself silent, does not count: a votes instead.
        #expect(actions(suspectVotes: ["b": now - 20_000]) == [.heartbeat, .suspect(nodeID: "d", incarnation: 1)])
        #expect(
            actions(suspectVotes: ["b": now - 1_000], bHeartbeat: now - 4_000)
                == [.heartbeat, .suspect(nodeID: "b", incarnation: 1), .suspect(nodeID: "d", incarnation: 1)])
        #expect(actions(suspectVotes: ["d": now]) == [.heartbeat, .suspect(nodeID: "d", incarnation: 1)])
        // a's own recent vote is not repeated, and alone is not enough.
        #expect(actions(suspectVotes: ["a": now - 1_000]) == [.heartbeat])
    }
}

/// `ShardAssignment.encoded()` and `init(decoding:)`: what the membership table stores with each version.
@Suite struct ShardAssignmentCodingTests {
    static let shards = MembershipTests.shards

    @Test func roundTrips() throws {
        let three = ShardAssignment(members: ["bourse-0", "bourse-1", "bourse-2"], shards: Self.shards, version: 7)
        let assignments = [
            ShardAssignment(members: [], shards: [], version: 0),
            ShardAssignment(members: [], shards: Self.shards, version: 1),
            ShardAssignment(members: ["bourse-0"], shards: Self.shards, version: 2),
            three,
            three.rebalanced(to: ["bourse-0", "bourse-2", "node-ß", "node-🦄"], version: UInt64.max),
        ]
        for assignment in assignments {
            let bytes = assignment.encoded()
            let decoded = try ShardAssignment(decoding: bytes)
            #expect(decoded == assignment)
            #expect(decoded.encoded() == bytes)
            for shard in assignment.shards { #expect(decoded.owner(of: shard) == assignment.owner(of: shard)) }
        }
        // The bytes depend on the assignment only, not on how its members and shards were listed.
        let again = ShardAssignment(
            members: ["bourse-2", "bourse-1", "bourse-0", "bourse-1"], shards: Self.shards.reversed(), version: 7)
        #expect(again.encoded() == three.encoded())
    }

    @Test func rejectsGarbage() throws {
        let valid = ShardAssignment(members: ["a", "b"], shards: ["s1", "s2", "s3"], version: 3).encoded()
        func rejects(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
            do {
                let decoded = try ShardAssignment(decoding: bytes)
                Issue.record("decoded garbage as \(decoded.members) \(decoded.shards)", sourceLocation: sourceLocation)
            } catch {
                #expect(error.code.rawValue == "VALIDATION_ERROR", sourceLocation: sourceLocation)
            }
        }
        rejects([])
        rejects(Array("not an assignment at all".utf8))
        for length in 0..<valid.count { rejects(Array(valid.prefix(length))) }  // every truncation
        rejects(valid + [0])  // trailing bytes
        var badMagic = valid
        badMagic[3] = 2
        rejects(badMagic)
        var ownerOutOfRange = valid
        ownerOutOfRange[valid.count - 1] = 0x7F
        rejects(ownerOutOfRange)
        var noOwner = valid
        noOwner.replaceSubrange((valid.count - 4)..., with: [0xFF, 0xFF, 0xFF, 0xFF])
        rejects(noOwner)
        var hugeCount = valid
        hugeCount.replaceSubrange(12..<20, with: [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F])
        rejects(hugeCount)
        // Members out of canonical order, or repeated: owner positions would name other members.
        let canonical = ShardAssignment(members: ["a", "b"], shards: [], version: 0).members
        rejects(handEncoded(members: canonical.reversed(), shards: ["s1"], owners: [0]))
        rejects(handEncoded(members: [canonical[0], canonical[0]], shards: ["s1"], owners: [0]))
        #expect(
            try ShardAssignment(decoding: handEncoded(members: canonical, shards: ["s1"], owners: [1])).owner(of: "s1")
                == canonical[1])
    }

    /// The layout written by hand: magic, version, members, shards, owners.
    func handEncoded(members: [String], shards: [String], owners: [UInt32]) -> [UInt8] {
        var bytes: [UInt8] = [0x42, 0x53, 0x41, 0x01] + littleEndian(UInt64(9), 8)
        bytes += littleEndian(UInt64(members.count), 8)
        for member in members { bytes += littleEndian(UInt64(member.utf8.count), 8) + Array(member.utf8) }
        bytes += littleEndian(UInt64(shards.count), 8)
        for shard in shards { bytes += littleEndian(UInt64(shard.utf8.count), 8) + Array(shard.utf8) }
        for owner in owners { bytes += littleEndian(UInt64(owner), 4) }
        return bytes
    }

    func littleEndian(_ value: UInt64, _ count: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }
}

extension MembershipAction {
    var deadNodes: [String]? {
        if case .declareDead(let nodes, _) = self { return nodes }
        return nil
    }
}

/// The store's semantics in memory: the version compare-and-swap, heartbeats fenced by incarnation, votes
/// per incarnation, and the assignment stored as bytes.
struct SimulatedTable {
    enum Heartbeat: Equatable { case recorded, notRegistered, superseded, declaredDead }

    private(set) var view = MembershipView.empty

    mutating func change(_ change: MembershipChange) -> Bool {
        guard change.expectedVersion == view.version else { return false }
        var members = view.members
        for var row in change.members {
            if let index = members.firstIndex(where: { $0.nodeID == row.nodeID }) {
                let old = members[index]
                row.suspicions = old.incarnation == row.incarnation ? old.suspicions : [:]
                if old.incarnation == row.incarnation {
                    row.heartbeatMillis = max(row.heartbeatMillis, old.heartbeatMillis)
                }
                members[index] = row
            } else {
                row.suspicions = [:]
                members.append(row)
            }
        }
        let assignment = try? ShardAssignment(decoding: change.assignment.encoded())
        #expect(assignment == change.assignment)
        view = MembershipView(version: view.version + 1, members: members, assignment: assignment)
        return true
    }

    mutating func heartbeat(_ node: String, incarnation: Int64, now: Int64) -> Heartbeat {
        guard let index = view.members.firstIndex(where: { $0.nodeID == node }) else { return .notRegistered }
        let row = view.members[index]
        if row.incarnation > incarnation { return .superseded }
        if row.incarnation < incarnation { return .notRegistered }
        if row.status == .dead { return .declaredDead }
        view.members[index].heartbeatMillis = max(row.heartbeatMillis, now)
        return .recorded
    }

    mutating func suspect(_ node: String, incarnation: Int64, by voter: String, now: Int64) -> Bool {
        guard voter != node, let index = view.members.firstIndex(where: { $0.nodeID == node }),
            view.members[index].incarnation == incarnation, view.members[index].status != .dead
        else { return false }
        view.members[index].suspicions[voter] = max(view.members[index].suspicions[voter] ?? now, now)
        return true
    }
}

/// Nodes ticking once a simulated second. A frozen node stops ticking and answering probes (a crash); an
/// unreachable one keeps ticking and heartbeating, but no probe to or from it gets through (a partition of
/// the transport, not of the database).
struct SimulatedCluster {
    var table = SimulatedTable()
    var now: Int64 = 1_000_000
    var machines: [String: MembershipStateMachine] = [:]
    var pendingProbes: [String: [String]] = [:]
    var frozen: Set<String> = []
    /// Nodes alive that cannot read or write the table (their database connections still backing off): they
    /// answer probes but do not tick.
    var readless: Set<String> = []
    var unreachable: Set<String> = []
    var stopped: [String: MembershipStopReason] = [:]
    var admitted: [String] = []
    var votes: [(voter: String, target: String)] = []

    /// A cluster of `nodes`, all active and settled.
    static func running(_ nodes: [String]) throws -> SimulatedCluster {
        var cluster = SimulatedCluster()
        for node in nodes {
            cluster.start(node)
            cluster.settle()
        }
        try #require(cluster.statuses == Dictionary(uniqueKeysWithValues: nodes.map { ($0, .active) }))
        cluster.admitted = []
        return cluster
    }

    var assignment: ShardAssignment { table.view.assignment ?? ShardAssignment(members: [], shards: []) }

    var statuses: [String: ClusterMember.Status] {
        Dictionary(uniqueKeysWithValues: table.view.members.map { ($0.nodeID, $0.status) })
    }

    func incarnation(of node: String) -> Int64 { machines[node]?.incarnation ?? -1 }

    mutating func start(_ node: String) {
        machines[node] = MembershipStateMachine(
            nodeID: node, peerAddress: "\(node):7001", apiAddress: "\(node):8080", incarnation: now,
            shards: MembershipTests.shards)
    }

    mutating func freeze(_ node: String) { frozen.insert(node) }

    /// A new process for `node` (a new incarnation); the old one is dropped, or kept running as a zombie.
    mutating func restart(_ node: String, keepingZombie: Bool = false) {
        if keepingZombie, let old = machines[node] { machines["\(node)-zombie"] = old }
        frozen.remove(node)
        now += 1
        start(node)
    }

    /// One second: every running node reads the same snapshot, then each acts in turn.
    mutating func step() {
        now += 1_000
        let view = table.view
        for name in machines.keys.sorted()
        where !frozen.contains(name) && !readless.contains(name) && stopped[name] == nil {
            let node = machines[name]!.nodeID
            let probes = (pendingProbes.removeValue(forKey: name) ?? []).reduce(into: [String: ProbeResult]()) {
                let through = !unreachable.contains(node) && !unreachable.contains($1) && !frozen.contains($1)
                $0[$1] = through ? .answered : .failed
            }
            for action in machines[name]!.tick(view: view, nowMillis: now, probes: probes) {
                perform(action, by: name, node: node)
            }
        }
    }

    mutating func perform(_ action: MembershipAction, by name: String, node: String) {
        switch action {
        case .heartbeat:
            _ = table.heartbeat(node, incarnation: machines[name]!.incarnation, now: now)
        case .probe(let peers):
            pendingProbes[name] = peers
        case .suspect(let target, let incarnation):
            if table.suspect(target, incarnation: incarnation, by: node, now: now) { votes.append((node, target)) }
        case .stop(let reason):
            stopped[name] = reason
        case .register(let change), .declareDead(_, let change), .remove(_, let change):
            _ = table.change(change)
        case .admit(let joiner, let change):
            if table.change(change) { admitted.append(joiner) }
        }
    }

    mutating func run(steps: Int) {
        for _ in 0..<steps { step() }
    }

    /// Steps until the version has not moved for five steps (at most 40).
    mutating func settle() {
        var quiet = 0
        for _ in 0..<40 where quiet < 5 {
            let version = table.view.version
            step()
            quiet = table.view.version == version ? quiet + 1 : 0
        }
    }

    /// Steps until `condition` holds (at most 60); returns the time it first held.
    mutating func runUntil(_ condition: (SimulatedCluster) -> Bool) -> Int64? {
        for _ in 0..<60 {
            step()
            if condition(self) { return now }
        }
        return nil
    }
}
