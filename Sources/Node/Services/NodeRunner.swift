import API
import Actors
import Foundation
import Logging
import ServiceLifecycle
import Storage
import Trading

/// Wires a node: the store, the read-model writer, the exchange (recovery, then serving) and the client API,
/// the last three as services of one `ServiceGroup` that shuts them down in reverse order on SIGTERM or
/// SIGINT.
struct NodeRunner {
    let configuration: NodeConfiguration
    /// The process-wide metrics registry (swift-metrics can be bootstrapped once).
    static let registry = NodeMetrics.bootstrap()

    func run() async throws {
        var logger = Logger(label: "bourse")
        logger[metadataKey: "node"] = "\(configuration.nodeID)"
        let store: any DurableStore
        if let url = configuration.databaseURL {
            let parsed = try PostgresURL(url)
            store = PostgresStore(url: parsed, logger: logger)
            logger.info("store: PostgreSQL", metadata: ["database": "\(parsed.database)"])
        } else {
            store = try await SQLiteStore(directory: configuration.dataDir, logger: logger)
            logger.info("store: SQLite", metadata: ["data_dir": "\(configuration.dataDir)"])
        }
        // Writes the read models from the account shards' durable batches, off the command path.
        let projections = ProjectionWriter(store: store, logger: logger)
        var exchangeConfiguration = Exchange.Configuration(
            markets: configuration.markets, accountShards: configuration.accountShards, nodeID: configuration.nodeID)
        exchangeConfiguration.apiAddress = configuration.listen.description
        let exchange = Exchange(
            configuration: exchangeConfiguration, store: store, projections: projections, logger: logger)
        var apiConfiguration = APIConfiguration(
            host: configuration.listen.host, port: configuration.listen.port,
            limits: .init(
                requestsPerSecond: configuration.requestsPerSecond, burst: Int(configuration.burst),
                loginPerMinute: Int(configuration.loginPerMinute), bodyBytes: configuration.bodyBytes),
            accessTokenTTLSeconds: Int64(configuration.accessTokenTTLSeconds))
        if let certificate = configuration.tlsCertificate, let key = configuration.tlsPrivateKey {
            apiConfiguration.tls = .init(certificateChainPath: certificate, privateKeyPath: key)
        }
        let metrics = NodeMetrics(registry: NodeRunner.registry, store: store)
        let api = APIServer(
            configuration: apiConfiguration, exchange: exchange, users: store, keys: store,
            metrics: { metrics.prometheusText() }, logger: logger)
        let startup = ExchangeStartup(exchange: exchange)
        // The store runs beside the service group and closes last, after the API and the exchange
        // have shut down: every acknowledged command is committed by then. The projection writer starts
        // before the exchange and stops after it, writing what is still queued.
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await store.run() }
            try await store.migrate()
            if let password = configuration.adminPassword {
                if try await api.ensureAdminUser(password: password) { logger.info("admin user created") }
            }
            let group = ServiceGroup(
                configuration: .init(
                    services: [
                        .init(service: projections), .init(service: startup),
                        .init(service: try api.makeApplication()),
                    ],
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger))
            do {
                try await group.run()
            } catch {
                await store.shutdown()
                throw error
            }
            await store.shutdown()
            try await tasks.waitForAll()
        }
        logger.info("node stopped")
    }
}

/// Recovers every shard (the API answers `/readyz` 503 until this is done), then waits for shutdown; the
/// API has stopped by then (services stop in reverse order), so it checkpoints every shard.
struct ExchangeStartup: Service {
    let exchange: Exchange

    func run() async throws {
        try await exchange.start()
        try? await gracefulShutdown()
        await exchange.stop()
    }
}
