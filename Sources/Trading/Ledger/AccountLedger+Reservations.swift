/// Reserving funds for orders, releasing them and adjusting them on amends.
extension AccountLedger {
    /// Holds the funds an order can need before it goes to the book: available → locked.
    ///
    /// - Buy limit or stop-limit: `notional(price, quantity) + feeRoundedUp(notional, max(maker, taker))`
    ///   in the quote currency, at `order.price`.
    /// - Buy market or stop: the same at the protection price: `order.price` when set, else
    ///   `protectionPrice`. The book must not let the order trade above that price (give the book
    ///   the same price as `order.price`).
    /// - Sell of any type: the base quantity, in the base currency.
    ///
    /// - Returns: the new reservation.
    /// - Throws: `CONFLICT` if the order already has a reservation; `VALIDATION_ERROR` for a
    ///   non-positive or out-of-range quantity or price, or a buy without a price;
    ///   `INSUFFICIENT_FUNDS` when the available balance is short. Nothing changes on error.
    @discardableResult
    public mutating func reserve(order: NewOrder, spec: MarketSpec, protectionPrice: Price? = nil)
        throws(BourseError) -> Reservation
    {
        let key = ReservationKey(symbol: spec.symbol, orderID: order.id)
        guard reservations[key] == nil else { throw BourseError(.conflict, "order \(key) already has a reservation") }
        try AccountLedger.validate(quantity: order.quantity)
        let price: Price?
        switch (order.side, order.type) {
        case (.buy, .limit), (.buy, .stopLimit):
            guard let limit = order.price else { throw .validation("a limit buy needs a price") }
            price = limit
        case (.buy, .market), (.buy, .stop):
            guard let protection = order.price ?? protectionPrice else {
                throw .validation("a market buy needs a protection price")
            }
            price = protection
        case (.sell, _):
            price = order.price
        }
        if let price { try AccountLedger.validate(price: price) }
        let maxFeeBps = max(spec.makerFeeBps, spec.takerFeeBps)
        let amount = try Reservation.requiredLock(
            spec: spec, side: order.side, price: price, remaining: order.quantity, maxFeeBps: maxFeeBps,
            feeNumerator: 0)
        let reservation = Reservation(
            orderID: order.id, spec: spec, side: order.side, type: order.type, price: price,
            remaining: order.quantity, locked: amount, maxFeeBps: maxFeeBps)
        let currency = reservation.currency
        let next = try balance(currency).locking(amount, currency: currency)

        var recorder = EntryRecorder(nextID: nextEntryID)
        recorder.record(.lock, currency, amount, after: next, reference: String(order.id))
        balances[currency] = next
        reservations[key] = reservation
        commit(recorder)
        return reservation
    }

    /// Unlocks whatever the order's reservation still holds and forgets it: the order was
    /// cancelled, expired, rejected or filled. Releasing an unknown order changes nothing.
    ///
    /// - Returns: the amount unlocked (in the reservation's currency), or `nil` if the ledger
    ///   holds no reservation for the order.
    @discardableResult
    public mutating func release(symbol: String, orderID: OrderID) throws(BourseError) -> Amount? {
        let key = ReservationKey(symbol: symbol, orderID: orderID)
        guard let reservation = reservations[key] else { return nil }
        let currency = reservation.currency
        let next = try balance(currency).unlocking(reservation.locked, currency: currency)

        var recorder = EntryRecorder(nextID: nextEntryID)
        recorder.record(.unlock, currency, reservation.locked, after: next, reference: String(orderID))
        balances[currency] = next
        reservations[key] = nil
        commit(recorder)
        return reservation.locked
    }

    /// Re-computes an open order's reservation for an amend: the new remaining quantity and, for a
    /// buy, the new price (`nil` keeps the current one). Fees already charged stay accounted for.
    /// More to hold is locked (a LOCK row), less is released (an UNLOCK row).
    ///
    /// - Returns: the adjusted reservation.
    /// - Throws: `NOT_FOUND` for an order without a reservation; `VALIDATION_ERROR` for a
    ///   non-positive or out-of-range quantity or price; `INSUFFICIENT_FUNDS` when more must be
    ///   held than is available. Nothing changes on error.
    @discardableResult
    public mutating func adjustReservation(
        symbol: String, orderID: OrderID, newPrice: Price?, newRemainingQuantity: Quantity
    ) throws(BourseError) -> Reservation {
        let key = ReservationKey(symbol: symbol, orderID: orderID)
        guard var reservation = reservations[key] else {
            throw BourseError(.notFound, "order \(key) has no reservation")
        }
        try AccountLedger.validate(quantity: newRemainingQuantity)
        if let newPrice { try AccountLedger.validate(price: newPrice) }
        let price = newPrice ?? reservation.price
        let required = try reservation.requiredLock(
            price: price, remaining: newRemainingQuantity, feeNumerator: reservation.feeNumerator)
        let currency = reservation.currency
        let current = balance(currency)
        var recorder = EntryRecorder(nextID: nextEntryID)
        let next: Balance
        if required >= reservation.locked {
            let more = try required.subtracting(reservation.locked)
            next = try current.locking(more, currency: currency)
            recorder.record(.lock, currency, more, after: next, reference: String(orderID))
        } else {
            let less = try reservation.locked.subtracting(required)
            next = try current.unlocking(less, currency: currency)
            recorder.record(.unlock, currency, less, after: next, reference: String(orderID))
        }
        reservation.price = price
        reservation.remaining = newRemainingQuantity
        reservation.locked = required
        balances[currency] = next
        reservations[key] = reservation
        commit(recorder)
        return reservation
    }

    static func validate(quantity: Quantity) throws(BourseError) {
        guard quantity.lots > 0 else { throw .validation("quantity must be positive") }
        guard quantity.lots <= MarketSpec.maxLots else { throw .overflow("quantity") }
    }

    static func validate(price: Price) throws(BourseError) {
        guard price.ticks > 0 else { throw .validation("price must be positive") }
        guard price.ticks <= MarketSpec.maxTicks else { throw .overflow("price") }
    }
}
