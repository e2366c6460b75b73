/// A price in ticks of its market (`ticks × tick_size` in the quote currency).
///
/// Prices are only meaningful with their `MarketSpec`; the book compares raw ticks.
public struct Price: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var ticks: Int64
    @inlinable public init(ticks: Int64) { self.ticks = ticks }
    @inlinable public static func < (lhs: Price, rhs: Price) -> Bool { lhs.ticks < rhs.ticks }
    public var description: String { "\(ticks)t" }
}

/// A quantity in lots of its market (`lots × lot_size` of the base currency).
public struct Quantity: Hashable, Comparable, Sendable, CustomStringConvertible {
    public static let zero = Quantity(lots: 0)
    public var lots: Int64
    @inlinable public init(lots: Int64) { self.lots = lots }
    @inlinable public static func < (lhs: Quantity, rhs: Quantity) -> Bool { lhs.lots < rhs.lots }
    public var description: String { "\(lots)l" }
}
