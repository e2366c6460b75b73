import Actors
import Trading

/// The admin API's JSON (api.md "Operations").
extension Render {
    /// - Parameter localAddress: this node's address as the request reached it, for a member that does not
    ///   know its own.
    static func cluster(_ view: ClusterView, localAddress: String?) -> JSONValue {
        let members: [JSONValue] = view.members.map { member in
            var address = member.apiAddress
            if address.isEmpty, member.id == view.nodeID { address = localAddress ?? "" }
            return [
                "id": .string(member.id), "api_address": .string(address), "status": .string(member.status),
                "shards": .int(member.shards),
            ]
        }
        return [
            "node_id": .string(view.nodeID), "ring_version": .int(view.ringVersion), "members": .array(members),
            "shard_counts": [
                "total": .int(view.symbolShards + view.accountShards), "symbol": .int(view.symbolShards),
                "accounts": .int(view.accountShards),
            ],
        ]
    }

    static func shard(_ shard: ShardView) -> JSONValue {
        [
            "shard": .string(shard.shard), "kind": .string(shard.kind), "owner": .string(shard.owner),
            "epoch": .int(shard.epoch), "journal_sequence": .int(shard.journalSequence),
            "durable_sequence": .int(shard.durableSequence),
            "last_snapshot_sequence": .int(shard.lastSnapshotSequence),
        ]
    }

    static func report(_ report: InvariantReport) -> JSONValue {
        let checks: [JSONValue] = report.checks.map { check in
            [
                "name": .string(check.name), "summary": .string(check.summary), "passed": .bool(check.passed),
                "checked": .int(check.checked), "violations": .int(check.violations),
                "examples": .array(check.examples.map { .string($0) }), "note": .optional(check.note),
            ]
        }
        return [
            "ok": .bool(report.ok), "violations": .int(report.violations), "attempts": .int(report.attempts),
            "checked_at": time(report.checkedAtMillis),
            "scope": [
                "markets": .int(report.markets), "account_shards": .int(report.accountShards),
                "users": .int(report.users),
            ],
            "checks": .array(checks),
        ]
    }
}
