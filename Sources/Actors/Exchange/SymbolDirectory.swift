import Synchronization
import Trading

/// The markets of the node and their `SymbolActor`s, in the order they were configured or added.
///
/// Read on every request (a lock and a dictionary lookup) and written only when an admin adds a market:
/// a symbol is first *claimed* (so that two concurrent adds of one symbol cannot both proceed), then
/// registered once its actor has recovered, or released if adding it failed.
final class SymbolDirectory: Sendable {
    private struct State: Sendable {
        var specs: [MarketSpec] = []
        var actors: [String: SymbolActor] = [:]
        var claimed: Set<String> = []
    }

    private let state: Mutex<State>

    init(_ actors: [(spec: MarketSpec, actor: SymbolActor)]) {
        var initial = State()
        for (spec, actor) in actors where initial.actors[spec.symbol] == nil {
            initial.specs.append(spec)
            initial.actors[spec.symbol] = actor
        }
        state = Mutex(initial)
    }

    /// Every symbol actor by symbol.
    var actors: [String: SymbolActor] { state.withLock { $0.actors } }

    /// The specs of every market, configured ones first, then added ones in the order they were added.
    var specs: [MarketSpec] { state.withLock { $0.specs } }

    func actor(_ symbol: String) -> SymbolActor? { state.withLock { $0.actors[symbol] } }

    /// Claims `symbol` for a market being added; false when it is known or being added already.
    func claim(_ symbol: String) -> Bool {
        state.withLock { state in
            guard state.actors[symbol] == nil, !state.claimed.contains(symbol) else { return false }
            state.claimed.insert(symbol)
            return true
        }
    }

    /// Puts a fresh actor in the place of a known market's (its shard taken again after a move: the old actor
    /// keeps the book as it was when the shard left).
    func replace(_ actor: SymbolActor) {
        state.withLock { state in
            guard state.actors[actor.symbol] != nil else { return }
            state.actors[actor.symbol] = actor
        }
    }

    /// Gives a claim up (adding the market failed).
    func release(_ symbol: String) { _ = state.withLock { $0.claimed.remove(symbol) } }

    /// Makes a claimed market visible.
    func register(_ spec: MarketSpec, actor: SymbolActor) {
        state.withLock { state in
            state.claimed.remove(spec.symbol)
            guard state.actors[spec.symbol] == nil else { return }
            state.specs.append(spec)
            state.actors[spec.symbol] = actor
        }
    }
}
