import NIOCore
import NIOPosix
import TestSupport
import Testing

@testable import API

@Suite("HTTP/1.1 on the same port")
struct HTTP1Tests {
    /// A raw HTTP/1.1 exchange: send `request`, read until the server closes.
    static func exchange(port: Int, _ request: String) async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            var text = ""
            for try await chunk in inbound { text += String(buffer: chunk) }
            return text
        }
    }

    @Test func http11RequestsAreServed() async throws {
        try await TestServer.run { server in
            let body = #"{"username":"http1user","password":"correct horse"}"#
            let response = try await Self.exchange(
                port: server.port,
                "POST /v1/auth/register HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
            #expect(response.hasPrefix("HTTP/1.1 201 Created\r\n"))
            #expect(response.contains(#"{"user_id":"1","username":"http1user"}"#))

            let notFound = try await Self.exchange(
                port: server.port, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(notFound.hasPrefix("HTTP/1.1 404"))
            #expect(notFound.contains(#""code":"NOT_FOUND""#))
        }
    }

    /// RFC 9110 §9.3.2: `HEAD` answers as `GET` would, fields and all, with no body.
    @Test func headAnswersAsGetWithoutTheBody() async throws {
        try await TestServer.run { server in
            let get = try await server.client.request(method: .get, path: "/v1/markets")
            #expect(get.status.code == 200 && get.body.readableBytes > 0)
            let head = try await server.client.request(method: .head, path: "/v1/markets")
            #expect(head.status.code == 200)
            #expect(head.body.readableBytes == 0)
            #expect(head.headers[.contentLength] == String(get.body.readableBytes))
            #expect(head.headers[.contentType] == get.headers[.contentType])
            let missing = try await server.client.request(method: .head, path: "/nope")
            #expect(missing.status.code == 404 && missing.body.readableBytes == 0)

            let http1 = try await Self.exchange(
                port: server.port, "HEAD /v1/markets HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(http1.hasPrefix("HTTP/1.1 200"))
            #expect(http1.lowercased().contains("content-length: \(get.body.readableBytes)\r\n"))
            #expect(http1.hasSuffix("\r\n\r\n"), "no body after the fields")
        }
    }
}
