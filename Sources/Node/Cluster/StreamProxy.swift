import API
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Relays a client's event stream from the active node: opens the same request on the active node's client
/// API (HTTP/1.1 over TCP, which that port serves next to h2c) and passes the body on as it arrives.
///
/// One task per relayed stream (a stream lives as long as its client listens); it ends, and the connection
/// closes, when the active node ends the stream or the client stops reading.
enum StreamProxy {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Opens `request` on `address` (`host:port`); returns once the response head has arrived.
    static func open(_ request: ForwardedRequest, at address: String, timeout: Duration = .seconds(10))
        async throws -> ForwardedStream
    {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw Failure(description: "api address \(address) is not host:port")
        }
        let host = String(address[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.milliseconds(timeout.components.seconds * 1_000))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.method), uri: request.target)
        head.headers.add(name: "Host", value: address)
        for header in request.headers { head.headers.add(name: header.name, value: header.value) }
        let (body, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let (heads, headContinuation) = AsyncThrowingStream<HTTPResponseHead, any Error>.makeStream()
        let relay = Task {
            do {
                try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(.head(head))
                    try await outbound.write(.end(nil))
                    for try await part in inbound {
                        switch part {
                        case .head(let response):
                            headContinuation.yield(response)
                            headContinuation.finish()
                        case .body(let buffer):
                            continuation.yield(buffer)
                        case .end:
                            return
                        }
                    }
                }
                headContinuation.finish(throwing: Failure(description: "the active node closed the stream"))
                continuation.finish()
            } catch {
                headContinuation.finish(throwing: error)
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in relay.cancel() }
        let answer: HTTPResponseHead
        do {
            answer = try await withThrowingTaskGroup(of: HTTPResponseHead?.self) { group in
                group.addTask {
                    for try await head in heads { return head }
                    return nil
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let head = first else {
                    throw Failure(description: "the active node did not answer the stream in time")
                }
                return head
            }
        } catch {
            relay.cancel()
            throw error
        }
        return ForwardedStream(
            status: Int(answer.status.code),
            headers: answer.headers.map { ForwardedHeader(name: $0.name, value: $0.value) }, body: body)
    }
}
