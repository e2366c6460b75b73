import Actors
import Hummingbird

/// api.md "Portfolio" (Bearer): holdings with P&L, and performance statistics.
struct PortfolioRoutes {
    let services: APIServices

    func register(on table: APIRouteTable) {
        let exchange = services.exchange
        table.get("/v1/portfolio") { _, context in
            let user = try context.requireUser()
            return .json(Render.portfolio(try await exchange.portfolio(user: user.id)))
        }
        table.get("/v1/portfolio/performance") { _, context in
            let user = try context.requireUser()
            return .json(Render.performance(try await exchange.performance(user: user.id)))
        }
    }
}
