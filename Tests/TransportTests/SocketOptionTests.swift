import Foundation
import Testing

/// `ChannelOptions.socketOption(_:)` is level `SOL_SOCKET`: `.socketOption(.tcp_nodelay)` sets option 1 there,
/// which is `SO_DEBUG`, not `TCP_NODELAY`. As root that passes unnoticed; as any other user (the container
/// image runs as uid 10001) `setsockopt` fails with EACCES and no connection opens — the chaos run found it in
/// the peer transport (docs/reliability.md, Findings 1), and the feeds' WebSocket connector had it too. TCP
/// options belong in `.tcpOption(_:)`; tests run as root here, so the guard is on the sources.
@Suite("Socket options")
struct SocketOptionTests {
    static let sources = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources")

    @Test("no TCP-level option is set at SOL_SOCKET level")
    func tcpOptionsAtTheTCPLevel() throws {
        let files = try #require(FileManager.default.enumerator(at: Self.sources, includingPropertiesForKeys: nil))
        var swiftFiles = 0
        var offenders: [String] = []
        for case let url as URL in files where url.pathExtension == "swift" {
            swiftFiles += 1
            let text = try String(contentsOf: url, encoding: .utf8)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where line.contains("socketOption(.tcp_") {
                offenders.append("\(url.lastPathComponent):\(number + 1): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
        #expect(swiftFiles > 100, "the sources were found at \(Self.sources.path)")
        #expect(offenders.isEmpty, "use .tcpOption(...): \(offenders)")
    }
}
