import Testing
import Trading

/// Every indicator against TA-Lib on real data (EURUSD 1h closes), at every index: `nil` exactly where TA-Lib
/// gives NaN, and within 1e-9 relative (1e-12 absolute near zero) everywhere else.
@Suite struct IndicatorFixtureTests {
    static let fixture = IndicatorFixture.eurusd

    @Test func theFixtureCoversEveryIndicatorWithCloses() {
        #expect(Self.fixture.closes.count >= 1_000)
        let names = Set(Self.fixture.cases.map(\.indicator))
        #expect(names == ["sma", "ema", "rsi", "macd", "bollinger"])
        for testCase in Self.fixture.cases {
            for (field, values) in testCase.outputs {
                #expect(values.count == Self.fixture.closes.count, "\(testCase.testDescription).\(field)")
            }
        }
    }

    @Test(arguments: IndicatorFixture.eurusd.cases)
    func agreesWithTALib(_ testCase: IndicatorFixture.Case) throws {
        let spec = try testCase.spec
        var indicator = try spec.makeIndicator()
        #expect(Set(testCase.outputs.keys) == Set(spec.fields.map(\.rawValue)))
        var worst = 0.0
        var firstDefined: Int?
        for (index, close) in Self.fixture.closes.enumerated() {
            indicator.update(close: close, volume: 0)
            for field in spec.fields {
                let expected = try #require(testCase.outputs[field.rawValue])[index]
                let actual = indicator.value(field)
                switch (actual, expected) {
                case (nil, nil):
                    continue
                case (let actual?, let expected?):
                    if firstDefined == nil { firstDefined = index }
                    let ok = IndicatorFixture.agrees(actual, expected)
                    #expect(ok, "\(testCase.testDescription).\(field) at \(index): \(actual) vs TA-Lib \(expected)")
                    if abs(expected) > 1e-9 { worst = max(worst, abs(actual - expected) / abs(expected)) }
                    if !ok { return }
                default:
                    Issue.record(
                        "\(testCase.testDescription).\(field) at \(index): \(String(describing: actual)) vs TA-Lib \(String(describing: expected))"
                    )
                    return
                }
            }
        }
        // TA-Lib's first value comes after its lookback, and so does ours.
        #expect(firstDefined == spec.lookback)
        #expect(indicator.lookback == spec.lookback)
        print("\(testCase.testDescription): max relative error against TA-Lib \(worst)")
    }
}
