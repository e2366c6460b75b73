import API
import Actors
import Cluster
import Foundation
import NIOCore
import Synchronization
import Trading
import Transport

/// Routing by shard, the client side: every request goes to the node that owns the shard it is about, in the
/// latest assignment this node knows — the user's account shard for everything a user asks (orders, account,
/// portfolio, strategies, the stream), the market's symbol shard for `/v1/markets/{symbol}/…` — and runs there.
/// Requests about neither (the market list, admin, unauthenticated ones) run where they arrive.
///
/// The owner runs a request only while it serves the shard (`admitLocal`): one that arrives during a move is
/// answered "not served" and the edge tries again, for up to `serviceWait`, as the assignment and the leases
/// settle (`ForwardingMiddleware`).
final class ShardRouter: RequestForwarder {
    let exchange: Exchange
    let nodeID: String
    let accountShards: Int
    /// The latest assignment (the membership view's).
    let assignment: @Sendable () -> ShardAssignment?
    /// A node's peer address (`host:port`).
    let peerAddress: @Sendable (String) -> String?
    /// A node's client API address (`host:port`), where relayed event streams are opened.
    let apiAddress: @Sendable (String) -> String?
    let peers: PeerClients
    let forwardTimeout: Duration
    /// How long a forwarded request waits before its target is pinged, and how long each ping may take.
    let forwardPatience: Duration
    let serviceWait: Duration
    private let shuttingDown = Atomic<Bool>(false)

    init(
        exchange: Exchange, nodeID: String, accountShards: Int,
        assignment: @escaping @Sendable () -> ShardAssignment?,
        peerAddress: @escaping @Sendable (String) -> String?, apiAddress: @escaping @Sendable (String) -> String?,
        peers: PeerClients, forwardTimeout: Duration = .seconds(15), forwardPatience: Duration = .seconds(1),
        serviceWait: Duration = .seconds(3)
    ) {
        self.exchange = exchange
        self.nodeID = nodeID
        self.accountShards = accountShards
        self.assignment = assignment
        self.peerAddress = peerAddress
        self.apiAddress = apiAddress
        self.peers = peers
        self.forwardTimeout = forwardTimeout
        self.forwardPatience = forwardPatience
        self.serviceWait = serviceWait
    }

    /// Where a request goes.
    enum Target: Hashable {
        case here
        case node(String)
        case nowhere(String)
        /// An event stream whose channels live on several nodes: one upstream per owner, merged here.
        case split
    }

    /// The shard a request is about; nil when it runs where it arrives.
    func shard(of route: RequestRoute) -> String? {
        if let market = route.market { return ShardKey.symbol(market) }
        guard let user = route.user, !route.isAdmin else { return nil }
        return ShardKey.account(index: ShardKey.accountShardIndex(user, shards: accountShards))
    }

    func target(of route: RequestRoute) -> Target {
        if let channels = route.streamChannels { return streamTarget(channels, user: route.user) }
        guard let shard = shard(of: route) else { return .here }
        return target(ofShard: shard)
    }

    /// An event stream goes where its channels live: each market channel with its book, `orders` with the
    /// user's account shard. Channels on one node: that node; on several: `.split`. A channel that names no
    /// shard (malformed, or `orders` without a token) is the stream route's to refuse, wherever it runs.
    func streamTarget(_ channels: [String], user: UserID?) -> Target {
        var targets: Set<Target> = []
        for name in channels {
            guard let shard = Self.shard(ofChannel: name, user: user, accountShards: accountShards) else { continue }
            let target = target(ofShard: shard)
            if case .nowhere = target { return target }
            targets.insert(target)
        }
        return targets.count > 1 ? .split : targets.first ?? .here
    }

    static func shard(ofChannel name: String, user: UserID?, accountShards: Int) -> String? {
        switch StreamChannel(parsing: name) {
        case .ticker(let symbol), .orderbook(let symbol), .trades(let symbol): ShardKey.symbol(symbol)
        case .orders: user.map { ShardKey.account(index: ShardKey.accountShardIndex($0, shards: accountShards)) }
        case nil: nil
        }
    }

    func target(ofShard shard: String) -> Target {
        guard let assignment = assignment() else { return .nowhere("this node has not joined the cluster yet") }
        guard let owner = assignment.owner(of: shard) else {
            // A market being added: its shard joins the assignment in a moment (`ShardAdministration.addMarket`).
            return exchange.serves(shard) ? .here : .nowhere("no node owns \(shard) yet")
        }
        if owner == nodeID {
            return exchange.serves(shard) ? .here : .nowhere("\(shard) is being taken over by \(nodeID)")
        }
        return .node(owner)
    }

    // MARK: RequestForwarder

    /// Requests without a route (none: the middleware always asks with one) run here.
    var mode: ForwardingMode { .local }

    func mode(for route: RequestRoute) -> ForwardingMode {
        switch target(of: route) {
        case .here: .local
        case .node(let owner): peerAddress(owner) == nil ? .unavailable("\(owner) is not reachable yet") : .forward
        case .nowhere(let reason): .unavailable(reason)
        case .split: .forward
        }
    }

    func admitLocal(_ route: RequestRoute) async -> Bool {
        target(of: route) == .here
    }

    var isReady: Bool? {
        if shuttingDown.load(ordering: .relaxed) { return false }
        return assignment() != nil
    }

    /// Makes `/readyz` answer 503 from now on (the node is shutting down); requests are still served.
    func beginShutdown() { shuttingDown.store(true, ordering: .sequentiallyConsistent) }

    func forward(_ request: ForwardedRequest) async throws -> ForwardedResponse {
        let route = RequestRoute(
            target: request.target, authorization: request.headers.last { $0.name == "authorization" }?.value)
        guard case .node(let owner) = target(of: route), let address = peerAddress(owner),
            let client = peers.client(for: address)
        else { throw RequestNotForwarded("the owner of the request's shard changed") }
        // The answer, or a sign that none will come (the owner stopped answering pings: killed, frozen, cut off).
        let reply = try await PeerLiveness.forward(
            request.encoded(), to: owner, client: client, timeout: forwardTimeout, patience: forwardPatience)
        return try ForwardedResponse(decoding: reply.payload)
    }

    /// Relays the stream from its owner; a `.split` stream is opened on each owner of its channels (this node
    /// included) for those channels, and the upstreams' events are merged (`StreamProxy.merge`).
    func forwardStream(_ request: ForwardedRequest) async throws -> ForwardedStream {
        let route = RequestRoute(
            target: request.target, authorization: request.headers.last { $0.name == "authorization" }?.value)
        switch target(of: route) {
        case .node(let owner):
            guard let address = apiAddress(owner) else { break }
            return try await StreamProxy.open(request, at: address)
        case .split:
            var byOwner: [String: [String]] = [:]
            for name in route.streamChannels ?? [] {
                guard let shard = Self.shard(ofChannel: name, user: route.user, accountShards: accountShards) else {
                    continue
                }
                let owner: String
                switch target(ofShard: shard) {
                case .here: owner = nodeID
                case .node(let node): owner = node
                case .nowhere, .split: throw ActiveRole.ForwardingFailed(description: "\(shard) has no owner now")
                }
                byOwner[owner, default: []].append(name)
            }
            var parts: [(ForwardedRequest, String)] = []
            for (owner, channels) in byOwner.sorted(by: { $0.key < $1.key }) {
                guard let address = apiAddress(owner) else { break }
                var part = request
                part.target = "/v1/stream?channels=" + Self.queryValue(channels.joined(separator: ","))
                parts.append((part, address))
            }
            guard parts.count == byOwner.count else { break }
            return try await StreamProxy.merge(parts)
        case .here, .nowhere:
            break
        }
        throw ActiveRole.ForwardingFailed(description: "no node to relay the stream from")
    }

    /// `text` percent-encoded for a query value (channel names are letters, digits, `-`, `:` and `,`).
    static func queryValue(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~:,")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// The shard calls of the exchange (`ShardPeers`), sent to each shard's owner in the assignment: book calls
    /// (place, cancel, amend, quote, strategies) over `books`' connections, deliveries to account shards over `deliveries`',
    /// account calls (orders placed for users by strategies and paper liquidity) over `accounts`'.
    ///
    /// Apart, and apart from forwarded requests, because a peer answers the requests of one frame together: a
    /// delivery sharing a frame with a place would wait for it, while the place waits for its book, whose
    /// delivery lock may be held by a delivery waiting for that reply — two books on two nodes each delivering
    /// to the other's accounts deadlock until the calls' deadline. Deliveries wait for nothing but a journal, and
    /// places for their book and its deliveries, so with each kind on its own connections no cycle forms. An
    /// account call waits for a place (its order's book), so it has connections of its own too.
    static func shardCalls(
        assignment: @escaping @Sendable () -> ShardAssignment?,
        peerAddress: @escaping @Sendable (String) -> String?, books: PeerClients, deliveries: PeerClients,
        accounts: PeerClients
    ) -> PeerShardCalls {
        PeerShardCalls(channel: { call in
            let shard = call.shard
            let peers: PeerClients
            switch call {
            case .place, .submit, .quote, .strategy: peers = books
            case .deliver, .awaitDurable: peers = deliveries
            case .account: peers = accounts
            }
            guard let owner = assignment()?.owner(of: shard) else {
                throw BourseError(.unavailable, "no node owns \(shard) yet")
            }
            // The owner may be this node: the caller chose to call because the shard was not served here when it
            // looked, and it may be by now (a move under way), so the call goes to this node's own peer server,
            // which answers `unavailable` until then (and the call is tried again).
            guard let address = peerAddress(owner), let client = peers.client(for: address) else {
                throw BourseError(.unavailable, "\(owner), the owner of \(shard), is not reachable yet")
            }
            return client
        })
    }
}
