/// A strategy as its owner defines it (api.md, "Strategies"): on one market, rules that each place an order
/// when their tree holds at a candle close, and a pause after any of them fires.
public struct StrategyDefinition: Hashable, Sendable {
    /// The lengths (in characters) allowed for a name.
    public static let nameLength = 1...100
    /// The number of rules a strategy may hold.
    public static let ruleCount = 1...20
    /// The cooldowns allowed, in seconds (up to 30 days).
    public static let cooldownRange = 0...2_592_000

    public var name: String
    public var symbol: String
    public var rules: [StrategyRule]
    /// Seconds after a rule fires during which no rule of the strategy fires again.
    public var cooldownSeconds: Int

    public init(name: String, symbol: String, rules: [StrategyRule], cooldownSeconds: Int = 0) {
        self.name = name
        self.symbol = symbol
        self.rules = rules
        self.cooldownSeconds = cooldownSeconds
    }
}
