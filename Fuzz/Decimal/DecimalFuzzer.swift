import Trading

/// Fuzzes the decimal parser (`FixedDecimal.parse`) and the parsers on top of it (`Amount(parsing:)`,
/// `MarketSpec.price(parsing:)` and `quantity(parsing:)`).
///
/// Input: one byte choosing the scale and the market, then the text. Properties:
/// - the outcome (value or kind of error) is the one `ReferenceDecimal` computes by shifting digits as text;
/// - a parsed value formats (shortest and at full scale) to text that parses back to it;
/// - one more decimal of scale multiplies the value by ten, one fewer divides it (or refuses the last digit);
/// - an amount's description and a price's or quantity's formatting parse back to the same value, on the grid.
enum DecimalFuzzer {
    static let markets: [MarketSpec] = [
        try! MarketSpec(
            symbol: "BTC-USD", base: "BTC", quote: "USD", tickSize: "0.01", lotSize: "0.00001",
            minQuantity: "0.00001", makerFeeBps: 10, takerFeeBps: 20),
        try! MarketSpec(
            symbol: "SHIB-USD", base: "SHIB", quote: "USD", tickSize: "0.00000001", lotSize: "1",
            minQuantity: "100", makerFeeBps: 0, takerFeeBps: 0),
        try! MarketSpec(
            symbol: "IDX-EUR", base: "IDX", quote: "EUR", tickSize: "25", lotSize: "0.01", minQuantity: "0.05",
            makerFeeBps: 1_000, takerFeeBps: 1_000),
    ]

    static func run(_ bytes: [UInt8]) {
        guard let selector = bytes.first else { return }
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        let scale = Int(selector) % (FixedDecimal.maxScale + 1)
        checkFixedDecimal(text, scale: scale)
        checkAmount(text)
        checkMarket(text, markets[Int(selector) / (FixedDecimal.maxScale + 1) % markets.count])
    }

    static func parse(_ text: String, scale: Int) -> Result<Int64, BourseError> {
        Result { () throws(BourseError) in try FixedDecimal.parse(text, scale: scale) }
    }

    static func checkFixedDecimal(_ text: String, scale: Int) {
        let outcome = parse(text, scale: scale)
        let expected = ReferenceDecimal.parse(Array(text.utf8), scale: scale)
        fuzzCheck(
            ReferenceDecimal.Outcome(outcome) == expected, "\(text) at scale \(scale): \(outcome), not \(expected)")
        guard case .success(let value) = outcome else { return }

        let shortest = FixedDecimal.format(
            value, scale: scale, fractionDigits: FixedDecimal.decimals(of: value, scale: scale))
        fuzzCheck(parse(shortest, scale: scale) == .success(value), "\(text) at scale \(scale) formats as \(shortest)")
        fuzzCheck(value != 0 || shortest == "0", "zero formats as \(shortest)")
        let full = FixedDecimal.format(value, scale: scale, fractionDigits: scale)
        fuzzCheck(parse(full, scale: scale) == .success(value), "\(text) at scale \(scale) formats as \(full)")

        if scale < FixedDecimal.maxScale {
            let (times10, overflow) = value.multipliedReportingOverflow(by: 10)
            let finer = parse(text, scale: scale + 1)
            if overflow {
                fuzzCheck(finer.isFailure, "\(text) fits at scale \(scale + 1) though ten times \(value) does not")
            } else {
                fuzzCheck(finer == .success(times10), "\(text) at scale \(scale + 1): \(finer), not \(times10)")
            }
        }
        if scale > 0 {
            let coarser = parse(text, scale: scale - 1)
            if value % 10 == 0 {
                fuzzCheck(coarser == .success(value / 10), "\(text) at scale \(scale - 1): \(coarser)")
            } else {
                fuzzCheck(coarser.isFailure, "\(text) at scale \(scale - 1) drops a digit: \(coarser)")
            }
        }
    }

    static func checkAmount(_ text: String) {
        guard let amount = try? Amount(parsing: text) else { return }
        let description = amount.description
        fuzzCheck((try? Amount(parsing: description)) == amount, "amount \(text) describes itself as \(description)")
        let decimals = description.split(separator: ".", omittingEmptySubsequences: false).last?.count
        fuzzCheck(decimals == Amount.scale, "amount \(text) described without 8 decimals: \(description)")
    }

    static func checkMarket(_ text: String, _ spec: MarketSpec) {
        let units = try? FixedDecimal.parse(text, scale: Amount.scale)
        do {
            let price = try spec.price(parsing: text)
            fuzzCheck((1...MarketSpec.maxTicks).contains(price.ticks), "price \(text) is \(price) on \(spec.symbol)")
            fuzzCheck(units == price.ticks * spec.tickSize.units, "price \(text) is \(price) on \(spec.symbol)")
            let formatted = spec.format(price)
            fuzzCheck((try? spec.price(parsing: formatted)) == price, "price \(text) formats as \(formatted)")
        } catch {
            fuzzCheck(error.code == .validation, "price \(text) refused with \(error)")
        }
        do {
            let quantity = try spec.quantity(parsing: text)
            fuzzCheck(
                (spec.minQuantity.lots...MarketSpec.maxLots).contains(quantity.lots),
                "quantity \(text) is \(quantity) on \(spec.symbol)")
            fuzzCheck(units == quantity.lots * spec.lotSize.units, "quantity \(text) is \(quantity) on \(spec.symbol)")
            let formatted = spec.format(quantity)
            fuzzCheck((try? spec.quantity(parsing: formatted)) == quantity, "quantity \(text) formats as \(formatted)")
        } catch {
            fuzzCheck(error.code == .validation, "quantity \(text) refused with \(error)")
        }
    }
}

extension Result {
    fileprivate var isFailure: Bool {
        if case .failure = self { return true }
        return false
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecimal(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    DecimalFuzzer.run(fuzzBytes(data, count))
    return 0
}
