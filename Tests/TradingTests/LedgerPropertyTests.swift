import Foundation
import Testing
import Trading

/// Random deposits, withdrawals, orders, amends, cancels and fills over several users and two
/// markets, checking after every step that no balance is negative, that money is conserved exactly
/// (Σ deposits − Σ withdrawals = Σ balances + Σ fees, per currency), that the transaction rows
/// replay to the balances, and that replayed fills change nothing.
@Suite struct LedgerPropertyTests {
    static var steps: Int { ProcessInfo.processInfo.environment["BOURSE_LONG_TESTS"] == "1" ? 2_000_000 : 100_000 }

    @Test(arguments: [UInt64(1), 0xB0_0125])
    func randomTradingConservesMoney(seed: UInt64) {
        var simulation = LedgerSimulation(seed: seed, users: 6)
        simulation.run(steps: LedgerPropertyTests.steps)
        #expect(simulation.failures == 0)
        #expect(simulation.fills > LedgerPropertyTests.steps / 10)
        #expect(simulation.closedByFill > 100)
    }
}
