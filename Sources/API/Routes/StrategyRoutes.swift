import Hummingbird
import Trading

/// api.md "Strategies" (Bearer), the stateless part: validating a strategy, and computing an indicator over
/// a series.
struct StrategyRoutes {
    let services: APIServices

    func register(on table: APIRouteTable) {
        let services = self.services
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
    }
}
