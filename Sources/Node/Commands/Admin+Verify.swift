import API
import ArgumentParser

extension Admin {
    /// `bourse admin verify`: the invariants, checked by the node; exit status 1 when one is violated.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the invariants across every shard and the read models (exit status 1 on a violation).")
        @OptionGroup var options: AdminOptions

        func run() async throws {
            try await options.run {
                let report = try await options.session().request(.GET, "/admin/v1/verify")
                if options.json { options.printJSON(report) } else { print(Self.describe(report)) }
                guard report["ok"] == .bool(true) else {
                    throw AdminFailure(
                        message: "verify found \(text(report["violations"])) violations",
                        exitCode: AdminFailure.verifyFailed)
                }
            }
        }

        static func describe(_ report: JSONValue) -> String {
            let scope = report["scope"]
            var lines = [
                "verify: \(report["ok"] == .bool(true) ? "ok" : "FAILED") — \(text(report["violations"])) violations, "
                    + "\(text(scope?["markets"])) markets, \(text(scope?["account_shards"])) account shards, "
                    + "\(text(scope?["users"])) users, \(text(report["attempts"])) passes"
            ]
            var table = TextTable(["CHECK", "RESULT", "CHECKED", "VIOLATIONS"])
            var details: [String] = []
            for check in report["checks"]?.arrayValue ?? [] {
                let name = text(check["name"])
                table.append(
                    [
                        name, check["passed"] == .bool(true) ? "ok" : "FAILED", text(check["checked"]),
                        text(check["violations"]),
                    ])
                for example in check["examples"]?.arrayValue ?? [] { details.append("  \(name): \(text(example))") }
                if let note = check["note"]?.stringValue { details.append("  \(name) (note): \(note)") }
            }
            lines.append(table.rendered)
            lines.append(contentsOf: details)
            return lines.joined(separator: "\n")
        }
    }
}
