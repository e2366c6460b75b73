/// One rule of a strategy: when `when` holds, place `action`.
public struct StrategyRule: Hashable, Sendable {
    public var when: RuleTree
    public var action: StrategyAction

    public init(when: RuleTree, action: StrategyAction) {
        self.when = when
        self.action = action
    }
}
