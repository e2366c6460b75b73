import Trading

/// Binary encoding of the order vocabulary, shared by the symbol and account journals.
extension BinaryWriter {
    mutating func write(order: NewOrder) {
        write(order.id)
        write(order.owner)
        write(order.side.rawValue)
        write(order.type.rawValue)
        write(optionalTicks: order.price)
        write(optionalTicks: order.stopPrice)
        write(order.quantity.lots)
        write(order.timeInForce.rawValue)
        write(order.postOnly)
    }

    mutating func write(optionalTicks price: Price?) {
        write(price != nil)
        write(price?.ticks ?? 0)
    }

    mutating func write(optionalLots quantity: Quantity?) {
        write(quantity != nil)
        write(quantity?.lots ?? 0)
    }

    mutating func write(optionalString text: String?) {
        write(text != nil)
        write(text ?? "")
    }

    mutating func write(bookCommand command: BookCommand) {
        switch command {
        case .place(let order):
            write(UInt8(0))
            write(order: order)
        case .cancel(let id):
            write(UInt8(1))
            write(id)
        case .amend(let id, let price, let quantity):
            write(UInt8(2))
            write(id)
            write(optionalTicks: price)
            write(optionalLots: quantity)
        }
    }
}

extension BinaryReader {
    mutating func readOrder() throws(BourseError) -> NewOrder {
        let id = try readUInt64()
        let owner = try readUInt64()
        guard let side = Side(rawValue: try readUInt8()), let type = OrderType(rawValue: try readUInt8()) else {
            throw BourseError(.internal, "corrupt journal: order side/type")
        }
        let price = try readOptionalTicks()
        let stopPrice = try readOptionalTicks()
        let quantity = Quantity(lots: try readInt64())
        guard let tif = TimeInForce(rawValue: try readUInt8()) else {
            throw BourseError(.internal, "corrupt journal: time in force")
        }
        let postOnly = try readBool()
        return NewOrder(
            id: id, owner: owner, side: side, type: type, price: price, stopPrice: stopPrice, quantity: quantity,
            timeInForce: tif, postOnly: postOnly)
    }

    mutating func readOptionalTicks() throws(BourseError) -> Price? {
        let present = try readBool()
        let ticks = try readInt64()
        return present ? Price(ticks: ticks) : nil
    }

    mutating func readOptionalLots() throws(BourseError) -> Quantity? {
        let present = try readBool()
        let lots = try readInt64()
        return present ? Quantity(lots: lots) : nil
    }

    mutating func readOptionalString() throws(BourseError) -> String? {
        let present = try readBool()
        let text = try readString()
        return present ? text : nil
    }

    mutating func readBookCommand() throws(BourseError) -> BookCommand {
        switch try readUInt8() {
        case 0: return .place(try readOrder())
        case 1: return .cancel(try readUInt64())
        case 2:
            let id = try readUInt64()
            return .amend(id, price: try readOptionalTicks(), quantity: try readOptionalLots())
        default: throw BourseError(.internal, "corrupt journal: book command")
        }
    }
}

extension SymbolState.Record {
    public func encoded() -> [UInt8] {
        var writer = BinaryWriter(reservingCapacity: 64)
        writer.write(timestampMillis)
        switch command {
        case .book(let command):
            writer.write(UInt8(0))
            writer.write(bookCommand: command)
        case .place(let order, let watermark):
            writer.write(UInt8(5))
            writer.write(order: order)
            writer.write(watermark)
        case .halt: writer.write(UInt8(1))
        case .resume: writer.write(UInt8(2))
        case .strategy(let command):
            writer.write(UInt8(3))
            writer.write(strategyCommand: command)
        case .reference(let prints):
            writer.write(UInt8(4))
            writer.writeCount(prints.count)
            for print in prints {
                writer.write(print.price.ticks)
                writer.write(print.quantity.lots)
            }
        }
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(BourseError) {
        var reader = BinaryReader(bytes)
        let timestamp = try reader.readInt64()
        let command: SymbolState.Command
        switch try reader.readUInt8() {
        case 0: command = .book(try reader.readBookCommand())
        case 1: command = .halt
        case 2: command = .resume
        case 3: command = .strategy(try reader.readStrategyCommand())
        case 4:
            let count = try reader.readCount()
            var prints: [ReferencePrint] = []
            prints.reserveCapacity(count)
            for _ in 0..<count {
                prints.append(
                    ReferencePrint(
                        price: Price(ticks: try reader.readInt64()), quantity: Quantity(lots: try reader.readInt64())))
            }
            command = .reference(prints)
        case 5: command = .place(try reader.readOrder(), settledThrough: try reader.readUInt64())
        default: throw BourseError(.internal, "corrupt journal: symbol record")
        }
        try reader.expectEnd()
        self.init(timestampMillis: timestamp, command: command)
    }
}
