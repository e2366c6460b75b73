import Foundation
import Logging
import SQLiteNIO
import ServiceLifecycle
import Trading

/// The embedded single-node store: one SQLite file under the data directory, in WAL mode with
/// `synchronous=FULL`, so a committed append survives `kill -9` and power loss.
///
/// Writes (journal batches, leases, users, …) go one at a time through a single connection, each in a
/// `BEGIN IMMEDIATE` transaction; reads use a second, read-only connection, which WAL lets run beside the
/// writer and which sees every committed transaction. Appends are group-committed like PostgreSQL's: one
/// transaction per batch. Only one process may use the file at a time.
///
/// ```swift
/// let store = try await SQLiteStore(directory: "bourse-data")
/// async let loop: Void = store.run()
/// try await store.migrate()
/// ```
public final class SQLiteStore: DurableStore {
    /// The database file's name inside the data directory.
    public static let fileName = "bourse.sqlite"
    /// Snapshots kept per shard; older ones are deleted when a new one is saved.
    public static let snapshotsKept = 3

    /// The database file.
    public let path: String
    let writer: SQLiteConnection
    let reader: SQLiteConnection
    let gate = SerialGate()
    let committer: GroupCommitter
    let logger: Logger

    /// Opens (creating if needed) `directory/bourse.sqlite` and sets its durability pragmas.
    ///
    /// - Throws: `StorageError.unavailable` when the directory or file cannot be created or opened.
    public init(
        directory: String, maxBatchRecords: Int = 2_000, logger: Logger = Logger(label: "bourse.storage.sqlite")
    ) async throws {
        let path = URL(fileURLWithPath: directory).appendingPathComponent(Self.fileName).path
        self.path = path
        self.logger = logger
        self.committer = GroupCommitter(maxBatchRecords: maxBatchRecords)
        var quiet = logger
        quiet.logLevel = max(quiet.logLevel, .info)
        var opened: [SQLiteConnection] = []
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let writer = try await SQLiteConnection.open(storage: .file(path: path), logger: quiet)
            opened.append(writer)
            _ = try await writer.query("PRAGMA journal_mode = WAL")
            _ = try await writer.query("PRAGMA synchronous = FULL")
            _ = try await writer.query("PRAGMA foreign_keys = ON")
            _ = try await writer.query("PRAGMA busy_timeout = 10000")
            let reader = try await SQLiteConnection.open(storage: .file(path: path), logger: quiet)
            opened.append(reader)
            _ = try await reader.query("PRAGMA busy_timeout = 10000")
            _ = try await reader.query("PRAGMA query_only = 1")
            self.writer = writer
            self.reader = reader
        } catch {
            for connection in opened {
                try? await connection.close()
            }
            throw StorageError(.unavailable, "cannot open SQLite database \(path): \(Self.describe(error))")
        }
    }

    /// Runs the group-commit loop until `shutdown()`, graceful shutdown or cancellation. Only the first call
    /// does anything.
    public func run() async {
        StorageMetrics.registerSeries()
        await withGracefulShutdownHandler {
            await committer.run(dependentWriter: { requests, dependencies in
                try await self.writeBatch(requests, dependencies: dependencies)
            })
        } onGracefulShutdown: {
            self.committer.beginShutdown()
        }
    }

    /// Commits the queued appends, refuses new ones, makes `run()` return and closes the file — also when the
    /// caller is cancelled (SQLiteNIO would skip a cancelled task's close, and an unclosed connection traps).
    public func shutdown() async {
        await committer.shutdown()
        await Task { [gate, writer, reader] in
            _ = try? await gate.withGate { try await writer.close() }
            _ = try? await reader.close()
        }.value
    }

    public var commitStatistics: GroupCommitter.Statistics { committer.statistics }

    /// Applies the migrations this file lacks, each in its own write transaction.
    public func migrate() async throws {
        for migration in SQLiteMigrations.all {
            let applied = try await write("migration \(migration.version)") { db -> Bool in
                _ = try await db.query(SQLiteMigrations.createVersionTable)
                let version = SQLiteData.integer(Int(migration.version))
                let existing = try await db.query("SELECT version FROM schema_migrations WHERE version = ?", [version])
                guard existing.isEmpty else { return false }
                for statement in migration.statements {
                    _ = try await db.query(statement)
                }
                _ = try await db.query("INSERT INTO schema_migrations (version) VALUES (?)", [version])
                return true
            }
            if applied {
                logger.info("applied schema migration", metadata: ["version": "\(migration.version)"])
            }
        }
    }

    // MARK: - Helpers

    /// Runs `body` in a write transaction on the writer connection, one transaction at a time.
    ///
    /// The transaction runs in a task of its own, which the caller's cancellation does not reach: SQLiteNIO skips
    /// the queries of a cancelled task, so a transaction begun by a caller cancelled halfway would be left open on
    /// the shared connection (neither committed nor rolled back) and every later `BEGIN` would fail. Once begun, a
    /// write ends with its `COMMIT` or its `ROLLBACK` whatever becomes of the caller.
    func write<Result: Sendable>(
        _ what: String, _ body: @escaping @Sendable (SQLiteConnection) async throws -> Result
    ) async throws -> Result {
        let transaction = Task { [gate, writer] in
            try await gate.withGate {
                _ = try await writer.query("BEGIN IMMEDIATE")
                do {
                    let result = try await body(writer)
                    _ = try await writer.query("COMMIT")
                    return result
                } catch {
                    _ = try? await writer.query("ROLLBACK")
                    throw error
                }
            }
        }
        do {
            return try await transaction.value
        } catch {
            throw failure(what, error)
        }
    }

    /// Runs one query on the reader connection.
    func read(_ what: String, _ sql: String, _ binds: [SQLiteData] = []) async throws -> [SQLiteRow] {
        do {
            return try await reader.query(sql, binds)
        } catch {
            throw failure(what, error)
        }
    }

    /// `error` as thrown to callers: Bourse's own errors as they are, others as `StorageError.unavailable`.
    func failure(_ what: String, _ error: any Error) -> any Error {
        if error is StorageError || error is BourseError { return error }
        let failure = StorageError(.unavailable, "\(what) failed: \(Self.describe(error))")
        logger.warning("sqlite operation failed", metadata: ["error": "\(failure.message)"])
        return failure
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? SQLiteError { return "\(error.reason): \(error.message)" }
        return "\(type(of: error))"
    }

    /// Whether `error` is SQLite's unique or primary-key constraint failure.
    static func isUniqueViolation(_ error: any Error) -> Bool {
        guard let error = error as? SQLiteError else { return false }
        return error.reason == .constraintUniqueFailed || error.reason == .constraintPrimaryKeyFailed
    }

    static func isForeignKeyViolation(_ error: any Error) -> Bool {
        (error as? SQLiteError)?.reason == .constraintForeignKeyFailed
    }
}

extension SQLiteRow {
    /// The integer in `column`, or `StorageError.corrupt`.
    func int64(_ column: String) throws -> Int64 {
        guard let value = self.column(column)?.integer else {
            throw StorageError(.corrupt, "column \(column) is not an integer")
        }
        return Int64(value)
    }

    func text(_ column: String) throws -> String {
        guard case .text(let value)? = self.column(column) else {
            throw StorageError(.corrupt, "column \(column) is not text")
        }
        return value
    }

    func bytes(_ column: String) throws -> [UInt8] {
        switch self.column(column) {
        case .blob(let buffer)?: return Array(buffer.readableBytesView)
        case .null?: return []
        default: throw StorageError(.corrupt, "column \(column) is not a blob")
        }
    }
}

extension SQLiteData {
    static func int64(_ value: Int64) -> SQLiteData { .integer(SQLiteInt64(value)) }

    static func bytes(_ value: [UInt8]) -> SQLiteData { .blob(ByteBuffer(bytes: value)) }
}
