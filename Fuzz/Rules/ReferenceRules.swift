import Trading

/// Whether a valid rule tree holds on an indicator set, by RulePlan's documented semantics evaluated directly on
/// the tree: false while any value the rule reads (every operand's current value, and the previous one for
/// `crosses_above`/`crosses_below`) is undefined; else `all`, `any`, `not` and the comparisons as written, with
/// `crosses_above` meaning left < right at the previous close and left > right at this one.
struct ReferenceRules {
    let indicators: IndicatorSet

    func holds(_ tree: RuleTree) -> Bool {
        defined(tree) && evaluate(tree)
    }

    private func defined(_ tree: RuleTree) -> Bool {
        switch tree {
        case .all(let children), .any(let children): children.allSatisfy(defined)
        case .not(let child): defined(child)
        case .comparison(let comparison):
            [comparison.left, comparison.right].allSatisfy { operand in
                guard case .indicator(let indicator) = operand else { return true }
                return reading(indicator, previous: false) != nil
                    && (!comparison.op.comparesPrevious || reading(indicator, previous: true) != nil)
            }
        }
    }

    private func evaluate(_ tree: RuleTree) -> Bool {
        switch tree {
        case .all(let children): children.allSatisfy(evaluate)
        case .any(let children): children.contains(where: evaluate)
        case .not(let child): !evaluate(child)
        case .comparison(let comparison):
            evaluate(comparison)
        }
    }

    private func evaluate(_ comparison: Comparison) -> Bool {
        let (left, right) = (value(comparison.left, previous: false), value(comparison.right, previous: false))
        switch comparison.op {
        case .lessThan: return left < right
        case .lessThanOrEqual: return left <= right
        case .greaterThan: return left > right
        case .greaterThanOrEqual: return left >= right
        case .crossesAbove:
            return value(comparison.left, previous: true) < value(comparison.right, previous: true) && left > right
        case .crossesBelow:
            return value(comparison.left, previous: true) > value(comparison.right, previous: true) && left < right
        }
    }

    /// A defined operand's value (checked by `defined` first).
    private func value(_ operand: Operand, previous: Bool) -> Double {
        switch operand {
        case .value(let value): value
        case .indicator(let indicator): reading(indicator, previous: previous)!
        }
    }

    private func reading(_ operand: IndicatorOperand, previous: Bool) -> Double? {
        guard let slot = indicators.slot(of: operand.key) else {
            fuzzCheck(false, "the set lacks \(operand.key), which a compiled rule reads")
            return nil
        }
        return previous ? indicators.previousValue(slot, operand.readField) : indicators.value(slot, operand.readField)
    }
}
