import Trading

/// Stands in for the API module's `StrategyValidationError` in the fuzzers: its stored members, without the
/// response it renders (Sources/API/Strategies/StrategyValidationError.swift, which needs Hummingbird).
struct StrategyValidationError: Error, Sendable {
    var code: BourseError.Code
    var problems: [RuleProblem]
}
