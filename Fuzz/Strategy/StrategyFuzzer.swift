import Actors
import Trading

/// Fuzzes the strategy request reader (`StrategyRequestParser`, `RuleParser`, on `JSONParser`) with arbitrary
/// bytes as a `POST /v1/strategies` body, on the markets of `FuzzExchange`; the same document is also read as a
/// bare rule tree (a rule's `when`).
///
/// Properties: the JSON ones (`JSONChecks`); a refusal is a `StrategyValidationError` with at least one problem
/// (400 or 422) or a `BourseError` 400 or 404; an accepted strategy is within its bounds, its trees have no
/// problems (`RuleTree.problems(at:depth:)`) and compile (`RulePlan`), and rendered as `GET /v1/strategies/{id}`
/// renders it (`Render.strategy`), it reads back as the same strategy. A tree the rule parser reads has no
/// problems, compiles, and reads back from its rendering (`Render.rule`) as the same tree; one it cannot read
/// comes with a problem.
enum StrategyFuzzer {
    /// The API's default (`APIConfiguration.maxJSONDepth`).
    static let maxDepth = 64
    static let parser = StrategyRequestParser { symbol in try FuzzExchange.spec(symbol) }

    static func run(_ bytes: [UInt8]) {
        guard let body = JSONChecks.parse(bytes, maxDepth: maxDepth) else { return }
        checkRuleTree(body)
        switch parse(body) {
        case .success(let definition): check(definition)
        case .failure(let error as StrategyValidationError):
            fuzzCheck(!error.problems.isEmpty, "strategy refused without a problem")
            fuzzCheck(
                error.code == .validation || error.code == .invalidStrategy, "strategy refused with \(error.code)")
        case .failure(let error as BourseError):
            fuzzCheck(error.code == .validation || error.code == .notFound, "strategy refused with \(error)")
        case .failure(let error): fuzzCheck(false, "strategy refused with \(type(of: error)): \(error)")
        }
    }

    static func parse(_ body: JSONValue) -> Result<StrategyDefinition, any Error> {
        runBlocking { try await parser.parse(body) }
    }

    static func check(_ definition: StrategyDefinition) {
        guard let spec = try? FuzzExchange.spec(definition.symbol) else {
            return fuzzCheck(false, "accepted a strategy on \(definition.symbol)")
        }
        fuzzCheck(StrategyDefinition.nameLength.contains(definition.name.count), "name \(definition.name)")
        fuzzCheck(StrategyDefinition.ruleCount.contains(definition.rules.count), "\(definition.rules.count) rules")
        fuzzCheck(StrategyDefinition.cooldownRange.contains(definition.cooldownSeconds), "cooldown")
        for (index, rule) in definition.rules.enumerated() {
            let problems = rule.when.problems(at: .rule(index))
            fuzzCheck(problems.isEmpty, "accepted a rule with problems: \(problems)")
            fuzzCheck(
                (spec.minQuantity.lots...MarketSpec.maxLots).contains(rule.action.quantity.lots),
                "rule \(index) quantity \(rule.action.quantity)")
        }
        var indicators = IndicatorSet()
        do {
            _ = try RulePlan(definition.rules.map(\.when), indicators: &indicators)
        } catch {
            fuzzCheck(false, "an accepted strategy does not compile: \(error)")
        }

        let view = StrategyView(
            strategyID: StrategyID.make(symbol: spec.symbol, sequence: 1), owner: 1, definition: definition,
            status: .active, createdAtMillis: 0)
        let rendered = JSONWriter.bytes(Render.strategy(view, spec))
        guard let reread = try? JSONParser(maxDepth: maxDepth).parse(rendered) else {
            return fuzzCheck(
                false, "rendered as JSON that does not parse: \(String(decoding: rendered, as: UTF8.self))")
        }
        let again = try? parse(reread).get()
        fuzzCheck(
            again == definition,
            "rendered as \(String(decoding: rendered, as: UTF8.self)), it reads back as \(String(describing: again))")
    }

    static func checkRuleTree(_ json: JSONValue) {
        var ruleParser = RuleParser()
        guard let tree = ruleParser.parse(json, at: RulePath()) else {
            return fuzzCheck(!ruleParser.problems.isEmpty, "no rule tree and no problem")
        }
        fuzzCheck(ruleParser.problems.isEmpty, "a rule tree with problems: \(ruleParser.problems)")
        let problems = tree.problems()
        fuzzCheck(problems.isEmpty, "the rule parser let through \(problems)")
        var indicators = IndicatorSet()
        fuzzCheck(
            (try? RulePlan([tree], indicators: &indicators)) != nil, "a rule tree without problems does not compile")

        let rendered = JSONWriter.bytes(Render.rule(tree))
        var again = RuleParser()
        let reread = (try? JSONParser(maxDepth: maxDepth).parse(rendered)).flatMap { again.parse($0, at: RulePath()) }
        fuzzCheck(
            reread == tree,
            "rendered as \(String(decoding: rendered, as: UTF8.self)), it reads back as \(String(describing: reread))")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStrategy(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    StrategyFuzzer.run(fuzzBytes(data, count))
    return 0
}
