import Trading

/// Stands in for the Actors module's `ExchangeService` in the fuzzers: the one requirement the request parsers
/// use. The real protocol (Sources/Actors/Exchange/ExchangeService.swift) names every exchange operation, and
/// with it the whole module; `OrderViews.swift` and `ExchangeViews.swift` are compiled as they are.
public protocol ExchangeService: Sendable {
    /// - Throws: `.notFound` for an unknown symbol.
    func market(_ symbol: String) async throws -> MarketInfo
}
