import Trading

/// Indicator operands and their parameters.
extension RuleParser {
    /// The parameters each indicator takes, as api.md names them.
    static func parameters(of name: String) -> [String]? {
        switch name {
        case "price", "volume": []
        case "sma", "ema", "rsi": ["period"]
        case "macd": ["fast", "slow", "signal"]
        case "bollinger": ["period", "stddev"]
        default: nil
        }
    }

    /// The member, unless absent or `null`.
    static func member(_ object: JSONObject, _ key: String) -> JSONValue? {
        guard let value = object[key], value != .null else { return nil }
        return value
    }

    mutating func indicator(_ nameValue: JSONValue, _ object: JSONObject, at path: RulePath) -> IndicatorOperand? {
        let names = Self.indicatorNames.joined(separator: ", ")
        guard let name = nameValue.stringValue, let parameters = Self.parameters(of: name) else {
            problems.append(RuleProblem(path.appending("indicator"), "indicator must be one of \(names)"))
            return nil
        }
        var complete = true
        for key in object.keys where !(["indicator", "interval", "field"] + parameters).contains(key) {
            problems.append(RuleProblem(path.appending(key), "\(name) has no parameter \(key)"))
            complete = false
        }
        var values: [String: JSONValue] = [:]
        for parameter in parameters {
            guard let value = Self.member(object, parameter) else {
                problems.append(RuleProblem(path.appending(parameter), "\(name) needs \(parameter)"))
                complete = false
                continue
            }
            values[parameter] = value
        }
        var interval = Timeframe.default
        if let value = Self.member(object, "interval") {
            if let text = value.stringValue, let parsed = Timeframe(rawValue: text) {
                interval = parsed
            } else {
                let intervals = Timeframe.allCases.map(\.rawValue).joined(separator: ", ")
                problems.append(RuleProblem(path.appending("interval"), "interval must be one of \(intervals)"))
                complete = false
            }
        }
        var field: IndicatorField?
        if let value = Self.member(object, "field") {
            if let text = value.stringValue, let parsed = IndicatorField(rawValue: text) {
                field = parsed
            } else {
                problems.append(RuleProblem(path.appending("field"), fieldMessage(name)))
                complete = false
            }
        }
        guard complete, let spec = spec(name, values, at: path) else { return nil }
        return IndicatorOperand(spec, field: field, interval: interval)
    }

    private func fieldMessage(_ name: String) -> String {
        switch name {
        case "macd": "field must be one of macd, signal, histogram"
        case "bollinger": "field must be one of upper, middle, lower"
        default: "\(name) has a single value: leave field out"
        }
    }

    /// The spec from parameters all present; nil after recording a parameter of the wrong type.
    private mutating func spec(_ name: String, _ values: [String: JSONValue], at path: RulePath) -> IndicatorSpec? {
        func integer(_ key: String) -> Int? { self.integer(values[key]!, at: path.appending(key)) }
        switch name {
        case "price": return .price
        case "volume": return .volume
        case "sma", "ema", "rsi":
            guard let period = integer("period") else { return nil }
            return name == "sma" ? .sma(period: period) : name == "ema" ? .ema(period: period) : .rsi(period: period)
        case "macd":
            let (fast, slow, signal) = (integer("fast"), integer("slow"), integer("signal"))
            guard let fast, let slow, let signal else { return nil }
            return .macd(fast: fast, slow: slow, signal: signal)
        default:
            let period = integer("period")
            let stddev = number(values["stddev"]!, at: path.appending("stddev"))
            guard let period, let stddev else { return nil }
            return .bollinger(period: period, k: stddev)
        }
    }

    /// A whole JSON number (`14`, also `14.0` or `1.4e1`); a period far out of range is reported here, as
    /// it may not fit an `Int`.
    mutating func integer(_ json: JSONValue, at path: RulePath) -> Int? {
        guard case .number(let text) = json else {
            problems.append(RuleProblem(path, "\(Self.name(of: path)) must be an integer"))
            return nil
        }
        if let value = Int(text) { return value }
        guard let value = Double(text), value == value.rounded() else {
            problems.append(RuleProblem(path, "\(Self.name(of: path)) must be an integer"))
            return nil
        }
        guard abs(value) < 1e15 else {
            problems.append(RuleProblem(path, "\(Self.name(of: path)) must be between 1 and 1000, not \(text)"))
            return nil
        }
        return Int(value)
    }

    /// A finite number: a JSON number or a decimal string.
    mutating func number(_ json: JSONValue, at path: RulePath) -> Double? {
        guard let value = Self.double(json) else {
            problems.append(RuleProblem(path, "\(Self.name(of: path)) must be a number"))
            return nil
        }
        guard value.isFinite else {
            problems.append(RuleProblem(path, "\(Self.name(of: path)) must be a finite number"))
            return nil
        }
        return value
    }

    /// The value of a JSON number or of a string holding one.
    static func double(_ json: JSONValue) -> Double? {
        switch json {
        case .number(let text): return Double(text)
        case .string(let text):
            guard case .number(let digits)? = try? JSONParser().parse(text) else { return nil }
            return Double(digits)
        default: return nil
        }
    }

    private static func name(of path: RulePath) -> String {
        guard case .member(let name)? = path.components.last else { return "value" }
        return name
    }
}
