import API
import Actors
import Cluster
import Foundation
import Logging
import ServiceLifecycle
import Storage
import Trading
import Transport

/// Wires a node: the store, the read-model writer, the exchange (recovery, then serving) and the client API,
/// the last three as services of one `ServiceGroup` that shuts them down in reverse order on SIGTERM or
/// SIGINT. A cluster node's last service is its `GracefulShutdown`: told first, it takes the node out of
/// readiness, waits the endpoint delay and hands the shards off while the API still serves.
struct NodeRunner {
    let configuration: NodeConfiguration
    /// The process-wide metrics registry (swift-metrics can be bootstrapped once).
    static let registry = NodeMetrics.bootstrap()

    func run() async throws {
        // The metrics backend first: a swift-metrics object made before it is bootstrapped goes nowhere.
        _ = NodeRunner.registry
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
        exchangeConfiguration.apiAddress = configuration.advertised(configuration.listen)
        // A cluster node takes short leases, renewed by its active role, and waits for a previous owner's to lapse.
        let incarnation = Exchange.wallClockMillis()
        if configuration.isClustered {
            exchangeConfiguration.leaseOwner = ActiveRole.leaseOwner(
                nodeID: configuration.nodeID, incarnation: incarnation)
            exchangeConfiguration.leaseTTLMillis = NodeRunner.leaseTTLMillis
            exchangeConfiguration.leaseWait = .milliseconds(NodeRunner.leaseTTLMillis + 2_000)
        }
        let cluster = try configuration.clusterSecret.flatMap { secret in
            configuration.isClustered
                ? try ClusterParts(
                    configuration: configuration, secret: secret, incarnation: incarnation,
                    exchange: exchangeConfiguration, store: store, projections: projections, logger: logger) : nil
        }
        let exchange =
            cluster?.exchange
            ?? Exchange(configuration: exchangeConfiguration, store: store, projections: projections, logger: logger)
        var apiConfiguration = APIConfiguration(
            host: configuration.listen.host, port: configuration.listen.port,
            limits: .init(
                requestsPerSecond: configuration.requestsPerSecond, burst: Int(configuration.burst),
                loginPerMinute: Int(configuration.loginPerMinute), bodyBytes: configuration.bodyBytes),
            accessTokenTTLSeconds: Int64(configuration.accessTokenTTLSeconds),
            tracing: configuration.tracing != .off)
        if let certificate = configuration.tlsCertificate, let key = configuration.tlsPrivateKey {
            apiConfiguration.tls = .init(certificateChainPath: certificate, privateKeyPath: key)
        }
        let metrics = NodeMetrics(registry: NodeRunner.registry, store: store)
        let api = APIServer(
            configuration: apiConfiguration, exchange: exchange, admin: cluster?.administration, users: store,
            keys: store, metrics: { metrics.prometheusText() }, forwarder: cluster?.forwarder, logger: logger)
        // A node alone recovers its shards at once; a cluster node serves the exchange only while it is active.
        let exchangeServices: [ServiceGroupConfiguration.ServiceConfiguration] =
            if let cluster {
                cluster.services(responder: api.makeForwardedRequestResponder())
            } else {
                [.init(service: ExchangeStartup(exchange: exchange))]
            }
        // Last, so told first on SIGTERM: not ready, the endpoint delay, the handoff; then the API stops.
        let shutdown: [ServiceGroupConfiguration.ServiceConfiguration] =
            cluster.map { [.init(service: $0.gracefulShutdown(after: configuration.shutdownDelay))] } ?? []
        // The store runs beside the service group and closes last, after the API and the exchange
        // have shut down: every acknowledged command is committed by then. The projection writer starts
        // before the exchange and stops after it, writing what is still queued.
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await store.run() }
            try await store.migrate()
            if let password = configuration.adminPassword {
                _ = try await api.ensureAdminUser(password: password)  // logs "admin user created" when it did
            }
            let group = ServiceGroup(
                configuration: .init(
                    services: FailStop.wrapping(
                        [.init(service: projections)] + exchangeServices + [
                            .init(
                                service: MarketDataService(
                                    exchange: exchange, settings: configuration.marketData, users: store, logger: logger
                                )),
                            .init(service: try api.makeApplication()),
                        ] + shutdown, logger: logger),
                    gracefulShutdownSignals: [.sigterm, .sigint],
                    logger: logger))
            do {
                try await group.run()
            } catch {
                // A node that stops on an error (a lease lost, declared dead) must stop even if a database
                // statement never returns: the store's shutdown waits for its connections.
                NodeRunner.exitUnlessStopped(within: NodeRunner.stopLimit, status: 1, logger: logger)
                cluster?.shutdownPeers()
                await store.shutdown()
                throw error
            }
            NodeRunner.exitUnlessStopped(within: NodeRunner.stopLimit, status: 0, logger: logger)
            cluster?.shutdownPeers()
            await store.shutdown()
            try await tasks.waitForAll()
        }
        logger.info("node stopped")
    }

    /// How long the store may take to close once the services have stopped.
    static let stopLimit: Duration = .seconds(10)
    /// How long the other services may take to stop once one has failed (a handoff takes at most 15 s).
    static let failureStopLimit: Duration = .seconds(30)

    /// Ends the process with `status` unless it ended first, `limit` from now, on a thread of its own (so that
    /// nothing the process waits for can hold it up). Called once the services have stopped: every acknowledged
    /// command is durable by then, and only the store's connections are left to close.
    static func exitUnlessStopped(within limit: Duration, status: Int32, logger: Logger) {
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: Double(limit.components.seconds))
            logger.critical("the node did not stop in time: exiting", metadata: ["within": "\(limit)"])
            exitProcess(status: status)
        }
    }

    /// Ends the process at once with `status` (fail-stop), after flushing standard output (the logs).
    static func exitProcess(status: Int32) {
        fflush(nil)
        exit(status)
    }
}

extension NodeRunner {
    /// How long a cluster node's leases last unless renewed (the active renews them every 500 ms).
    static let leaseTTLMillis: Int64 = 3_000
}

/// What a cluster node runs besides the API: the peer server, membership, and either the active role
/// (active/standby, see `ActiveRole`) or, routing by shard, the shard router and the ownership runner (see
/// `ShardRouter`, `ShardOwnershipRunner`); and the admin operations that span nodes.
struct ClusterParts {
    let exchange: Exchange
    let peers: PeerClients
    /// Routing by shard: the connections of book calls and of deliveries (see `ShardRouter.shardCalls`).
    let callClients: [PeerClients]
    let membership: MembershipRunner
    /// Active/standby only.
    let role: ActiveRole?
    /// Routing by shard only.
    let router: ShardRouter?
    let ownership: ShardOwnershipRunner?
    /// The admin operations across nodes: `NodeAdministration` (active/standby) or `ShardAdministration`.
    let administration: any ExchangeAdministration
    let identity: PeerIdentity
    let secret: PeerSecret
    let peerListen: HostPort
    let logger: Logger

    var forwarder: any RequestForwarder { (role as (any RequestForwarder)?) ?? router! }

    init(
        configuration: NodeConfiguration, secret: String, incarnation: Int64,
        exchange exchangeConfiguration: Exchange.Configuration,
        store: any DurableStore, projections: ProjectionWriter, logger: Logger
    ) throws {
        guard PeerIdentity.isValidNodeID(configuration.nodeID) else {
            throw ConfigurationError("node id \(configuration.nodeID) cannot be used on the peer transport")
        }
        identity = PeerIdentity(nodeID: configuration.nodeID, incarnation: UInt64(incarnation))
        self.secret = PeerSecret(secret)
        peerListen = configuration.peerListen
        self.logger = logger
        let peers = PeerClients(identity: identity, secret: self.secret, logger: logger)
        self.peers = peers
        let shards =
            configuration.markets.map { ShardKey.symbol($0.symbol) }
            + (0..<configuration.accountShards).map { ShardKey.account(index: $0) }
        let membership = MembershipRunner(
            machine: MembershipStateMachine(
                nodeID: configuration.nodeID, peerAddress: configuration.advertised(configuration.peerListen),
                apiAddress: configuration.advertised(configuration.listen), incarnation: incarnation, shards: shards),
            store: store, prober: TransportProber(clients: peers), clock: Exchange.wallClockMillis, logger: logger,
            onStuck: { NodeRunner.exitProcess(status: 1) })
        self.membership = membership
        let peerAddress: @Sendable (String) -> String? = { membership.view.member($0)?.peerAddress }
        let apiAddress: @Sendable (String) -> String? = { membership.view.member($0)?.apiAddress }
        let leaseOwner = ActiveRole.leaseOwner(nodeID: configuration.nodeID, incarnation: incarnation)
        switch configuration.routing {
        case .activeStandby:
            let exchange = Exchange(
                configuration: exchangeConfiguration, store: store, projections: projections, logger: logger)
            self.exchange = exchange
            let role = ActiveRole(
                exchange: exchange, store: store, nodeID: configuration.nodeID, incarnation: incarnation,
                peerAddress: peerAddress, apiAddress: apiAddress, peers: peers, ttlMillis: NodeRunner.leaseTTLMillis,
                logger: logger)
            self.role = role
            callClients = []
            router = nil
            ownership = nil
            administration = NodeAdministration(exchange: exchange, role: role, membership: membership, peers: peers)
        case .byShard:
            var sharded = exchangeConfiguration
            sharded.servedShards = []
            let assignment: @Sendable () -> ShardAssignment? = { membership.view.assignment }
            let books = PeerClients(identity: identity, secret: self.secret, logger: logger)
            let deliveries = PeerClients(identity: identity, secret: self.secret, logger: logger)
            let accountCalls = PeerClients(identity: identity, secret: self.secret, logger: logger)
            callClients = [books, deliveries, accountCalls]
            let calls = ShardRouter.shardCalls(
                assignment: assignment, peerAddress: peerAddress, books: books, deliveries: deliveries,
                accounts: accountCalls)
            let exchange = Exchange(
                configuration: sharded, store: store, projections: projections, logger: logger, peers: calls.peers)
            self.exchange = exchange
            role = nil
            router = ShardRouter(
                exchange: exchange, nodeID: configuration.nodeID, accountShards: configuration.accountShards,
                assignment: assignment, peerAddress: peerAddress, apiAddress: apiAddress, peers: peers)
            ownership = ShardOwnershipRunner(
                exchange: exchange, store: store, nodeID: configuration.nodeID, leaseOwner: leaseOwner,
                assignment: assignment, logger: logger)
            administration = ShardAdministration(
                exchange: exchange, nodeID: configuration.nodeID, membership: membership, peers: peers,
                drainHere: Self.handOff(membership: membership, ownership: ownership!))
        }
    }

    /// Closes every connection to the peers.
    func shutdownPeers() {
        peers.shutdown()
        for clients in callClients { clients.shutdown() }
    }

    /// In start order (they stop in reverse): the peer server, membership, then the active role or the
    /// ownership runner.
    func services(responder: ForwardedRequestResponder) -> [ServiceGroupConfiguration.ServiceConfiguration] {
        let drain: @Sendable () async throws -> Void = handOff
        let server = PeerServer(
            configuration: .init(
                host: peerListen.host, port: peerListen.port, identity: identity, secret: secret,
                maximumFrameBytes: PeerClients.maximumFrameBytes, inlineKinds: [PeerKind.ping]),
            handler: NodePeerHandler(responder: responder, shards: ownership == nil ? nil : exchange, drain: drain),
            logger: logger)
        let last: any Service = role ?? ownership!
        return [.init(service: PeerServerService(server: server)), .init(service: membership), .init(service: last)]
    }

    /// Gives this node's shards up: the active node hands every shard off (a standby never takes over); a node
    /// routing by shard leaves the assignment, so that its shards move to the others, then hands off what is left.
    private var handOff: @Sendable () async throws -> Void {
        if let role { return { try await role.drain() } }
        return Self.handOff(membership: membership, ownership: ownership!)
    }

    private static func handOff(
        membership: MembershipRunner, ownership: ShardOwnershipRunner
    ) -> @Sendable () async throws -> Void {
        {
            await membership.leaveWhileRunning()
            await ownership.handOffAll()
            // The others learn the new assignment within a membership tick; until then they may still send
            // requests and shard calls here, which this node answers "not served" (they try the new owner)
            // only while it runs — stopped, it would leave the calls in flight without an answer.
            try? await Task.sleep(for: Self.lingerAfterHandOff)
        }
    }

    /// How long a node routing by shard keeps answering after its handoff (a few membership ticks).
    static let lingerAfterHandOff: Duration = .milliseconds(500)

    /// The node's way out, the last service of the group (see `GracefulShutdown`): not ready, the endpoint
    /// delay, then a drain.
    func gracefulShutdown(after endpointDelay: Duration) -> GracefulShutdown {
        let role = self.role
        let router = self.router
        let membership = self.membership
        return GracefulShutdown(
            endpointDelay: endpointDelay,
            steps: .init(
                stopBeingReady: {
                    membership.beginShutdown()
                    role?.beginShutdown()
                    router?.beginShutdown()
                }, handOff: handOff),
            logger: logger)
    }
}

/// The peer server as a service: a graceful shutdown lets batches in flight finish.
struct PeerServerService: Service {
    let server: PeerServer

    func run() async throws {
        try await withGracefulShutdownHandler {
            try await server.run()
        } onGracefulShutdown: {
            server.triggerGracefulShutdown()
        }
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

/// A service whose failure (a lease lost, the node declared dead) ends the process within
/// `NodeRunner.failureStopLimit`, whatever the other services do on their way out: in chaos runs that crashed
/// PostgreSQL, a node that stopped for a lost lease closed its listeners and then waited for good for a service
/// that never ended, alive but serving nothing.
struct FailStop: Service {
    let service: any Service
    let logger: Logger

    func run() async throws {
        do {
            try await service.run()
        } catch {
            if !(error is CancellationError) {
                NodeRunner.exitUnlessStopped(within: NodeRunner.failureStopLimit, status: 1, logger: logger)
            }
            throw error
        }
    }

    static func wrapping(_ services: [ServiceGroupConfiguration.ServiceConfiguration], logger: Logger)
        -> [ServiceGroupConfiguration.ServiceConfiguration]
    {
        services.map {
            .init(
                service: FailStop(service: $0.service, logger: logger),
                successTerminationBehavior: $0.successTerminationBehavior,
                failureTerminationBehavior: $0.failureTerminationBehavior)
        }
    }
}
