import Storage
import Trading

/// Markets added at run time (`POST /admin/v1/markets`), kept in the store's key-value table so that they
/// survive a restart and every node of a cluster sees the same ones.
///
/// The table only offers `putIfAbsent`, so the catalog is append-only and race-free on its own:
/// - `market/<SYMBOL>` holds the spec: the first writer of a symbol wins, and a second add with other
///   parameters finds the first one's;
/// - `markets/added/<n>` (n = 1, 2, …, without gaps) lists the symbols in the order they were added; an add
///   puts its symbol at the first free n.
///
/// Adding is idempotent: an add that stopped between the two writes is completed by the next add of the
/// same market. Loading reads the list until the first missing n.
enum MarketCatalog {
    static func specKey(_ symbol: String) -> String { "market/\(symbol)" }
    static func listKey(_ position: Int) -> String { "markets/added/\(position)" }

    /// Every added market, in the order added.
    static func load(from store: any JournalStore) async throws -> [MarketSpec] {
        var specs: [MarketSpec] = []
        var position = 1
        while let symbolBytes = try await store.value(forKey: listKey(position)) {
            let symbol = String(decoding: symbolBytes, as: UTF8.self)
            guard let bytes = try await store.value(forKey: specKey(symbol)) else {
                throw BourseError(.internal, "added market \(symbol) has no stored spec")
            }
            specs.append(try decode(bytes))
            position += 1
        }
        return specs
    }

    /// Stores `spec` durably.
    ///
    /// - Throws: `.conflict` when the symbol was stored before with other parameters.
    static func save(_ spec: MarketSpec, to store: any JournalStore) async throws {
        let bytes = encode(spec)
        let stored = try await store.putIfAbsent(key: specKey(spec.symbol), value: bytes)
        guard stored == bytes else {
            throw BourseError(.conflict, "market \(spec.symbol) was added before with other parameters")
        }
        let symbol = Array(spec.symbol.utf8)
        var position = 1
        while try await store.putIfAbsent(key: listKey(position), value: symbol) != symbol { position += 1 }
    }

    /// `v1 SYMBOL BASE QUOTE tick lot min maker taker`, sizes in units of 10⁻⁸.
    static func encode(_ spec: MarketSpec) -> [UInt8] {
        let fields: [String] = [
            "v1", spec.symbol, spec.base, spec.quote, String(spec.tickSize.units), String(spec.lotSize.units),
            String(spec.minQuantity.lots &* spec.lotSize.units), String(spec.makerFeeBps), String(spec.takerFeeBps),
        ]
        return Array(fields.joined(separator: " ").utf8)
    }

    static func decode(_ bytes: [UInt8]) throws -> MarketSpec {
        let fields = String(decoding: bytes, as: UTF8.self).split(separator: " ").map(String.init)
        guard fields.count == 9, fields[0] == "v1", let tick = Int64(fields[4]), let lot = Int64(fields[5]),
            let minimum = Int64(fields[6]), let maker = Int64(fields[7]), let taker = Int64(fields[8])
        else { throw BourseError(.internal, "stored market spec is malformed") }
        return try MarketSpec(
            symbol: fields[1], base: fields[2], quote: fields[3], tickSize: Amount(units: tick),
            lotSize: Amount(units: lot), minQuantity: Amount(units: minimum), makerFeeBps: maker, takerFeeBps: taker)
    }
}
