import Actors
import Trading

/// Reads a strategy request (`POST /v1/strategies`, `POST /v1/strategies/validate`):
/// `{name, symbol, rules: [{when, action: {side, quantity}}…], cooldown_seconds?}`.
///
/// Finds every problem before answering (see `StrategyValidationError`); problems of the request's shape
/// make it a 400, problems of the rules only (their trees, or a count outside `StrategyDefinition.ruleCount`)
/// a 422. A symbol that is not a market is a 404, as for orders. Unknown members of the request, of a rule
/// and of an action are ignored, as for orders; unknown members inside a rule tree are problems.
struct StrategyRequestParser {
    /// The market spec of a symbol; throws 404 for an unknown one.
    let market: @Sendable (String) async throws -> MarketSpec

    init(services: APIServices) {
        let exchange = services.exchange
        market = { symbol in try await exchange.market(symbol).spec }
    }

    init(market: @escaping @Sendable (String) async throws -> MarketSpec) { self.market = market }

    /// - Throws: `StrategyValidationError` with every problem; `BourseError` 400 for a body that is not an
    ///   object, 404 for an unknown symbol, and whatever the market lookup throws.
    func parse(_ body: JSONValue) async throws -> StrategyDefinition {
        guard case .object(let object) = body else {
            throw BourseError.validation("request body must be a JSON object")
        }
        var collector = Collector()
        let name = collector.name(RuleParser.member(object, "name"))
        var spec: MarketSpec?
        switch RuleParser.member(object, "symbol") {
        case nil: collector.malformed("symbol", "symbol is required")
        case .string(let symbol):
            guard MarketSpec.isValidSymbol(symbol) else { throw BourseError.notFound("unknown symbol") }
            spec = try await market(symbol)
        default: collector.malformed("symbol", "symbol must be a string")
        }
        let cooldown = collector.cooldown(RuleParser.member(object, "cooldown_seconds"))
        let rules = collector.rules(RuleParser.member(object, "rules"), spec: spec)
        if collector.problems.contains(where: { $0.code == .validation }) {
            throw StrategyValidationError(code: .validation, problems: collector.problems.map(\.problem))
        }
        if !collector.problems.isEmpty {
            throw StrategyValidationError(code: .invalidStrategy, problems: collector.problems.map(\.problem))
        }
        guard let name, let spec, let rules else {
            throw BourseError(.internal, "a strategy without problems lacks a member")
        }
        return StrategyDefinition(name: name, symbol: spec.symbol, rules: rules, cooldownSeconds: cooldown)
    }
}

/// The problems of one request, each with the code it calls for.
private struct Collector {
    var problems: [(problem: RuleProblem, code: BourseError.Code)] = []
    var ruleParser = RuleParser()

    mutating func malformed(_ path: RulePath, _ message: String) {
        problems.append((RuleProblem(path, message), .validation))
    }

    mutating func invalid(_ path: RulePath, _ message: String) {
        problems.append((RuleProblem(path, message), .invalidStrategy))
    }

    mutating func name(_ json: JSONValue?) -> String? {
        guard let json else {
            malformed("name", "name is required")
            return nil
        }
        guard case .string(let name) = json else {
            malformed("name", "name must be a string")
            return nil
        }
        let bounds = StrategyDefinition.nameLength
        guard bounds.contains(name.count), !name.allSatisfy(\.isWhitespace),
            !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        else {
            malformed(
                "name",
                "name must be \(bounds.lowerBound)-\(bounds.upperBound) characters, not blank, without control characters"
            )
            return nil
        }
        return name
    }

    mutating func cooldown(_ json: JSONValue?) -> Int {
        guard let json else { return 0 }
        let bounds = StrategyDefinition.cooldownRange
        guard case .number(let text) = json, let seconds = Int(text), bounds.contains(seconds) else {
            malformed(
                "cooldown_seconds",
                "cooldown_seconds must be a whole number of seconds from \(bounds.lowerBound) to \(bounds.upperBound)")
            return 0
        }
        return seconds
    }

    mutating func rules(_ json: JSONValue?, spec: MarketSpec?) -> [StrategyRule]? {
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
                "rules", "a strategy holds \(bounds.lowerBound) to \(bounds.upperBound) rules, not \(elements.count)")
        }
        let rules = elements.enumerated().map { index, element in rule(element, index: index, spec: spec) }
        return rules.contains(where: { $0 == nil }) ? nil : rules.map { $0! }
    }

    private mutating func rule(_ json: JSONValue, index: Int, spec: MarketSpec?) -> StrategyRule? {
        let path = RulePath([.member("rules"), .index(index)])
        guard case .object(let object) = json else {
            malformed(path, "a rule must be an object {when, action}")
            return nil
        }
        var when: RuleTree?
        if let json = RuleParser.member(object, "when") {
            let before = ruleParser.problems.count
            when = ruleParser.parse(json, at: .rule(index))
            for problem in ruleParser.problems[before...] { problems.append((problem, .invalidStrategy)) }
        } else {
            malformed(path.appending("when"), "when is required")
        }
        let action = action(RuleParser.member(object, "action"), at: path.appending("action"), spec: spec)
        guard let when, let action else { return nil }
        return StrategyRule(when: when, action: action)
    }

    private mutating func action(_ json: JSONValue?, at path: RulePath, spec: MarketSpec?) -> StrategyAction? {
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
        let quantity = quantity(RuleParser.member(object, "quantity"), at: path.appending("quantity"), spec: spec)
        guard let side, let quantity else { return nil }
        return StrategyAction(side: side, quantity: quantity)
    }

    private mutating func quantity(_ json: JSONValue?, at path: RulePath, spec: MarketSpec?) -> Quantity? {
        let text: String
        switch json {
        case nil:
            malformed(path, "quantity is required")
            return nil
        case .string(let value), .number(let value): text = value
        default:
            malformed(path, "quantity must be a decimal string or number")
            return nil
        }
        guard let spec else { return nil }
        do {
            return try spec.quantity(parsing: text)
        } catch {
            malformed(path, error.message)
            return nil
        }
    }
}
