/// Where a problem sits in a strategy's JSON: member names joined by `.`, array elements as `[i]`, e.g.
/// `rules[0].when.all[1].left.period`. The names are those of api.md's JSON form of rules and operands
/// (`all`, `any`, `not`, `left`, `op`, `right`, `value`, `indicator`, `period`, `fast`, `slow`, `signal`,
/// `stddev`, `field`, `interval`), so a path reads the same in the pure core and in API errors.
public struct RulePath: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public enum Component: Hashable, Sendable {
        case member(String)
        case index(Int)
    }

    public var components: [Component]

    public init(_ components: [Component] = []) { self.components = components }

    /// A path of members, each given by name.
    public init(stringLiteral value: String) {
        self.init(value.isEmpty ? [] : value.split(separator: ".").map { .member(String($0)) })
    }

    /// The path of `rules[index].when`: the root of a strategy's rule tree.
    public static func rule(_ index: Int) -> RulePath { RulePath([.member("rules"), .index(index), .member("when")]) }

    public func appending(_ member: String) -> RulePath { RulePath(components + [.member(member)]) }

    public func appending(index: Int) -> RulePath { RulePath(components + [.index(index)]) }

    public var description: String {
        var text = ""
        for component in components {
            switch component {
            case .member(let name): text += text.isEmpty ? name : ".\(name)"
            case .index(let index): text += "[\(index)]"
            }
        }
        return text
    }
}
