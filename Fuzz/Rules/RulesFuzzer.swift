import Trading

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Fuzzes rule validation and compilation (`RuleTree.problems(at:depth:)`, `RulePlan`, `RuleCompiler`,
/// `RuleProgram`) with rule trees built from the bytes (`RuleGenerator`), valid or not, on an indicator set that
/// may already hold indicators, then evaluates the compiled rules at closes read from the remaining bytes.
///
/// Properties: a tree deeper than `RuleTree.maxDepth` has a problem; rules without problems compile, and rules
/// with problems are refused with `INVALID_STRATEGY`, leaving the set as it was; compiling keeps the set's slots
/// and adds every indicator the rules read; at every close each compiled rule holds exactly when
/// `ReferenceRules` says so, and `firstFiringRule` and `firingRules` agree with it.
///
/// With `FUZZ_DESCRIBE` set in the environment it prints what an input means (replay one with
/// `FUZZ_DESCRIBE=1 .build-fuzz/bin/fuzz-rules FILE`): the rules, their problems, and how often each held.
enum RulesFuzzer {
    static let describe = getenv("FUZZ_DESCRIBE") != nil

    static func run(_ bytes: [UInt8]) {
        var input = FuzzInput(bytes)
        var indicators = IndicatorSet()
        for _ in 0..<input.int(in: 0...2) { _ = try? indicators.insert(RuleGenerator.key(&input)) }
        let rules = (0..<input.int(in: 1...3)).map { _ in RuleGenerator.tree(&input) }
        let problems = rules.enumerated().flatMap { index, rule in rule.problems(at: .rule(index)) }
        for rule in rules where rule.depth > RuleTree.maxDepth {
            fuzzCheck(!problems.isEmpty, "no problem with a tree \(rule.depth) deep")
        }

        if describe { print("set: \(indicators.keys)\nrules: \(rules)\nproblems: \(problems)") }
        let keysBefore = indicators.keys
        let plan: RulePlan
        do {
            plan = try RulePlan(rules, indicators: &indicators)
        } catch {
            fuzzCheck(!problems.isEmpty, "rules without problems do not compile: \(error)\n\(rules)")
            fuzzCheck(error.code == .invalidStrategy, "rules refused with \(error)")
            fuzzCheck(indicators.keys == keysBefore, "refused rules changed the set")
            return
        }
        fuzzCheck(problems.isEmpty, "compiled rules with problems: \(problems)")
        fuzzCheck(indicators.keys.starts(with: keysBefore), "compiling moved the set's slots")
        fuzzCheck(plan.keys.allSatisfy { indicators.slot(of: $0) != nil }, "the set lacks an indicator of the plan")

        var closes = 0
        var held = [Int](repeating: 0, count: rules.count)
        defer { if describe { print("closes: \(closes), held: \(held)") } }
        var close = 100.0
        while !input.isExhausted, closes < 64 {
            closes += 1
            let step = input.byte()
            close = step == 0xFF ? RuleGenerator.value(&input) : close + Double(Int(step % 9) - 4) / 2
            let volume = Double(input.int(in: 0...3))
            // The 1m candle closes every time; the longer ones when the bytes say so, as at a real boundary.
            let longer = input.byte()
            let candles = Timeframe.allCases.enumerated().compactMap { position, interval in
                position == 0 || longer & (1 << position) != 0
                    ? ClosedCandle(interval: interval, close: close, volume: volume) : nil
            }
            indicators.update(candles)
            let reference = ReferenceRules(indicators: indicators)
            let expected = rules.map(reference.holds)
            for index in rules.indices {
                fuzzCheck(
                    plan.evaluate(rule: index, on: indicators) == expected[index],
                    "rule \(index) at close \(closes): compiled \(!expected[index]), reference \(expected[index])\n"
                        + "\(rules[index])")
            }
            for index in rules.indices where expected[index] { held[index] += 1 }
            fuzzCheck(plan.firstFiringRule(on: indicators) == expected.firstIndex(of: true), "first firing rule")
            fuzzCheck(plan.firingRules(on: indicators) == expected.indices.filter { expected[$0] }, "firing rules")
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRules(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    RulesFuzzer.run(fuzzBytes(data, count))
    return 0
}
