import Trading

/// What other nodes ask of the shards this exchange serves (the receiving side of `ShardPeers`). Each call is
/// refused (`unavailable`, so that the sender tries again, here or at the shard's next owner) unless the
/// exchange is serving: recovered, and not stopping.
extension Exchange {
    public func servePlace(_ order: NewOrder, settledThrough: OrderID, symbol: String, nowMillis: Int64)
        async throws -> [BookEvent]
    {
        try await servedSymbol(symbol).place(order, settledThrough: settledThrough, nowMillis: nowMillis)
    }

    public func serveSubmit(_ command: BookCommand, symbol: String, nowMillis: Int64) async throws -> [BookEvent] {
        try await servedSymbol(symbol).submit(command, nowMillis: nowMillis)
    }

    public func serveQuote(symbol: String) async throws -> SymbolQuote { try await servedSymbol(symbol).quote }

    public func serveDeliver(
        symbol: String, batches: [BookEventBatch], toShard index: Int, expectedEpoch: Int64?
    ) async throws -> DeliveryReceipt {
        try servedAccountShard(index)
        guard
            let receipt = try await accounts.deliver(
                symbol: symbol, batches: batches, toShard: index, expectedEpoch: expectedEpoch)
        else { throw BourseError(.validation, "account shard \(index) out of range") }
        return receipt
    }

    public func serveAwaitDurable(accountShard index: Int, through sequence: Int64, epoch: Int64?) async throws {
        try servedAccountShard(index)
        try await accounts.awaitDurable(shard: index, through: sequence, epoch: epoch)
    }

    public func serveStrategy(_ call: StrategyCall, symbol: String) async throws -> ShardAnswer {
        try await call.run(on: try servedSymbol(symbol))
    }

    private func servedSymbol(_ symbol: String) throws(BourseError) -> SymbolActor {
        let actor = try symbolActor(symbol)
        guard ready.isSet, serves(ShardKey.symbol(symbol)) else {
            throw BourseError(.unavailable, "market \(symbol) is not served by \(configuration.nodeID)")
        }
        return actor
    }

    private func servedAccountShard(_ index: Int) throws(BourseError) {
        guard ready.isSet, accounts.serves(index) else {
            throw BourseError(
                .unavailable, "\(ShardKey.account(index: index)) is not served by \(configuration.nodeID)")
        }
    }
}
