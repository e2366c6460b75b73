import API
import Actors
import ArgumentParser
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Storage
import Tracing
import Trading

struct Start: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start a node.",
        discussion: """
            With no arguments: a single node on its embedded store (SQLite under ./bourse-data), client API on \
            127.0.0.1:8080, demo markets BTC-USD, ETH-USD and SOL-USD (the first two replay a bundled sample of \
            reference prices, with paper liquidity around them). It is ready when GET /readyz answers 200.
            Precedence: defaults < cluster.yaml < flags < BOURSE_* environment variables.
            """)

    @Option(help: "cluster.yaml to read.") var config: String?
    @Option(name: .customLong("node-id"), help: "This node's id (default: the host name).") var nodeID: String?
    @Option(help: "Client API address, HOST:PORT.") var listen: String?
    @Option(name: .customLong("peer-listen"), help: "Inter-node address, HOST:PORT.") var peerListen: String?
    @Option(name: .customLong("data-dir"), help: "Directory of the embedded store.") var dataDir: String?
    @Option(name: .customLong("database-url"), help: "postgres://… (forms a cluster).") var databaseURL: String?
    @Flag(
        name: .customLong("no-feeds"),
        help: "Run no reference feeds and no paper liquidity (the demo markets then stay still; BOURSE_FEEDS=off).")
    var noFeeds = false

    func run() async throws {
        let configuration: NodeConfiguration
        do {
            configuration = try NodeConfiguration.resolve(
                file: config,
                flags: .init(
                    nodeID: nodeID, listen: listen, peerListen: peerListen, dataDir: dataDir, databaseURL: databaseURL,
                    noFeeds: noFeeds),
                environment: ProcessInfo.processInfo.environment)
        } catch {
            throw ValidationError("\(error)")
        }
        // Every log line names the node that wrote it.
        let node = configuration.nodeID
        LoggingSystem.bootstrap { label in
            var handler = JSONLogHandler(label: label)
            handler.logLevel = .info
            handler.metadata["node"] = .string(node)
            return handler
        }
        if configuration.tracing == .log {
            InstrumentationSystem.bootstrap(
                LogTracer(logger: Logger(label: "bourse.trace"), sampleRatio: configuration.traceSampleRatio))
        }
        if ProcessInfo.processInfo.environment["BOURSE_EXIT_WITH_PARENT"] == "1" { Self.exitWithParent() }
        do {
            try await NodeRunner(configuration: configuration).run()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            // NIO's message names neither the address nor the port.
            Logger(label: "bourse").error(
                "cannot listen: the address is already in use",
                metadata: [
                    "listen": "\(configuration.listen)", "peer_listen": "\(configuration.peerListen)",
                    "error": "\(error)",
                ])
            throw ExitCode.failure
        }
    }

    /// For node processes started by tests (`BOURSE_EXIT_WITH_PARENT=1`): the node exits at once, as `kill -9`
    /// would end it, when the process that started it is gone (its parent changed), so that a test run that is
    /// killed leaves no node running on beside later runs and benchmarks.
    static func exitWithParent() {
        let parent = getppid()
        Thread.detachNewThread {
            while getppid() == parent { sleep(1) }
            _exit(70)
        }
    }
}
