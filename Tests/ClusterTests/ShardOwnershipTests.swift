import Testing

@testable import Cluster

/// The lease table of PostgreSQL, as `PostgresStore+Leases` implements it, in memory.
private struct LeaseTable {
    struct Row {
        var owner: String
        var epoch: Int64
        var expiresAt: Int64
    }

    var rows: [String: Row] = [:]

    mutating func acquire(_ shard: String, owner: String, now: Int64, ttl: Int64) -> Row? {
        guard let row = rows[shard] else {
            rows[shard] = Row(owner: owner, epoch: 1, expiresAt: now + ttl)
            return rows[shard]
        }
        guard row.owner == owner || row.expiresAt <= now else { return nil }
        let epoch = row.owner == owner && row.expiresAt > now ? row.epoch : row.epoch + 1
        rows[shard] = Row(owner: owner, epoch: epoch, expiresAt: now + ttl)
        return rows[shard]
    }

    mutating func renew(_ shard: String, owner: String, epoch: Int64, now: Int64, ttl: Int64) -> Int64? {
        guard let row = rows[shard], row.owner == owner, row.epoch == epoch else { return nil }
        rows[shard]?.expiresAt = now + ttl
        return now + ttl
    }

    mutating func release(_ shard: String, owner: String, epoch: Int64) {
        guard let row = rows[shard], row.owner == owner, row.epoch == epoch else { return }
        rows[shard]?.expiresAt = 0
    }
}

/// Nodes running `ShardOwnership` against the in-memory lease table with a simulated clock; every action
/// completes after a random delay, like a database round trip.
private struct Simulation {
    struct Pending {
        var due: Int64
        var node: String
        var action: ShardOwnership.Action
    }

    let configuration = ShardOwnership.Configuration()
    var now: Int64 = 1_000
    var table = LeaseTable()
    var machines: [String: ShardOwnership] = [:]
    var dead: Set<String> = []
    /// Nodes whose round trips to the database hang (a partition from PostgreSQL).
    var cutOff: Set<String> = []
    var pending: [Pending] = []
    var random: TestRandom
    let shards: [String]
    var assignment: ShardAssignment

    init(members: [String], shards: [String], seed: UInt64) {
        random = TestRandom(state: seed)
        self.shards = shards
        assignment = ShardAssignment(members: members, shards: shards, version: 1)
        for member in members {
            machines[member] = ShardOwnership(nodeID: member)
            schedule(member, machines[member]!.assign(assignment, nowMillis: now))
        }
    }

    mutating func schedule(_ node: String, _ actions: [ShardOwnership.Action]) {
        for action in actions {
            pending.append(Pending(due: now + Int64(random.below(120)), node: node, action: action))
        }
    }

    /// Moves the assignment to `members` (as membership would) and tells the live nodes.
    mutating func reassign(to members: [String]) {
        assignment = assignment.rebalanced(to: members, version: assignment.version + 1)
        for member in members where machines[member] == nil {
            machines[member] = ShardOwnership(nodeID: member)
        }
        for (node, _) in machines where !dead.contains(node) {
            schedule(node, machines[node]!.assign(assignment, nowMillis: now))
        }
    }

    /// Advances the clock by `step` ms: completes due round trips, then ticks every live node.
    mutating func advance(_ step: Int64) {
        now += step
        let due = pending.filter { $0.due <= now }
        pending.removeAll { $0.due <= now }
        for item in due where !dead.contains(item.node) {
            if cutOff.contains(item.node) {
                complete(item.node, failing: item.action)
            } else {
                complete(item.node, item.action)
            }
        }
        for node in machines.keys.sorted() where !dead.contains(node) {
            schedule(node, machines[node]!.tick(nowMillis: now))
        }
    }

    private mutating func complete(_ node: String, _ action: ShardOwnership.Action) {
        let ttl = configuration.leaseMillis
        switch action {
        case .acquire(let shard):
            if let row = table.acquire(shard, owner: node, now: now, ttl: ttl) {
                schedule(node, machines[node]!.acquired(shard: shard, epoch: row.epoch, expiresAt: row.expiresAt))
            } else {
                schedule(node, machines[node]!.acquireRefused(shard: shard, nowMillis: now))
            }
        case .recover(let shard, let epoch):
            schedule(node, machines[node]!.recovered(shard: shard, epoch: epoch))
        case .renew(let leases):
            for lease in leases {
                if let expires = table.renew(lease.shard, owner: node, epoch: lease.epoch, now: now, ttl: ttl) {
                    machines[node]!.renewed(shard: lease.shard, epoch: lease.epoch, expiresAt: expires)
                } else {
                    schedule(
                        node, machines[node]!.renewRefused(shard: lease.shard, epoch: lease.epoch, nowMillis: now))
                }
            }
        case .handOff(let shard, let epoch):
            table.release(shard, owner: node, epoch: epoch)
            schedule(node, machines[node]!.handedOff(shard: shard))
        case .abandon:
            break
        }
    }

    /// A round trip that never reached the database.
    private mutating func complete(_ node: String, failing action: ShardOwnership.Action) {
        switch action {
        case .acquire(let shard):
            schedule(node, machines[node]!.acquireRefused(shard: shard, nowMillis: now))
        case .renew(let leases):
            for lease in leases { machines[node]!.renewFailed(shard: lease.shard) }
        case .recover(let shard, let epoch):
            schedule(node, machines[node]!.recoveryFailed(shard: shard, epoch: epoch))
        case .handOff(let shard, _):
            schedule(node, machines[node]!.handedOff(shard: shard))
        case .abandon:
            break
        }
    }

    /// Safety: a node that believes it serves a shard holds that shard's lease at that epoch in the table,
    /// unexpired — so no two nodes ever serve one shard.
    func servingViolations() -> [String] {
        var violations: [String] = []
        for (node, machine) in machines where !dead.contains(node) {
            for (shard, phase) in machine.phases {
                guard case .serving(let epoch, let expiresAt) = phase, expiresAt > now else { continue }
                let row = table.rows[shard]
                if row?.owner != node || row?.epoch != epoch || (row?.expiresAt ?? 0) <= now {
                    violations.append("\(node) serves \(shard)@\(epoch) but the table says \(String(describing: row))")
                }
            }
        }
        return violations
    }

    /// Shards served by their assigned owner, and by no one else.
    func settled() -> Bool {
        shards.allSatisfy { shard in
            let servers = machines.filter { !dead.contains($0.key) && $0.value.servingEpoch(of: shard) != nil }
            return servers.count == 1 && servers.first?.key == assignment.owner(of: shard)
        }
    }
}

@Suite struct ShardOwnershipTests {
    let shards = (0..<40).map { "accounts/" + RingFixtures.padded($0, 4) } + ["symbol/BTC-USD", "symbol/ETH-USD"]

    @Test func aSingleNodeTakesEveryShardAndKeepsItByRenewing() {
        var simulation = Simulation(members: ["n1"], shards: shards, seed: 1)
        for _ in 0..<200 { simulation.advance(50) }
        #expect(simulation.settled())
        #expect(simulation.servingViolations().isEmpty)
        // 10 s passed with a 4 s lease: renewals kept every shard at epoch 1.
        #expect(simulation.table.rows.values.allSatisfy { $0.epoch == 1 && $0.owner == "n1" })
    }

    @Test func aJoiningNodeGetsItsShardsByHandoffWithoutWaitingForExpiry() throws {
        var simulation = Simulation(members: ["n1"], shards: shards, seed: 2)
        for _ in 0..<20 { simulation.advance(50) }
        #expect(simulation.settled())
        let joined = simulation.now
        simulation.reassign(to: ["n1", "n2"])
        var settledAt: Int64?
        for _ in 0..<100 {
            simulation.advance(20)
            #expect(simulation.servingViolations().isEmpty)
            if settledAt == nil, simulation.settled() { settledAt = simulation.now }
        }
        let moved = simulation.assignment.shards(ownedBy: "n2")
        #expect(!moved.isEmpty)
        // Released on handoff, so n2 did not wait for n1's leases to lapse.
        let handoff = try #require(settledAt) - joined
        #expect(handoff < simulation.configuration.leaseMillis)
        #expect(moved.allSatisfy { simulation.table.rows[$0]?.epoch == 2 })
    }

    @Test func aDeadNodesShardsAreTakenOnceItsLeasesRunOut() throws {
        var simulation = Simulation(members: ["n1", "n2", "n3"], shards: shards, seed: 3)
        for _ in 0..<40 { simulation.advance(50) }
        #expect(simulation.settled())
        let orphaned = simulation.assignment.shards(ownedBy: "n2")
        simulation.dead.insert("n2")
        let died = simulation.now
        simulation.reassign(to: ["n1", "n3"])
        var settledAt: Int64?
        for _ in 0..<400 {
            simulation.advance(20)
            #expect(simulation.servingViolations().isEmpty)
            if settledAt == nil, simulation.settled() { settledAt = simulation.now }
        }
        let failover = try #require(settledAt) - died
        // Nobody could take the dead node's shards before its leases lapsed, and they were taken soon after.
        #expect(failover >= simulation.configuration.leaseMillis - simulation.configuration.renewBeforeMillis)
        #expect(failover <= simulation.configuration.leaseMillis + 500)
        #expect(orphaned.allSatisfy { (simulation.table.rows[$0]?.epoch ?? 0) >= 2 })
    }

    @Test func aNodeCutOffFromTheDatabaseStopsServingBeforeItsLeasesLapse() throws {
        var simulation = Simulation(members: ["n1", "n2"], shards: shards, seed: 4)
        for _ in 0..<40 { simulation.advance(50) }
        simulation.cutOff.insert("n1")
        let cut = simulation.now
        var stoppedAt: Int64?
        for _ in 0..<500 {
            simulation.advance(10)
            #expect(simulation.servingViolations().isEmpty)
            if stoppedAt == nil, simulation.machines["n1"]!.servingShards.isEmpty { stoppedAt = simulation.now }
        }
        let stopped = try #require(stoppedAt)
        #expect(stopped - cut <= simulation.configuration.leaseMillis)
        // Its leases were never renewed, so none expired while it still served.
        #expect(simulation.machines["n1"]!.phases.values.allSatisfy { if case .serving = $0 { false } else { true } })
    }

    @Test func aShardWhoseJournalFailedIsTakenAgainAtANewEpoch() throws {
        var simulation = Simulation(members: ["n1", "n2"], shards: shards, seed: 5)
        for _ in 0..<40 { simulation.advance(50) }
        #expect(simulation.settled())
        let shard = try #require(simulation.assignment.shards(ownedBy: "n1").first)
        let epoch = try #require(simulation.machines["n1"]!.servingEpoch(of: shard))
        // Only a failure at the epoch served now counts (a late report of an earlier actor does nothing).
        #expect(simulation.machines["n1"]!.journalFailed(shard: shard, epoch: epoch - 1).isEmpty)
        #expect(simulation.machines["n2"]!.journalFailed(shard: shard, epoch: epoch).isEmpty)
        let actions = simulation.machines["n1"]!.journalFailed(shard: shard, epoch: epoch)
        #expect(actions == [.handOff(shard: shard, epoch: epoch)])
        // It stops taking commands at once.
        #expect(simulation.machines["n1"]!.servingEpoch(of: shard) == nil)
        simulation.schedule("n1", actions)
        for _ in 0..<40 {
            simulation.advance(20)
            #expect(simulation.servingViolations().isEmpty)
        }
        #expect(simulation.settled())
        // Released, then taken again by the same node: at the next epoch, which fences the failed actor's writes.
        #expect(simulation.machines["n1"]!.servingEpoch(of: shard) == epoch + 1)
        #expect(simulation.table.rows[shard]?.epoch == epoch + 1)
    }

    @Test func randomChurnNeverLetsTwoNodesServeOneShard() {
        for seed in UInt64(10)..<UInt64(16) {
            var simulation = Simulation(members: ["n1", "n2", "n3"], shards: shards, seed: seed)
            var members = ["n1", "n2", "n3"]
            var next = 4
            for round in 0..<40 {
                for _ in 0..<Int(simulation.random.below(30)) {
                    simulation.advance(Int64(simulation.random.below(60)))
                    let violations = simulation.servingViolations()
                    #expect(violations.isEmpty, "seed \(seed) round \(round): \(violations.prefix(3))")
                }
                switch simulation.random.below(4) {
                case 0 where members.count > 1:
                    let leaver = members.remove(at: simulation.random.below(members.count))
                    simulation.reassign(to: members)
                    if simulation.random.below(2) == 0 { simulation.dead.insert(leaver) }
                case 1:
                    members.append("n\(next)")
                    next += 1
                    simulation.reassign(to: members)
                default:
                    simulation.reassign(to: members)
                }
            }
            for _ in 0..<400 { simulation.advance(25) }
            #expect(simulation.settled(), "seed \(seed): every shard served by its owner once churn stops")
            #expect(simulation.servingViolations().isEmpty)
        }
    }

    @Test func aLoadOfAnAbandonedLeaseReportedLateChangesNothing() {
        var machine = ShardOwnership(nodeID: "n1")
        let assignment = ShardAssignment(members: ["n1"], shards: ["symbol/A"], version: 1)
        #expect(machine.assign(assignment, nowMillis: 0) == [.acquire(shard: "symbol/A")])
        #expect(
            machine.acquired(shard: "symbol/A", epoch: 3, expiresAt: 4_000) == [.recover(shard: "symbol/A", epoch: 3)])
        // The load waits on the store past the lease's safety margin: abandoned, then taken again.
        #expect(machine.tick(nowMillis: 3_600) == [.abandon(shard: "symbol/A", epoch: 3)])
        #expect(machine.tick(nowMillis: 3_600) == [.acquire(shard: "symbol/A")])
        #expect(
            machine.acquired(shard: "symbol/A", epoch: 4, expiresAt: 8_000) == [.recover(shard: "symbol/A", epoch: 4)])
        // The first load's outcome arrives while the second is under way: neither serving nor a handoff.
        #expect(machine.recovered(shard: "symbol/A", epoch: 3).isEmpty)
        #expect(machine.recoveryFailed(shard: "symbol/A", epoch: 3).isEmpty)
        #expect(machine.phases["symbol/A"] == .recovering(epoch: 4, expiresAt: 8_000))
        #expect(machine.recovered(shard: "symbol/A", epoch: 4).isEmpty)
        #expect(machine.servingEpoch(of: "symbol/A") == 4)
    }

    @Test func drainingHandsEveryShardOff() {
        var machine = ShardOwnership(nodeID: "n1")
        let assignment = ShardAssignment(members: ["n1"], shards: ["symbol/A", "symbol/B"], version: 1)
        let assigned = machine.assign(assignment, nowMillis: 0)
        #expect(assigned == [.acquire(shard: "symbol/A"), .acquire(shard: "symbol/B")])
        let acquiredA = machine.acquired(shard: "symbol/A", epoch: 3, expiresAt: 4_000)
        #expect(acquiredA == [.recover(shard: "symbol/A", epoch: 3)])
        let recoveredA = machine.recovered(shard: "symbol/A", epoch: 3)
        #expect(recoveredA.isEmpty)
        #expect(machine.servingEpoch(of: "symbol/A") == 3)
        // B is still being acquired when the drain comes: it is handed off as soon as it is loaded.
        let drained = machine.releaseAll(nowMillis: 10)
        #expect(drained == [.handOff(shard: "symbol/A", epoch: 3)])
        #expect(machine.servingEpoch(of: "symbol/A") == nil)
        let acquiredB = machine.acquired(shard: "symbol/B", epoch: 1, expiresAt: 4_000)
        #expect(acquiredB == [.recover(shard: "symbol/B", epoch: 1)])
        let recoveredB = machine.recovered(shard: "symbol/B", epoch: 1)
        #expect(recoveredB == [.handOff(shard: "symbol/B", epoch: 1)])
        let handedA = machine.handedOff(shard: "symbol/A")
        let handedB = machine.handedOff(shard: "symbol/B")
        #expect(handedA.isEmpty && handedB.isEmpty)
        #expect(machine.phases.isEmpty)
    }
}
