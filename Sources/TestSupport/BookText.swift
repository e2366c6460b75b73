import Trading

/// Compact but complete one-line descriptions of commands and events, for failure messages.
public enum BookText {
    /// For example `place 395: owner 5 buy market 2 lots, price -, stop -, fok`.
    public static func describe(_ command: BookCommand) -> String {
        switch command {
        case .place(let order):
            return "place \(order.id): owner \(order.owner) \(order.side) \(order.type) \(order.quantity.lots) lots, "
                + "price \(text(order.price)), stop \(text(order.stopPrice)), \(order.timeInForce)"
                + (order.postOnly ? ", post-only" : "")
        case .cancel(let id):
            return "cancel \(id)"
        case .amend(let id, let price, let quantity):
            return "amend \(id): price \(text(price)), quantity \(quantity.map { "\($0.lots)" } ?? "-")"
        }
    }

    /// For example `#797 trade 195: 1 lots at 10019, taker buy 395 (owner 5, 1 left), maker 386 (owner 6, 0 left)`.
    public static func describe(_ event: BookEvent) -> String {
        "#\(event.sequence) " + describe(event.kind)
    }

    public static func describe(_ kind: BookEvent.Kind) -> String {
        switch kind {
        case .accepted(let id):
            return "accepted \(id)"
        case .rejected(let id, let reason):
            return "rejected \(id) \(reason)"
        case .trade(let t):
            return "trade \(t.id): \(t.quantity.lots) lots at \(t.price.ticks), taker \(t.takerSide) \(t.takerOrderID) "
                + "(owner \(t.takerOwner), \(t.takerRemaining.lots) left), maker \(t.makerOrderID) "
                + "(owner \(t.makerOwner), \(t.makerRemaining.lots) left)"
        case .cancelled(let id, let remaining, let reason):
            return "cancelled \(id) \(reason), \(remaining.lots) left"
        case .expired(let id, let remaining):
            return "expired \(id), \(remaining.lots) left"
        case .triggered(let id):
            return "triggered \(id)"
        case .amended(let id, let price, let quantity, let remaining):
            return "amended \(id): price \(price.ticks), quantity \(quantity.lots), \(remaining.lots) left"
        }
    }

    /// One event per line, indented; `(none)` for an empty list.
    public static func describe(_ events: [BookEvent], indent: String = "  ") -> String {
        events.isEmpty ? indent + "(none)" : events.map { indent + describe($0) }.joined(separator: "\n")
    }

    private static func text(_ price: Price?) -> String {
        price.map { "\($0.ticks)" } ?? "-"
    }
}
