import HTTPTypes
import Hummingbird
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Synchronization
import Testing

@testable import API

/// The HTTP/2 path that serves each stream with one channel handler (`DirectHTTP2Channel`): its request
/// reading, its coalesced flushes, its `Date` header, and many streams at once on one connection.
@Suite("HTTP/2 streams served by a channel handler")
struct DirectHTTP2Tests {
    /// The requests an `HTTP2RequestHandler` on an embedded channel hands over for `parts`.
    static func read(_ parts: [HTTPRequestPart], bodyLimit: Int) async throws -> [DirectHTTP2Channel.StreamRequest] {
        let (requests, continuation) = AsyncStream.makeStream(of: DirectHTTP2Channel.StreamRequest.self)
        let channel = EmbeddedChannel(handler: HTTP2RequestHandler(bodyLimit: bodyLimit, requests: continuation))
        for part in parts { try channel.writeInbound(part) }
        continuation.finish()
        _ = try channel.finish()
        var read: [DirectHTTP2Channel.StreamRequest] = []
        for await request in requests { read.append(request) }
        return read
    }

    static func head(_ path: String) -> HTTPRequest {
        HTTPRequest(method: .post, scheme: "http", authority: "localhost", path: path)
    }

    @Test func aBodyInSeveralPartsArrivesWholeAndInOrder() async throws {
        let parts: [HTTPRequestPart] = [
            .head(Self.head("/v1/orders")), .body(ByteBuffer(string: "{\"a\":")), .body(ByteBuffer(string: "1,")),
            .body(ByteBuffer(string: "\"b\":2}")), .end(nil),
        ]
        let requests = try await Self.read(parts, bodyLimit: 1024)
        #expect(requests.count == 1)
        var request = try #require(requests.first).request
        #expect(request.uri.path == "/v1/orders")
        let body = try await request.collectBody(upTo: 1024)
        #expect(String(buffer: body) == #"{"a":1,"b":2}"#)
    }

    @Test func aBodyPastTheLimitIsCutJustPastItSoTheRouteStillRefusesIt() async throws {
        let chunk = ByteBuffer(repeating: UInt8(ascii: "x"), count: 600)
        let parts: [HTTPRequestPart] =
            [.head(Self.head("/v1/auth/register"))] + Array(repeating: .body(chunk), count: 10) + [.end(nil)]
        let requests = try await Self.read(parts, bodyLimit: 1000)
        var request = try #require(requests.first).request
        // Kept: up to the first part that passes the limit (1,200 bytes), not the 6,000 sent.
        let kept = try await request.collectBody(upTo: 10_000)
        #expect(kept.readableBytes == 1_200)
        var again = try #require(requests.first).request
        await #expect(throws: NIOTooManyBytesError.self) { _ = try await again.collectBody(upTo: 1000) }
    }

    @Test func aRequestWithoutBodyIsHandedOverAtItsEnd() async throws {
        let get = HTTPRequest(method: .get, scheme: "http", authority: "localhost", path: "/healthz")
        let requests = try await Self.read([.head(get), .end(nil)], bodyLimit: 1024)
        #expect(requests.count == 1)
        #expect(requests.first?.request.method == .get)
        #expect(try await Self.read([.head(get)], bodyLimit: 1024).isEmpty)  // not before its end
    }

    /// Counts the flushes that reach the socket's side of the pipeline.
    final class FlushCounter: ChannelOutboundHandler {
        typealias OutboundIn = IOData
        let flushes = Atomic<Int>(0)
        func flush(context: ChannelHandlerContext) {
            flushes.add(1, ordering: .relaxed)
            context.flush()
        }
    }

    @Test func theFlushesOfOneTickBecomeOneAndACloseFlushesFirst() throws {
        let counter = FlushCounter()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([counter, FlushCoalescingHandler()])
        for index in 0..<5 {
            channel.write(IOData.byteBuffer(ByteBuffer(string: "part \(index)")), promise: nil)
            channel.flush()
        }
        #expect(counter.flushes.load(ordering: .relaxed) == 0)
        #expect(try channel.readOutbound(as: IOData.self) == nil)
        channel.embeddedEventLoop.run()
        #expect(counter.flushes.load(ordering: .relaxed) == 1)
        var written: [String] = []
        while case .byteBuffer(let buffer) = try channel.readOutbound(as: IOData.self) {
            written.append(String(buffer: buffer))
        }
        #expect(written == (0..<5).map { "part \($0)" })

        channel.write(IOData.byteBuffer(ByteBuffer(string: "goodbye")), promise: nil)
        channel.flush()
        _ = try? channel.close().wait()
        #expect(counter.flushes.load(ordering: .relaxed) == 2)
    }

    @Test func theDateHeaderIsAnIMFFixdate() {
        #expect(HTTPDateCache.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDateCache.format(1_796_571_091) == "Sun, 06 Dec 2026 15:31:31 GMT")
        #expect(HTTPDateCache().now.hasSuffix(" GMT"))
    }

    @Test func manyRequestsInFlightOnOneConnectionEachGetTheirOwnAnswer() async throws {
        try await TestServer.run { server in
            let client = server.client
            let ids = (0..<200).map { "req-\($0)" }
            let answers = try await withThrowingTaskGroup(of: (String, String?, Int, String?, String?).self) { group in
                for id in ids {
                    group.addTask {
                        let response = try await client.request(
                            method: .get, path: "/v1/markets", headers: [.requestID: id])
                        return (
                            id, response.headers[.requestID], response.status.code, response.headers[.date],
                            response.headers[.server]
                        )
                    }
                }
                var answers: [(String, String?, Int, String?, String?)] = []
                for try await answer in group { answers.append(answer) }
                return answers
            }
            #expect(answers.count == ids.count)
            for (id, echoed, status, date, server) in answers {
                #expect(echoed == id)
                #expect(status == 200)
                #expect(date?.hasSuffix(" GMT") == true)
                #expect(server == "bourse")
            }
        }
    }
}
