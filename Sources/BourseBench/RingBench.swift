import Cluster

/// Shard-assignment benchmark: `bourse-bench ring [--shards S] [--trials T] [--seed X]`.
///
/// The shards are Bourse's: 1,024 account shards (`accounts/0000`…) and symbol shards
/// (`symbol/S00001-USD`…) up to S (10,000). For n = 3, 10, 100 and 1,000 members (`bourse-0`…, as a
/// StatefulSet names its pods) and four schemes it measures max/mean shards per member, the shards
/// moved when one member joins (trial 0: `bourse-n`; other trials: a random id) against S/(n+1), the
/// shards moved when a random member leaves and the most of them that were not the leaver's, and the time
/// to compute an assignment (best of the trials). The schemes:
///
/// - `rendezvous`: `ShardAssignment.rendezvous`, recomputed from each member set;
/// - `bounded`: consistent hashing with bounded loads over the same rendezvous ranking (each shard, in
///   hash order, to its highest-weight member below ⌈1.1 × S/n⌉), recomputed from each member set;
/// - `balanced`: `ShardAssignment(members:shards:)` (rendezvous, then evened out to ⌊S/n⌋ or ⌈S/n⌉),
///   recomputed from each member set;
/// - `rebalance`: `rebalanced(to:)` from the balanced assignment of the n members.
enum RingBench {
    enum Scheme: String, CaseIterable {
        case rendezvous, bounded, balanced, rebalance
    }

    struct Row {
        var scheme: Scheme
        var members: Int
        var maxOverMean = 0.0
        var worstJoin = 0
        var totalJoin = 0
        var worstLeave = 0
        var othersMoved = 0
        var nanos = UInt64.max

        var json: String {
            "{\"scheme\":\"\(scheme.rawValue)\",\"members\":\(members),\"max_over_mean\":\(rounded(maxOverMean)),"
                + "\"join_moves_max\":\(worstJoin),\"leave_moves_max\":\(worstLeave),"
                + "\"leave_moves_not_leavers_max\":\(othersMoved),\"compute_us\":\(nanos / 1_000)}"
        }
    }

    static func run(arguments: [String]) {
        let shardCount = Int(option("shards", in: arguments) ?? "") ?? 10_000
        let trials = Int(option("trials", in: arguments) ?? "") ?? 5
        let seed = UInt64(option("seed", in: arguments) ?? "") ?? 42
        guard shardCount > 0, trials > 0 else {
            print("usage: bourse-bench ring [--shards S] [--trials T] [--seed X]")
            print(#"{"mode":"ring","error":"bad arguments"}"#)
            return
        }
        let shards = shardKeys(count: shardCount)
        let accounts = min(shardCount, 1_024)
        print(
            "ring: \(shardCount) shards (\(accounts) account, \(shardCount - accounts) symbol), "
                + "\(trials) joins and \(trials) leaves per row, seed \(seed)")
        print(
            "scheme       members  max/mean  join moves (worst, mean / S/(n+1))  leave moves (worst; of others' shards)  compute"
        )
        var rows: [Row] = []
        for memberCount in [3, 10, 100, 1_000] {
            for scheme in Scheme.allCases {
                var random = BenchRandom(seed: seed &+ UInt64(memberCount))
                let row = measure(scheme, memberCount: memberCount, shards: shards, trials: trials, random: &random)
                let fair = Double(shardCount) / Double(memberCount + 1)
                let join = "\(row.worstJoin), \(rounded(Double(row.totalJoin) / Double(trials))) / \(rounded(fair))"
                let joinRatio = "(\(rounded(Double(row.worstJoin) / fair))×)"
                print(
                    "\(pad(scheme.rawValue, 12)) \(pad(String(memberCount), 8)) \(pad(rounded(row.maxOverMean), 9)) "
                        + "\(pad(join + " " + joinRatio, 37)) \(pad("\(row.worstLeave); \(row.othersMoved)", 38)) "
                        + "\(rounded(Double(row.nanos) / 1e6)) ms")
                rows.append(row)
            }
        }
        print(
            "compute: best time for one assignment, from the member set (rendezvous, bounded, balanced) or from the previous "
                + "assignment (rebalance: a join or a leave)")
        print(
            "{\"mode\":\"ring\",\"shards\":\(shardCount),\"trials\":\(trials),\"seed\":\(seed),"
                + "\"rows\":[\(rows.map(\.json).joined(separator: ","))]}")
    }

    static func measure(_ scheme: Scheme, memberCount: Int, shards: [String], trials: Int, random: inout BenchRandom)
        -> Row
    {
        let members = (0..<memberCount).map { "bourse-\($0)" }
        var row = Row(scheme: scheme, members: memberCount)
        let start = assign(scheme, members: members, shards: shards, from: nil, row: &row)
        var loads: [String: Int] = [:]
        for owner in start.owners.values { loads[owner, default: 0] += 1 }
        row.maxOverMean = Double(loads.values.max() ?? 0) * Double(memberCount) / Double(shards.count)
        for trial in 0..<trials {
            let joiner = trial == 0 ? "bourse-\(memberCount)" : "node-\(String(random.next(), radix: 16))"
            let joined = assign(scheme, members: members + [joiner], shards: shards, from: start, row: &row)
            let joinMoves = shards.filter { start.owners[$0] != joined.owners[$0] }.count
            row.worstJoin = max(row.worstJoin, joinMoves)
            row.totalJoin += joinMoves
            let leaver = members[random.below(memberCount)]
            let left = assign(scheme, members: members.filter { $0 != leaver }, shards: shards, from: start, row: &row)
            let leaveMoves = shards.filter { start.owners[$0] != left.owners[$0] }
            row.worstLeave = max(row.worstLeave, leaveMoves.count)
            row.othersMoved = max(row.othersMoved, leaveMoves.filter { start.owners[$0] != leaver }.count)
        }
        return row
    }

    /// An assignment as shard → owner, and as a `ShardAssignment` for the schemes that build one.
    struct Outcome {
        var owners: [String: String]
        var assignment: ShardAssignment?
    }

    /// One assignment by `scheme` (timed); `previous` is used by `rebalance` only.
    static func assign(_ scheme: Scheme, members: [String], shards: [String], from previous: Outcome?, row: inout Row)
        -> Outcome
    {
        let start = nowNanos()
        let assignment: ShardAssignment
        switch (scheme, previous?.assignment) {
        case (.bounded, _):
            let owners = boundedLoads(members: members, shards: shards, factor: 1.1)
            row.nanos = min(row.nanos, nowNanos() &- start)
            return Outcome(owners: owners, assignment: nil)
        case (.rendezvous, _):
            assignment = .rendezvous(members: members, shards: shards)
        case (.balanced, _), (.rebalance, nil):
            assignment = ShardAssignment(members: members, shards: shards)
        case (.rebalance, let previous?):
            assignment = previous.rebalanced(to: members, version: previous.version + 1)
        }
        row.nanos = min(row.nanos, nowNanos() &- start)
        var owners: [String: String] = [:]
        for shard in shards { owners[shard] = assignment.owner(of: shard) }
        return Outcome(owners: owners, assignment: assignment)
    }

    /// Consistent hashing with bounded loads: shards in hash order, each to the member with the highest
    /// `StableHash.weight` among those holding fewer than ⌈factor × S/n⌉.
    static func boundedLoads(members: [String], shards: [String], factor: Double) -> [String: String] {
        let members = members.sorted()
        let memberHashes = members.map(StableHash.hash)
        let cap = Int((factor * Double(shards.count) / Double(members.count)).rounded(.up))
        var loads = [Int](repeating: 0, count: members.count)
        var owners: [String: String] = [:]
        for (hash, shard) in shards.map({ (StableHash.hash($0), $0) }).sorted(by: { $0.0 < $1.0 }) {
            var best = -1
            var bestWeight: UInt64 = 0
            for member in members.indices where loads[member] < cap {
                let weight = StableHash.weight(shard: hash, member: memberHashes[member])
                if best < 0 || weight > bestWeight {
                    best = member
                    bestWeight = weight
                }
            }
            loads[best] += 1
            owners[shard] = members[best]
        }
        return owners
    }

    /// 1,024 account shards, then symbol shards up to `count`.
    static func shardKeys(count: Int) -> [String] {
        let accounts = (0..<min(count, 1_024)).map { "accounts/" + zeroPadded($0, width: 4) }
        let symbols = (0..<max(0, count - 1_024)).map { "symbol/S" + zeroPadded($0 + 1, width: 5) + "-USD" }
        return accounts + symbols
    }

    static func zeroPadded(_ value: Int, width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(0, width - text.count))
    }

    static func rounded(_ value: Double) -> String {
        let hundredths = (value * 100).rounded()
        let whole = Int(hundredths) / 100
        let fraction = Int(hundredths) % 100
        return "\(whole)." + (fraction < 10 ? "0" : "") + "\(fraction)"
    }
}
