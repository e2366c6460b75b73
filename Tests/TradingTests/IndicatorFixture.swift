import Foundation
import Testing
import Trading

/// TA-Lib's outputs on the first EURUSD 1h closes, written by `scripts/talib-fixtures.py`
/// (`Fixtures/talib-eurusd-1h.json`; TA-Lib's NaN, i.e. undefined, is `nil`).
struct IndicatorFixture: Decodable, Sendable {
    /// One indicator and parameter set with TA-Lib's outputs, index for index with `closes`.
    struct Case: Decodable, Sendable, CustomTestStringConvertible {
        var indicator: String
        var params: [String: Double]
        var outputs: [String: [Double?]]

        var testDescription: String {
            "\(indicator)(\(params.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")))"
        }

        /// The spec of the indicator the case describes.
        var spec: IndicatorSpec {
            get throws {
                func integer(_ name: String) throws -> Int {
                    guard let value = params[name] else { throw FixtureError("\(indicator) has no \(name)") }
                    return Int(value)
                }
                switch indicator {
                case "sma": return .sma(period: try integer("period"))
                case "ema": return .ema(period: try integer("period"))
                case "rsi": return .rsi(period: try integer("period"))
                case "macd":
                    return .macd(fast: try integer("fast"), slow: try integer("slow"), signal: try integer("signal"))
                case "bollinger":
                    guard let k = params["stddev"] else { throw FixtureError("bollinger has no stddev") }
                    return .bollinger(period: try integer("period"), k: k)
                default: throw FixtureError("unknown indicator \(indicator)")
                }
            }
        }
    }

    struct FixtureError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// The version of the TA-Lib Python package that computed the outputs, and of its C library.
    var talib: String
    var talib_c: String
    var closes: [Double]
    var cases: [Case]

    /// The fixture, read once from the test bundle.
    static let eurusd: IndicatorFixture = {
        do {
            guard
                let url = Bundle.module.url(
                    forResource: "talib-eurusd-1h", withExtension: "json", subdirectory: "Fixtures")
            else { throw FixtureError("Fixtures/talib-eurusd-1h.json is not in the test bundle") }
            return try JSONDecoder().decode(IndicatorFixture.self, from: Data(contentsOf: url))
        } catch {
            fatalError("cannot read the TA-Lib fixture: \(error)")
        }
    }()

    /// Whether `actual` agrees with TA-Lib's `expected`: within 1e-9 relative, or 1e-12 absolute near zero.
    static func agrees(_ actual: Double, _ expected: Double) -> Bool {
        abs(actual - expected) <= max(1e-9 * abs(expected), 1e-12)
    }
}
