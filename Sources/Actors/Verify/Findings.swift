/// Violations of one invariant as a check finds them, each under a key naming what is wrong (a currency, a
/// user's balance, a trade, an order), so that passes can be compared: a violation that is gone in the
/// next pass was a command in flight, one that stays is real.
struct Findings: Sendable, Hashable {
    /// Examples shown per check.
    static let exampleLimit = 5
    /// Violations kept per check; beyond that they are only counted.
    static let keyLimit = 100_000

    /// Description by key.
    private(set) var violations: [String: String] = [:]
    /// Violations beyond `keyLimit`.
    private(set) var uncounted = 0

    init() {}

    /// Findings as another node found them (`ExchangeAudit`).
    init(violations: [String: String], uncounted: Int) {
        self.violations = violations
        self.uncounted = uncounted
    }

    /// Records a violation; a key met again keeps its first description.
    mutating func add(_ key: String, _ description: @autoclosure () -> String) {
        guard violations[key] == nil else { return }
        guard violations.count < Findings.keyLimit else {
            uncounted += 1
            return
        }
        violations[key] = description()
    }

    mutating func merge(_ other: Findings) {
        for (key, description) in other.violations { add(key, description) }
        uncounted += other.uncounted
    }

    var count: Int { violations.count + uncounted }

    /// The first few descriptions, by key.
    var examples: [String] {
        violations.sorted { $0.key < $1.key }.prefix(Findings.exampleLimit).map(\.value)
    }

    /// The violations of `later` (a later pass) that these findings had too.
    func persisting(in later: Findings) -> Findings {
        var result = Findings()
        for (key, description) in later.violations where violations[key] != nil { result.add(key, description) }
        result.uncounted = min(uncounted, later.uncounted)
        return result
    }
}
