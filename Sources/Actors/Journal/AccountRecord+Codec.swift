import Trading

/// Binary journal encoding of account shard records.
extension AccountShardState.Record {
    public func encoded() -> [UInt8] {
        var writer = BinaryWriter(reservingCapacity: 96)
        writer.write(timestampMillis)
        switch command {
        case .deposit(let user, let currency, let amount, let key, let valuation):
            // Tag 6 adds the valuation; a deposit without one keeps tag 0, as journals before it wrote.
            writer.write(UInt8(valuation == nil ? 0 : 6))
            writer.write(user)
            writer.write(currency)
            writer.write(amount.units)
            writer.write(optionalString: key)
            if let valuation {
                writer.write(valuation.symbol)
                writer.write(valuation.price.units)
            }
        case .withdraw(let user, let currency, let amount, let key):
            writer.write(UInt8(1))
            writer.write(user)
            writer.write(currency)
            writer.write(amount.units)
            writer.write(optionalString: key)
        case .place(let user, let request, let protection):
            writer.write(UInt8(2))
            writer.write(user)
            writer.write(request: request)
            writer.write(optionalTicks: protection)
        case .amend(let user, let orderID, let price, let quantity):
            writer.write(UInt8(3))
            writer.write(user)
            writer.write(orderID)
            writer.write(optionalTicks: price)
            writer.write(optionalLots: quantity)
        case .bookEvents(let symbol, let events):
            writer.write(UInt8(4))
            writer.write(symbol)
            writer.writeCount(events.count)
            for event in events { writer.write(event: event) }
        case .abandon(let orderID, let reason):
            writer.write(UInt8(5))
            writer.write(orderID)
            writer.write(reason.rawValue)
        }
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(BourseError) {
        var reader = BinaryReader(bytes)
        let timestamp = try reader.readInt64()
        let command: AccountShardState.Command
        switch try reader.readUInt8() {
        case let tag where tag <= 1 || tag == 6:
            let user = try reader.readUInt64()
            let currency = try reader.readString()
            let amount = Amount(units: try reader.readInt64())
            let key = try reader.readOptionalString()
            switch tag {
            case 0: command = .deposit(user: user, currency: currency, amount: amount, key: key)
            case 1: command = .withdraw(user: user, currency: currency, amount: amount, key: key)
            default:
                let valuation = AccountShardState.DepositValuation(
                    symbol: try reader.readString(), price: Amount(units: try reader.readInt64()))
                command = .deposit(user: user, currency: currency, amount: amount, key: key, valuation: valuation)
            }
        case 2:
            command = .place(
                user: try reader.readUInt64(), request: try reader.readRequest(),
                protection: try reader.readOptionalTicks())
        case 3:
            command = .amend(
                user: try reader.readUInt64(), orderID: try reader.readUInt64(), price: try reader.readOptionalTicks(),
                quantity: try reader.readOptionalLots())
        case 4:
            let symbol = try reader.readString()
            let count = try reader.readCount(minimumElementSize: 9)
            var events: [BookEvent] = []
            events.reserveCapacity(count)
            for _ in 0..<count { events.append(try reader.readEvent()) }
            command = .bookEvents(symbol: symbol, events: events)
        case 5:
            let orderID = try reader.readUInt64()
            guard let reason = RejectReason(rawValue: try reader.readUInt8()) else { throw corrupt }
            command = .abandon(orderID: orderID, reason: reason)
        default:
            throw corrupt
        }
        try reader.expectEnd()
        self.init(timestampMillis: timestamp, command: command)
    }
}

private let corrupt = BourseError(.internal, "corrupt journal: account record")

extension BinaryWriter {
    mutating func write(request: OrderRequest) {
        write(request.symbol)
        write(request.side.rawValue)
        write(request.type.rawValue)
        write(request.quantity.lots)
        write(optionalTicks: request.price)
        write(optionalTicks: request.stopPrice)
        write(request.timeInForce.rawValue)
        write(request.postOnly)
        write(optionalString: request.clientOrderID)
    }

    mutating func write(event: BookEvent) {
        write(event.sequence)
        switch event.kind {
        case .accepted(let id):
            write(UInt8(0))
            write(id)
        case .rejected(let id, let reason):
            write(UInt8(1))
            write(id)
            write(reason.rawValue)
        case .trade(let trade):
            write(UInt8(2))
            write(trade.id)
            write(trade.price.ticks)
            write(trade.quantity.lots)
            write(trade.takerSide.rawValue)
            write(trade.makerOrderID)
            write(trade.makerOwner)
            write(trade.makerRemaining.lots)
            write(trade.takerOrderID)
            write(trade.takerOwner)
            write(trade.takerRemaining.lots)
        case .cancelled(let id, let remaining, let reason):
            write(UInt8(3))
            write(id)
            write(remaining.lots)
            write(reason.rawValue)
        case .expired(let id, let remaining):
            write(UInt8(4))
            write(id)
            write(remaining.lots)
        case .triggered(let id):
            write(UInt8(5))
            write(id)
        case .amended(let id, let price, let quantity, let remaining):
            write(UInt8(6))
            write(id)
            write(price.ticks)
            write(quantity.lots)
            write(remaining.lots)
        }
    }
}

extension BinaryReader {
    mutating func readRequest() throws(BourseError) -> OrderRequest {
        let symbol = try readString()
        guard let side = Side(rawValue: try readUInt8()), let type = OrderType(rawValue: try readUInt8()) else {
            throw corrupt
        }
        let quantity = Quantity(lots: try readInt64())
        let price = try readOptionalTicks()
        let stopPrice = try readOptionalTicks()
        guard let tif = TimeInForce(rawValue: try readUInt8()) else { throw corrupt }
        let postOnly = try readBool()
        let client = try readOptionalString()
        return OrderRequest(
            symbol: symbol, side: side, type: type, quantity: quantity, price: price, stopPrice: stopPrice,
            timeInForce: tif, postOnly: postOnly, clientOrderID: client)
    }

    mutating func readEvent() throws(BourseError) -> BookEvent {
        let sequence = try readUInt64()
        let kind: BookEvent.Kind
        switch try readUInt8() {
        case 0: kind = .accepted(try readUInt64())
        case 1:
            let id = try readUInt64()
            guard let reason = RejectReason(rawValue: try readUInt8()) else { throw corrupt }
            kind = .rejected(id, reason)
        case 2:
            let id = try readUInt64()
            let price = Price(ticks: try readInt64())
            let quantity = Quantity(lots: try readInt64())
            guard let side = Side(rawValue: try readUInt8()) else { throw corrupt }
            kind = .trade(
                Trade(
                    id: id, price: price, quantity: quantity, takerSide: side, makerOrderID: try readUInt64(),
                    makerOwner: try readUInt64(), makerRemaining: Quantity(lots: try readInt64()),
                    takerOrderID: try readUInt64(), takerOwner: try readUInt64(),
                    takerRemaining: Quantity(lots: try readInt64())))
        case 3:
            let id = try readUInt64()
            let remaining = Quantity(lots: try readInt64())
            guard let reason = CancelReason(rawValue: try readUInt8()) else { throw corrupt }
            kind = .cancelled(id, remaining: remaining, reason: reason)
        case 4: kind = .expired(try readUInt64(), remaining: Quantity(lots: try readInt64()))
        case 5: kind = .triggered(try readUInt64())
        case 6:
            kind = .amended(
                try readUInt64(), price: Price(ticks: try readInt64()), quantity: Quantity(lots: try readInt64()),
                remaining: Quantity(lots: try readInt64()))
        default: throw corrupt
        }
        return BookEvent(sequence: sequence, kind: kind)
    }
}
