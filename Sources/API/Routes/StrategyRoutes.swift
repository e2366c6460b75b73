import Actors
import Hummingbird
import Trading

/// api.md "Strategies" (Bearer): validating a strategy, computing an indicator over a series, and the
/// caller's strategies — create, list, get, delete, pause, resume, and their signals. Another user's
/// strategy is 404, as an unknown one.
struct StrategyRoutes {
    let services: APIServices
    /// Signals per request: at most as many as a strategy keeps.
    static let signalLimit = 1...Exchange.signalLimit

    func register(on table: APIRouteTable) {
        let services = self.services
        let exchange = services.exchange
        let parser = StrategyRequestParser(services: services)

        table.post("/v1/strategies/validate") { request, context in
            _ = try context.requireUser()
            var request = request
            let body = try await request.jsonBody(limit: services.bodyLimit, maxDepth: services.maxJSONDepth)
            do {
                _ = try await parser.parse(body)
            } catch let error as StrategyValidationError {
                return error.response
            }
            return .json(["valid": true])
        }
        table.post("/v1/indicators") { request, context in
            _ = try context.requireUser()
            var request = request
            let body = try await request.jsonBody(limit: services.bodyLimit, maxDepth: services.maxJSONDepth)
            let values = try IndicatorRequest(body).values()
            return .json(["values": .array(values.map { $0.map(JSONValue.double) ?? .null })])
        }
        table.post("/v1/strategies") { request, context in
            let user = try context.requireUser()
            var request = request
            let body = try await request.jsonBody(limit: services.bodyLimit, maxDepth: services.maxJSONDepth)
            let definition: StrategyDefinition
            do {
                definition = try await parser.parse(body)
            } catch let error as StrategyValidationError {
                return error.response
            }
            let strategy = try await exchange.createStrategy(user: user.id, definition: definition)
            return .json(try await Self.render(strategy, exchange), status: .created)
        }
        table.get("/v1/strategies") { _, context in
            let user = try context.requireUser()
            var specs: [String: MarketSpec] = [:]
            var rendered: [JSONValue] = []
            for strategy in try await exchange.strategies(user: user.id) {
                let symbol = strategy.definition.symbol
                if specs[symbol] == nil { specs[symbol] = try await exchange.market(symbol).spec }
                rendered.append(Render.strategy(strategy, specs[symbol]!))
            }
            return .json(.array(rendered))
        }
        table.get("/v1/strategies/{strategy_id}") { _, context in
            let user = try context.requireUser()
            let strategy = try await exchange.strategy(user: user.id, strategyID: try context.strategyIDParameter())
            return .json(try await Self.render(strategy, exchange))
        }
        table.delete("/v1/strategies/{strategy_id}") { _, context in
            let user = try context.requireUser()
            let strategy = try await exchange.deleteStrategy(
                user: user.id, strategyID: try context.strategyIDParameter())
            return .json(try await Self.render(strategy, exchange))
        }
        table.post("/v1/strategies/{strategy_id}/pause") { _, context in
            let user = try context.requireUser()
            let strategy = try await exchange.pauseStrategy(
                user: user.id, strategyID: try context.strategyIDParameter())
            return .json(try await Self.render(strategy, exchange))
        }
        table.post("/v1/strategies/{strategy_id}/resume") { _, context in
            let user = try context.requireUser()
            let strategy = try await exchange.resumeStrategy(
                user: user.id, strategyID: try context.strategyIDParameter())
            return .json(try await Self.render(strategy, exchange))
        }
        table.get("/v1/strategies/{strategy_id}/signals") { request, context in
            let user = try context.requireUser()
            let strategyID = try context.strategyIDParameter()
            let limit = try request.intQuery("limit", default: 100, range: Self.signalLimit)
            let signals = try await exchange.strategySignals(user: user.id, strategyID: strategyID, limit: limit)
            guard let symbol = signals.first.flatMap({ StrategyID.parse($0.strategyID)?.symbol }) else {
                return .json([])
            }
            let spec = try await exchange.market(symbol).spec
            return .json(.array(signals.map { Render.signal($0, spec) }))
        }
    }

    private static func render(_ strategy: StrategyView, _ exchange: any ExchangeService) async throws -> JSONValue {
        Render.strategy(strategy, try await exchange.market(strategy.definition.symbol).spec)
    }
}

extension APIRequestContext {
    /// A strategy id from the path (the exchange answers 404 for one it does not know).
    func strategyIDParameter() throws(BourseError) -> String {
        guard let id = parameters.get("strategy_id"), (1...64).contains(id.utf8.count) else {
            throw .notFound("strategy not found")
        }
        return id
    }
}
