/// The shape of cluster.yaml (api.md, "Command line and configuration"). Every field is optional:
/// absent fields take the defaults of `NodeConfiguration`. Decimals are read as text (quote them).
struct ClusterFile: Decodable, Sendable {
    struct Cluster: Decodable, Sendable {
        var name: String?
        var account_shards: Int?
        var seeds: [String]?
        /// `shard` (default) or `active_standby`.
        var routing: String?
    }

    struct Node: Decodable, Sendable {
        var id: String?
        var listen: String?
        var peer_listen: String?
        /// The host other nodes reach this one at, when `listen`/`peer_listen` bind every interface.
        var advertise_host: String?
        /// On SIGTERM, seconds between `/readyz` turning 503 and the handoff (default 1).
        var shutdown_delay_seconds: Double?
        /// `off` (default) or `log`: request spans as JSON log lines, propagated between nodes.
        var tracing: String?
        /// Fraction of new traces recorded (0…1, default 1).
        var trace_sample_ratio: Double?
    }

    struct Storage: Decodable, Sendable {
        var database_url: String?
        var data_dir: String?
    }

    struct Market: Decodable, Sendable {
        var symbol: String
        var base: String
        var quote: String
        var tick_size: String
        var lot_size: String
        var min_quantity: String
        var maker_fee_bps: Int64
        var taker_fee_bps: Int64
        /// Reference market data (`kind`: binance, coinbase, replay or sample).
        var feed: Feed?
        /// Paper liquidity around the feed's price (needs a feed).
        var liquidity: Liquidity?
    }

    struct Feed: Decodable, Sendable {
        var kind: String
        var url: String?
        /// binance: the stream symbol (`btcusdt`); sample: the bundled series (`BTC-USD`).
        var symbol: String?
        var streams: [String]?
        var product_id: String?
        var channels: [String]?
        var path: String?
        var speed: Double?
        var loop: Bool?
    }

    struct Liquidity: Decodable, Sendable {
        var spread_bps: Int64?
        var levels: Int?
        var step_bps: Int64?
        var size: String
        var base_inventory: String?
        var quote_inventory: String?
        var requote_bps: Int64?
    }

    struct Limits: Decodable, Sendable {
        var requests_per_second: Double?
        var burst: Double?
        var login_per_minute: Double?
        var body_bytes: Int?
    }

    struct Auth: Decodable, Sendable {
        var admin_password: String?
        var access_token_ttl_seconds: Int?
        var cluster_secret: String?
    }

    struct TLS: Decodable, Sendable {
        var certificate: String?
        var private_key: String?
    }

    var cluster: Cluster?
    var node: Node?
    var storage: Storage?
    var markets: [Market]?
    var limits: Limits?
    var auth: Auth?
    var tls: TLS?
}
