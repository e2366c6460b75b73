import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization
import Trading

/// The production store: journal, snapshots, leases, key-values and users in PostgreSQL, shared by every
/// node of the cluster.
///
/// Queries go through a postgres-nio connection pool that works only while `run()` is running. Appends are
/// group-committed: one `INSERT … SELECT FROM unnest(…)` per batch, fenced against `shard_leases` in the
/// same statement (see `PostgresStore+Journal.swift`).
///
/// ```swift
/// let store = PostgresStore(url: try PostgresURL(environment["POSTGRES_URL"] ?? ""))
/// async let loop: Void = store.run()   // or add the store to a ServiceGroup
/// try await store.migrate()
/// ```
public final class PostgresStore: DurableStore {
    /// Snapshots kept per shard; older ones are deleted when a new one is saved.
    public static let snapshotsKept = 3

    let client: PostgresClient
    /// A pool of its own for leases (renewals, takes, releases, the active lease's polls): these decide whether
    /// a node may serve, so they never queue behind journal batches, snapshots and read-model writes (a handoff
    /// saves a thousand snapshots at once).
    let control: PostgresClient
    /// One connection for membership (heartbeats, votes, the table's reads and changes): these decide whether
    /// the node is alive, so they never queue behind lease traffic either (a node starting or leaving releases
    /// and takes leases by the hundred, which on a slow disk kept a heartbeat waiting until peers voted the
    /// node dead).
    let membership: PostgresClient
    let committer: GroupCommitter
    /// Journal batches committing at once by default: a call need not wait for another batch's round trip
    /// before its own starts, and PostgreSQL flushes concurrent commits' WAL together.
    public static let defaultJournalBatchesInFlight = 2
    let logger: Logger
    /// How long the statements of one leased connection may take (`leased(from:within:answerWithin:_:)`).
    let statementWait: Duration
    private let started = Atomic(false)

    /// Creates the store; nothing connects until `run()` is running.
    ///
    /// - Parameters:
    ///   - url: where to connect. Never logged with its password.
    ///   - maximumConnections: the data pool's size. Up to `journalBatchesInFlight` connections at a time
    ///     carry the journal batches. Leases have `controlConnections` more of their own, membership one more.
    ///   - maxBatchRecords: the most records one journal round trip carries.
    ///   - journalBatchesInFlight: the most journal batches committing at once (each shard's records still
    ///     commit in order).
    ///   - statementWait: how long a journal batch's, a lease's or a membership statement may take once it has
    ///     its connection; then it fails as unavailable, its outcome unknown.
    ///   - logger: for migrations and failures; postgres-nio's own messages below `info` are dropped, as its
    ///     trace level would print row contents.
    public init(
        url: PostgresURL, maximumConnections: Int = 10, maxBatchRecords: Int = 2_000,
        journalBatchesInFlight: Int = PostgresStore.defaultJournalBatchesInFlight,
        statementWait: Duration = PostgresStore.defaultStatementWait,
        logger: Logger = Logger(label: "bourse.storage.postgres")
    ) {
        self.statementWait = statementWait
        var configuration = url.clientConfiguration()
        configuration.options.maximumConnections = max(2, maximumConnections)
        var background = logger
        background.logLevel = max(background.logLevel, .info)
        self.client = PostgresClient(configuration: configuration, backgroundLogger: background)
        var controlConfiguration = url.clientConfiguration()
        controlConfiguration.options.maximumConnections = Self.controlConnections
        self.control = PostgresClient(configuration: controlConfiguration, backgroundLogger: background)
        var membershipConfiguration = url.clientConfiguration()
        membershipConfiguration.options.maximumConnections = 1
        self.membership = PostgresClient(configuration: membershipConfiguration, backgroundLogger: background)
        self.committer = GroupCommitter(
            maxBatchRecords: maxBatchRecords,
            maxConcurrentBatches: min(journalBatchesInFlight, configuration.options.maximumConnections - 1),
            dependentWait: Self.reservationWait)
        self.logger = logger
    }

    /// How long the group commit holds a reservation back for the book's record of its order to share its
    /// transaction (`GroupCommitter.dependentWait`): one durable round trip per order instead of two in turn. At
    /// 2,000 orders/s on the 2-core benchmark machine, 2 ms took 0.5 ms off the median and 1–4 ms off the p99
    /// (BENCHMARKS.md); the book's call usually follows within well under that.
    static let reservationWait: Duration = .milliseconds(2)

    /// Runs the connection pool and the group-commit loop until `shutdown()`, graceful shutdown or
    /// cancellation. Only the first call does anything.
    public func run() async {
        guard started.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        StorageMetrics.registerSeries()
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    await self.client.run()
                    // The pool is closed (graceful shutdown or cancellation): nothing more can be written.
                    self.committer.beginShutdown()
                }
                group.addTask { await self.control.run() }
                group.addTask { await self.membership.run() }
                await self.committer.run(dependentWriter: { requests, dependencies in
                    try await self.writeBatch(requests, dependencies: dependencies)
                })
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.committer.beginShutdown()
        }
    }

    /// Commits the queued appends, refuses new ones and makes `run()` return, which closes the pool.
    public func shutdown() async {
        await committer.shutdown()
    }

    public var commitStatistics: GroupCommitter.Statistics { committer.statistics }

    /// Connections of the control pool (leases).
    public static let controlConnections = 2

    /// Applies the migrations this database lacks, each in its own transaction under a transaction-scoped
    /// advisory lock, so that nodes starting together apply each exactly once.
    public func migrate() async throws {
        for migration in PostgresMigrations.all {
            let applied = try await attempt("migration \(migration.version)") {
                try await client.withTransaction(logger: Self.quiet) { connection -> Bool in
                    let lock = PostgresMigrations.advisoryLockKey
                    try await connection.query("SELECT pg_advisory_xact_lock(\(lock))", logger: Self.quiet).drain()
                    try await connection.query(
                        PostgresQuery(unsafeSQL: PostgresMigrations.createVersionTable), logger: Self.quiet
                    ).drain()
                    let version = migration.version
                    let existing = try await connection.query(
                        "SELECT version FROM schema_migrations WHERE version = \(version)", logger: Self.quiet
                    ).collect()
                    guard existing.isEmpty else { return false }
                    for statement in migration.statements {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: Self.quiet).drain()
                    }
                    try await connection.query(
                        "INSERT INTO schema_migrations (version) VALUES (\(version))", logger: Self.quiet
                    ).drain()
                    return true
                }
            }
            if applied {
                logger.info("applied schema migration", metadata: ["version": "\(migration.version)"])
            }
        }
    }

    // MARK: - Helpers

    /// How long a journal batch waits for a connection of the pool before it fails (`leased(within:_:)`).
    public static let connectionWait: Duration = .seconds(5)

    /// Runs `body` on a connection of `pool`, waiting at most `limit` for one, and at most `answerWithin` for the
    /// body's statements once it has one (`bounded(on:within:)`). Without the first bound a statement waits while
    /// the pool retries its connections — a minute, with the server down, before postgres-nio's pool gives up —
    /// and the client's request with it. Without the second, a statement sent as the server died sometimes never
    /// answered: a journal batch so held its shards' appends for good, its node still renewing its leases on
    /// another pool (chaos `dbstop`, seed 2). A statement given up on counts as failed with an unknown outcome, as
    /// any failed write does: its shard is reloaded at a later epoch, which its lease row's lock fences.
    /// - Throws: `StorageError.unavailable` when no connection came within `limit`, or no answer within
    ///   `answerWithin`.
    func leased<Result: Sendable>(
        from pool: PostgresClient, within limit: Duration, answerWithin: Duration? = nil,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let phase = LeasePhase()
        let answerWithin = answerWithin ?? statementWait
        return try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                try await pool.withConnection { connection in
                    guard phase.lease() else { throw CancellationError() }
                    return try await Self.bounded(on: connection, within: answerWithin, body)
                }
            }
            group.addTask {
                try? await Task.sleep(for: limit)
                guard phase.expire() else { return nil }
                throw StorageError(.unavailable, "no database connection within \(limit)")
            }
            while let outcome = try await group.next() {
                guard let result = outcome else { continue }
                group.cancelAll()
                return result
            }
            throw CancellationError()
        }
    }

    /// `attempt(what)` on a connection of `pool` leased within `connectionWait`: control and membership
    /// statements, like journal batches, fail as unavailable when no connection comes, and their loops try again,
    /// instead of waiting on a pool that may never hand one out after an outage.
    func attempt<Result: Sendable>(
        _ what: String, on pool: PostgresClient,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await attempt(what) { try await leased(from: pool, within: Self.connectionWait, body) }
    }

    /// Returns once the statement just run on `connection` outside a transaction block is committed.
    ///
    /// Such a statement commits at the `Sync` after it, once PostgreSQL has already queued its `CommandComplete`,
    /// which postgres-nio reports as the statement's success. A backend that ends in between — a crash, a fast or
    /// immediate shutdown, `pg_terminate_backend` — sends that `CommandComplete` on its way out and never commits:
    /// an acknowledged order was lost so (chaos run, `pg_ctl stop -m immediate`). postgres-nio starts the next
    /// statement on a connection only after the previous one's `ReadyForQuery`, which PostgreSQL sends after the
    /// commit; so a trivial statement that answers proves the commit, and one that fails leaves the outcome
    /// unknown (the caller treats it as failed, and the shard is recovered from what the store holds).
    ///
    /// On a connection postgres-nio is closing after such an error the statement may never answer (a commit refused
    /// after `CommandComplete` hung it so): past `confirmationWait` the outcome counts as unknown, the connection is
    /// closed and the statement left behind.
    static func confirmCommitted(on connection: PostgresConnection) async throws {
        try await bounded(on: connection, within: confirmationWait, what: "the commit was not confirmed") {
            try await $0.query("SELECT 1", logger: quiet).drain()
        }
    }

    /// How long `confirmCommitted(on:)` waits for its statement.
    static let confirmationWait: Duration = .seconds(5)

    /// How long the statements of one `leased(from:within:)` body may take once they have their connection, by
    /// default: well beyond a commit's latency on a loaded server (milliseconds; a second or two while a slow disk
    /// checkpoints), and within what a client waits for its order.
    public static let defaultStatementWait: Duration = .seconds(10)

    /// Runs `body` on `connection`, waiting at most `limit` for it: past that the connection is closed, the body
    /// left behind (postgres-nio may never answer a statement on a connection it is closing), and the call fails
    /// as `unavailable` — an unknown outcome. The body runs in a task of its own, so that a body that never returns
    /// cannot hold its caller; it is cancelled with the caller.
    static func bounded<Result: Sendable>(
        on connection: PostgresConnection, within limit: Duration, what: String = "no answer from the database",
        _ body: @escaping @Sendable (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let outcome = RaceOutcome<Result>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
                outcome.await(continuation)
                let timer = Task {
                    try await Task.sleep(for: limit)
                    let unknown = StorageError(.unavailable, "\(what) within \(limit)")
                    if outcome.resume(with: .failure(unknown)) { try? await connection.close() }
                }
                outcome.start(
                    Task {
                        do {
                            outcome.resume(with: .success(try await body(connection)))
                        } catch {
                            outcome.resume(with: .failure(error))
                        }
                        timer.cancel()
                    })
            }
        } onCancel: {
            outcome.cancel()
        }
    }

    static let quiet = Logger(label: "bourse.storage.postgres.query", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Runs one database operation; errors other than Bourse's own become `StorageError.unavailable` with a
    /// message that carries the SQLSTATE but neither parameters nor payloads.
    func attempt<Result>(_ what: String, _ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch {
            throw failure(what, error)
        }
    }

    /// `error` as thrown to callers: Bourse's own errors as they are, others as `StorageError.unavailable`.
    func failure(_ what: String, _ error: any Error) -> any Error {
        if error is StorageError || error is BourseError { return error }
        let failure = StorageError(.unavailable, "\(what) failed: \(Self.describe(error))")
        logger.warning("postgres operation failed", metadata: ["error": "\(failure.message)"])
        return failure
    }

    /// The SQLSTATE of a server error (`23505` unique violation, `23503` foreign key violation, …).
    static func sqlState(of error: any Error) -> String? {
        if let error = error as? PostgresTransactionError {
            return (error.closureError ?? error.commitError ?? error.beginError).flatMap { sqlState(of: $0) }
        }
        return (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// A description safe to log: the error kind, SQLSTATE and server message, never the query's binds.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PostgresTransactionError {
            guard let inner = error.closureError ?? error.commitError ?? error.beginError else {
                return "transaction failed"
            }
            return describe(inner)
        }
        if let error = error as? PSQLError {
            if let info = error.serverInfo {
                return "SQLSTATE \(info[.sqlState] ?? "?"): \(info[.message] ?? "")"
            }
            if let underlying = error.underlying {
                return "\(error.code): \(underlying)"
            }
            return "\(error.code)"
        }
        return "\(type(of: error))"
    }
}

extension PostgresRowSequence {
    /// Reads and discards the rows (the statement's effects are complete when this returns).
    func drain() async throws {
        for try await _ in self {}
    }
}

extension ByteBuffer {
    /// The readable bytes as an array.
    var byteArray: [UInt8] { Array(readableBytesView) }
}

/// Whether a connection was leased before the wait's limit passed: whichever of the two comes first wins.
final class LeasePhase: Sendable {
    private let state = Atomic<Int>(0)

    /// The connection came: true unless the limit passed first.
    func lease() -> Bool { state.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged }

    /// The limit passed: true unless a connection came first.
    func expire() -> Bool { state.compareExchange(expected: 0, desired: 2, ordering: .acquiringAndReleasing).exchanged }
}

/// The one answer of `PostgresStore.confirmCommitted(on:)`: its statement's, or the timeout's, whichever comes first.
private final class RaceOutcome<Value: Sendable>: Sendable {
    private let state = Mutex<
        (waiting: CheckedContinuation<Value, any Error>?, body: Task<Void, Never>?, cancelled: Bool)
    >(
        (nil, nil, false))

    func await(_ waiting: CheckedContinuation<Value, any Error>) { state.withLock { $0.waiting = waiting } }

    /// The task running the body, cancelled with the caller.
    func start(_ body: Task<Void, Never>) {
        let cancelled = state.withLock { state -> Bool in
            state.body = body
            return state.cancelled
        }
        if cancelled { body.cancel() }
    }

    func cancel() {
        let body = state.withLock { state -> Task<Void, Never>? in
            state.cancelled = true
            return state.body
        }
        body?.cancel()
    }

    /// Resumes the waiter unless it was resumed already; whether this call did.
    @discardableResult
    func resume(with result: Result<Value, any Error>) -> Bool {
        guard let waiting = state.withLock({ $0.waiting.take() }) else { return false }
        waiting.resume(with: result)
        return true
    }
}
