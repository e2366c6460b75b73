import Synchronization
import Trading

/// Fan-out of stream events to subscribers (`GET /v1/stream`). Sending never blocks: a subscriber that
/// falls behind loses the oldest buffered events (market data is superseded by the next update).
final class MarketFeed: Sendable {
    private struct Subscriber {
        var channels: Set<StreamChannel>
        var user: UserID?
        var continuation: AsyncStream<StreamEvent>.Continuation
    }

    private struct State {
        var subscribers: [UInt64: Subscriber] = [:]
        var nextID: UInt64 = 0
        var sequence: [String: UInt64] = [:]
    }

    private let state = Mutex(State())

    var hasSubscribers: Bool { state.withLock { !$0.subscribers.isEmpty } }

    func subscribe(channels: Set<StreamChannel>, user: UserID?) -> AsyncStream<StreamEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: StreamEvent.self, bufferingPolicy: .bufferingNewest(1_000))
        let id = state.withLock { state in
            state.nextID += 1
            state.subscribers[state.nextID] = Subscriber(channels: channels, user: user, continuation: continuation)
            return state.nextID
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Sends to every subscriber of `channel` (for `.orders`, only the subscribers of `user`).
    func send(channel: StreamChannel, user: UserID? = nil, _ payload: StreamEvent.Payload) {
        state.withLock { state in
            let name = channel.name + (user.map { ":\($0)" } ?? "")
            let sequence = (state.sequence[name] ?? 0) + 1
            state.sequence[name] = sequence
            let event = StreamEvent(channel: channel.name, sequence: sequence, payload: payload)
            for subscriber in state.subscribers.values
            where subscriber.channels.contains(channel) && (user == nil || subscriber.user == user) {
                subscriber.continuation.yield(event)
            }
        }
    }
}
