import HTTPTypes
import Hummingbird
import NIOCore

/// A `ResponseBodyWriter` that keeps what a response writes, up to a limit, instead of sending it: it turns a
/// response of the router into bytes for a ``ForwardedResponse``.
///
/// `ResponseBody.write(_:)` consumes its writer, so the bytes land in a ``Storage`` shared with the caller.
struct CollectingResponseBodyWriter: ResponseBodyWriter {
    /// The collected bytes.
    final class Storage {
        var body = ByteBuffer()
    }

    /// A body larger than the limit.
    struct TooLarge: Error {}

    let storage: Storage
    let limit: Int

    mutating func write(_ buffer: ByteBuffer) async throws {
        guard buffer.readableBytes <= limit - storage.body.readableBytes else { throw TooLarge() }
        storage.body.writeImmutableBuffer(buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}

    /// Runs `body`'s writer and returns everything it wrote.
    /// - Throws: ``TooLarge`` past `limit` bytes, or what the body's writer throws.
    static func collect(_ body: ResponseBody, limit: Int) async throws -> ByteBuffer {
        if let length = body.contentLength, length > limit { throw TooLarge() }
        let storage = Storage()
        try await body.write(CollectingResponseBodyWriter(storage: storage, limit: limit))
        return storage.body
    }
}
