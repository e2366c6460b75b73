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

    /// Opens each `(request, address)` at once and merges their bodies into one stream, whole events at a time
    /// (an event ends at a blank line; one upstream's events never interleave with another's mid-event). The
    /// first answer that is not 200 is the answer (the others close). The merged stream ends when any upstream
    /// ends or fails — the client opens it again, and it goes to the owners of that moment — and closes every
    /// upstream when the client stops reading.
    static func merge(_ parts: [(ForwardedRequest, String)], timeout: Duration = .seconds(10))
        async throws -> ForwardedStream
    {
        let opened = try await withThrowingTaskGroup(of: (Int, ForwardedStream).self) { group in
            for (index, (request, address)) in parts.enumerated() {
                group.addTask { (index, try await open(request, at: address, timeout: timeout)) }
            }
            var opened: [(Int, ForwardedStream)] = []
            for try await stream in group { opened.append(stream) }
            return opened.sorted { $0.0 < $1.0 }.map(\.1)
        }
        if let refused = opened.first(where: { $0.status != 200 }) { return refused }
        guard let first = opened.first else { throw Failure(description: "a stream with no channel to relay") }
        let (body, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let relays = Task {
            await withTaskGroup(of: Void.self) { group in
                for stream in opened {
                    group.addTask {
                        var pending = ByteBuffer()
                        do {
                            for try await chunk in stream.body {
                                pending.writeImmutableBuffer(chunk)
                                if let whole = completeEvents(&pending) { continuation.yield(whole) }
                            }
                            continuation.finish()
                        } catch {
                            continuation.finish(throwing: error)
                        }
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
        continuation.onTermination = { _ in relays.cancel() }
        return ForwardedStream(status: 200, headers: first.headers, body: body)
    }

    /// Takes the complete events off the front of `pending` (everything up to its last blank line), if any.
    static func completeEvents(_ pending: inout ByteBuffer) -> ByteBuffer? {
        let bytes = pending.readableBytesView
        var end: Int?
        var index = bytes.endIndex - 1
        while index > bytes.startIndex {
            if bytes[index] == UInt8(ascii: "\n") && bytes[index - 1] == UInt8(ascii: "\n") {
                end = index + 1
                break
            }
            index -= 1
        }
        guard let end else { return nil }
        let whole = pending.readSlice(length: end - bytes.startIndex)
        pending.discardReadBytes()
        return whole
    }
}
