import Logging
import NIOCore
import NIOPosix
import Synchronization
import TestSupport

@testable import Transport

/// Shared values and small helpers for the transport tests.
enum Fixtures {
    static let secret = PeerSecret("test-cluster-secret")
    static let serverIdentity = PeerIdentity(nodeID: "bourse-1", incarnation: 7)
    static let clientIdentity = PeerIdentity(nodeID: "bourse-0", incarnation: 3)
    static let logger = Logger(label: "transport-tests") { _ in SwiftLogNoOpLogHandler() }

    static func bytes(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

    static func text(_ buffer: ByteBuffer) -> String { String(buffer: buffer) }

    static func serverConfiguration(port: Int = 0) -> PeerServer.Configuration {
        PeerServer.Configuration(host: "127.0.0.1", port: port, identity: serverIdentity, secret: secret)
    }

    static func clientConfiguration(port: Int, secret: PeerSecret = Fixtures.secret) -> PeerClient.Configuration {
        PeerClient.Configuration(
            host: "127.0.0.1", port: port, identity: clientIdentity, secret: secret,
            backoff: ReconnectBackoff(initial: .milliseconds(20), maximum: .milliseconds(200)))
    }
}

/// A handler that echoes "kind:payload@sender" and records what it was given. Requests of kind
/// ``gatedKind`` wait for ``gate`` first.
final class RecordingHandler: PeerHandler {
    static let gatedKind: UInt16 = 99
    let gate = Gate()
    private let state = Mutex<(batches: [[UInt64]], payloads: [String])>(([], []))
    /// Per payload handled: whether the handler ran on a NIO event loop thread.
    private let threads = Mutex<[String: Bool]>([:])

    var batchCount: Int { state.withLock { $0.batches.count } }
    var requestCount: Int { state.withLock { $0.batches.reduce(0) { $0 + $1.count } } }
    var payloads: [String] { state.withLock { $0.payloads } }

    func timesHandled(_ payload: String) -> Int { state.withLock { $0.payloads.filter { $0 == payload }.count } }

    func handledOnEventLoop(_ payload: String) -> Bool? { threads.withLock { $0[payload] } }

    func handle(_ requests: [PeerRequest]) async -> [PeerReply] {
        let onEventLoop = MultiThreadedEventLoopGroup.currentEventLoop != nil
        threads.withLock { threads in
            for request in requests { threads[Fixtures.text(request.payload)] = onEventLoop }
        }
        state.withLock { state in
            state.batches.append(requests.map(\.id))
            state.payloads += requests.map { Fixtures.text($0.payload) }
        }
        if requests.contains(where: { $0.kind == Self.gatedKind }) { await gate.wait() }
        return requests.map { request in
            request.reply(
                kind: request.kind &+ 1, ringVersion: 5,
                payload: Fixtures.bytes("\(request.kind):\(Fixtures.text(request.payload))@\(request.sender.nodeID)"))
        }
    }
}
