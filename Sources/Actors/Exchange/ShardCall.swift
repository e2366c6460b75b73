import Trading

/// One `ShardPeers` call as it crosses nodes: what the sender asks of a shard another node serves, in the binary
/// encoding of the journals. The receiver runs it with `Exchange.serve(_:)` and sends back a `ShardAnswer`.
public enum ShardCall: Sendable, Hashable {
    case place(symbol: String, order: NewOrder, settledThrough: OrderID, nowMillis: Int64)
    case submit(symbol: String, command: BookCommand, nowMillis: Int64)
    case quote(symbol: String)
    /// Book events for an account shard; refused unless its epoch there is `expectedEpoch` (when given).
    case deliver(symbol: String, accountShard: Int, batches: [BookEventBatch], expectedEpoch: Int64? = nil)
    /// Durable through `through`, written with `epoch` (when given).
    case awaitDurable(accountShard: Int, through: Int64, epoch: Int64? = nil)
    /// A user's account call, for their account shard `accountShard`.
    case account(accountShard: Int, call: AccountCall)
    /// A call on the strategies of `symbol`'s market, for its book's owner.
    case strategy(symbol: String, call: StrategyCall)

    /// The shard the call is for (`ShardKey` name): where the sender routes it.
    public var shard: String {
        switch self {
        case .place(let symbol, _, _, _), .submit(let symbol, _, _), .quote(let symbol), .strategy(let symbol, _):
            ShardKey.symbol(symbol)
        case .deliver(_, let index, _, _), .awaitDurable(let index, _, _), .account(let index, _):
            ShardKey.account(index: index)
        }
    }

    public func encoded() -> [UInt8] {
        var writer = BinaryWriter(reservingCapacity: 96)
        switch self {
        case .place(let symbol, let order, let settledThrough, let nowMillis):
            writer.write(UInt8(1))
            writer.write(symbol)
            writer.write(order: order)
            writer.write(settledThrough)
            writer.write(nowMillis)
        case .submit(let symbol, let command, let nowMillis):
            writer.write(UInt8(2))
            writer.write(symbol)
            writer.write(bookCommand: command)
            writer.write(nowMillis)
        case .quote(let symbol):
            writer.write(UInt8(3))
            writer.write(symbol)
        case .deliver(let symbol, let index, let batches, let expectedEpoch):
            writer.write(UInt8(4))
            writer.write(symbol)
            writer.write(Int64(index))
            writer.writeCount(batches.count)
            for batch in batches {
                writer.write(batch.timestampMillis)
                writer.write(events: batch.events)
            }
            writer.write(optionalEpoch: expectedEpoch)
        case .awaitDurable(let index, let sequence, let epoch):
            writer.write(UInt8(5))
            writer.write(Int64(index))
            writer.write(sequence)
            writer.write(optionalEpoch: epoch)
        case .account(let index, let call):
            writer.write(UInt8(6))
            writer.write(Int64(index))
            writer.write(accountCall: call)
        case .strategy(let symbol, let call):
            writer.write(UInt8(7))
            writer.write(symbol)
            writer.write(strategyCall: call)
        }
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(BourseError) {
        var reader = BinaryReader(bytes)
        switch try reader.readUInt8() {
        case 1:
            self = .place(
                symbol: try reader.readString(), order: try reader.readOrder(), settledThrough: try reader.readUInt64(),
                nowMillis: try reader.readInt64())
        case 2:
            self = .submit(
                symbol: try reader.readString(), command: try reader.readBookCommand(),
                nowMillis: try reader.readInt64())
        case 3:
            self = .quote(symbol: try reader.readString())
        case 4:
            let symbol = try reader.readString()
            let index = try reader.readShardIndex()
            var batches: [BookEventBatch] = []
            for _ in 0..<(try reader.readCount(minimumElementSize: 16)) {
                batches.append(BookEventBatch(timestampMillis: try reader.readInt64(), events: try reader.readEvents()))
            }
            self = .deliver(
                symbol: symbol, accountShard: index, batches: batches,
                // Absent from an older node's call.
                expectedEpoch: reader.remaining > 0 ? try reader.readOptionalEpoch() : nil)
        case 5:
            self = .awaitDurable(
                accountShard: try reader.readShardIndex(), through: try reader.readInt64(),
                epoch: reader.remaining > 0 ? try reader.readOptionalEpoch() : nil)
        case 6:
            self = .account(accountShard: try reader.readShardIndex(), call: try reader.readAccountCall())
        case 7:
            self = .strategy(symbol: try reader.readString(), call: try reader.readStrategyCall())
        default:
            throw BourseError(.validation, "unknown shard call")
        }
        try reader.expectEnd()
    }
}

/// What a `ShardCall` comes back with.
public enum ShardAnswer: Sendable, Hashable {
    /// `place`, `submit`: the command's book events (none for a repeated place).
    case events([BookEvent])
    case quote(SymbolQuote)
    /// `deliver`: the account shard's receipt.
    case settled(DeliveryReceipt)
    /// `awaitDurable`.
    case durable
    /// Refused, as the receiver's `BourseError` (`unavailable`: try again, here or at the next owner).
    case failed(BourseError)
    /// `account(placeOrder)`: the order's id.
    case placed(OrderID)
    /// `account(cancelOrder, deposit)`.
    case done
    /// `account(restingOrders)`.
    case resting([RequotePlan.Resting])
    /// `account(balances)`.
    case balances([BalanceView])
    /// `strategy` (one strategy, or a list).
    case strategies([StrategyView])
    /// `strategy(signals)`.
    case signals([SignalView])

    public func encoded() -> [UInt8] {
        var writer = BinaryWriter(reservingCapacity: 64)
        switch self {
        case .events(let events):
            writer.write(UInt8(1))
            writer.write(events: events)
        case .quote(let quote):
            writer.write(UInt8(2))
            writer.write(quote.halted)
            writer.write(optionalTicks: quote.bid)
            writer.write(optionalTicks: quote.ask)
            writer.write(optionalTicks: quote.last)
        case .settled(let receipt):
            writer.write(UInt8(3))
            writer.write(receipt.sequence != nil)
            writer.write(receipt.sequence ?? 0)
            writer.write(receipt.epoch)
            writer.write(receipt.durable)
        case .durable:
            writer.write(UInt8(4))
        case .failed(let error):
            writer.write(UInt8(5))
            writer.write(error.code.rawValue)
            writer.write(error.message)
        case .placed(let id):
            writer.write(UInt8(6))
            writer.write(id)
        case .done:
            writer.write(UInt8(7))
        case .resting(let orders):
            writer.write(UInt8(8))
            writer.write(resting: orders)
        case .balances(let balances):
            writer.write(UInt8(9))
            writer.write(balances: balances)
        case .strategies(let views):
            writer.write(UInt8(10))
            writer.write(strategies: views)
        case .signals(let views):
            writer.write(UInt8(11))
            writer.write(signals: views)
        }
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(BourseError) {
        var reader = BinaryReader(bytes)
        switch try reader.readUInt8() {
        case 1: self = .events(try reader.readEvents())
        case 2:
            self = .quote(
                SymbolQuote(
                    halted: try reader.readBool(), bid: try reader.readOptionalTicks(),
                    ask: try reader.readOptionalTicks(),
                    // Absent from an older node's answer.
                    last: reader.remaining > 0 ? try reader.readOptionalTicks() : nil))
        case 3:
            let present = try reader.readBool()
            let sequence = try reader.readInt64()
            // Epoch and durable position are absent from an older node's answer (0: unknown).
            let epoch = reader.remaining > 0 ? try reader.readInt64() : 0
            let durable = reader.remaining > 0 ? try reader.readInt64() : 0
            self = .settled(DeliveryReceipt(sequence: present ? sequence : nil, epoch: epoch, durable: durable))
        case 4: self = .durable
        case 5:
            self = .failed(BourseError(BourseError.Code(rawValue: try reader.readString()), try reader.readString()))
        case 6: self = .placed(try reader.readUInt64())
        case 7: self = .done
        case 8: self = .resting(try reader.readResting())
        case 9: self = .balances(try reader.readBalances())
        case 10: self = .strategies(try reader.readStrategies())
        case 11: self = .signals(try reader.readSignals())
        default: throw BourseError(.validation, "unknown shard answer")
        }
        try reader.expectEnd()
    }
}

/// `ShardPeers` over a transport that carries a call to the shard's owner and brings its answer back (the
/// node's peer transport; tests pass calls to another exchange's `serve(_:)`).
public struct ShardCallPeers: ShardPeers {
    /// Sends the call to the node serving its shard; throws when that node cannot be reached.
    let send: @Sendable (ShardCall) async throws -> ShardAnswer

    public init(send: @escaping @Sendable (ShardCall) async throws -> ShardAnswer) { self.send = send }

    public func place(_ order: NewOrder, settledThrough: OrderID, symbol: String, nowMillis: Int64) async throws
        -> [BookEvent]
    {
        try Self.events(
            await send(.place(symbol: symbol, order: order, settledThrough: settledThrough, nowMillis: nowMillis)))
    }

    public func submit(_ command: BookCommand, symbol: String, nowMillis: Int64) async throws -> [BookEvent] {
        try Self.events(await send(.submit(symbol: symbol, command: command, nowMillis: nowMillis)))
    }

    public func quote(symbol: String) async throws -> SymbolQuote {
        switch try await send(.quote(symbol: symbol)) {
        case .quote(let quote): return quote
        case let answer: throw Self.unexpected(answer)
        }
    }

    public func deliver(symbol: String, batches: [BookEventBatch], toShard index: Int, expectedEpoch: Int64?)
        async throws -> DeliveryReceipt
    {
        let call = ShardCall.deliver(
            symbol: symbol, accountShard: index, batches: batches, expectedEpoch: expectedEpoch)
        switch try await send(call) {
        case .settled(let receipt): return receipt
        case let answer: throw Self.unexpected(answer)
        }
    }

    public func awaitDurable(accountShard index: Int, through sequence: Int64, epoch: Int64?) async throws {
        switch try await send(.awaitDurable(accountShard: index, through: sequence, epoch: epoch)) {
        case .durable: return
        case let answer: throw Self.unexpected(answer)
        }
    }

    public func account(_ call: AccountCall, shard index: Int) async throws -> ShardAnswer {
        try await send(.account(accountShard: index, call: call))
    }

    public func strategy(_ call: StrategyCall, symbol: String) async throws -> ShardAnswer {
        try await send(.strategy(symbol: symbol, call: call))
    }

    private static func events(_ answer: ShardAnswer) throws -> [BookEvent] {
        guard case .events(let events) = answer else { throw unexpected(answer) }
        return events
    }

    private static func unexpected(_ answer: ShardAnswer) -> BourseError {
        if case .failed(let error) = answer { return error }
        return BourseError(.internal, "unexpected answer to a shard call")
    }
}

extension Exchange {
    /// Runs a call from another node on the shard it names (see `Exchange+Peers`); every failure is an answer.
    public func serve(_ call: ShardCall) async -> ShardAnswer {
        do {
            switch call {
            case .place(let symbol, let order, let settledThrough, let nowMillis):
                return .events(
                    try await servePlace(order, settledThrough: settledThrough, symbol: symbol, nowMillis: nowMillis))
            case .submit(let symbol, let command, let nowMillis):
                return .events(try await serveSubmit(command, symbol: symbol, nowMillis: nowMillis))
            case .quote(let symbol):
                return .quote(try await serveQuote(symbol: symbol))
            case .deliver(let symbol, let index, let batches, let expectedEpoch):
                return .settled(
                    try await serveDeliver(
                        symbol: symbol, batches: batches, toShard: index, expectedEpoch: expectedEpoch))
            case .awaitDurable(let index, let sequence, let epoch):
                try await serveAwaitDurable(accountShard: index, through: sequence, epoch: epoch)
                return .durable
            case .account(_, let call):
                return try await run(call)
            case .strategy(let symbol, let call):
                return try await serveStrategy(call, symbol: symbol)
            }
        } catch let error as BourseError {
            return .failed(error)
        } catch {
            return .failed(BourseError(.unavailable, "\(error)"))
        }
    }
}

extension BinaryWriter {
    fileprivate mutating func write(optionalEpoch epoch: Int64?) {
        write(epoch != nil)
        write(epoch ?? 0)
    }

    fileprivate mutating func write(events: [BookEvent]) {
        writeCount(events.count)
        for event in events { write(event: event) }
    }
}

extension BinaryReader {
    fileprivate mutating func readEvents() throws(BourseError) -> [BookEvent] {
        var events: [BookEvent] = []
        for _ in 0..<(try readCount(minimumElementSize: 9)) { events.append(try readEvent()) }
        return events
    }

    fileprivate mutating func readOptionalEpoch() throws(BourseError) -> Int64? {
        let present = try readBool()
        let epoch = try readInt64()
        return present ? epoch : nil
    }

    fileprivate mutating func readShardIndex() throws(BourseError) -> Int {
        let index = try readInt64()
        guard index >= 0, index < 1 << 16 else { throw BourseError(.validation, "account shard out of range") }
        return Int(index)
    }
}
