import Trading

/// What a node asks of a user's account on the node serving the user's account shard: what strategies and
/// paper liquidity do for their users beside a book served here, whatever node the users' accounts live on.
/// The owner runs it as it runs a client's request (`Exchange.serve(_:)`); it crosses as `ShardCall.account`.
public enum AccountCall: Sendable, Hashable {
    case placeOrder(user: UserID, request: OrderRequest)
    case cancelOrder(user: UserID, orderID: OrderID)
    /// The user's open orders in a market that rest at a price (a paper-liquidity ladder).
    case restingOrders(user: UserID, symbol: String)
    case balances(user: UserID)
    case deposit(user: UserID, currency: String, amount: Amount, idempotencyKey: String)

    public var user: UserID {
        switch self {
        case .placeOrder(let user, _), .cancelOrder(let user, _), .restingOrders(let user, _), .balances(let user),
            .deposit(let user, _, _, _):
            user
        }
    }
}

/// The account calls of an exchange (`Exchange.accountOwner`), each run where the user's account shard is
/// served: here, or on its owner through the exchange's `ShardPeers`. A call refused there because the shard is
/// moving is tried again for a few seconds (by the transport); one whose answer was lost is not, so a place
/// without a client order id is never sent twice.
public struct AccountOwnerCalls: Sendable {
    let exchange: Exchange

    /// Places an order for `user` as a client's `POST /v1/orders` would; the new (or retried) order's id.
    public func placeOrder(user: UserID, request: OrderRequest) async throws -> OrderID {
        guard case .placed(let id) = try await exchange.perform(.placeOrder(user: user, request: request)) else {
            throw Self.unexpected
        }
        return id
    }

    public func cancelOrder(user: UserID, orderID: OrderID) async throws {
        guard case .done = try await exchange.perform(.cancelOrder(user: user, orderID: orderID)) else {
            throw Self.unexpected
        }
    }

    public func restingOrders(user: UserID, symbol: String) async throws -> [RequotePlan.Resting] {
        guard case .resting(let orders) = try await exchange.perform(.restingOrders(user: user, symbol: symbol))
        else { throw Self.unexpected }
        return orders
    }

    public func balances(user: UserID) async throws -> [BalanceView] {
        guard case .balances(let balances) = try await exchange.perform(.balances(user: user)) else {
            throw Self.unexpected
        }
        return balances
    }

    /// A deposit into a system account (paper liquidity's inventory): it joins no position (`Exchange.deposit`).
    public func deposit(user: UserID, currency: String, amount: Amount, idempotencyKey: String) async throws {
        let call = AccountCall.deposit(user: user, currency: currency, amount: amount, idempotencyKey: idempotencyKey)
        guard case .done = try await exchange.perform(call) else { throw Self.unexpected }
    }

    private static let unexpected = BourseError(.internal, "unexpected answer to an account call")
}

extension Exchange {
    /// Account calls run on the owner of each user's account shard (see `AccountOwnerCalls`).
    public var accountOwner: AccountOwnerCalls { AccountOwnerCalls(exchange: self) }

    /// Runs `call` here when this node serves the user's account shard (or has no peers: it serves them all),
    /// else on the shard's owner.
    func perform(_ call: AccountCall) async throws -> ShardAnswer {
        let index = ShardKey.accountShardIndex(call.user, shards: accounts.shardCount)
        guard let peers, !accounts.serves(index) else { return try await run(call) }
        let answer = try await peers.account(call, shard: index)
        if case .failed(let error) = answer { throw error }
        return answer
    }

    /// Runs an account call on this node: `unavailable` (nothing done) unless it serves the user's account shard.
    func run(_ call: AccountCall) async throws -> ShardAnswer {
        guard ready.isSet else { throw BourseError(.unavailable, "\(configuration.nodeID) is not serving") }
        switch call {
        case .placeOrder(let user, let request):
            return .placed(try await placeOrder(user: user, request: request).order.orderID)
        case .cancelOrder(let user, let orderID):
            _ = try await cancelOrder(user: user, orderID: orderID)
            return .done
        case .restingOrders(let user, let symbol):
            let open = try await orders(user: user, filter: OrderFilter(status: .open, symbol: symbol, limit: .max))
            return .resting(
                open.compactMap { order in
                    order.price.map { RequotePlan.Resting(orderID: order.orderID, side: order.side, price: $0) }
                })
        case .balances(let user):
            return .balances(try await balances(user: user))
        case .deposit(let user, let currency, let amount, let key):
            // The inventory of paper liquidity: a system account whose positions nobody reads, so not valued (a
            // valued deposit is a journal record that releases before it cannot read).
            _ = try await deposit(user: user, currency: currency, amount: amount, idempotencyKey: key, valued: false)
            return .done
        }
    }
}

extension BinaryWriter {
    mutating func write(accountCall call: AccountCall) {
        switch call {
        case .placeOrder(let user, let request):
            write(UInt8(1))
            write(user)
            write(request: request)
        case .cancelOrder(let user, let orderID):
            write(UInt8(2))
            write(user)
            write(orderID)
        case .restingOrders(let user, let symbol):
            write(UInt8(3))
            write(user)
            write(symbol)
        case .balances(let user):
            write(UInt8(4))
            write(user)
        case .deposit(let user, let currency, let amount, let key):
            write(UInt8(5))
            write(user)
            write(currency)
            write(amount.units)
            write(key)
        }
    }

    mutating func write(resting orders: [RequotePlan.Resting]) {
        writeCount(orders.count)
        for order in orders {
            write(order.orderID)
            write(order.side.rawValue)
            write(order.price.ticks)
        }
    }

    mutating func write(balances: [BalanceView]) {
        writeCount(balances.count)
        for balance in balances {
            write(balance.currency)
            write(balance.available.units)
            write(balance.locked.units)
        }
    }
}

extension BinaryReader {
    mutating func readAccountCall() throws(BourseError) -> AccountCall {
        let tag = try readUInt8()
        let user = try readUInt64()
        switch tag {
        case 1: return .placeOrder(user: user, request: try readRequest())
        case 2: return .cancelOrder(user: user, orderID: try readUInt64())
        case 3: return .restingOrders(user: user, symbol: try readString())
        case 4: return .balances(user: user)
        case 5:
            return .deposit(
                user: user, currency: try readString(), amount: Amount(units: try readInt64()),
                idempotencyKey: try readString())
        default: throw BourseError(.validation, "unknown account call")
        }
    }

    mutating func readResting() throws(BourseError) -> [RequotePlan.Resting] {
        var orders: [RequotePlan.Resting] = []
        for _ in 0..<(try readCount(minimumElementSize: 17)) {
            let id = try readUInt64()
            guard let side = Side(rawValue: try readUInt8()) else {
                throw BourseError(.validation, "unknown side in an account answer")
            }
            orders.append(RequotePlan.Resting(orderID: id, side: side, price: Price(ticks: try readInt64())))
        }
        return orders
    }

    mutating func readBalances() throws(BourseError) -> [BalanceView] {
        var balances: [BalanceView] = []
        for _ in 0..<(try readCount(minimumElementSize: 17)) {
            balances.append(
                BalanceView(
                    currency: try readString(), available: Amount(units: try readInt64()),
                    locked: Amount(units: try readInt64())))
        }
        return balances
    }
}
