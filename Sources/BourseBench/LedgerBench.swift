import Trading

/// Account-ledger benchmark: `bourse-bench ledger [--cycles N] [--seed S] [--runs R]`.
///
/// A pre-generated, seeded workload of reserve → settle → release cycles over two ledgers: each
/// cycle reserves a buy order in the buyer's ledger and a sell order in the seller's, settles 1–4
/// trades between them on both sides (maker and taker at random, prices at or below the buy limit,
/// so buys free surplus) and releases both orders (a no-op for an order that filled completely).
/// Every ledger call is one operation, including draining the rows it produced, as the account actor
/// does. The workload is replayed into fresh ledgers: untimed for throughput (best of `runs`), then
/// once with a clock read around every operation for the latency distribution. Prints a human summary
/// and, as the last line, one JSON object with the figures.
enum LedgerBench {
    /// One ledger call, compact so that a large workload stays small in memory.
    struct Operation {
        enum Kind: UInt8 {
            case reserve, settle, release
        }

        var kind: Kind
        var side: Side
        var liquidity: LiquidityRole
        var orderID: OrderID
        var tradeID: UInt64
        var ticks: Int64
        var lots: Int64
    }

    static func run(arguments: [String]) {
        let cycles = Int(option("cycles", in: arguments) ?? "") ?? 100_000
        let seed = UInt64(option("seed", in: arguments) ?? "") ?? 42
        let runs = Int(option("runs", in: arguments) ?? "") ?? 3
        guard cycles > 0, runs > 0 else {
            print("usage: bourse-bench ledger [--cycles N] [--seed S] [--runs R]")
            print(#"{"mode":"ledger","error":"bad arguments"}"#)
            return
        }
        do {
            try measure(cycles: cycles, seed: seed, runs: runs)
        } catch {
            print("ledger benchmark failed: \(error)")
            print(#"{"mode":"ledger","error":"\#(error.code.rawValue)"}"#)
        }
    }

    static func workload(cycles: Int, seed: UInt64) -> [Operation] {
        var random = BenchRandom(seed: seed)
        var operations: [Operation] = []
        operations.reserveCapacity(cycles * 8)
        var tradeID: UInt64 = 0
        for number in 0..<cycles {
            let id = OrderID(number + 1)
            let buyTicks = 500_000 + random.int(-2_000...2_000)
            let sellTicks = buyTicks - random.int(0...1_000)
            let lots = random.int(1...10_000)
            operations.append(
                Operation(
                    kind: .reserve, side: .buy, liquidity: .maker, orderID: id, tradeID: 0, ticks: buyTicks, lots: lots)
            )
            operations.append(
                Operation(
                    kind: .reserve, side: .sell, liquidity: .maker, orderID: id, tradeID: 0, ticks: sellTicks,
                    lots: lots))
            var left = lots
            for count in 0..<Int(random.int(1...4)) where left > 0 {
                let quantity = count == 3 ? left : random.int(1...left)
                let buyerIsMaker = random.next() & 1 == 0
                let ticks = buyerIsMaker ? buyTicks : sellTicks
                tradeID += 1
                for side in [Side.buy, .sell] {
                    let isMaker = (side == .buy) == buyerIsMaker
                    operations.append(
                        Operation(
                            kind: .settle, side: side, liquidity: isMaker ? .maker : .taker, orderID: id,
                            tradeID: tradeID,
                            ticks: ticks, lots: quantity))
                }
                left -= quantity
            }
            operations.append(
                Operation(kind: .release, side: .buy, liquidity: .maker, orderID: id, tradeID: 0, ticks: 0, lots: 0))
            operations.append(
                Operation(kind: .release, side: .sell, liquidity: .maker, orderID: id, tradeID: 0, ticks: 0, lots: 0))
        }
        return operations
    }

    struct Outcome {
        var rows = 0
        var fees = Amount.zero
    }

    /// Replays the workload into fresh ledgers; with `samples`, times every operation.
    static func replay(_ operations: [Operation], spec: MarketSpec, samples: inout [UInt64], timed: Bool)
        throws(BourseError) -> Outcome
    {
        var ledgers = [AccountLedger(userID: 1), AccountLedger(userID: 2)]
        try ledgers[0].deposit(currency: spec.quote, amount: AccountLedger.maxBalance, reference: "bench")
        try ledgers[1].deposit(currency: spec.base, amount: AccountLedger.maxBalance, reference: "bench")
        _ = ledgers[0].drainEntries()
        _ = ledgers[1].drainEntries()
        var outcome = Outcome()
        for operation in operations {
            let start = timed ? nowNanos() : 0
            let user = operation.side == .buy ? 0 : 1
            switch operation.kind {
            case .reserve:
                try ledgers[user].reserve(
                    order: NewOrder(
                        id: operation.orderID, owner: UserID(user + 1), side: operation.side,
                        price: Price(ticks: operation.ticks), quantity: Quantity(lots: operation.lots)),
                    spec: spec)
            case .settle:
                try ledgers[user].settle(
                    fill: Fill(
                        tradeID: operation.tradeID, orderID: operation.orderID, owner: UserID(user + 1),
                        side: operation.side, price: Price(ticks: operation.ticks),
                        quantity: Quantity(lots: operation.lots),
                        liquidity: operation.liquidity, spec: spec))
            case .release:
                try ledgers[user].release(symbol: spec.symbol, orderID: operation.orderID)
            }
            outcome.rows += ledgers[user].drainEntries().count
            if timed { samples.append(nowNanos() &- start) }
        }
        for ledger in ledgers {
            try ledger.verifyInvariants()
            guard ledger.reservations.isEmpty else { throw BourseError(.internal, "reservations left after the run") }
            outcome.fees = try outcome.fees.adding(ledger.feesCharged[spec.quote] ?? .zero)
        }
        return outcome
    }

    static func measure(cycles: Int, seed: UInt64, runs: Int) throws(BourseError) {
        let spec = try MarketSpec(
            symbol: "BTC-USD", base: "BTC", quote: "USD", tickSize: "0.01", lotSize: "0.0001", minQuantity: "0.0001",
            makerFeeBps: 10, takerFeeBps: 20)
        let operations = workload(cycles: cycles, seed: seed)
        var samples: [UInt64] = []
        var best = 0.0
        var outcome = Outcome()
        for _ in 0..<runs {
            let start = nowNanos()
            outcome = try replay(operations, spec: spec, samples: &samples, timed: false)
            let seconds = Double(nowNanos() &- start) / 1e9
            best = max(best, Double(operations.count) / seconds)
        }
        samples.reserveCapacity(operations.count)
        let timedOutcome = try replay(operations, spec: spec, samples: &samples, timed: true)
        guard timedOutcome.rows == outcome.rows, timedOutcome.fees == outcome.fees else {
            throw BourseError(.internal, "replays of the same workload differ")
        }
        let latency = Percentiles(&samples)
        print("ledger: \(cycles) cycles, \(operations.count) operations, \(outcome.rows) rows, seed \(seed)")
        print("  throughput  \(formatRate(best)) ops/s (best of \(runs) untimed replays)")
        print(
            "  latency     p50 \(latency.p50) ns  p99 \(latency.p99) ns  p99.9 \(latency.p999) ns  max \(latency.max) ns"
        )
        print("  fees        \(outcome.fees) \(spec.quote) charged in total")
        print(
            "{\"mode\":\"ledger\",\"cycles\":\(cycles),\"ops\":\(operations.count),\"seed\":\(seed),"
                + "\"ops_per_sec\":\(Int(best)),\"p50_ns\":\(latency.p50),\"p99_ns\":\(latency.p99),"
                + "\"p999_ns\":\(latency.p999),\"max_ns\":\(latency.max),\"rows\":\(outcome.rows)}")
    }
}
