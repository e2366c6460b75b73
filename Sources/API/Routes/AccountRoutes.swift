import Actors
import Hummingbird
import Trading

/// api.md "Account" (Bearer): deposits, withdrawals, balances, transactions.
struct AccountRoutes {
    let services: APIServices

    func register(on table: APIRouteTable) {
        let services = self.services
        let exchange = services.exchange
        table.post("/v1/account/deposits") { request, context in
            let user = try context.requireUser()
            let (currency, amount, key) = try await Self.moneyRequest(request, services)
            let change = try await exchange.deposit(
                user: user.id, currency: currency, amount: amount, idempotencyKey: key)
            return .json(Render.balanceChange(change), status: .created)
        }
        table.post("/v1/account/withdrawals") { request, context in
            let user = try context.requireUser()
            let (currency, amount, key) = try await Self.moneyRequest(request, services)
            let change = try await exchange.withdraw(
                user: user.id, currency: currency, amount: amount, idempotencyKey: key)
            return .json(Render.balanceChange(change), status: .created)
        }
        table.get("/v1/account/balances") { _, context in
            let user = try context.requireUser()
            return .json(.array(try await exchange.balances(user: user.id).map(Render.balance)))
        }
        table.get("/v1/account/transactions") { request, context in
            let user = try context.requireUser()
            let limit = try request.intQuery("limit", default: 100, range: 1...1000)
            return .json(.array(try await exchange.transactions(user: user.id, limit: limit).map(Render.transaction)))
        }
    }

    /// `{currency, amount}` with a positive amount, and the `Idempotency-Key` header.
    static func moneyRequest(_ request: Request, _ services: APIServices) async throws
        -> (currency: String, amount: Amount, key: String?)
    {
        let key = try request.idempotencyKey()
        var request = request
        let fields = try RequestFields(
            try await request.jsonBody(limit: services.bodyLimit, maxDepth: services.maxJSONDepth))
        let currency = try fields.string("currency")
        guard MarketSpec.isValidCurrency(currency) else {
            throw BourseError.validation("currency must be 1-10 of A-Z and 0-9")
        }
        let amount = try Amount(parsing: try fields.decimalText("amount"), field: "amount")
        guard amount.units > 0 else { throw BourseError.validation("amount must be positive") }
        return (currency, amount, key)
    }
}
