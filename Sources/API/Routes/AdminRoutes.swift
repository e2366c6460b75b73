import Actors
import Foundation
import Hummingbird
import NIOCore
import Trading

/// api.md "Operations", the admin routes under `/admin/v1/`: every one needs a token with role `admin`
/// (401 without a valid token, 403 FORBIDDEN for another role), checked before anything else.
struct AdminRoutes {
    let services: APIServices

    func register(on table: APIRouteTable) {
        let services = self.services
        table.get("/admin/v1/cluster") { _, context in
            let admin = try Self.admin(services, context)
            return .json(Render.cluster(try await admin.clusterStatus(), localAddress: Self.localAddress(context)))
        }
        table.get("/admin/v1/shards") { _, context in
            let admin = try Self.admin(services, context)
            return .json(.array(try await admin.shards().map(Render.shard)))
        }
        table.post("/admin/v1/nodes/{node_id}/drain") { _, context in
            let admin = try Self.admin(services, context)
            let node = try Self.decodedParameter(context, "node_id", what: "node")
            try await admin.drain(node: node)
            return .json(["node": .string(node), "status": "draining"], status: .accepted)
        }
        table.post("/admin/v1/shards/{shard}/move") { request, context in
            let admin = try Self.admin(services, context)
            let fields = try await Self.body(request, services)
            let target = try fields.string("to")
            guard !target.isEmpty else { throw BourseError.validation("to must name a node") }
            let shard = try Self.decodedParameter(context, "shard", what: "shard")
            try await admin.moveShard(shard, to: target)
            return .json(["shard": .string(shard), "to": .string(target), "status": "moving"], status: .accepted)
        }
        table.post("/admin/v1/markets") { request, context in
            let admin = try Self.admin(services, context)
            let spec = try Self.marketSpec(try await Self.body(request, services))
            let market = try await admin.addMarket(spec)
            let by = try context.requireAdmin().id
            context.logger.notice("market added", metadata: ["symbol": "\(spec.symbol)", "by_user": "\(by)"])
            return .json(Render.market(market), status: .created)
        }
        for (action, halted) in [("halt", true), ("resume", false)] {
            table.post("/admin/v1/markets/{symbol}/\(action)") { _, context in
                let admin = try Self.admin(services, context)
                let symbol = try context.symbolParameter()
                try await admin.setHalted(symbol: symbol, halted: halted)
                let by = try context.requireAdmin().id
                context.logger.notice(
                    halted ? "market halted" : "market resumed", metadata: ["symbol": "\(symbol)", "by_user": "\(by)"])
                return .json(Render.market(try await services.exchange.market(symbol)))
            }
        }
        table.get("/admin/v1/verify") { _, context in
            let admin = try Self.admin(services, context)
            return .json(Render.report(await admin.verify()))
        }
    }

    /// The admin operations, for a caller with role `admin`.
    static func admin(_ services: APIServices, _ context: APIRequestContext) throws(BourseError)
        -> any ExchangeAdministration
    {
        _ = try context.requireAdmin()
        guard let admin = services.admin else {
            throw BourseError(.unavailable, "admin operations are not available on this node")
        }
        return admin
    }

    static func body(_ request: Request, _ services: APIServices) async throws -> RequestFields {
        var request = request
        return try RequestFields(try await request.jsonBody(limit: services.bodyLimit, maxDepth: services.maxJSONDepth))
    }

    /// A market as cluster.yaml describes one: decimals as strings (or exact numbers), fees as integers.
    /// A new market's symbol names its currencies, `BASE-QUOTE` as every market of api.md does (or `BASEQUOTE`).
    static func marketSpec(_ fields: RequestFields) throws(BourseError) -> MarketSpec {
        let spec = try MarketSpec(
            symbol: try fields.string("symbol"), base: try fields.string("base"), quote: try fields.string("quote"),
            tickSize: try fields.decimalText("tick_size"), lotSize: try fields.decimalText("lot_size"),
            minQuantity: try fields.decimalText("min_quantity"), makerFeeBps: try basisPoints(fields, "maker_fee_bps"),
            takerFeeBps: try basisPoints(fields, "taker_fee_bps"))
        guard spec.symbol == "\(spec.base)-\(spec.quote)" || spec.symbol == spec.base + spec.quote else {
            throw .validation(
                "symbol must name its currencies: \(spec.base)-\(spec.quote) or \(spec.base)\(spec.quote)")
        }
        return spec
    }

    private static func basisPoints(_ fields: RequestFields, _ key: String) throws(BourseError) -> Int64 {
        guard case .number(let text) = try fields.required(key), let value = Int64(text) else {
            throw .validation("\(key) must be an integer")
        }
        return value
    }

    /// A path parameter with its percent-encoding removed (`accounts%2F0417` is `accounts/0417`); anything
    /// that does not decode names nothing (404).
    static func decodedParameter(_ context: APIRequestContext, _ name: String, what: String) throws(BourseError)
        -> String
    {
        guard let raw = context.parameters.get(name), let decoded = raw.removingPercentEncoding, !decoded.isEmpty else {
            throw .notFound("unknown \(what)")
        }
        return decoded
    }

    /// `host:port` of the listening socket the request came in on; nil for a request forwarded by another node
    /// (this node's member is then shown with the address the cluster view has, which may be empty).
    static func localAddress(_ context: APIRequestContext) -> String? {
        guard let channel = context.channel, let address = channel.localAddress ?? channel.parent?.localAddress,
            let host = address.ipAddress, let port = address.port
        else { return nil }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
