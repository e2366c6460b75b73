import Trading

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Indicator benchmark: `bourse-bench indicators [--data CSV] [--passes N] [--runs R]`.
///
/// Replays the closes (and volumes) of a candle CSV with columns `open_time,open,high,low,close,volume`
/// (default `../shared/data/EURUSD-1h.csv`) `passes` times through each indicator on its own, as the symbol
/// actor holds them (`AnyIndicator`, one update per close), then through a set of all of them updated together
/// on every close. Long periods (1,000) run beside the usual ones: the update is O(1), so they should cost the
/// same. Best of `runs`. Prints a human summary and, as the last line, one JSON object with the figures.
enum IndicatorBench {
    static let specs: [(name: String, spec: IndicatorSpec)] = [
        ("price", .price), ("volume", .volume), ("sma_20", .sma(period: 20)), ("sma_1000", .sma(period: 1_000)),
        ("ema_20", .ema(period: 20)), ("rsi_14", .rsi(period: 14)),
        ("macd_12_26_9", .macd(fast: 12, slow: 26, signal: 9)),
        ("bollinger_20_2", .bollinger(period: 20, k: 2)), ("bollinger_1000_2", .bollinger(period: 1_000, k: 2)),
    ]

    static func run(arguments: [String]) {
        let path = option("data", in: arguments) ?? "../shared/data/EURUSD-1h.csv"
        let passes = Int(option("passes", in: arguments) ?? "") ?? 1_000
        let runs = Int(option("runs", in: arguments) ?? "") ?? 3
        guard passes > 0, runs > 0, let candles = readCandles(path), !candles.closes.isEmpty else {
            print("usage: bourse-bench indicators [--data CSV] [--passes N] [--runs R] (could not read \(path)?)")
            print(#"{"mode":"indicators","error":"bad arguments or unreadable data"}"#)
            return
        }
        let updates = candles.closes.count * passes
        print("\(candles.closes.count) candles from \(path), replayed \(passes) times: \(updates) closes per run")

        var perIndicator: [String] = []
        for (name, spec) in specs {
            let rate = best(of: runs) { measure([spec], candles: candles, passes: passes) }
            print("\(name): \(formatRate(rate)) updates/s (\(nanos(per: rate)) ns per update)")
            perIndicator.append("\"\(name)\":\(Int(rate))")
        }

        // Every spec at once, as a symbol's distinct indicators are updated on each close.
        let all = specs.map(\.spec)
        let closesPerSecond = best(of: runs) { measure(all, candles: candles, passes: passes) }
        let allUpdates = closesPerSecond * Double(all.count)
        print(
            "all \(all.count) together: \(formatRate(closesPerSecond)) closes/s, \(formatRate(allUpdates)) updates/s "
                + "(\(nanos(per: closesPerSecond)) ns per close)")
        print(
            "{\"mode\":\"indicators\",\"candles\":\(candles.closes.count),\"passes\":\(passes),\"runs\":\(runs),"
                + "\"updates_per_sec\":{\(perIndicator.joined(separator: ","))},"
                + "\"all\":{\"indicators\":\(all.count),\"closes_per_sec\":\(Int(closesPerSecond)),"
                + "\"updates_per_sec\":\(Int(allUpdates))}}")
    }

    /// Closes per second through fresh instances of `specs`, all updated on every close.
    static func measure(_ specs: [IndicatorSpec], candles: (closes: [Double], volumes: [Double]), passes: Int) -> Double
    {
        var indicators = specs.map { try! $0.makeIndicator() }
        let fields = specs.map { $0.fields[0] }
        var checksum = 0.0
        let start = nowNanos()
        for _ in 0..<passes {
            for index in candles.closes.indices {
                let close = candles.closes[index]
                let volume = candles.volumes[index]
                for slot in indicators.indices {
                    indicators[slot].update(close: close, volume: volume)
                }
            }
            // Read the values once per pass so the optimiser cannot drop the work.
            for slot in indicators.indices { checksum += indicators[slot].value(fields[slot]) ?? 0 }
        }
        let elapsed = nowNanos() - start
        if checksum.isNaN { print("NaN checksum") }
        return Double(candles.closes.count * passes) / (Double(elapsed) / 1e9)
    }

    static func best(of runs: Int, _ body: () -> Double) -> Double {
        (0..<runs).reduce(0) { best, _ in max(best, body()) }
    }

    static func nanos(per rate: Double) -> String {
        let value = (1e9 / rate * 10).rounded() / 10
        return "\(value)"
    }

    /// The close and volume columns of a candle CSV with a header line, or nil if the file cannot be read.
    static func readCandles(_ path: String) -> (closes: [Double], volumes: [Double])? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var closes: [Double] = []
        var volumes: [Double] = []
        var closeColumn = 4
        var volumeColumn = 5
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        var header = true
        while getline(&line, &capacity, file) > 0, let line {
            let fields = String(cString: line).split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: " \r\n")
            }
            if header {
                header = false
                closeColumn = fields.firstIndex(of: "close") ?? closeColumn
                volumeColumn = fields.firstIndex(of: "volume") ?? volumeColumn
                continue
            }
            guard fields.count > max(closeColumn, volumeColumn), let close = Double(fields[closeColumn]) else {
                continue
            }
            closes.append(close)
            volumes.append(Double(fields[volumeColumn]) ?? 0)
        }
        return (closes, volumes)
    }
}

extension Substring {
    /// The substring without leading and trailing characters in `set`.
    fileprivate func trimmingCharacters(in set: String) -> String {
        var result = self
        while let first = result.first, set.contains(first) { result = result.dropFirst() }
        while let last = result.last, set.contains(last) { result = result.dropLast() }
        return String(result)
    }
}
