import Actors
import Hummingbird
import Trading

/// api.md "Orders" (Bearer): place (single and batch), list, get, cancel (one and all), amend, fills.
struct OrderRoutes {
    let services: APIServices
    /// Orders per batch request.
    static let batchSize = 1...20

    func register(on table: APIRouteTable) {
        let services = self.services
        let exchange = services.exchange
        let parser = OrderRequestParser(services: services)

        table.post("/v1/orders") { request, context in
            let user = try context.requireUser()
            var request = request
            let body = try await request.jsonBody(limit: services.bodyLimit, maxDepth: services.maxJSONDepth)
            let (order, created) = try await exchange.placeOrder(user: user.id, request: try await parser.parse(body))
            let spec = try await exchange.market(order.symbol).spec
            return .json(Render.order(order, spec), status: created ? .created : .ok)
        }
        table.post("/v1/orders/batch") { request, context in
            let user = try context.requireUser()
            var request = request
            let fields = try RequestFields(
                try await request.jsonBody(limit: services.bodyLimit, maxDepth: services.maxJSONDepth))
            let orders = try fields.array("orders")
            guard Self.batchSize.contains(orders.count) else {
                throw BourseError.validation("orders must hold 1-20 orders")
            }
            var results: [JSONValue] = []
            for body in orders {
                results.append(await Self.placeOne(body, user: user, parser: parser, services: services))
            }
            return .json(["results": .array(results)])
        }
        table.get("/v1/orders") { request, context in
            let user = try context.requireUser()
            let status: OrderFilter.Status
            if let text = request.query("status") {
                guard let match = OrderFilter.Status.apiNames.first(where: { $0.key == text }) else {
                    throw BourseError.validation("status must be one of open, closed, all")
                }
                status = match.value
            } else {
                status = .all
            }
            let symbol = try Self.symbolQuery(request)
            let limit = try request.intQuery("limit", default: 100, range: 1...1000)
            let orders = try await exchange.orders(
                user: user.id, filter: OrderFilter(status: status, symbol: symbol, limit: limit))
            return .json(try await Self.render(orders, services))
        }
        table.delete("/v1/orders") { request, context in
            let user = try context.requireUser()
            let orders = try await exchange.cancelAll(user: user.id, symbol: try Self.symbolQuery(request))
            return .json(try await Self.render(orders, services))
        }
        table.get("/v1/orders/{order_id}") { _, context in
            let user = try context.requireUser()
            let order = try await exchange.order(user: user.id, orderID: try context.orderIDParameter())
            return .json(Render.order(order, try await exchange.market(order.symbol).spec))
        }
        table.delete("/v1/orders/{order_id}") { _, context in
            let user = try context.requireUser()
            let order = try await exchange.cancelOrder(user: user.id, orderID: try context.orderIDParameter())
            return .json(Render.order(order, try await exchange.market(order.symbol).spec))
        }
        table.patch("/v1/orders/{order_id}") { request, context in
            let user = try context.requireUser()
            let orderID = try context.orderIDParameter()
            var request = request
            let fields = try RequestFields(
                try await request.jsonBody(limit: services.bodyLimit, maxDepth: services.maxJSONDepth))
            let priceText = try fields.optionalDecimalText("price")
            let quantityText = try fields.optionalDecimalText("quantity")
            guard priceText != nil || quantityText != nil else {
                throw BourseError.validation("price or quantity is required")
            }
            let current = try await exchange.order(user: user.id, orderID: orderID)
            let spec = try await exchange.market(current.symbol).spec
            let order = try await exchange.amendOrder(
                user: user.id, orderID: orderID,
                price: try priceText.map { text throws(BourseError) in try spec.price(parsing: text) },
                quantity: try quantityText.map { text throws(BourseError) in try spec.quantity(parsing: text) })
            return .json(Render.order(order, spec))
        }
        table.get("/v1/trades") { request, context in
            let user = try context.requireUser()
            let limit = try request.intQuery("limit", default: 100, range: 1...1000)
            let trades = try await exchange.userTrades(
                user: user.id, symbol: try Self.symbolQuery(request), limit: limit)
            let specs = await services.marketSpecs()
            var rendered: [JSONValue] = []
            for trade in trades {
                rendered.append(Render.userTrade(trade, try await services.spec(trade.symbol, in: specs)))
            }
            return .json(.array(rendered))
        }
    }

    /// One order of a batch: `{status, order}` or `{status, error}` with the status a single request
    /// would have had.
    static func placeOne(_ body: JSONValue, user: AuthenticatedUser, parser: OrderRequestParser, services: APIServices)
        async -> JSONValue
    {
        do {
            let (order, created) = try await services.exchange.placeOrder(
                user: user.id, request: try await parser.parse(body))
            let spec = try await services.exchange.market(order.symbol).spec
            return ["status": .int(created ? 201 : 200), "order": Render.order(order, spec)]
        } catch {
            let (shown, _) = ErrorResponse.resolve(error, logger: services.logger)
            return [
                "status": .int(shown.httpStatus.code),
                "error": ["code": .string(shown.code.rawValue), "message": .string(shown.message)],
            ]
        }
    }

    /// The optional `symbol` filter; a value that cannot be a symbol is a 400.
    static func symbolQuery(_ request: Request) throws(BourseError) -> String? {
        guard let symbol = request.query("symbol") else { return nil }
        guard MarketSpec.isValidSymbol(symbol) else { throw .validation("symbol must be 1-20 of A-Z, 0-9 and -") }
        return symbol
    }

    static func render(_ orders: [OrderView], _ services: APIServices) async throws -> JSONValue {
        let specs = await services.marketSpecs()
        var rendered: [JSONValue] = []
        for order in orders { rendered.append(Render.order(order, try await services.spec(order.symbol, in: specs))) }
        return .array(rendered)
    }
}
