import Logging
import PostgresNIO
import Trading

/// Creates and drops whole databases: first-time setup, and a fresh database per test.
public enum PostgresAdmin {
    /// Creates database `name` over a connection to `url` (its own database, e.g. `postgres`).
    ///
    /// - Throws: `BourseError` (`VALIDATION_ERROR`) for a name other than letters, digits and `_`;
    ///   `StorageError.unavailable` when the server refuses.
    public static func createDatabase(_ name: String, at url: PostgresURL) async throws {
        try validate(name)
        try await execute("CREATE DATABASE \"\(name)\"", at: url)
    }

    /// Drops database `name` if it exists, disconnecting its sessions.
    public static func dropDatabase(_ name: String, at url: PostgresURL) async throws {
        try validate(name)
        try await execute("DROP DATABASE IF EXISTS \"\(name)\" WITH (FORCE)", at: url)
    }

    private static func validate(_ name: String) throws {
        let bytes = Array(name.utf8)
        let valid =
            (1...63).contains(bytes.count) && !isDigit(bytes[0])
            && bytes.allSatisfy {
                isDigit($0) || $0 == UInt8(ascii: "_") || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0 | 0x20)
            }
        guard valid else {
            throw BourseError(
                .validation, "database names are 1 to 63 ASCII letters, digits and _, not starting with a digit")
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func execute(_ sql: String, at url: PostgresURL) async throws {
        let client = PostgresClient(configuration: url.clientConfiguration())
        do {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { await client.run() }
                defer { group.cancelAll() }
                try await client.query(PostgresQuery(unsafeSQL: sql), logger: PostgresStore.quiet).drain()
            }
        } catch {
            throw StorageError(.unavailable, "\(sql) failed: \(PostgresStore.describe(error))")
        }
    }
}
