import API
import ArgumentParser
import Foundation

/// `bourse admin [--node URL] [--json] COMMAND`: operates a running node through its admin API
/// (api.md "Operations"), as the user `admin`.
struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Operate a running node through its admin API.",
        discussion: """
            Logs in as admin with --password or BOURSE_ADMIN_PASSWORD, or uses --token or BOURSE_TOKEN. \
            Prints tables, or the API's JSON with --json.
            Exit status: 0 on success, 1 when verify finds violations, 2 when a request fails (node \
            unreachable, login refused, an error answer: its code and message are printed), 64 for bad usage.
            """,
        subcommands: [Status.self, Shards.self, Drain.self, Move.self, Markets.self, Verify.self])

    /// Parsed here too, so that they may come before the command's name (`bourse admin --json shards`).
    @OptionGroup var options: AdminOptions
}

/// The options every `bourse admin` command takes, before or after the command's name.
struct AdminOptions: ParsableArguments {
    @Option(help: "The node's client API, http://HOST:PORT.") var node = "http://127.0.0.1:8080"
    @Flag(help: "Print the API's JSON instead of tables.") var json = false
    @Option(help: "The admin's password (default: BOURSE_ADMIN_PASSWORD).") var password: String?
    @Option(help: "An admin access token, instead of a password (default: BOURSE_TOKEN).") var token: String?
    @Option(help: "The admin user to log in as.") var user = "admin"

    /// What the command line gives first (`--token`, then `--password`), else the environment (`BOURSE_TOKEN`,
    /// then `BOURSE_ADMIN_PASSWORD`): a password typed on the command line is not overridden by a stale token
    /// left in the environment.
    var credentials: AdminSession.Credentials {
        let environment = ProcessInfo.processInfo.environment
        if let token, !token.isEmpty { return .token(token) }
        if let password, !password.isEmpty { return .password(username: user, password: password) }
        if let token = environment["BOURSE_TOKEN"], !token.isEmpty { return .token(token) }
        if let password = environment["BOURSE_ADMIN_PASSWORD"], !password.isEmpty {
            return .password(username: user, password: password)
        }
        return .none
    }

    /// A session logged in as the admin.
    func session() async throws -> AdminSession {
        try await AdminSession.authenticated(try AdminEndpoint(parsing: node), credentials: credentials)
    }

    /// Runs a command: an `AdminFailure` is printed (its message on standard error, the API's error body on
    /// standard output with `--json`) and ends the process with its exit status.
    func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let failure as AdminFailure {
            if json, let errorBody = failure.body { printJSON(errorBody) }
            FileHandle.standardError.write(Data("error: \(failure.message)\n".utf8))
            throw ExitCode(failure.exitCode)
        }
    }

    /// The JSON, compact, on one line.
    func printJSON(_ value: JSONValue) { print(String(decoding: JSONWriter.bytes(value), as: UTF8.self)) }
}
