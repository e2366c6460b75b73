// bourse-bench: release-build benchmarks of the pure core (trading, shard assignment).
//
//   swift run -c release bourse-bench engine [--orders N] [--seed S]
//   swift run -c release bourse-bench ledger
//   swift run -c release bourse-bench accounts [--users N] [--orders K]
//   swift run -c release bourse-bench ring [--shards S] [--trials T]
//   swift run -c release bourse-bench transport [--sequential N] [--concurrent N] [--callers C]
//   swift run -c release bourse-bench indicators [--data CSV] [--passes N] [--runs R]
//   swift run -c release bourse-bench load --nodes HOST:PORT[,…] [--users U] [--workers W] [--seconds S] [--mix 70,25,5]
//     [--run NAME]
//     (a mixed HTTP/2 client workload against running nodes; scripts/bench-load runs it on 1 and 3 nodes)
//
// Every mode prints a human summary and, as its last line, one JSON object with its figures.

let arguments = Array(CommandLine.arguments.dropFirst())
let mode = arguments.first ?? "help"
let rest = Array(arguments.dropFirst())

switch mode {
case "engine":
    EngineBench.run(arguments: rest)
case "ledger":
    LedgerBench.run(arguments: rest)
case "accounts":
    AccountsBench.run(arguments: rest)
case "ring":
    RingBench.run(arguments: rest)
case "transport":
    await TransportBench.run(arguments: rest)
case "indicators":
    IndicatorBench.run(arguments: rest)
case "load":
    await LoadBench.run(arguments: rest)
default:
    print(
        """
        usage: bourse-bench MODE [options]
          engine   matching engine: exchange-core-like mix and a liquibook-style add-only workload
          ledger   account ledger: reserve, settle and release cycles
          accounts  idle users passivated: memory per user active and passivated, time to passivate and activate
          ring     shard assignment: balance, shards moved on join and leave, time to compute
          transport  inter-node transport on 127.0.0.1: round-trip latency, throughput with concurrent callers
          indicators  incremental indicators over candle closes: updates per second, each and all together
          load     mixed HTTP/2 client load (reads, orders, cancels) against running nodes: throughput, latency
        """)
}
