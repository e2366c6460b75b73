/// Settling fills: moving cash and asset, charging fees, updating positions.
extension AccountLedger {
    /// Applies this account's side of one trade. Idempotent by `fill.id`: a fill already applied
    /// changes nothing and returns `applied == false`.
    ///
    /// - Buy: the reservation gives back what this slice no longer needs (an UNLOCK when the fill is
    ///   at a better price than the reservation's, or at the maker rate), then pays
    ///   `notional(price, quantity)` (TRADE −quote) and the fee (FEE −quote) from locked funds and
    ///   receives the base quantity (TRADE +base).
    /// - Sell: pays the base quantity from locked funds (TRADE −base), receives the notional
    ///   (TRADE +quote) and pays the fee from it (FEE −quote).
    ///
    /// Fees are cumulative per order: the order keeps Σ notional × bps (the fill's role's rate) and
    /// each fill charges the increase of ceil(Σ / 10 000). An order's fees therefore never exceed
    /// the fee its reservation included. When the order's remaining quantity reaches zero, the rest
    /// of its reservation is released and forgotten.
    ///
    /// Should a buy fill cost more than its reservation still holds (a price above the reservation
    /// price, or a fee rate above the one reserved), the difference is first locked from the
    /// available balance (a LOCK row).
    ///
    /// - Throws: `INTERNAL` when the fill does not match this ledger (another owner, no reservation
    ///   for the order, another side or market, more than the remaining quantity, a non-positive price
    ///   or quantity); `INSUFFICIENT_FUNDS` when a buy costs more than its reservation and the available
    ///   balance together; `VALIDATION_ERROR` on arithmetic overflow. Nothing changes on error.
    @discardableResult
    public mutating func settle(fill: Fill) throws(BourseError) -> Settlement {
        let spec = fill.spec
        let fillID = fill.id
        if hasApplied(fillID) {
            return Settlement(
                applied: false, fee: .zero, feeCurrency: spec.quote, realizedPnL: .zero, orderClosed: false)
        }
        let key = ReservationKey(symbol: spec.symbol, orderID: fill.orderID)
        let reservation = try checkedReservation(for: fill, key: key)

        // Fees, cumulative per order.
        let notional = try spec.notional(fill.price, fill.quantity)
        let baseAmount = try spec.amount(of: fill.quantity)
        let feeNumerator = try FeeMath.adding(reservation.feeNumerator, notional: notional, bps: fill.feeBps)
        let feeCharged = try FeeMath.feeDue(numerator: feeNumerator)
        let fee = try feeCharged.subtracting(reservation.feeCharged)
        let remaining = Quantity(lots: reservation.remaining.lots - fill.quantity.lots)
        let stillLocked = try reservation.requiredLock(
            price: reservation.price, remaining: remaining, feeNumerator: feeNumerator)

        let reference = fillID.description
        var recorder = EntryRecorder(nextID: nextEntryID)
        var quote = balance(spec.quote)
        var base = balance(spec.base)
        let position = positions[spec.symbol] ?? Position(symbol: spec.symbol, base: spec.base, quote: spec.quote)
        let nextPosition: Position
        var realized = Amount.zero

        switch fill.side {
        case .buy:
            // What the reservation must give up: this fill's cost plus what the rest still needs.
            let cost = try notional.adding(fee)
            let needed = try cost.adding(stillLocked)
            if needed > reservation.locked {
                let extra = try needed.subtracting(reservation.locked)
                quote = try quote.locking(extra, currency: spec.quote)
                recorder.record(.lock, spec.quote, extra, after: quote, reference: reference)
            } else {
                let surplus = try reservation.locked.subtracting(needed)
                quote = try quote.unlocking(surplus, currency: spec.quote)
                recorder.record(.unlock, spec.quote, surplus, after: quote, reference: reference)
            }
            quote = try quote.debitingLocked(notional, currency: spec.quote)
            recorder.record(.trade, spec.quote, Amount(units: -notional.units), after: quote, reference: reference)
            base = try base.creditingAvailable(baseAmount)
            recorder.record(.trade, spec.base, baseAmount, after: base, reference: reference)
            quote = try quote.debitingLocked(fee, currency: spec.quote)
            recorder.record(.fee, spec.quote, Amount(units: -fee.units), after: quote, reference: reference)
            nextPosition = try position.buying(base: baseAmount, cost: cost, fee: fee)
        case .sell:
            guard reservation.locked.units - baseAmount.units == stillLocked.units else {
                throw BourseError(.internal, "sell reservation \(key) does not hold the quantity it sells")
            }
            base = try base.debitingLocked(baseAmount, currency: spec.base)
            recorder.record(.trade, spec.base, Amount(units: -baseAmount.units), after: base, reference: reference)
            quote = try quote.creditingAvailable(notional)
            recorder.record(.trade, spec.quote, notional, after: quote, reference: reference)
            quote = try quote.debitingAvailable(fee, currency: spec.quote)
            recorder.record(.fee, spec.quote, Amount(units: -fee.units), after: quote, reference: reference)
            let proceeds = try notional.subtracting(fee)
            (nextPosition, realized) = try position.selling(base: baseAmount, proceeds: proceeds, fee: fee)
        }

        // Close the order when nothing remains (a buy needs nothing more by then; release any rest).
        let closed = remaining.lots == 0
        if closed, stillLocked.units > 0 {
            let currency = reservation.currency
            var held = currency == spec.quote ? quote : base
            held = try held.unlocking(stillLocked, currency: currency)
            recorder.record(.unlock, currency, stillLocked, after: held, reference: reference)
            if currency == spec.quote { quote = held } else { base = held }
        }
        let totalFees = try (feesCharged[spec.quote] ?? .zero).adding(fee)
        let filledNotional = try reservation.filledNotional.adding(notional)

        // Commit.
        balances[spec.quote] = quote
        balances[spec.base] = base
        if closed {
            reservations[key] = nil
        } else {
            var updated = reservation
            updated.remaining = remaining
            updated.locked = stillLocked
            updated.feeNumerator = feeNumerator
            updated.feeCharged = feeCharged
            updated.filledQuantity = Quantity(lots: reservation.filledQuantity.lots + fill.quantity.lots)
            updated.filledNotional = filledNotional
            reservations[key] = updated
        }
        positions[spec.symbol] = nextPosition
        if fee.units != 0 { feesCharged[spec.quote] = totalFees }
        appliedFills[spec.symbol, default: []].insert(fill.tradeID)
        appliedFillCount += 1
        commit(recorder)
        return Settlement(applied: true, fee: fee, feeCurrency: spec.quote, realizedPnL: realized, orderClosed: closed)
    }

    /// The reservation a fill settles against, after checking that the fill belongs to it.
    private func checkedReservation(for fill: Fill, key: ReservationKey) throws(BourseError) -> Reservation {
        guard fill.owner == userID else {
            throw BourseError(.internal, "fill \(fill.id) of user \(fill.owner) sent to the ledger of user \(userID)")
        }
        guard fill.quantity.lots > 0, fill.quantity.lots <= MarketSpec.maxLots, fill.price.ticks > 0,
            fill.price.ticks <= MarketSpec.maxTicks
        else { throw BourseError(.internal, "fill \(fill.id) has an invalid price or quantity") }
        guard let reservation = reservations[key] else {
            throw BourseError(.internal, "fill \(fill.id) for order \(key) without a reservation")
        }
        guard reservation.side == fill.side, reservation.spec.base == fill.spec.base,
            reservation.spec.quote == fill.spec.quote, reservation.spec.tickSize == fill.spec.tickSize,
            reservation.spec.lotSize == fill.spec.lotSize
        else { throw BourseError(.internal, "fill \(fill.id) does not match the reservation of order \(key)") }
        guard fill.quantity <= reservation.remaining else {
            throw BourseError(
                .internal,
                "fill \(fill.id) of \(fill.quantity) exceeds the \(reservation.remaining) remaining of \(key)")
        }
        return reservation
    }
}
