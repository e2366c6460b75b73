import Trading

/// `POST /v1/indicators`: `{name, params, closes}` read into an indicator and a series, and the indicator's
/// value after each close (the Trading indicators themselves, so values agree with what rules see).
///
/// `name` is `sma`, `ema`, `rsi` (`params: {period}`), `macd` (`params: {fast, slow, signal, field?}`, field
/// `macd` by default) or `bollinger` (`params: {period, stddev?, field?}`, stddev 2 and field `middle` by
/// default). Closes are JSON numbers or decimal strings, at most `maxCloses`. Every problem is a 400
/// VALIDATION_ERROR naming the member (`params.period`, `closes[3]`).
struct IndicatorRequest: Sendable {
    /// The longest series accepted.
    static let maxCloses = 10_000
    static let names = ["sma", "ema", "rsi", "macd", "bollinger"]

    var spec: IndicatorSpec
    var field: IndicatorField
    var closes: [Double]

    /// - Throws: `BourseError` with code `.validation`.
    init(_ body: JSONValue) throws(BourseError) {
        let fields = try RequestFields(body)
        let name = try fields.string("name")
        guard Self.names.contains(name) else {
            throw .validation("name must be one of \(Self.names.joined(separator: ", "))")
        }
        let params = try fields.has("params") ? RequestFields(fields.required("params"), what: "params") : nil
        (spec, field) = try Self.spec(name, params?.object ?? JSONObject())
        try spec.validate()
        let elements = try fields.array("closes")
        guard elements.count <= Self.maxCloses else {
            throw .validation("closes must hold at most \(Self.maxCloses) numbers, not \(elements.count)")
        }
        var closes: [Double] = []
        closes.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            guard let close = RuleParser.double(element), close.isFinite else {
                throw .validation("closes[\(index)] must be a finite number")
            }
            closes.append(close)
        }
        self.closes = closes
    }

    /// The indicator's value after each close, `nil` while it warms up.
    func values() throws(BourseError) -> [Double?] {
        var indicator = try spec.makeIndicator()
        return closes.map { close in
            indicator.update(close: close, volume: 0)
            return indicator.value(field)
        }
    }

    private static func spec(_ name: String, _ params: JSONObject) throws(BourseError) -> (
        IndicatorSpec, IndicatorField
    ) {
        let allowed: [String] =
            switch name {
            case "macd": ["fast", "slow", "signal", "field"]
            case "bollinger": ["period", "stddev", "field"]
            default: ["period"]
            }
        if let unknown = params.keys.first(where: { !allowed.contains($0) }) {
            throw .validation(
                "params.\(unknown) is not a parameter of \(name); it takes \(allowed.joined(separator: ", "))")
        }
        switch name {
        case "sma": return (.sma(period: try integer(params, "period")), .value)
        case "ema": return (.ema(period: try integer(params, "period")), .value)
        case "rsi": return (.rsi(period: try integer(params, "period")), .value)
        case "macd":
            let spec = IndicatorSpec.macd(
                fast: try integer(params, "fast"), slow: try integer(params, "slow"),
                signal: try integer(params, "signal"))
            return (spec, try field(params, of: spec, default: .macd))
        default:
            let stddev = try number(params, "stddev") ?? 2
            let spec = IndicatorSpec.bollinger(period: try integer(params, "period"), k: stddev)
            return (spec, try field(params, of: spec, default: .middle))
        }
    }

    private static func integer(_ params: JSONObject, _ key: String) throws(BourseError) -> Int {
        guard let value = RuleParser.member(params, key) else { throw .validation("params.\(key) is required") }
        guard case .number(let text) = value,
            let integer = Int(text) ?? Double(text).flatMap({ $0 == $0.rounded() && abs($0) < 1e15 ? Int($0) : nil })
        else { throw .validation("params.\(key) must be an integer between 1 and 1000") }
        return integer
    }

    private static func number(_ params: JSONObject, _ key: String) throws(BourseError) -> Double? {
        guard let value = RuleParser.member(params, key) else { return nil }
        guard let number = RuleParser.double(value), number.isFinite else {
            throw .validation("params.\(key) must be a finite number")
        }
        return number
    }

    private static func field(_ params: JSONObject, of spec: IndicatorSpec, default field: IndicatorField)
        throws(BourseError) -> IndicatorField
    {
        guard let value = RuleParser.member(params, "field") else { return field }
        guard let text = value.stringValue, let field = IndicatorField(rawValue: text), spec.fields.contains(field)
        else {
            throw .validation("params.field must be one of \(spec.fields.map(\.rawValue).joined(separator: ", "))")
        }
        return field
    }
}
