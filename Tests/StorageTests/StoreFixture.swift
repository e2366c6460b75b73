import Foundation
import Logging
import Storage
import Testing

/// The stores every behaviour test runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }
}

/// Opens a fresh, migrated store of `kind`, runs its loop while `body` runs, then shuts it down and deletes
/// its data: a temporary directory for SQLite, a database of its own (created and dropped through
/// `POSTGRES_URL`) for PostgreSQL.
///
/// Without `POSTGRES_URL`, PostgreSQL cases are skipped with a message, except under `CI=true`, where they
/// fail: CI must test both stores (`scripts/with-postgres` provides a server).
func withStore(
    _ kind: StoreKind, migrate: Bool = true, maxBatchRecords: Int = 2_000,
    statementWait: Duration = PostgresStore.defaultStatementWait, _ body: (any DurableStore) async throws -> Void
) async throws {
    switch kind {
    case .sqlite:
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("bourse-storage-tests-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try await SQLiteStore(directory: directory, maxBatchRecords: maxBatchRecords, logger: quietLogger)
        try await running(store, migrate: migrate, body)
    case .postgres:
        let admin = try postgresURL()
        let database = "bourse_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())"
        try await PostgresAdmin.createDatabase(database, at: admin)
        do {
            let store = PostgresStore(
                url: admin.with(database: database), maximumConnections: 4, maxBatchRecords: maxBatchRecords,
                statementWait: statementWait, logger: quietLogger)
            try await running(store, migrate: migrate, body)
        } catch {
            try? await PostgresAdmin.dropDatabase(database, at: admin)
            throw error
        }
        try await PostgresAdmin.dropDatabase(database, at: admin)
    }
}

/// Tests log only errors (failures are asserted; postgres-nio warns when a query races the pool's start).
let quietLogger: Logger = {
    var logger = Logger(label: "bourse.storage.tests")
    logger.logLevel = .error
    return logger
}()

/// The admin URL from `POSTGRES_URL`; skips (or, under CI, fails) the test case when it is not set.
func postgresURL() throws -> PostgresURL {
    let environment = ProcessInfo.processInfo.environment
    guard let text = environment["POSTGRES_URL"], !text.isEmpty else {
        if environment["CI"] == "true" {
            throw FixtureError(
                "POSTGRES_URL is not set but CI=true: PostgreSQL tests must run in CI (use scripts/with-postgres)")
        }
        try Test.cancel(Comment(rawValue: postgresSkipMessage))
    }
    return try PostgresURL(text)
}

let postgresSkipMessage =
    "POSTGRES_URL is not set: the PostgreSQL cases of the storage tests are skipped "
    + "(run them with scripts/with-postgres swift test)"

/// Says so, visibly, when the PostgreSQL cases are skipped (a cancelled case alone is easy to miss).
@Suite struct PostgresAvailability {
    static var configured: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["POSTGRES_URL"].map { !$0.isEmpty } == true || environment["CI"] == "true"
    }

    @Test(.enabled(if: configured, Comment(rawValue: postgresSkipMessage)))
    func postgresIsConfigured() throws {
        _ = try postgresURL()
    }
}

struct FixtureError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

private func running(
    _ store: some DurableStore, migrate: Bool, _ body: (any DurableStore) async throws -> Void
) async throws {
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await store.run() }
        do {
            if migrate { try await store.migrate() }
            try await body(store)
        } catch {
            await store.shutdown()
            group.cancelAll()
            throw error
        }
        await store.shutdown()
        try await group.waitForAll()
    }
}

/// A record with a payload that names it.
func record(_ shard: String, _ sequence: Int64, epoch: Int64) -> JournalRecord {
    JournalRecord(shard: shard, epoch: epoch, sequence: sequence, payload: Array("\(shard)#\(sequence)".utf8))
}

/// Leases `shard` for `owner` at time 0 for an hour and returns the epoch.
func lease(_ store: some JournalStore, _ shard: String, owner: String = "node-a") async throws -> Int64 {
    try await store.acquireLease(shard: shard, owner: owner, ttlMillis: 3_600_000, nowMillis: 0).epoch
}

/// Runs `operation` and returns the `StorageError` code it threw (`nil` when it succeeded).
func storageErrorCode(_ operation: () async throws -> Void) async -> StorageError.Code? {
    do {
        try await operation()
        return nil
    } catch let error as StorageError {
        return error.code
    } catch {
        Issue.record("expected a StorageError, got \(error)")
        return nil
    }
}
