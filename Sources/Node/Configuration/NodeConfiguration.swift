import Foundation
import Trading
import Yams

/// A node's resolved configuration: defaults, then cluster.yaml, then command-line flags, then
/// `BOURSE_*` environment variables (api.md: flags override the file, the environment overrides both).
struct NodeConfiguration: Sendable {
    var clusterName = "bourse"
    var accountShards = 1024
    var seeds: [String] = []
    /// How a cluster spreads the exchange over its nodes (`cluster.routing`, `BOURSE_ROUTING`).
    var routing = ClusterRouting.byShard
    var nodeID = NodeConfiguration.defaultNodeID()
    var listen = HostPort(host: "127.0.0.1", port: 8080)
    var peerListen = HostPort(host: "127.0.0.1", port: 9090)
    /// The host peers and the admin API show for this node when it binds every interface (default: the host
    /// name, which is the pod's DNS name under a headless Service).
    var advertiseHost: String?
    var databaseURL: String?
    var dataDir = "./bourse-data"
    var markets: [MarketSpec] = NodeConfiguration.demoMarkets
    /// Reference feeds and paper liquidity per market (the demo markets replay a bundled sample).
    var marketData = MarketDataSettings.demo
    var requestsPerSecond = 100.0
    var burst = 200.0
    var loginPerMinute = 10.0
    var bodyBytes = 65_536
    var adminPassword: String?
    var clusterSecret: String?
    var accessTokenTTLSeconds = 900
    var tlsCertificate: String?
    var tlsPrivateKey: String?
    /// On SIGTERM, how long a cluster node stays up after `/readyz` turns 503 and before it hands its shards
    /// off, so that load balancers stop sending it requests first (`GracefulShutdown`). 1 s by default (a
    /// plain `bourse start` has no endpoints to wait for, but a client polling `/readyz` gets to move);
    /// Kubernetes sets 5 s.
    var shutdownDelay = Duration.seconds(1)
    /// Tracing of client requests across nodes (`node.tracing`, `BOURSE_TRACING`): `off`, or `log` (every
    /// sampled span is a JSON log line; see `LogTracer`).
    var tracing = TracingMode.off
    /// Fraction of new traces recorded when tracing is on (`node.trace_sample_ratio`, 0…1, default 1).
    var traceSampleRatio = 1.0

    /// `node.tracing`.
    enum TracingMode: String, Sendable, CaseIterable {
        case off, log
    }

    /// Command-line values (nil: not given).
    struct Flags: Sendable {
        var nodeID: String?
        var listen: String?
        var peerListen: String?
        var dataDir: String?
        var databaseURL: String?
        /// Runs no feeds (and so no paper liquidity), whatever the configuration says.
        var noFeeds = false
    }

    static func resolve(file: String?, flags: Flags, environment: [String: String]) throws -> NodeConfiguration {
        var config = NodeConfiguration()
        if let file {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw ConfigurationError("cannot read \(file)")
            }
            try config.apply(try YAMLDecoder().decode(ClusterFile.self, from: text))
        }
        try config.apply(flags)
        try config.apply(environment: environment)
        return config
    }

    private mutating func apply(_ file: ClusterFile) throws {
        if let name = file.cluster?.name { clusterName = name }
        if let shards = file.cluster?.account_shards {
            guard (1...65_536).contains(shards) else { throw ConfigurationError("account_shards must be 1-65536") }
            accountShards = shards
        }
        if let seeds = file.cluster?.seeds { self.seeds = seeds }
        if let routing = file.cluster?.routing {
            self.routing = try ClusterRouting(parsing: routing, field: "cluster.routing")
        }
        if let id = file.node?.id { nodeID = id }
        if let listen = file.node?.listen { self.listen = try HostPort(parsing: listen, field: "node.listen") }
        if let peer = file.node?.peer_listen { peerListen = try HostPort(parsing: peer, field: "node.peer_listen") }
        if let host = file.node?.advertise_host { advertiseHost = host }
        if let seconds = file.node?.shutdown_delay_seconds {
            shutdownDelay = try Self.shutdownDelay(seconds, field: "node.shutdown_delay_seconds")
        }
        if let mode = file.node?.tracing { tracing = try Self.tracing(mode, field: "node.tracing") }
        if let ratio = file.node?.trace_sample_ratio {
            guard ratio.isFinite, (0...1).contains(ratio) else {
                throw ConfigurationError("node.trace_sample_ratio must be between 0 and 1")
            }
            traceSampleRatio = ratio
        }
        if let url = file.storage?.database_url { databaseURL = url }
        if let dir = file.storage?.data_dir { dataDir = dir }
        if let markets = file.markets {
            marketData = MarketDataSettings()
            self.markets = try markets.map { market in
                let spec: MarketSpec
                do {
                    spec = try MarketSpec(
                        symbol: market.symbol, base: market.base, quote: market.quote, tickSize: market.tick_size,
                        lotSize: market.lot_size, minQuantity: market.min_quantity, makerFeeBps: market.maker_fee_bps,
                        takerFeeBps: market.taker_fee_bps)
                } catch let error as BourseError {
                    throw ConfigurationError("market \(market.symbol): \(error.message)")
                }
                try marketData.apply(market, spec: spec)
                return spec
            }
            guard Set(self.markets.map(\.symbol)).count == self.markets.count else {
                throw ConfigurationError("market symbols must be unique")
            }
        }
        if let rps = file.limits?.requests_per_second { requestsPerSecond = rps }
        if let burst = file.limits?.burst { self.burst = burst }
        if let login = file.limits?.login_per_minute { loginPerMinute = login }
        if let body = file.limits?.body_bytes { bodyBytes = body }
        if let password = file.auth?.admin_password { adminPassword = password }
        if let ttl = file.auth?.access_token_ttl_seconds { accessTokenTTLSeconds = ttl }
        if let secret = file.auth?.cluster_secret { clusterSecret = secret }
        if let certificate = file.tls?.certificate { tlsCertificate = certificate }
        if let key = file.tls?.private_key { tlsPrivateKey = key }
    }

    private mutating func apply(_ flags: Flags) throws {
        if let id = flags.nodeID { nodeID = id }
        if let listen = flags.listen { self.listen = try HostPort(parsing: listen, field: "--listen") }
        if let peer = flags.peerListen { peerListen = try HostPort(parsing: peer, field: "--peer-listen") }
        if let dir = flags.dataDir { dataDir = dir }
        if let url = flags.databaseURL { databaseURL = url }
        if flags.noFeeds { marketData = MarketDataSettings() }
    }

    private mutating func apply(environment: [String: String]) throws {
        if let id = environment["BOURSE_NODE_ID"], !id.isEmpty { nodeID = id }
        if let listen = environment["BOURSE_LISTEN"], !listen.isEmpty {
            self.listen = try HostPort(parsing: listen, field: "BOURSE_LISTEN")
        }
        if let peer = environment["BOURSE_PEER_LISTEN"], !peer.isEmpty {
            peerListen = try HostPort(parsing: peer, field: "BOURSE_PEER_LISTEN")
        }
        if let url = environment["BOURSE_DATABASE_URL"], !url.isEmpty { databaseURL = url }
        if let host = environment["BOURSE_ADVERTISE_HOST"], !host.isEmpty { advertiseHost = host }
        if let seeds = environment["BOURSE_SEEDS"], !seeds.isEmpty {
            self.seeds = seeds.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        if let secret = environment["BOURSE_CLUSTER_SECRET"], !secret.isEmpty { clusterSecret = secret }
        if let routing = environment["BOURSE_ROUTING"], !routing.isEmpty {
            self.routing = try ClusterRouting(parsing: routing, field: "BOURSE_ROUTING")
        }
        if let password = environment["BOURSE_ADMIN_PASSWORD"], !password.isEmpty { adminPassword = password }
        if environment["BOURSE_FEEDS"] == "off" { marketData = MarketDataSettings() }
        if let mode = environment["BOURSE_TRACING"], !mode.isEmpty {
            tracing = try Self.tracing(mode, field: "BOURSE_TRACING")
        }
        if let text = environment["BOURSE_SHUTDOWN_DELAY_SECONDS"], !text.isEmpty {
            guard let seconds = Double(text) else {
                throw ConfigurationError("BOURSE_SHUTDOWN_DELAY_SECONDS must be a number of seconds")
            }
            shutdownDelay = try Self.shutdownDelay(seconds, field: "BOURSE_SHUTDOWN_DELAY_SECONDS")
        }
    }

    private static func tracing(_ text: String, field: String) throws -> TracingMode {
        guard let mode = TracingMode(rawValue: text) else {
            throw ConfigurationError(
                "\(field) must be one of \(TracingMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return mode
    }

    /// A shutdown delay of `seconds`: 0 to 600, to the millisecond.
    private static func shutdownDelay(_ seconds: Double, field: String) throws -> Duration {
        guard seconds.isFinite, (0...600).contains(seconds) else {
            throw ConfigurationError("\(field) must be 0-600 seconds")
        }
        return .milliseconds(Int64((seconds * 1_000).rounded()))
    }

    /// Whether the node runs as a cluster member: a shared PostgreSQL database and a cluster secret.
    var isClustered: Bool { databaseURL != nil && clusterSecret != nil }

    /// `address` as other nodes reach it: a wildcard host (`0.0.0.0`, `::`) becomes `advertiseHost` or the
    /// host name.
    func advertised(_ address: HostPort) -> String {
        guard ["0.0.0.0", "::", "*", ""].contains(address.host) else { return address.description }
        let host = advertiseHost ?? ProcessInfo.processInfo.hostName
        return HostPort(host: host, port: address.port).description
    }

    /// The host name (the pod name on Kubernetes).
    static func defaultNodeID() -> String {
        ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "node"
    }

    /// Built-in markets of a node started without a configuration.
    static let demoMarkets: [MarketSpec] = [
        try! MarketSpec(
            symbol: "BTC-USD", base: "BTC", quote: "USD", tickSize: "0.01", lotSize: "0.00001", minQuantity: "0.00001",
            makerFeeBps: 10, takerFeeBps: 20),
        try! MarketSpec(
            symbol: "ETH-USD", base: "ETH", quote: "USD", tickSize: "0.01", lotSize: "0.0001", minQuantity: "0.0001",
            makerFeeBps: 10, takerFeeBps: 20),
        try! MarketSpec(
            symbol: "SOL-USD", base: "SOL", quote: "USD", tickSize: "0.001", lotSize: "0.01", minQuantity: "0.01",
            makerFeeBps: 10, takerFeeBps: 20),
    ]
}

/// `host:port`, with `[v6]:port` for IPv6.
struct HostPort: Sendable, Hashable, CustomStringConvertible {
    var host: String
    var port: Int

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    init(parsing text: String, field: String) throws {
        let host: Substring
        let port: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw ConfigurationError("\(field) must be HOST:PORT") }
            port = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw ConfigurationError("\(field) must be HOST:PORT") }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let number = Int(port), (0...65_535).contains(number) else {
            throw ConfigurationError("\(field) must be HOST:PORT with a port 0-65535")
        }
        self.host = String(host)
        self.port = number
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

struct ConfigurationError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// How a cluster spreads the exchange over its nodes.
enum ClusterRouting: String, Sendable {
    /// One node (the holder of `cluster/active`) serves every shard; the others forward to it (`ActiveRole`).
    case activeStandby = "active_standby"
    /// Every node serves the shards the assignment gives it; requests go to their shard's owner (`ShardRouter`,
    /// `ShardOwnershipRunner`). Being built: see docs/architecture.md, "Routing by shard".
    case byShard = "shard"

    init(parsing text: String, field: String) throws {
        guard let routing = ClusterRouting(rawValue: text) else {
            throw ConfigurationError("\(field) must be active_standby or shard, not \(text)")
        }
        self = routing
    }
}
