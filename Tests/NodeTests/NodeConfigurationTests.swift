import Foundation
import Testing

@testable import Node

@Suite("Node configuration")
struct NodeConfigurationTests {
    static let repoFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("cluster.yaml").path

    @Test("defaults: embedded store, 127.0.0.1:8080, demo markets")
    func defaults() throws {
        let config = try NodeConfiguration.resolve(file: nil, flags: .init(), environment: [:])
        #expect(config.databaseURL == nil)
        #expect(config.dataDir == "./bourse-data")
        #expect(config.listen == HostPort(host: "127.0.0.1", port: 8080))
        #expect(config.markets.map(\.symbol).contains("BTC-USD"))
        #expect(config.markets.map(\.symbol).contains("ETH-USD"))
        #expect(config.accountShards == 1024)
    }

    @Test("the committed cluster.yaml parses; flags override it; the environment overrides both")
    func precedence() throws {
        let file = try NodeConfiguration.resolve(file: Self.repoFile, flags: .init(), environment: [:])
        #expect(file.nodeID == "n1")
        #expect(file.seeds.count == 3)
        #expect(file.markets.first?.tickSize.units == 1_000_000)
        let flagged = try NodeConfiguration.resolve(
            file: Self.repoFile, flags: .init(nodeID: "n2", listen: "127.0.0.1:8082"), environment: [:])
        #expect(flagged.nodeID == "n2")
        #expect(flagged.listen.port == 8082)
        let environment = try NodeConfiguration.resolve(
            file: Self.repoFile, flags: .init(nodeID: "n2", listen: "127.0.0.1:8082"),
            environment: [
                "BOURSE_NODE_ID": "n3", "BOURSE_LISTEN": "[::1]:9000", "BOURSE_SEEDS": "a:1, b:2",
                "BOURSE_DATABASE_URL": "postgres://x@h/db", "BOURSE_ADMIN_PASSWORD": "secret-pw",
            ])
        #expect(environment.nodeID == "n3")
        #expect(environment.listen == HostPort(host: "::1", port: 9000))
        #expect(environment.seeds == ["a:1", "b:2"])
        #expect(environment.databaseURL == "postgres://x@h/db")
        #expect(environment.adminPassword == "secret-pw")
    }

    @Test("bad values are clear errors", arguments: ["nohost", "host:99999", ":80", "[::1]"])
    func badAddress(text: String) {
        #expect(throws: ConfigurationError.self) {
            try NodeConfiguration.resolve(file: nil, flags: .init(listen: text), environment: [:])
        }
    }

    @Test("an off-grid market in the file is refused")
    func badMarket() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID()).yaml").path
        try """
        markets:
          - {symbol: X-Y, base: X, quote: Y, tick_size: "0.0001", lot_size: "0.00001", min_quantity: "0.00001", maker_fee_bps: 1, taker_fee_bps: 2}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError.self) {
            try NodeConfiguration.resolve(file: path, flags: .init(), environment: [:])
        }
    }
}
