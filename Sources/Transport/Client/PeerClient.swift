import Logging
public import NIOCore
public import NIOPosix
import Synchronization

/// The HTTP/2 ``PeerChannel`` to one peer: one connection, one long-lived stream, batched frames.
///
/// ``run()`` owns the connection: it connects, opens `POST /bourse.peer/v1/stream` with signed headers, and
/// reconnects with capped, jittered exponential backoff whenever the stream drops. Calls made meanwhile wait (up
/// to their deadline). Requests queued while a frame is being written leave together in the next frame, so
/// frames grow with load and nothing waits on a timer when idle. Replies are matched to callers by message id.
/// After a drop, unanswered calls are sent again on the new stream with the same message id; the receiver's
/// ``PeerReceiver`` answers a repeat from memory.
///
/// ```swift
/// let client = try PeerClient(configuration: configuration, logger: logger)
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { try await client.run() }
///     let reply = try await client.send(message, deadline: .now + .seconds(2))
///     ...
/// }
/// ```
public final class PeerClient: PeerChannel {
    typealias Table = PeerCallTable<
        CheckedContinuation<PeerReply, any Error>,
        CheckedContinuation<[Result<PeerReply, PeerTransportError>], Never>,
        CheckedContinuation<[PeerEnvelope]?, Never>
    >

    let configuration: Configuration
    let logger: Logger
    let authenticator: PeerAuthenticator
    let eventLoopGroup: any EventLoopGroup
    let table: Mutex<Table>
    let counters = Mutex(Statistics())
    private let timerLoop: any EventLoop

    /// Creates a client; nothing connects until ``run()``.
    /// - Parameters:
    ///   - configuration: The peer's address, this node's identity and the cluster secret.
    ///   - logger: Logs carry `peer` metadata, never secrets, signatures or payloads.
    ///   - eventLoopGroup: Where the connection runs.
    /// - Throws: `.invalidArgument` if the node id cannot go on the wire.
    public init(
        configuration: Configuration, logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws(PeerTransportError) {
        guard PeerIdentity.isValidNodeID(configuration.identity.nodeID) else {
            throw PeerTransportError(code: .invalidArgument, reason: "invalid node id")
        }
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "peer"] = "\(configuration.host):\(configuration.port)"
        self.logger = logger
        self.authenticator = PeerAuthenticator(secret: configuration.secret)
        self.eventLoopGroup = eventLoopGroup
        self.timerLoop = eventLoopGroup.next()
        self.table = Mutex(Table(sender: configuration.identity, maximumFrameBytes: configuration.maximumFrameBytes))
    }

    /// Counters so far.
    public var statistics: Statistics { counters.withLock { $0 } }

    /// Calls waiting for a reply.
    public var pendingCalls: Int { table.withLock { $0.pendingCount } }

    public func send(_ message: PeerMessage, deadline: ContinuousClock.Instant) async throws(PeerTransportError)
        -> PeerReply
    {
        let id = reserveMessageIDs()
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<PeerReply, any Error>) in
                    let actions = table.withLock { table in
                        let added = table.addSingle(
                            id: id, message: message, deadline: deadline, waiter: waiter, now: .now)
                        return Task.isCancelled ? added.merged(with: table.cancel(id)) : added
                    }
                    perform(actions)
                }
            } onCancel: {
                perform(table.withLock { $0.cancel(id) })
            }
        } catch let error as PeerTransportError {
            throw error
        } catch {
            throw PeerTransportError(code: .cancelled, reason: "caller cancelled")
        }
    }

    public func send(_ messages: [PeerMessage], deadline: ContinuousClock.Instant) async -> [Result<
        PeerReply, PeerTransportError
    >] {
        guard !messages.isEmpty else { return [] }
        let batchID = reserveMessageIDs()
        let first = reserveMessageIDs(messages.count)
        let ids = (0..<UInt64(messages.count)).map { first &+ $0 }
        return await withTaskCancellationHandler {
            await withCheckedContinuation {
                (waiter: CheckedContinuation<[Result<PeerReply, PeerTransportError>], Never>) in
                let actions = table.withLock { table in
                    let added = table.addBatch(
                        id: batchID, ids: ids, messages: messages, deadline: deadline, waiter: waiter, now: .now)
                    return Task.isCancelled ? added.merged(with: table.cancelBatch(batchID)) : added
                }
                perform(actions)
            }
        } onCancel: {
            perform(table.withLock { $0.cancelBatch(batchID) })
        }
    }

    /// Fails at once with `.unavailable` the waiting calls whose message `matching` accepts (the caller knows
    /// that no answer will come: the peer gave up the role the calls were sent to it for).
    public func failPendingCalls(reason: String, matching: @Sendable (PeerMessage) -> Bool) {
        perform(table.withLock { $0.failAll(.unavailable, reason: reason, matching: matching) })
    }

    /// Refuses new calls and lets ``run()`` return once the waiting ones are answered (or time out).
    public func triggerGracefulShutdown() {
        perform(table.withLock { $0.drain() })
    }

    /// Carries out what the call table decided, outside its lock.
    func perform(_ actions: Table.Actions) {
        if let (deadline, generation) = actions.arm {
            let delay = TimeAmount(deadline - .now)
            timerLoop.scheduleTask(deadline: .now() + delay) { [self] in
                perform(table.withLock { $0.timerFired(generation: generation, now: .now) })
            }
        }
        if let (writer, envelopes) = actions.wake { writer.resume(returning: envelopes) }
        for completion in actions.completions {
            switch completion {
            case .single(let waiter, let outcome): waiter.resume(with: outcome)
            case .batch(let waiter, let outcomes): waiter.resume(returning: outcomes)
            }
        }
    }
}
