import Foundation
import TestSupport
import Testing

@testable import API

@Suite("Operations routes and the OpenAPI document")
struct OperationsRoutesTests {
    @Test func healthReadinessMetrics() async throws {
        try await TestServer.run { server in
            #expect(try await server.call(.get, "/healthz").status == 200)
            #expect(try await server.call(.get, "/readyz").status == 200)
            await server.exchange.setReady(false)
            let notReady = try await server.call(.get, "/readyz")
            #expect(notReady.status == 503)
            #expect(notReady.errorCode == "UNAVAILABLE")
            #expect(notReady.headers[.retryAfter] == "1")
            #expect(try await server.call(.get, "/healthz").status == 200)
            let metrics = try await server.call(.get, "/metrics")
            #expect(metrics.text == "bourse_up 1\n")
            #expect(metrics.headers[.contentType]?.hasPrefix("text/plain") == true)
        }
    }

    /// Before recovery finishes, nothing reaches the exchange: a command applied to a shard still replaying
    /// its journal would be applied twice.
    @Test func exchangeRoutesWaitForReadiness() async throws {
        try await TestServer.run { server in
            await server.exchange.setReady(false)
            for path in ["/v1/markets", "/v1/markets/BTC-USD/ticker", "/v1/orders", "/admin/v1/cluster"] {
                let response = try await server.call(.get, path)
                #expect(response.status == 503, "\(path)")
                #expect(response.errorCode == "UNAVAILABLE", "\(path)")
                #expect(response.headers[.retryAfter] == "1", "\(path)")
            }
            #expect(try await server.call(.get, "/healthz").status == 200)
            #expect(try await server.call(.get, "/openapi.json").status == 200)
            await server.exchange.setReady(true)
            #expect(try await server.call(.get, "/v1/markets").status == 200)
        }
    }

    @Test func openAPIDescribesEveryRouteAndNothingElse() async throws {
        try await TestServer.run { server in
            let response = try await server.call(.get, "/openapi.json")
            #expect(response.status == 200)
            let paths = try #require(response.json["paths"]?.objectValue)
            var documented: Set<String> = []
            for member in paths.members {
                for method in member.value.objectValue?.keys ?? [] {
                    documented.insert("\(method.uppercased()) \(member.key)")
                }
            }
            let served = Set(server.server.routes.map(\.description))
            #expect(served.count == server.server.routes.count, "a route is registered twice")
            #expect(served.subtracting(documented).isEmpty, "undocumented: \(served.subtracting(documented).sorted())")
            #expect(documented.subtracting(served).isEmpty, "not served: \(documented.subtracting(served).sorted())")
            #expect(served.count >= 30)
        }
    }

    /// Validates the document with openapi-spec-validator (`pip install openapi-spec-validator`).
    @Test func openAPIDocumentValidates() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent(
            "bourse-openapi-\(UUID().uuidString).json")
        try Data(JSONWriter.bytes(OpenAPIDocument.make())).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import sys; from openapi_spec_validator import validate; from openapi_spec_validator.readers import read_from_filename; "
                + "spec, _ = read_from_filename(sys.argv[1]); validate(spec); print('valid')",
            file.path,
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let status = try await process.runToExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(status == 0, "openapi-spec-validator: \(text)")
        #expect(text.contains("valid"))
    }
}
