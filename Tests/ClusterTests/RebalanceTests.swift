import Cluster
import Testing

/// `ShardAssignment(members:shards:)` and `rebalanced(to:)`: the bars with 10,000 shards —
/// max/mean ≤ 1.10, one join moves ≤ 1.1 × S/(n+1), a leave moves only the leaver's shards.
@Suite struct RebalanceTests {
    let shards = RingFixtures.shards()

    /// Every member holds ⌊S/n⌋ or ⌈S/n⌉ shards.
    func expectBalanced(_ assignment: ShardAssignment, sourceLocation: SourceLocation = #_sourceLocation) {
        let loads = assignment.loads
        #expect(loads.reduce(0, +) == assignment.shards.count, sourceLocation: sourceLocation)
        #expect((loads.max() ?? 0) - (loads.min() ?? 0) <= 1, sourceLocation: sourceLocation)
        if loads.count >= 10 { #expect(assignment.maxOverMean <= 1.10, sourceLocation: sourceLocation) }
    }

    @Test(arguments: [3, 10, 100, 1_000])
    func balancedFromScratch(memberCount: Int) {
        let assignment = ShardAssignment(members: RingFixtures.pods(memberCount), shards: shards)
        expectBalanced(assignment)
        #expect(assignment.shards.allSatisfy { assignment.owner(of: $0) != nil })
    }

    @Test(arguments: [10, 100])
    func joinMovesAFairShareToTheJoiner(memberCount: Int) {
        let before = ShardAssignment(members: RingFixtures.pods(memberCount), shards: shards)
        for joiner in ["bourse-\(memberCount)", "node-7f3a"] {
            let after = before.rebalanced(to: before.members + [joiner], version: 1)
            let moves = before.moves(to: after)
            #expect(Double(moves.count) <= 1.1 * Double(shards.count) / Double(memberCount + 1))
            #expect(moves.count == shards.count / (memberCount + 1))
            #expect(moves.allSatisfy { $0.to == joiner })
            expectBalanced(after)
        }
    }

    /// From n and from n + 1 members: with 10,000 shards, n + 1 leaves S mod n ≠ 0, where a survivor
    /// holding ⌈S/n⌉ keeps all its shards only if the targets give the larger shares to those that hold more.
    @Test(arguments: [10, 100, 1_000])
    func leaveMovesOnlyTheLeaversShards(memberCount: Int) {
        for members in [RingFixtures.pods(memberCount), RingFixtures.pods(memberCount + 1)] {
            let before = ShardAssignment(members: members, shards: shards)
            var random = TestRandom(state: 0x1EAF + UInt64(members.count))
            for _ in 0..<5 {
                let leaver = members[random.below(members.count)]
                let after = before.rebalanced(to: members.filter { $0 != leaver }, version: 1)
                for shard in shards {
                    let owner = before.owner(of: shard)
                    if owner == leaver {
                        #expect(after.owner(of: shard) != leaver && after.owner(of: shard) != nil)
                    } else {
                        #expect(after.owner(of: shard) == owner)
                    }
                }
                expectBalanced(after)
            }
        }
    }

    /// Seeded random membership changes: joins and leaves of one or several members at once, from 10,
    /// 100 and 1,000 members. Every shard that moves belonged to a leaver or goes to a joiner; after
    /// every change the loads are balanced; a lone join or leave meets its bar.
    @Test(arguments: [(10, UInt64(1)), (10, 2), (100, 3), (100, 4), (1_000, 5)])
    func randomMembershipChanges(memberCount: Int, seed: UInt64) {
        var random = TestRandom(state: seed)
        var members = Set(RingFixtures.pods(memberCount))
        var assignment = ShardAssignment(members: members, shards: shards, version: 1)
        for step in 0..<40 {
            var leavers: Set<String> = []
            var joiners: Set<String> = []
            switch random.below(4) {
            case 0: joiners.insert(random.memberID())
            case 1: leavers.insert(members.sorted().randomElement(using: &random)!)
            default:
                for _ in 0..<(1 + random.below(3)) { joiners.insert(random.memberID()) }
                for _ in 0..<(1 + random.below(3)) where members.count - leavers.count > 2 {
                    leavers.insert(members.subtracting(leavers).sorted().randomElement(using: &random)!)
                }
            }
            let before = members.count
            members.subtract(leavers)
            members.formUnion(joiners)
            let next = assignment.rebalanced(to: members.sorted().shuffled(using: &random), version: UInt64(step + 2))
            let moves = assignment.moves(to: next)
            for move in moves {
                #expect(leavers.contains(move.from ?? "") || joiners.contains(move.to ?? ""))
            }
            if joiners.isEmpty {
                #expect(moves.count == assignment.shards.filter { leavers.contains(assignment.owner(of: $0)!) }.count)
            }
            if leavers.isEmpty && joiners.count == 1 {
                #expect(Double(moves.count) <= 1.1 * Double(shards.count) / Double(before + 1))
            }
            expectBalanced(next)
            #expect(next.version == UInt64(step + 2) && Set(next.members) == members)
            assignment = next
        }
    }

    @Test("an operator's move changes that shard's owner only, and the next change keeps it unless the loads need it")
    func moveOneShard() throws {
        let before = ShardAssignment(members: RingFixtures.pods(3), shards: shards, version: 4)
        let shard = shards[17]
        let from = try #require(before.owner(of: shard))
        let to = try #require(before.members.first { $0 != from })
        let moved = try #require(before.moving(shard, to: to, version: 5))
        #expect(moved.version == 5)
        #expect(before.moves(to: moved) == [ShardAssignment.Move(shard: shard, from: from, to: to)])
        #expect(before.moving(shard, to: "bourse-99", version: 5) == nil)
        #expect(before.moving("symbol/NOPE-USD", to: to, version: 5) == nil)
        // A later change with the same members evens the loads out again, moving as few shards as that needs:
        // one member is one over its ⌈S/n⌉ at most, so at most one shard moves on.
        let next = moved.rebalanced(to: moved.members, version: 6)
        expectBalanced(next)
        #expect(moved.moves(to: next).count <= 1)
    }

    @Test func independentOfListingOrder() {
        let members = RingFixtures.pods(20) + (0..<20).map { "node-\($0 * 7919)" }
        let assignment = ShardAssignment(members: members, shards: shards, version: 3)
        let again = ShardAssignment(members: members.reversed() + members, shards: shards.reversed(), version: 3)
        #expect(assignment == again)
        let next = members.dropFirst(5) + ["node-new"]
        #expect(
            assignment.rebalanced(to: next, version: 4) == again.rebalanced(to: next.reversed(), version: 4))
    }

    @Test func aNewShardMovesNoOtherShard() {
        let before = ShardAssignment(members: RingFixtures.pods(10), shards: shards)
        let after = before.rebalanced(to: before.members, shards: shards + ["symbol/NEW-USD"], version: 1)
        let moves = before.moves(to: after)
        #expect(moves.count == 1 && moves.first?.shard == "symbol/NEW-USD" && moves.first?.from == nil)
        expectBalanced(after)
    }

    @Test func noMembersOwnNothing() {
        let empty = ShardAssignment(members: [], shards: shards.prefix(10))
        #expect(empty.owner(of: shards[0]) == nil && empty.maxOverMean == 0)
        let one = empty.rebalanced(to: ["bourse-0"], version: 1)
        #expect(one.shards(ownedBy: "bourse-0").count == 10)
        #expect(one.rebalanced(to: [], version: 2).owner(of: shards[0]) == nil)
        #expect(one.owner(of: "symbol/UNKNOWN") == nil)
    }
}
