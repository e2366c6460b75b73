import Actors
import Trading

extension Render {
    static func balance(_ balance: BalanceView) -> JSONValue {
        let total = Amount(units: balance.available.units &+ balance.locked.units)
        return [
            "currency": .string(balance.currency), "available": amount(balance.available),
            "locked": amount(balance.locked), "total": amount(total),
        ]
    }

    static func balanceChange(_ change: BalanceChange) -> JSONValue {
        [
            "transaction_id": .string(change.transactionID), "currency": .string(change.balance.currency),
            "available": amount(change.balance.available), "locked": amount(change.balance.locked),
        ]
    }

    /// A ledger row with the time of the command that wrote it.
    static func transaction(_ timed: TimedEntry) -> JSONValue {
        let entry = timed.entry
        return [
            "id": id(entry.id), "type": .string(entry.type.name), "currency": .string(entry.currency),
            "amount": amount(entry.amount), "balance_after": amount(entry.balanceAfter),
            "reference_id": .string(entry.referenceID), "created_at": time(timed.timestampMillis),
        ]
    }
}
