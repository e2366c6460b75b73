import Testing
import Trading

@testable import Actors

/// A user's `Idempotency-Key` results stay bounded: the most recent are kept, the oldest forgotten, the same
/// way whatever the order the dictionary holds them in (a snapshot restores the same set).
@Suite struct IdempotencyCapacityTests {
    static func change(_ id: Int) -> BalanceChange {
        BalanceChange(
            transactionID: String(id), balance: BalanceView(currency: "USD", available: .zero, locked: .zero))
    }

    @Test func theMostRecentKeyedResultsAreKept() {
        var account = UserAccount(user: 1)
        let capacity = UserAccount.idempotencyCapacity
        var largest = 0
        for id in 1...(5 * capacity / 2) {
            account.remember(Self.change(id), key: "deposit:k\(id)")
            largest = max(largest, account.idempotentResults.count)
        }
        #expect(largest == 2 * capacity)
        let kept = account.idempotentResults
        #expect(kept.count >= capacity && kept.count <= 2 * capacity)
        // Exactly the newest are kept: ids 10 and 9 < 10 would sort wrong as strings, not as numbers.
        let ids = kept.values.compactMap { Int($0.transactionID) }.sorted()
        #expect(ids == Array((5 * capacity / 2 - kept.count + 1)...(5 * capacity / 2)))
        #expect(kept["deposit:k\(5 * capacity / 2)"] == Self.change(5 * capacity / 2))
        #expect(kept["deposit:k1"] == nil)
    }

    @Test func aRetryGetsTheFirstResultAndAKeyForgottenDepositsAgain() throws {
        var state = AccountShardState(index: 0, markets: [:])
        func deposit(_ key: String) throws -> BalanceChange? {
            let command = AccountShardState.Command.deposit(
                user: 1, currency: "USD", amount: ExchangeFlowTests.amount("1"), key: key)
            guard case .balance(let change) = try state.apply(.init(timestampMillis: 1, command: command)) else {
                return nil
            }
            return change
        }
        let first = try deposit("first")
        #expect(try deposit("first") == first)
        for index in 0..<(2 * UserAccount.idempotencyCapacity) { _ = try deposit("k\(index)") }
        let total = 2 * UserAccount.idempotencyCapacity + 1
        #expect(state.users[1]?.ledger.balance("USD").available == ExchangeFlowTests.amount(String(total)))
        // "first" was the oldest key: forgotten, so the same key deposits again.
        #expect(try deposit("first") != first)
        #expect(state.users[1]?.ledger.balance("USD").available == ExchangeFlowTests.amount(String(total + 1)))
    }

    /// A retry asks for what the first request asked for; the same key with another amount or currency is a
    /// client's mistake: 409, and nothing moves — also after a snapshot, which keeps the amount.
    @Test func theSameKeyWithOtherContentIsAConflictAndMovesNothing() throws {
        var state = AccountShardState(index: 0, markets: [:])
        func move(_ currency: String, _ amount: String, deposit: Bool = true) throws -> BalanceChange? {
            let command =
                deposit
                ? AccountShardState.Command.deposit(
                    user: 1, currency: currency, amount: ExchangeFlowTests.amount(amount), key: "k")
                : AccountShardState.Command.withdraw(
                    user: 1, currency: currency, amount: ExchangeFlowTests.amount(amount), key: "k")
            guard case .balance(let change) = try state.apply(.init(timestampMillis: 1, command: command)) else {
                return nil
            }
            return change
        }
        let first = try move("USD", "10")
        let conflicts: [(String, String)] = [("USD", "99"), ("BTC", "10"), ("USD", "10.00000001")]
        for (currency, amount) in conflicts {
            #expect(throws: BourseError(.conflict, "Idempotency-Key already used for a deposit of other content")) {
                _ = try move(currency, amount)
            }
        }
        #expect(try move("USD", "10") == first, "a true retry")
        #expect(try move("USD", "10.0") == first, "the same amount written otherwise")
        // Withdrawals keep their own keys: the same key withdraws once.
        let withdrawal = try move("USD", "3", deposit: false)
        #expect(try move("USD", "3", deposit: false) == withdrawal)
        #expect(throws: BourseError.self) { _ = try move("USD", "4", deposit: false) }
        #expect(state.users[1]?.ledger.balance("USD").available == ExchangeFlowTests.amount("7"))

        var restored = try AccountShardState(index: 0, markets: [:], snapshot: state.snapshot())
        let again = AccountShardState.Command.deposit(
            user: 1, currency: "USD", amount: ExchangeFlowTests.amount("99"), key: "k")
        #expect(throws: BourseError.self) { _ = try restored.apply(.init(timestampMillis: 2, command: again)) }
        // A "BAS2" snapshot did not keep amounts: a retry there is checked for its currency only.
        var old = try AccountShardState(index: 0, markets: [:], snapshot: state.snapshot(layout: .v2))
        guard case .balance(let oldRetry) = try old.apply(.init(timestampMillis: 2, command: again)) else {
            Issue.record("a deposit answers with a balance")
            return
        }
        #expect(oldRetry.transactionID == first?.transactionID)
        #expect(old.users[1]?.ledger.balance("USD").available == ExchangeFlowTests.amount("7"))
    }
}
