import Actors
import Foundation
import Logging
import Metrics
import Storage
import Synchronization
import Trading

// `bourse-signal-bench`: a reference tick reaching the exchange → the candle it closes updates the shared
// indicators → every active strategy on the symbol is evaluated → the one that fires hands its signal to the
// order flow (tick_to_signal) → its market order goes through the normal flow (reservation, journal, matching,
// settlement) and is answered (tick_to_order). Measured with 1, 1,000 and 10,000 active strategies on one
// symbol over the embedded SQLite store (synchronous=FULL); plus the evaluation alone (the pure
// `SymbolState.apply` of the closing tick, no actor, no I/O).
//
// Usage: bourse-signal-bench [--closes N] [--counts 1,1000,10000] [--directory DIR]

let capture = LatencyCapture(labels: [SignalBench.orderLabel, SignalBench.signalLabel])
MetricsSystem.bootstrap(capture)

var closes = 200
var counts = [1, 1_000, 10_000]
var directory = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-signal-bench").path
var arguments = CommandLine.arguments.dropFirst().makeIterator()
while let argument = arguments.next() {
    switch argument {
    case "--closes": closes = Int(arguments.next() ?? "") ?? closes
    case "--counts": counts = (arguments.next() ?? "").split(separator: ",").compactMap { Int($0) }
    case "--directory": directory = arguments.next() ?? directory
    default:
        FileHandle.standardError.write(Data("usage: bourse-signal-bench [--closes N] [--counts 1,1000,10000]\n".utf8))
        exit(2)
    }
}

for count in counts {
    let result = try await SignalBench(strategies: count, closes: closes, directory: directory + "-\(count)")
        .run(capture: capture)
    print(result)
}
