#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Monotonic nanoseconds (vDSO clock_gettime: ~20 ns a call).
@inline(__always) func nowNanos() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_MONOTONIC, &spec)
    return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
}

/// SplitMix64: the bench's own seeded generator (the bench depends on Trading only).
struct BenchRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in 0..<bound.
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    mutating func int(_ range: ClosedRange<Int64>) -> Int64 {
        range.lowerBound + Int64(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }
}

/// Latency percentiles from per-operation timings.
struct Percentiles {
    var p50: UInt64
    var p99: UInt64
    var p999: UInt64
    var max: UInt64

    init(_ samples: inout [UInt64]) {
        samples.sort()
        func at(_ q: Double) -> UInt64 { samples[min(samples.count - 1, Int(Double(samples.count) * q))] }
        p50 = at(0.50)
        p99 = at(0.99)
        p999 = at(0.999)
        max = samples.last ?? 0
    }
}

/// Reads `--name value` from the arguments.
func option(_ name: String, in arguments: [String]) -> String? {
    guard let position = arguments.firstIndex(of: "--\(name)"), position + 1 < arguments.count else { return nil }
    return arguments[position + 1]
}

func formatRate(_ value: Double) -> String {
    let millions = (value / 10_000).rounded() / 100
    return "\(millions)M"
}
