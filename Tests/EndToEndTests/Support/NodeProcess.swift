import Foundation
import Storage
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a node process keeps its state: a SQLite directory, or a PostgreSQL database of its own.
enum NodeStore: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }
}

/// The store of one test: made before the first start, deleted at the end.
struct NodeStorage: Sendable {
    let arguments: [String]
    let directory: String
    let cleanup: @Sendable () async -> Void

    /// A fresh store of `kind` and a scratch directory (logs; the SQLite data).
    ///
    /// Without `POSTGRES_URL` the PostgreSQL case is skipped with a message, or fails under `CI=true`.
    static func make(_ kind: NodeStore) async throws -> NodeStorage {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-node-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let removeDirectory: @Sendable () -> Void = { try? FileManager.default.removeItem(atPath: directory) }
        switch kind {
        case .sqlite:
            return NodeStorage(
                arguments: ["--data-dir", directory + "/data"], directory: directory, cleanup: removeDirectory)
        case .postgres:
            let environment = ProcessInfo.processInfo.environment
            guard let text = environment["POSTGRES_URL"], !text.isEmpty else {
                removeDirectory()
                if environment["CI"] == "true" {
                    throw HarnessError("POSTGRES_URL is not set but CI=true (run the tests with scripts/with-postgres)")
                }
                try Test.cancel(Comment(rawValue: postgresSkipMessage))
            }
            let admin = try PostgresURL(text)
            let database = "bourse_e2e_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())"
            try await PostgresAdmin.createDatabase(database, at: admin)
            return NodeStorage(
                arguments: ["--database-url", try Self.url(text, database: database)], directory: directory,
                cleanup: {
                    try? await PostgresAdmin.dropDatabase(database, at: admin)
                    removeDirectory()
                })
        }
    }

    /// `text` (a postgres:// URL) naming `database` instead of its own.
    static func url(_ text: String, database: String) throws -> String {
        guard let at = text.lastIndex(of: "@") else { throw HarnessError("POSTGRES_URL has no host") }
        let query = text[at...].firstIndex(of: "?") ?? text.endIndex
        let slash = text[at..<query].firstIndex(of: "/") ?? query
        return String(text[..<slash]) + "/" + database + String(text[query...])
    }
}

let postgresSkipMessage =
    "POSTGRES_URL is not set: the PostgreSQL cases of the end-to-end process tests are skipped "
    + "(run them with scripts/with-postgres swift test)"

/// Says so, visibly, when the PostgreSQL cases are skipped (a cancelled case alone is easy to miss).
@Suite("End to end: PostgreSQL availability") struct PostgresAvailability {
    static var configured: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["POSTGRES_URL"].map { !$0.isEmpty } == true || environment["CI"] == "true"
    }

    @Test(.enabled(if: configured, Comment(rawValue: postgresSkipMessage)))
    func postgresIsConfigured() async throws {
        await (try await NodeStorage.make(.postgres)).cleanup()
    }
}

/// A `bourse start` process on 127.0.0.1 and a free port, its output in a log file.
final class NodeProcess: @unchecked Sendable {  // `Process` is thread-safe for what is used here
    let port: Int
    let pid: Int32
    let log: String
    private let process: Process

    /// `<repo>/.build/debug/bourse`, built by `swift build` with the package's products.
    static func binary(file: String = #filePath) throws -> String {
        var url = URL(fileURLWithPath: file)
        for _ in 0..<4 { url.deleteLastPathComponent() }  // Support, EndToEndTests, Tests, <repo>
        let path = url.appendingPathComponent(".build/debug/bourse").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw HarnessError(
                "\(path) is missing: run `swift build --build-tests` first (it builds the bourse binary)")
        }
        return path
    }

    private init(process: Process, port: Int, log: String) {
        self.process = process
        self.port = port
        self.log = log
        pid = process.processIdentifier
    }

    /// Starts the node on `storage` and waits until `GET /readyz` answers 200.
    /// - Parameters:
    ///   - nodeID: `--node-id`.
    ///   - arguments: more arguments for `bourse start` (e.g. `--peer-listen`).
    ///   - environment: `BOURSE_*` variables for the node (the test's own are never passed on).
    ///   - feeds: runs the demo markets' reference feeds and paper liquidity (off by default, so that the
    ///     tests' books hold only their own orders).
    static func start(
        _ storage: NodeStorage, name: String, nodeID: String = "e2e", arguments: [String] = [],
        environment: [String: String] = [:], feeds: Bool = false, readyWithin timeout: Duration = .seconds(60)
    ) async throws -> NodeProcess {
        var environment = environment
        if !feeds, environment["BOURSE_FEEDS"] == nil { environment["BOURSE_FEEDS"] = "off" }
        // A killed test run must not leave its nodes running.
        environment["BOURSE_EXIT_WITH_PARENT"] = "1"
        let port = try freePort()
        let log = "\(storage.directory)/\(name).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let output = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try binary())
        process.arguments =
            ["start", "--listen", "127.0.0.1:\(port)", "--node-id", nodeID] + storage.arguments + arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("BOURSE_") }
            .merging(environment) { _, given in given }
        process.standardOutput = output
        process.standardError = output
        try process.run()
        try? output.close()
        let node = NodeProcess(process: process, port: port, log: log)
        do {
            try await node.waitReady(timeout: timeout)
        } catch {
            node.kill()
            throw error
        }
        return node
    }

    var isRunning: Bool { process.isRunning }

    /// Polls `/readyz` until it answers 200; fails early when the process exits.
    private func waitReady(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard process.isRunning else {
                throw HarnessError("bourse exited (\(process.terminationStatus)) before it was ready:\n\(tail())")
            }
            if let client = try? await H2Client.connect(host: "127.0.0.1", port: port) {
                let status = try? await client.request(method: .get, path: "/readyz").status.code
                try? await client.close()
                if status == 200 { return }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("bourse was not ready within \(timeout):\n\(tail())")
    }

    /// SIGSTOP: the process freezes (a paused VM, a long GC pause), sockets and leases and all.
    func pause() { signal(SIGSTOP) }

    /// SIGCONT after `pause()`.
    func resume() { signal(SIGCONT) }

    /// Waits up to `timeout` for the process to exit by itself; its exit status, or nil if it still runs.
    func waitForExit(within timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        guard !process.isRunning else { return nil }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// SIGKILL, and reap it. Harmless when it has already exited.
    func kill() {
        guard process.isRunning else { return }
        signal(SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM; returns the exit status, or nil (after a SIGKILL) if it did not exit within `timeout`.
    func terminate(within timeout: Duration) async -> Int32? {
        signal(SIGTERM)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        guard !process.isRunning else {
            kill()
            return nil
        }
        process.waitUntilExit()
        return process.terminationReason == .exit ? process.terminationStatus : -process.terminationStatus
    }

    private func signal(_ number: Int32) {
        #if canImport(Glibc)
            _ = Glibc.kill(pid, number)
        #elseif canImport(Darwin)
            _ = Darwin.kill(pid, number)
        #endif
    }

    /// The last lines of the node's output.
    func tail(lines: Int = 40) -> String {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
    }

    /// A port nobody listens on now, for a node to bind later.
    ///
    /// Not the kernel's pick for port 0: that comes from the ephemeral range, where every outgoing connection
    /// (to PostgreSQL, between nodes, from the tests' clients) also takes its local port, so between this pick
    /// and the node's bind (or a node's restart on the same port) a connection of a test running beside could
    /// take it ("Address already in use"). Ports are drawn below that range (Linux: 32768-60999) and never
    /// handed out twice by this process, and each is checked free by binding it.
    static func freePort() throws -> Int {
        for _ in 0..<1_000 {
            let candidate = Int.random(in: portRange)
            guard handedOut.withLock({ $0.insert(candidate).inserted }) else { continue }
            if try canBind(candidate) { return candidate }
        }
        throw HarnessError("no free port in \(portRange)")
    }

    /// Below the kernel's ephemeral ports and above the usual services'.
    static let portRange = 20_000...32_000
    private static let handedOut = Mutex<Set<Int>>([])

    private static func canBind(_ port: Int) throws -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 }
        }
    }
}

/// Runs `body` with the nodes it starts, and SIGKILLs any still running afterwards, whatever happens.
final class NodeGuard: Sendable {
    private let nodes = Mutex<[NodeProcess]>([])

    func track(_ node: NodeProcess) -> NodeProcess {
        nodes.withLock { $0.append(node) }
        return node
    }

    func killAll() { for node in nodes.withLock({ $0 }) { node.kill() } }

    /// The logs of every node started, for failure messages.
    var logs: String { nodes.withLock { $0 }.map { "== \($0.log)\n\($0.tail())" }.joined(separator: "\n") }
}
