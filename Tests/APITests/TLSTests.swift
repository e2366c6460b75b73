import Foundation
import TestSupport
import Testing

@testable import API

/// HTTP/2 and HTTP/1.1 over TLS with ALPN, checked with curl against a throwaway certificate.
@Suite("TLS with ALPN")
struct TLSTests {
    /// Runs a command; returns its exit status and standard output.
    static func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        let status = try await process.runToExit()
        return (status, String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    @Test func alpnServesHTTP2AndHTTP11() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = directory.appendingPathComponent("key.pem").path
        let certificate = directory.appendingPathComponent("cert.pem").path
        let made = try await Self.run([
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ])
        try #require(made.status == 0, "openssl req failed")

        try await TestServer.run(
            configure: { $0.tls = .init(certificateChainPath: certificate, privateKeyPath: key) },
            connectClient: false
        ) { server in
            for (flag, version) in [("--http2", "2"), ("--http1.1", "1.1")] {
                let result = try await Self.run([
                    "curl", flag, "-k", "-sS", "-w", "\n%{http_version}", "https://127.0.0.1:\(server.port)/healthz",
                ])
                #expect(result.status == 0)
                #expect(result.output == "{\"status\":\"ok\"}\n\(version)")
            }
        }
    }

    @Test func missingCertificateFilesFailAtStart() throws {
        var configuration = TestServer.configuration()
        configuration.tls = .init(certificateChainPath: "/nonexistent/cert.pem", privateKeyPath: "/nonexistent/key.pem")
        let server = APIServer(
            configuration: configuration, exchange: FakeExchange(), users: InMemoryUserStore(),
            keys: InMemoryKeyStore(),
            metrics: { "" }, logger: .init(label: "test"))
        #expect(throws: (any Error).self) { _ = try server.makeApplication() }
    }
}
