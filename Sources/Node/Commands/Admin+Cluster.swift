import API
import ArgumentParser

/// `bourse admin status|shards|drain|move`: the cluster and its shards.
extension Admin {
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Members, ring version and shard counts.")
        @OptionGroup var options: AdminOptions

        func run() async throws {
            try await options.run {
                let cluster = try await options.session().request(.GET, "/admin/v1/cluster")
                guard !options.json else { return options.printJSON(cluster) }
                let counts = cluster["shard_counts"]
                print(
                    "node \(text(cluster["node_id"])), ring version \(text(cluster["ring_version"])), "
                        + "\(text(counts?["total"])) shards (\(text(counts?["symbol"])) symbol, "
                        + "\(text(counts?["accounts"])) accounts)")
                var table = TextTable(["MEMBER", "API ADDRESS", "STATUS", "SHARDS"])
                for member in cluster["members"]?.arrayValue ?? [] {
                    table.append(
                        [
                            text(member["id"]), text(member["api_address"]), text(member["status"]),
                            text(member["shards"]),
                        ])
                }
                print(table.rendered)
            }
        }
    }

    struct Shards: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every shard: owner, lease epoch, journal sequence, last snapshot.")
        @OptionGroup var options: AdminOptions

        func run() async throws {
            try await options.run {
                let shards = try await options.session().request(.GET, "/admin/v1/shards")
                guard !options.json else { return options.printJSON(shards) }
                var table = TextTable(["SHARD", "OWNER", "EPOCH", "JOURNAL", "DURABLE", "SNAPSHOT"])
                for shard in shards.arrayValue ?? [] {
                    table.append(
                        ["shard", "owner", "epoch", "journal_sequence", "durable_sequence", "last_snapshot_sequence"]
                            .map { text(shard[$0]) })
                }
                print(table.rendered)
            }
        }
    }

    struct Drain: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move every shard off a node so that it can stop.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "The node's id.") var nodeID: String

        func run() async throws {
            try await options.run {
                let answer = try await options.session().request(
                    .POST, "/admin/v1/nodes/\(AdminSession.pathSegment(nodeID))/drain")
                guard !options.json else { return options.printJSON(answer) }
                print("\(nodeID): \(text(answer["status"]))")
            }
        }
    }

    struct Move: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Move a shard to a node.")
        @OptionGroup var options: AdminOptions
        @Argument(help: "The shard: symbol/BTC-USD or accounts/0417.") var shard: String
        @Argument(help: "The node to move it to.") var nodeID: String

        func run() async throws {
            try await options.run {
                let answer = try await options.session().request(
                    .POST, "/admin/v1/shards/\(AdminSession.pathSegment(shard))/move", json: ["to": .string(nodeID)])
                guard !options.json else { return options.printJSON(answer) }
                print("\(shard) → \(nodeID): \(text(answer["status"]))")
            }
        }
    }
}

/// A JSON value as a table cell: strings and numbers as they are, null and absent as "-".
func text(_ value: JSONValue?) -> String {
    switch value {
    case .string(let string)?: string
    case .number(let digits)?: digits
    case .bool(let flag)?: flag ? "true" : "false"
    default: "-"
    }
}
