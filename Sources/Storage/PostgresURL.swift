import Foundation
import PostgresNIO
import Trading

/// Where and how to connect to PostgreSQL, read from a `postgres://user:password@host:port/db?sslmode=…` URL.
///
/// User, password and database may be percent-encoded. The port defaults to 5432 and the database to the
/// user name. `sslmode` follows libpq: `disable`; `allow` and `prefer` (the default) use TLS when the
/// server offers it, without verifying the certificate; `require` insists on TLS without verifying the
/// certificate; `verify-ca` verifies the chain against the system's roots; `verify-full` the chain and the
/// host name. `description` never shows the password.
public struct PostgresURL: Sendable, Hashable, CustomStringConvertible {
    /// The TLS policy of a connection (libpq's `sslmode`).
    public enum SSLMode: String, Sendable, Hashable, CaseIterable {
        case disable
        case allow
        case prefer
        case require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var sslMode: SSLMode

    public init(
        host: String, port: Int = 5432, username: String, password: String?, database: String,
        sslMode: SSLMode = .prefer
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.sslMode = sslMode
    }

    /// Parses a `postgres://` or `postgresql://` URL.
    ///
    /// - Throws: `BourseError` (`VALIDATION_ERROR`) naming what is wrong; the message never repeats the
    ///   password.
    public init(_ text: String) throws(BourseError) {
        guard let schemeEnd = text.range(of: "://"),
            ["postgres", "postgresql"].contains(text[..<schemeEnd.lowerBound].lowercased())
        else {
            throw Self.invalid("it must start with postgres:// or postgresql://")
        }
        var rest = Substring(text[schemeEnd.upperBound...])
        var query = Substring("")
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var path = Substring("")
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        guard let at = rest.lastIndex(of: "@") else { throw Self.invalid("it names no user") }
        let userInfo = rest[..<at]
        let hostPort = rest[rest.index(after: at)...]

        if let colon = userInfo.firstIndex(of: ":") {
            username = try Self.decode(userInfo[..<colon], "user")
            password = try Self.decode(userInfo[userInfo.index(after: colon)...], "password")
        } else {
            username = try Self.decode(userInfo, "user")
            password = nil
        }
        guard !username.isEmpty else { throw Self.invalid("it names no user") }

        (host, port) = try Self.parseHostPort(hostPort)
        let name = try Self.decode(path, "database")
        database = name.isEmpty ? username : name

        sslMode = .prefer
        for item in query.split(separator: "&") {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0] == "sslmode" else { continue }
            guard let mode = SSLMode(rawValue: String(parts[1])) else {
                throw Self.invalid("sslmode must be one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            sslMode = mode
        }
    }

    /// The same server and credentials, another database.
    public func with(database: String) -> PostgresURL {
        var copy = self
        copy.database = database
        return copy
    }

    /// The URL with the password masked.
    public var description: String {
        let host = self.host.contains(":") ? "[\(self.host)]" : self.host
        let secret = password == nil ? "" : ":***"
        return "postgres://\(username)\(secret)@\(host):\(port)/\(database)?sslmode=\(sslMode.rawValue)"
    }

    /// The postgres-nio client configuration for this URL.
    public func clientConfiguration() -> PostgresClient.Configuration {
        PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls)
    }

    private var tls: PostgresClient.Configuration.TLS {
        var unverified = TLSConfiguration.makeClientConfiguration()
        unverified.certificateVerification = .none
        switch sslMode {
        case .disable:
            return .disable
        case .allow, .prefer:
            return .prefer(unverified)
        case .require:
            return .require(unverified)
        case .verifyCA:
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .noHostnameVerification
            return .require(configuration)
        case .verifyFull:
            return .require(.makeClientConfiguration())
        }
    }

    private static func parseHostPort(_ text: Substring) throws(BourseError) -> (String, Int) {
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw invalid("its IPv6 host lacks a ]") }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                throw invalid("unexpected text after the host")
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            host = text
        }
        guard !host.isEmpty else { throw invalid("it names no host") }
        var port = 5432
        if let portText {
            guard let value = Int(portText), (1...65_535).contains(value) else {
                throw invalid("the port must be a number from 1 to 65535")
            }
            port = value
        }
        return (String(host), port)
    }

    private static func decode(_ text: Substring, _ what: String) throws(BourseError) -> String {
        guard let decoded = String(text).removingPercentEncoding else {
            throw invalid("the \(what) is not valid percent-encoding")
        }
        return decoded
    }

    private static func invalid(_ reason: String) -> BourseError {
        BourseError(.validation, "invalid PostgreSQL URL: \(reason)")
    }
}
