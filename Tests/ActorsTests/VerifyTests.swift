import Foundation
import Logging
import Storage
import TestSupport
import Testing

@testable import Actors
@testable import Trading

/// `Exchange.verify()`: every invariant holds on a busy exchange (and after a crash and restart), and
/// each one fails, naming the violation, when the state is corrupted on purpose through the test hooks.
@Suite("verify: invariants on busy and on corrupted exchanges")
struct VerifyTests {
    static let eth = try! MarketSpec(
        symbol: "ETH-USD", base: "ETH", quote: "USD", tickSize: "0.01", lotSize: "0.0001", minQuantity: "0.0001",
        makerFeeBps: 5, takerFeeBps: 25)
    static let markets = [ExchangeFlowTests.btc, eth]

    @Test("a busy exchange verifies, and verifies again after a crash and a restart")
    func busyExchangeVerifies() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-verify-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let before = try await TestExchange.run(directory: directory, markets: Self.markets, snapshotEvery: 40) {
            exchange in
            try await RandomTrading.run(exchange, users: 12, orders: 1_500, seed: 42)
            let report = await exchange.verify()
            Self.expectClean(report)
            // At quiescence the first pass is clean: nothing is in flight once every call has returned.
            #expect(report.attempts == 1)
            #expect(report.check(InvariantReport.Name.moneyConservation)?.checked == 4, "USD, BTC, ETH, ADA")
            #expect((report.check(InvariantReport.Name.fillsSettled)?.checked ?? 0) > 100, "the load should trade")
            #expect((report.check(InvariantReport.Name.reservations)?.checked ?? 0) > 10, "orders should rest")
            #expect(report.check(InvariantReport.Name.readModels)?.note == "this node keeps no read models")
            #expect(report.users == 12 && report.markets == 2 && report.accountShards == 8)
            return report
        }
        // The store was shut down without `Exchange.stop()`: recovery is snapshot + journal replay.
        try await TestExchange.run(directory: directory, markets: Self.markets, snapshotEvery: 40) { exchange in
            let after = await exchange.verify()
            Self.expectClean(after)
            #expect(
                after.check(InvariantReport.Name.fillsSettled)?.checked
                    == before.check(InvariantReport.Name.fillsSettled)?.checked)
            try await RandomTrading.run(exchange, users: 12, orders: 300, seed: 43)
            Self.expectClean(await exchange.verify())
        }
    }

    @Test("verify while the exchange trades: commands in flight drop out between passes")
    func verifyDuringTrading() async throws {
        try await TestExchange.run(markets: Self.markets) { exchange in
            async let load: Void = RandomTrading.run(exchange, users: 12, orders: 4_000, seed: 3)
            var reports: [InvariantReport] = []
            for _ in 0..<4 {
                try await Task.sleep(for: .milliseconds(200))
                reports.append(await exchange.verify())
            }
            try await load
            for report in reports { #expect(report.ok, "\(report.checks.filter { !$0.passed })") }
            let quiet = await exchange.verify()
            Self.expectClean(quiet)
            #expect(quiet.attempts == 1)
        }
    }

    @Test("money created out of nothing breaks conservation")
    func moneyCreated() async throws {
        try await Self.withTradedExchange { exchange in
            await exchange.accounts.shard(ofUser: 3)._mutateStateForTesting { state in
                let usd = state.users[3]!.ledger.balance("USD")
                state.users[3]!.ledger.balances["USD"] = Balance(
                    available: Amount(units: usd.available.units + 100), locked: usd.locked)
            }
            let report = await exchange.verify()
            let check = try Self.failed(report, InvariantReport.Name.moneyConservation, violations: 1)
            #expect(check.examples.first?.contains("USD") == true)
            #expect(check.examples.first?.contains("difference 0.00000100") == true, "\(check.examples)")
            #expect(report.attempts == VerifyTests.attempts, "a real violation fails every pass")
            Self.expectPassed(report, except: [InvariantReport.Name.moneyConservation])
        }
    }

    @Test("a negative balance is reported")
    func negativeBalance() async throws {
        try await Self.withTradedExchange { exchange in
            await exchange.accounts.shard(ofUser: 4)._mutateStateForTesting { state in
                let btc = state.users[4]!.ledger.balance("BTC")
                state.users[4]!.ledger.balances["BTC"] = Balance(
                    available: Amount(units: -5), locked: btc.locked)
            }
            let report = await exchange.verify()
            let check = try Self.failed(report, InvariantReport.Name.nonNegativeBalances, violations: 1)
            #expect(check.examples == [check.examples.first!])
            #expect(check.examples.first?.hasPrefix("user 4 BTC: available -0.00000005") == true, "\(check.examples)")
            #expect(report.check(InvariantReport.Name.moneyConservation)?.passed == false)
        }
    }

    @Test("locked funds that no open order reserves are reported")
    func lockedWithoutReservation() async throws {
        try await Self.withTradedExchange { exchange in
            await exchange.accounts.shard(ofUser: 5)._mutateStateForTesting { state in
                let usd = state.users[5]!.ledger.balance("USD")
                state.users[5]!.ledger.balances["USD"] = Balance(
                    available: Amount(units: usd.available.units - 700), locked: Amount(units: usd.locked.units + 700))
            }
            let report = await exchange.verify()
            let check = try Self.failed(report, InvariantReport.Name.reservations, violations: 1)
            #expect(check.examples.first?.hasPrefix("user 5 USD: locked") == true, "\(check.examples)")
            Self.expectPassed(report, except: [InvariantReport.Name.reservations])
        }
    }

    @Test("a fill settled on one side only, or on three, or never made by the book, is reported")
    func fillsNotSettledOnce() async throws {
        try await Self.withTradedExchange { exchange in
            let (maker, tradeID) = try await Self.someSettledFill(exchange)
            await exchange.accounts.shard(ofUser: maker)._mutateStateForTesting { state in
                state.users[maker]!.ledger.appliedFills["BTC-USD"]!.remove(tradeID)
            }
            var report = await exchange.verify()
            var check = try Self.failed(report, InvariantReport.Name.fillsSettled, violations: 2)
            #expect(
                check.examples.contains("BTC-USD trade \(tradeID): settled by 1 accounts (expected 2: maker and taker)")
            )
            #expect(check.examples.contains { $0.contains("recorded but not settled") })

            // Settled again by a third account, and a trade the book never made.
            await exchange.accounts.shard(ofUser: maker)._mutateStateForTesting { state in
                state.users[maker]!.ledger.appliedFills["BTC-USD"]!.insert(tradeID)
            }
            let other = try await Self.someUser(without: tradeID, exchange)
            let made = try #require(try await exchange.recentTrades(symbol: "BTC-USD", limit: 1).first?.tradeID)
            await exchange.accounts.shard(ofUser: other)._mutateStateForTesting { state in
                state.users[other]!.ledger.appliedFills["BTC-USD", default: []].insert(tradeID)
                state.users[other]!.ledger.appliedFills["BTC-USD", default: []].insert(1_000_000)
            }
            report = await exchange.verify()
            check = try #require(report.check(InvariantReport.Name.fillsSettled))
            #expect(!check.passed)
            #expect(
                check.examples.contains("BTC-USD trade 1000000: settled, but the book made \(made) trades"),
                "\(check.examples)")
            #expect(check.examples.contains { $0.hasPrefix("BTC-USD trade \(tradeID): settled by 3 accounts") })
        }
    }

    @Test("a crossed book is reported")
    func crossedBook() async throws {
        try await Self.withTradedExchange { exchange in
            let actor = try #require(exchange.symbols["BTC-USD"])
            let ask = try #require(await actor.bestPrices().ask)
            await actor._mutateStateForTesting { state in
                state.book.rest(
                    id: OrderIDs.make(shard: 0, counter: 999_999), owner: 999, side: .buy, price: ask.ticks + 100,
                    quantity: 1_000, remaining: 1_000, postOnly: false)
            }
            let report = await exchange.verify()
            let check = try Self.failed(report, InvariantReport.Name.booksUncrossed, violations: 1)
            #expect(check.examples.first?.hasPrefix("BTC-USD: best bid") == true)
            // The order put there also has no reservation.
            let reservations = try #require(report.check(InvariantReport.Name.reservations))
            #expect(reservations.examples.contains { $0.contains("in the BTC-USD book without a reservation") })
        }
    }

    @Test("an open order missing from its book is reported")
    func reservationWithoutBookOrder() async throws {
        try await Self.withTradedExchange { exchange in
            let open = try await exchange.orders(user: 1, filter: OrderFilter(status: .open, symbol: "BTC-USD"))
            let order = try #require(open.first { $0.status != .pendingTrigger })
            _ = await exchange.symbols["BTC-USD"]!._mutateStateForTesting { state in
                _ = state.book.apply(.cancel(order.orderID))
            }
            let report = await exchange.verify()
            let check = try Self.failed(report, InvariantReport.Name.reservations, violations: 1)
            #expect(
                check.examples == [
                    "order \(order.orderID) (BTC-USD) of user 1 holds a reservation but is not in the book"
                ])
            Self.expectPassed(report, except: [InvariantReport.Name.reservations])
        }
    }

    @Test("anomalies are reported")
    func anomalies() async throws {
        try await Self.withTradedExchange { exchange in
            await exchange.accounts.all[2]._mutateStateForTesting { $0.anomalies += 2 }
            let report = await exchange.verify()
            let check = try Self.failed(report, InvariantReport.Name.anomalies, violations: 1)
            #expect(check.examples == ["accounts/0002: 2 book events could not be applied"])
            Self.expectPassed(report, except: [InvariantReport.Name.anomalies])
        }
    }

    @Test("the wallets read model is compared with memory")
    func readModels() async throws {
        try await ReadModelFlowTests.withStore(.sqlite) { store in
            try await ReadModelFlowTests.withExchange(store: store, projecting: true) { exchange, _ in
                try await RandomTrading.run(exchange, users: 6, orders: 200, seed: 9, markets: ["BTC-USD"])
                try await ReadModelFlowTests.waitForProjection(store)
                let clean = await exchange.verify()
                Self.expectClean(clean)
                let check = try #require(clean.check(InvariantReport.Name.readModels))
                #expect(check.checked == 6 && check.note == nil, "\(check)")

                try await store.project(
                    ProjectionBatch(
                        wallets: [WalletRow(userID: 2, currency: "USD", available: Amount(units: 1), locked: .zero)]))
                let report = await exchange.verify()
                let failed = try Self.failed(report, InvariantReport.Name.readModels, violations: 1)
                #expect(failed.examples.first?.hasPrefix("user 2 USD: memory available") == true)
                Self.expectPassed(report, except: [InvariantReport.Name.readModels])
            }
        }
    }

    @Test("a market added at run time trades, settles, verifies and survives a restart")
    func addedMarket() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-verify-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let ada = try MarketSpec(
            symbol: "ADA-USD", base: "ADA", quote: "USD", tickSize: "0.0001", lotSize: "1", minQuantity: "10",
            makerFeeBps: 10, takerFeeBps: 20)
        try await TestExchange.run(directory: directory, markets: Self.markets) { exchange in
            let added = try await exchange.addMarket(ada)
            #expect(added == MarketInfo(spec: ada, halted: false))
            await #expect { try await exchange.addMarket(ada) } throws: { ($0 as? BourseError)?.code == .conflict }
            await #expect { try await exchange.addMarket(Self.eth) } throws: { ($0 as? BourseError)?.code == .conflict }
            #expect(await exchange.markets().map(\.spec.symbol) == ["BTC-USD", "ETH-USD", "ADA-USD"])
            try await RandomTrading.run(exchange, users: 6, orders: 300, seed: 5, markets: ["ADA-USD"])
            let report = await exchange.verify()
            Self.expectClean(report)
            #expect((report.check(InvariantReport.Name.fillsSettled)?.checked ?? 0) > 10)
            try await exchange.setHalted(symbol: "ADA-USD", halted: true)
        }
        try await TestExchange.run(directory: directory, markets: Self.markets) { exchange in
            #expect(await exchange.markets().map(\.spec) == Self.markets + [ada])
            let halted = try await exchange.market("ADA-USD").halted
            #expect(halted)
            Self.expectClean(await exchange.verify())
        }
    }

    /// What the busy test found: an order filled at its old quantity while an amend to a larger one was on
    /// its way to the book kept the widened reservation's rest locked for ever.
    @Test("an order filled while an amend widening it is in flight keeps nothing locked")
    func filledDuringAmend() throws {
        let btc = ExchangeFlowTests.btc
        var state = AccountShardState(index: 0, markets: [btc.symbol: btc])
        func apply(_ command: AccountShardState.Command) throws -> AccountShardState.Outcome {
            try state.apply(AccountShardState.Record(timestampMillis: 1_714_564_800_000, command: command))
        }
        _ = try apply(.deposit(user: 1, currency: "USD", amount: ExchangeFlowTests.amount("100000"), key: nil))
        let request = OrderRequest(
            symbol: btc.symbol, side: .buy, type: .limit, quantity: ExchangeFlowTests.quantity("0.1"),
            price: ExchangeFlowTests.price("50000"))
        guard case .order(let order, _) = try apply(.place(user: 1, request: request, protection: nil)) else {
            Issue.record("no order")
            return
        }
        _ = try apply(.bookEvents(symbol: btc.symbol, events: [BookEvent(sequence: 1, kind: .accepted(order.id))]))
        _ = try apply(
            .amend(user: 1, orderID: order.id, price: nil, quantity: ExchangeFlowTests.quantity("0.3")))
        let trade = Trade(
            id: 1, price: order.price!, quantity: order.quantity, takerSide: .sell, makerOrderID: order.id,
            makerOwner: 1, makerRemaining: .zero, takerOrderID: OrderIDs.make(shard: 1, counter: 1), takerOwner: 2,
            takerRemaining: .zero)
        _ = try apply(.bookEvents(symbol: btc.symbol, events: [BookEvent(sequence: 2, kind: .trade(trade))]))
        _ = try apply(
            .bookEvents(symbol: btc.symbol, events: [BookEvent(sequence: 3, kind: .rejected(order.id, .unknownOrder))]))
        let account = try #require(state.account(1))
        #expect(account.orders[order.id]?.view.status == .filled)
        #expect(account.ledger.reservation(symbol: btc.symbol, orderID: order.id) == nil)
        #expect(account.ledger.balance("USD").locked == .zero)
        let progress = ShardProgress(
            shard: "accounts/0000", epoch: 1, journalSequence: 0, durableSequence: 0, lastSnapshotSequence: 0)
        #expect(state.audit(progress: progress).reservationProblems.count == 0)
    }

    // MARK: Helpers

    static let attempts = Exchange.verifyAttempts

    /// A small exchange after some random trading, verified clean, handed to `body` to corrupt.
    static func withTradedExchange(_ body: (Exchange) async throws -> Void) async throws {
        try await TestExchange.run(markets: markets, accountShards: 4) { exchange in
            try await RandomTrading.run(exchange, users: 6, orders: 300, seed: 7)
            // Orders far from the market on both sides, so that both sides of the book rest.
            for (user, side, price) in [(UserID(1), Side.buy, "40000"), (UserID(2), Side.sell, "60000")] {
                _ = try await exchange.placeOrder(
                    user: user,
                    request: OrderRequest(
                        symbol: "BTC-USD", side: side, type: .limit, quantity: ExchangeFlowTests.quantity("0.01"),
                        price: ExchangeFlowTests.price(price)))
            }
            expectClean(await exchange.verify())
            try await body(exchange)
        }
    }

    /// A BTC-USD trade and the user who settled it as maker.
    static func someSettledFill(_ exchange: Exchange) async throws -> (UserID, UInt64) {
        for user in UserID(1)...6 {
            let trades = try await exchange.userTrades(user: user, symbol: "BTC-USD", limit: 100)
            if let fill = trades.first(where: { $0.liquidity == .maker }) { return (user, fill.tradeID) }
        }
        throw BourseError(.internal, "the load made no BTC-USD trade")
    }

    /// A user who did not settle the BTC-USD trade.
    static func someUser(without tradeID: UInt64, _ exchange: Exchange) async throws -> UserID {
        for user in UserID(1)...6 {
            let trades = try await exchange.userTrades(user: user, symbol: "BTC-USD", limit: 10_000)
            if !trades.contains(where: { $0.tradeID == tradeID }) { return user }
        }
        throw BourseError(.internal, "every user settled trade \(tradeID)")
    }

    static func expectClean(_ report: InvariantReport, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(report.ok, "\(report.checks.filter { !$0.passed })", sourceLocation: sourceLocation)
        #expect(
            report.checks.map(\.name) == [
                InvariantReport.Name.moneyConservation, InvariantReport.Name.nonNegativeBalances,
                InvariantReport.Name.fillsSettled, InvariantReport.Name.booksUncrossed,
                InvariantReport.Name.reservations,
                InvariantReport.Name.anomalies, InvariantReport.Name.readModels, InvariantReport.Name.shardsAudited,
            ], sourceLocation: sourceLocation)
    }

    /// The check, which must have failed with `violations` violations, each described.
    static func failed(
        _ report: InvariantReport, _ name: String, violations: Int, sourceLocation: SourceLocation = #_sourceLocation
    ) throws -> InvariantReport.Check {
        #expect(!report.ok, sourceLocation: sourceLocation)
        let check = try #require(report.check(name), sourceLocation: sourceLocation)
        #expect(!check.passed && check.violations == violations, "\(check)", sourceLocation: sourceLocation)
        #expect(check.examples.count == min(violations, Findings.exampleLimit), sourceLocation: sourceLocation)
        return check
    }

    static func expectPassed(
        _ report: InvariantReport, except failing: Set<String>, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        for check in report.checks where !failing.contains(check.name) {
            #expect(check.passed, "\(check)", sourceLocation: sourceLocation)
        }
    }
}
