import Synchronization

/// The receiving side's transport logic, shared by ``PeerServer`` and ``LoopbackPeerChannel``: drops expired
/// requests, deduplicates retried message ids per sender incarnation, and calls the ``PeerHandler`` once per
/// batch with what is left.
///
/// Keep one receiver per node for the life of the process: its memory of handled ids is what makes a retry
/// after a reconnect (even to a restarted listener) get the first reply instead of a second handling.
public final class PeerReceiver: Sendable {
    /// Bounds of the deduplication memory.
    public struct Configuration: Sendable {
        /// Replies kept per sender incarnation for retries (the oldest go first).
        public var maximumKeptReplies: Int
        /// How long past its request's deadline a reply is kept; covers the network delay of a last retry.
        public var retentionAfterDeadline: Duration

        /// Creates a configuration.
        public init(maximumKeptReplies: Int = 65_536, retentionAfterDeadline: Duration = .seconds(5)) {
            self.maximumKeptReplies = maximumKeptReplies
            self.retentionAfterDeadline = retentionAfterDeadline
        }
    }

    /// Counters, for metrics and tests.
    public struct Statistics: Sendable, Equatable {
        /// Calls of the handler (one per batch with anything new in it).
        public var handlerCalls: Int
        /// Requests handed to the handler.
        public var requestsHandled: Int
        /// Retried ids answered from memory or by waiting for the first handling.
        public var duplicates: Int
        /// Requests whose deadline had passed on arrival.
        public var expired: Int
    }

    typealias Waiter = CheckedContinuation<PeerReply, Never>

    private struct State {
        var windows: [String: ReplayWindow<Waiter>] = [:]
        var completionsSinceSweep = 0
        var statistics = Statistics(handlerCalls: 0, requestsHandled: 0, duplicates: 0, expired: 0)
    }

    private let handler: any PeerHandler
    private let configuration: Configuration
    private let state = Mutex(State())

    /// Creates a receiver.
    /// - Parameters:
    ///   - handler: The business logic.
    ///   - configuration: Bounds of the deduplication memory.
    public init(handler: some PeerHandler, configuration: Configuration = Configuration()) {
        self.handler = handler
        self.configuration = configuration
    }

    /// Counters so far.
    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Answers a batch of requests: one reply per request, in no particular order.
    public func receive(_ requests: [PeerRequest]) async -> [PeerReply] {
        let now = ContinuousClock.now
        var replies: [PeerReply] = []
        var toHandle: [PeerRequest] = []
        var toWait: [PeerRequest] = []
        let superseded: [(id: UInt64, waiter: Waiter)] = state.withLock { state in
            var superseded: [(id: UInt64, waiter: Waiter)] = []
            for request in requests {
                guard request.deadline > now else {
                    state.statistics.expired += 1
                    replies.append(.transportFailure(.timeout, requestID: request.id))
                    continue
                }
                let key = request.sender.nodeID
                let incarnation = request.sender.incarnation
                if let known = state.windows[key]?.incarnation {
                    if known < incarnation {
                        superseded += state.windows[key]!.close()
                        state.windows[key] = newWindow(incarnation)
                    } else if known > incarnation {
                        replies.append(.transportFailure(.staleIncarnation, requestID: request.id))
                        continue
                    }
                } else {
                    state.windows[key] = newWindow(incarnation)
                }
                // Mutated in place through the subscript: no copy of the window.
                switch state.windows[key]!.claim(request.id) {
                case .handle: toHandle.append(request)
                case .cached(let reply):
                    state.statistics.duplicates += 1
                    replies.append(reply)
                case .inFlight:
                    state.statistics.duplicates += 1
                    toWait.append(request)
                }
            }
            if !toHandle.isEmpty {
                state.statistics.handlerCalls += 1
                state.statistics.requestsHandled += toHandle.count
            }
            return superseded
        }
        for (id, waiter) in superseded { waiter.resume(returning: .transportFailure(.staleIncarnation, requestID: id)) }
        if !toHandle.isEmpty {
            replies += await handle(toHandle)
        }
        for request in toWait {
            replies.append(await waitForFirstHandling(of: request))
        }
        return replies
    }

    private func newWindow(_ incarnation: UInt64) -> ReplayWindow<Waiter> {
        ReplayWindow(incarnation: incarnation, capacity: configuration.maximumKeptReplies)
    }

    private func handle(_ requests: [PeerRequest]) async -> [PeerReply] {
        let answered = await handler.handle(requests)
        var byID: [UInt64: PeerReply] = [:]
        byID.reserveCapacity(answered.count)
        for reply in answered where byID[reply.requestID] == nil { byID[reply.requestID] = reply }
        let replies = requests.map { byID[$0.id] ?? .transportFailure(.noReply, requestID: $0.id) }
        let now = ContinuousClock.now
        let resumptions: [(Waiter, PeerReply)] = state.withLock { state in
            var resumptions: [(Waiter, PeerReply)] = []
            for (request, reply) in zip(requests, replies) {
                let key = request.sender.nodeID
                guard state.windows[key]?.incarnation == request.sender.incarnation else { continue }
                let expiry = request.deadline + configuration.retentionAfterDeadline
                for waiter in state.windows[key]!.complete(request.id, reply: reply, expiry: expiry, now: now) {
                    resumptions.append((waiter, reply))
                }
            }
            state.completionsSinceSweep += requests.count
            if state.completionsSinceSweep >= 4_096 {
                state.completionsSinceSweep = 0
                for key in Array(state.windows.keys) {
                    state.windows[key]!.evict(now: now)
                    if state.windows[key]!.isEmpty { state.windows[key] = nil }
                }
            }
            return resumptions
        }
        for (waiter, reply) in resumptions { waiter.resume(returning: reply) }
        return replies
    }

    private func waitForFirstHandling(of request: PeerRequest) async -> PeerReply {
        await withCheckedContinuation { (waiter: Waiter) in
            let ready: PeerReply? = state.withLock { state in
                let key = request.sender.nodeID
                guard state.windows[key]?.incarnation == request.sender.incarnation else {
                    return .transportFailure(.staleIncarnation, requestID: request.id)
                }
                return state.windows[key]!.addWaiter(waiter, for: request.id)
            }
            if let ready { waiter.resume(returning: ready) }
        }
    }
}
