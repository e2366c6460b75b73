/// The result of `verify`: every invariant of design.md checked across the shards (and the read models
/// where reachable), each with what it checked, how many violations it found and the first few of them.
///
/// Examples name shards, users by id, orders, trades and amounts; never usernames, passwords or tokens.
public struct InvariantReport: Sendable, Hashable {
    /// One invariant.
    public struct Check: Sendable, Hashable {
        /// Stable identifier, e.g. `money_conservation`.
        public var name: String
        /// What the check asserts.
        public var summary: String
        /// Items checked (currencies, balances, trades, books, reservations, shards, users).
        public var checked: Int
        /// Items that broke the invariant.
        public var violations: Int
        /// The first few violations, described.
        public var examples: [String]
        /// Why the check covered less than everything (read models lagging or unreachable), if it did.
        public var note: String?

        public init(
            name: String, summary: String, checked: Int, violations: Int, examples: [String], note: String? = nil
        ) {
            self.name = name
            self.summary = summary
            self.checked = checked
            self.violations = violations
            self.examples = examples
            self.note = note
        }

        public var passed: Bool { violations == 0 }
    }

    /// Names of the checks, in report order.
    public enum Name {
        public static let moneyConservation = "money_conservation"
        public static let nonNegativeBalances = "non_negative_balances"
        public static let fillsSettled = "fills_settled"
        public static let booksUncrossed = "books_uncrossed"
        public static let reservations = "reservations"
        public static let anomalies = "anomalies"
        public static let readModels = "read_models"
        public static let shardsAudited = "shards_audited"
    }

    public var checks: [Check]
    /// Passes made. A pass that finds violations is followed by more, and only what every pass found is
    /// reported: commands in flight (a trade matched but not yet settled) look like violations until they
    /// land, corrupt state stays.
    public var attempts: Int
    public var checkedAtMillis: Int64
    public var markets: Int
    public var accountShards: Int
    public var users: Int

    public init(
        checks: [Check], attempts: Int, checkedAtMillis: Int64, markets: Int, accountShards: Int, users: Int
    ) {
        self.checks = checks
        self.attempts = attempts
        self.checkedAtMillis = checkedAtMillis
        self.markets = markets
        self.accountShards = accountShards
        self.users = users
    }

    /// True when every check passed.
    public var ok: Bool { checks.allSatisfy(\.passed) }

    /// The check named `name`.
    public func check(_ name: String) -> Check? { checks.first { $0.name == name } }

    /// Total violations over every check.
    public var violations: Int { checks.reduce(0) { $0 + $1.violations } }
}
