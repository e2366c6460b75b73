import Actors
import TestSupport
import Trading

/// Random trading through the exchange's API: users funded in every currency, then concurrent traders
/// placing limit (some post-only, IOC or FOK), market and stop-limit orders, cancelling, amending,
/// depositing and withdrawing. Refusals (insufficient funds, rejected orders, orders already closed) are
/// part of the load; any other error fails the test.
enum RandomTrading {
    /// Mid price in ticks and a typical quantity in lots, per market.
    static let shapes: [String: (mid: Int64, lots: Int64)] = [
        "BTC-USD": (5_000_000, 1_000), "ETH-USD": (300_000, 1_000), "ADA-USD": (5_000, 100),
    ]

    static func run(
        _ exchange: Exchange, users count: Int, orders: Int, seed: UInt64,
        markets: [String] = ["BTC-USD", "ETH-USD"], traders: Int = 6
    ) async throws {
        let users = (1...count).map { UserID($0) }
        for user in users {
            for (currency, amount) in [("USD", "10000000"), ("BTC", "100"), ("ETH", "1000"), ("ADA", "1000000")] {
                _ = try await exchange.deposit(
                    user: user, currency: currency, amount: try Amount(parsing: amount), idempotencyKey: nil)
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for trader in 0..<traders {
                let own = users.enumerated().filter { $0.offset % traders == trader }.map(\.element)
                guard !own.isEmpty else { continue }
                group.addTask {
                    var random = SeededRandom(seed: seed &* 31 &+ UInt64(trader))
                    var open: [(UserID, OrderID)] = []
                    for _ in 0..<(orders / traders) {
                        let user = own[Int(random.int(in: 0...Int64(own.count - 1)))]
                        let symbol = markets[Int(random.int(in: 0...Int64(markets.count - 1)))]
                        try await step(exchange, user: user, symbol: symbol, open: &open, random: &random)
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    private static func step(
        _ exchange: Exchange, user: UserID, symbol: String, open: inout [(UserID, OrderID)],
        random: inout SeededRandom
    ) async throws {
        let (mid, lots) = shapes[symbol]!
        let side: Side = random.chance(50) ? .buy : .sell
        let price = Price(ticks: mid + random.int(in: -mid / 500...mid / 500))
        let quantity = Quantity(lots: random.int(in: lots / 10...lots * 3))
        let roll = random.int(in: 0...99)
        do {
            switch roll {
            case 0..<60:
                var request = OrderRequest(symbol: symbol, side: side, type: .limit, quantity: quantity, price: price)
                switch random.int(in: 0...9) {
                case 0: request.postOnly = true
                case 1: request.timeInForce = .ioc
                case 2: request.timeInForce = .fok
                default: break
                }
                let order = try await exchange.placeOrder(user: user, request: request).order
                if order.status.isOpen { open.append((user, order.orderID)) }
            case 60..<70:
                _ = try await exchange.placeOrder(
                    user: user, request: OrderRequest(symbol: symbol, side: side, type: .market, quantity: quantity))
            case 70..<75:
                let stop = Price(ticks: side == .buy ? mid + mid / 1_000 : mid - mid / 1_000)
                let order = try await exchange.placeOrder(
                    user: user,
                    request: OrderRequest(
                        symbol: symbol, side: side, type: .stopLimit, quantity: quantity, price: price, stopPrice: stop)
                ).order
                if order.status.isOpen { open.append((user, order.orderID)) }
            case 75..<88:
                guard !open.isEmpty else { return }
                let (owner, id) = open.remove(at: Int(random.int(in: 0...Int64(open.count - 1))))
                _ = try await exchange.cancelOrder(user: owner, orderID: id)
            case 88..<95:
                guard let (owner, id) = open.last else { return }
                _ = try await exchange.amendOrder(
                    user: owner, orderID: id, price: random.chance(50) ? price : nil,
                    quantity: Quantity(lots: random.int(in: lots...lots * 4)))
            case 95..<98:
                _ = try await exchange.withdraw(
                    user: user, currency: "USD", amount: Amount(units: random.int(in: 1...100_000_000)),
                    idempotencyKey: nil)
            default:
                _ = try await exchange.deposit(
                    user: user, currency: "USD", amount: Amount(units: random.int(in: 1...100_000_000)),
                    idempotencyKey: random.chance(50) ? "d-\(user)-\(roll)" : nil)
            }
        } catch let error as BourseError
            where [.insufficientFunds, .orderRejected, .conflict, .validation].contains(error.code)
        {
            return
        }
    }
}
