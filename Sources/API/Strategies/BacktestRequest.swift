import Trading

/// `POST /v1/backtests`: `{rules: [{when, action: {side, quantity}}…], candles: [{open_time, open, high, low,
/// close, volume}…], initial_cash, fee_bps, interval?}` read into a `Backtest` and its input.
///
/// Rule trees are read by `RuleParser`, as for strategies. `interval` (default `1m`) is the candles' interval:
/// an operand that names none reads the candles, one that names another is a problem at its `interval`.
/// Quantities, `initial_cash` and candle values (open, high, low, close, volume) are decimals (strings or
/// numbers), read exactly from their digits into fixed point with at most 8 decimals (`Amount`); `open_time`
/// is an RFC 3339 timestamp or whole milliseconds since 1970 (the form of the first candle, for all);
/// `fee_bps` is a decimal from 0 to 1000 with at most 4 decimals (`BacktestFeeRate`). At most `maxCandles`
/// candles.
///
/// Finds every problem before answering (see `StrategyValidationError`): impossible rule trees, a rule count
/// outside 1-20 or an operand on another interval make it a 422; anything else a 400 (with every problem
/// found, rules' included). Only the first candle with problems is reported. Unknown members outside rule
/// trees are ignored, as for strategies.
struct BacktestRequest: Sendable {
    /// The most candles accepted. A candle takes 62 bytes of JSON or more (`{"open_time":0,"open":1,"high":1,
    /// "low":1,"close":1,"volume":0},`), so one more than this still fits the default 64 KiB body limit: the
    /// bound is reachable, and a request over it is told so rather than that its body is too large.
    static let maxCandles = 900

    var backtest: Backtest
    var candles: [BacktestCandle]
    var initialCash: Amount
    var fee: BacktestFeeRate
    var time: CandleTime

    /// - Throws: `StrategyValidationError` with every problem; `BourseError` 400 for a body that is not an
    ///   object.
    init(_ body: JSONValue) throws {
        guard case .object(let object) = body else {
            throw BourseError.validation("request body must be a JSON object")
        }
        var reader = BacktestRequestReader()
        let interval = reader.interval(RuleParser.member(object, "interval"))
        let rules = reader.rules(RuleParser.member(object, "rules"), interval: interval)
        let (candles, time) = reader.candles(RuleParser.member(object, "candles"))
        let initialCash = reader.initialCash(RuleParser.member(object, "initial_cash"))
        let fee = reader.fee(RuleParser.member(object, "fee_bps"))
        if reader.problems.contains(where: { $0.code == .validation }) {
            throw StrategyValidationError(code: .validation, problems: reader.problems.map(\.problem))
        }
        if !reader.problems.isEmpty {
            throw StrategyValidationError(code: .invalidStrategy, problems: reader.problems.map(\.problem))
        }
        guard let interval, let rules, let candles, let time, let initialCash, let fee else {
            throw BourseError(.internal, "a backtest without problems lacks a member")
        }
        backtest = try Backtest(rules: rules, interval: interval)
        self.candles = candles
        self.time = time
        self.initialCash = initialCash
        self.fee = fee
    }

    /// The simulation.
    ///
    /// - Throws: `BourseError` 400 when the cash or the equity would go beyond the largest amount.
    func run() throws(BourseError) -> BacktestResult {
        try backtest.run(candles, initialCash: initialCash, fee: fee)
    }
}

/// The problems of one backtest request, each with the code it calls for, and the readers that find them.
private struct BacktestRequestReader {
    var problems: [(problem: RuleProblem, code: BourseError.Code)] = []
    var ruleParser = RuleParser()

    mutating func malformed(_ path: RulePath, _ message: String) {
        problems.append((RuleProblem(path, message), .validation))
    }

    mutating func invalid(_ problem: RuleProblem) { problems.append((problem, .invalidStrategy)) }

    /// The candles' interval; nil, after recording why, when it is not one (operands' intervals are not
    /// checked then).
    mutating func interval(_ json: JSONValue?) -> Timeframe? {
        guard let json else { return .default }
        guard let text = json.stringValue, let interval = Timeframe(rawValue: text) else {
            malformed(
                "interval", "interval must be one of \(Timeframe.allCases.map(\.rawValue).joined(separator: ", "))")
            return nil
        }
        return interval
    }

    mutating func rules(_ json: JSONValue?, interval: Timeframe?) -> [BacktestRule]? {
        guard let json else {
            malformed("rules", "rules is required")
            return nil
        }
        guard case .array(let elements) = json else {
            malformed("rules", "rules must be an array of {when, action}")
            return nil
        }
        let bounds = StrategyDefinition.ruleCount
        if !bounds.contains(elements.count) {
            invalid(
                RuleProblem(
                    "rules",
                    "a backtest holds \(bounds.lowerBound) to \(bounds.upperBound) rules, not \(elements.count)"
                ))
        }
        let rules = elements.enumerated().map { index, element in rule(element, index: index, interval: interval) }
        return rules.contains(where: { $0 == nil }) ? nil : rules.map { $0! }
    }

    private mutating func rule(_ json: JSONValue, index: Int, interval: Timeframe?) -> BacktestRule? {
        let path = RulePath([.member("rules"), .index(index)])
        guard case .object(let object) = json else {
            malformed(path, "a rule must be an object {when, action}")
            return nil
        }
        var when: RuleTree?
        if let json = RuleParser.member(object, "when") {
            let before = ruleParser.problems.count
            when = ruleParser.parse(interval.map { Self.reading(json, interval: $0) } ?? json, at: .rule(index))
            for problem in ruleParser.problems[before...] { invalid(problem) }
            if let when, let interval {
                for problem in Backtest.intervalProblems(of: when, at: .rule(index), interval: interval) {
                    invalid(problem)
                }
            }
        } else {
            malformed(path.appending("when"), "when is required")
        }
        let action = action(RuleParser.member(object, "action"), at: path.appending("action"))
        guard let when, let action else { return nil }
        return BacktestRule(when: when, side: action.side, quantity: action.quantity)
    }

    private mutating func action(_ json: JSONValue?, at path: RulePath) -> (side: Side, quantity: Amount)? {
        guard let json else {
            malformed(path, "action is required")
            return nil
        }
        guard case .object(let object) = json else {
            malformed(path, "action must be an object {side, quantity}")
            return nil
        }
        var side: Side?
        switch RuleParser.member(object, "side") {
        case nil: malformed(path.appending("side"), "side is required")
        case .string(let text) where Side.apiNames.contains(where: { $0.key == text }):
            side = Side.apiNames.first { $0.key == text }!.value
        default: malformed(path.appending("side"), "side must be one of buy, sell")
        }
        let quantity = positiveAmount(RuleParser.member(object, "quantity"), at: path.appending("quantity"))
        guard let side, let quantity else { return nil }
        return (side, quantity)
    }

    /// `json` with `interval` filled in on every operand that names no interval (when it is not the default
    /// anyway), so operands without one read the candles. Only rule nodes and operands are looked into.
    static func reading(_ json: JSONValue, interval: Timeframe) -> JSONValue {
        guard interval != .default, case .object(var object) = json else { return json }
        for key in ["all", "any"] {
            if case .array(let children)? = object[key] {
                object[key] = .array(children.map { reading($0, interval: interval) })
            }
        }
        if let child = object["not"] { object["not"] = reading(child, interval: interval) }
        for key in ["left", "right"] {
            guard case .object(var operand)? = object[key], RuleParser.member(operand, "indicator") != nil,
                RuleParser.member(operand, "interval") == nil
            else { continue }
            operand["interval"] = .string(interval.rawValue)
            object[key] = .object(operand)
        }
        return .object(object)
    }

    mutating func candles(_ json: JSONValue?) -> ([BacktestCandle]?, CandleTime?) {
        guard let json else {
            malformed("candles", "candles is required")
            return (nil, nil)
        }
        guard case .array(let elements) = json else {
            malformed("candles", "candles must be an array of {open_time, open, high, low, close, volume}")
            return (nil, nil)
        }
        let bounds = 1...BacktestRequest.maxCandles
        guard bounds.contains(elements.count) else {
            malformed("candles", "candles must hold 1 to \(bounds.upperBound) candles, not \(elements.count)")
            return (nil, nil)
        }
        let time = elements.first?.objectValue.flatMap { RuleParser.member($0, "open_time") }.flatMap(CandleTime.init)
        var candles: [BacktestCandle] = []
        candles.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            let before = problems.count
            let candle = candle(element, at: RulePath([.member("candles"), .index(index)]), time: time ?? .rfc3339)
            if let candle, let previous = candles.last, candle.openTime <= previous.openTime {
                malformed(
                    RulePath([.member("candles"), .index(index), .member("open_time")]),
                    "open_time must be after the previous candle's (candles[\(index - 1)])")
            }
            guard problems.count == before, let candle else { return (nil, time) }
            candles.append(candle)
        }
        return (candles, time)
    }

    private mutating func candle(_ json: JSONValue, at path: RulePath, time: CandleTime) -> BacktestCandle? {
        guard case .object(let object) = json else {
            malformed(path, "a candle must be an object {open_time, open, high, low, close, volume}")
            return nil
        }
        var openTime: Int64?
        switch RuleParser.member(object, "open_time") {
        case nil: malformed(path.appending("open_time"), "open_time is required")
        case let value?:
            openTime = time.millis(value)
            if openTime == nil {
                let form = path.components.last == .index(0) ? "" : ", as in candles[0]"
                malformed(path.appending("open_time"), "open_time must be \(time.name) from 1970 to 9999\(form)")
            }
        }
        var values: [Amount] = []
        for name in ["open", "high", "low", "close", "volume"] {
            if let amount = decimal(RuleParser.member(object, name), at: path.appending(name)) {
                values.append(amount)
            }
        }
        guard let openTime, values.count == 5 else { return nil }
        let candle = BacktestCandle(
            openTime: openTime, open: values[0], high: values[1], low: values[2], close: values[3], volume: values[4])
        let problems = candle.problems(at: path)
        for problem in problems { malformed(problem.path, problem.message) }
        return problems.isEmpty ? candle : nil
    }

    mutating func initialCash(_ json: JSONValue?) -> Amount? {
        guard let cash = positiveAmount(json, at: "initial_cash") else { return nil }
        return cash
    }

    /// `fee_bps`: a decimal (string or number) in `BacktestFeeRate.range`, with at most 4 decimals.
    mutating func fee(_ json: JSONValue?) -> BacktestFeeRate? {
        let range = BacktestFeeRate.range
        let message = "fee_bps must be a number from \(range.lowerBound) to \(range.upperBound), at most 4 decimals"
        guard let json else {
            malformed("fee_bps", "fee_bps is required")
            return nil
        }
        guard let text = Self.decimalText(json), let fee = try? BacktestFeeRate(parsing: text), range.contains(fee)
        else {
            malformed("fee_bps", message)
            return nil
        }
        return fee
    }

    /// A positive decimal with at most 8 decimals, read exactly.
    private mutating func positiveAmount(_ json: JSONValue?, at path: RulePath) -> Amount? {
        guard let amount = decimal(json, at: path) else { return nil }
        guard amount.units > 0 else {
            malformed(path, "\(Self.name(of: path)) must be positive")
            return nil
        }
        return amount
    }

    /// A decimal (string or number) with at most 8 decimals, read exactly; its sign is the caller's to check.
    private mutating func decimal(_ json: JSONValue?, at path: RulePath) -> Amount? {
        let name = Self.name(of: path)
        guard let json else {
            malformed(path, "\(name) is required")
            return nil
        }
        guard let text = Self.decimalText(json) else {
            malformed(path, "\(name) must be a decimal string or number")
            return nil
        }
        do {
            return try Amount(parsing: text, field: name)
        } catch {
            malformed(path, error.message)
            return nil
        }
    }

    /// The digits of a JSON number or string, as written.
    private static func decimalText(_ json: JSONValue) -> String? {
        switch json {
        case .string(let text), .number(let text): text
        default: nil
        }
    }

    /// The last member of `path` (`quantity` of `rules[0].action.quantity`), to name it in messages.
    private static func name(of path: RulePath) -> String {
        guard case .member(let name)? = path.components.last else { return "value" }
        return name
    }
}
