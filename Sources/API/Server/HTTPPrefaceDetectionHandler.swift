import NIOCore

/// The HTTP version a cleartext connection speaks, as told by its first bytes.
public enum CleartextHTTPVersion: Sendable, Hashable {
    /// The client sent anything but the HTTP/2 connection preface: HTTP/1.x.
    case http1
    /// The client sent the HTTP/2 connection preface: HTTP/2 with prior knowledge (h2c).
    case http2
}

/// Errors raised while telling HTTP/1.x from HTTP/2 on a cleartext connection.
public enum HTTPPrefaceDetectionError: Error, Sendable, Hashable {
    /// The peer closed (or half-closed) the connection before enough bytes arrived to decide.
    case connectionClosedBeforeDetection
    /// No decision could be made within the configured timeout.
    case detectionTimedOut
    /// The handler was removed from the pipeline before a decision was made.
    case handlerRemovedBeforeDetection
    /// The server started a graceful shutdown before the connection sent a request.
    case serverShuttingDown
}

/// Peeks at the first bytes of a cleartext connection to decide between HTTP/1.x and
/// HTTP/2 with prior knowledge (RFC 9113 §3.3), then lets a closure configure the rest
/// of the pipeline and removes itself.
///
/// It works like NIO's `NIOTypedApplicationProtocolNegotiationHandler`, but the trigger is
/// the connection preface `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n` instead of a TLS ALPN event:
/// - The first byte that differs from the preface selects HTTP/1.x at once, so a short
///   HTTP/1 request is never held back waiting for 24 bytes.
/// - All 24 bytes matching selects HTTP/2.
/// - Every byte read so far, and any read while the pipeline is being configured, is
///   replayed unchanged to the handlers the closure added, which then see the connection
///   from its first byte (the HTTP/2 handler expects to read the preface itself).
///
/// The result of the closure is published on ``detectionResult``. Add this handler first,
/// from the child channel initializer, and do **not** wait on ``detectionResult`` there:
/// reads only start once the initializer's future has completed.
final class HTTPPrefaceDetectionHandler<Output: Sendable>: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Closure that configures the pipeline for the detected version; must complete its
    /// future once the pipeline is ready to receive the connection's bytes.
    typealias Configurator = (CleartextHTTPVersion, any Channel) -> EventLoopFuture<Output>

    /// The HTTP/2 client connection preface (RFC 9113 §3.4).
    static var preface: StaticString { "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" }

    private enum State {
        /// Collecting bytes until they match or differ from the preface.
        case detecting(buffered: ByteBuffer?)
        /// Waiting for the configurator; reads and user events are held back, in order.
        case configuring(buffered: ByteBuffer, heldEvents: [Any])
        /// Done (pipeline configured, failed or closed); everything passes through.
        case finished
    }

    private var state: State = .detecting(buffered: nil)
    private let promise: EventLoopPromise<Output>
    private let timeout: TimeAmount?
    private var timeoutTask: Scheduled<Void>?
    private let configurator: Configurator

    /// The configurator's output once the pipeline has been configured; fails if the
    /// connection closes, times out or the configurator fails first.
    var detectionResult: EventLoopFuture<Output> { self.promise.futureResult }

    /// Create a handler.
    /// - Parameters:
    ///   - eventLoop: The channel's event loop.
    ///   - timeout: Close the connection if no decision is made within this time; `nil` waits forever.
    ///   - configurator: Configures the pipeline for the detected HTTP version.
    init(eventLoop: any EventLoop, timeout: TimeAmount?, configurator: @escaping Configurator) {
        self.promise = eventLoop.makePromise(of: Output.self)
        self.timeout = timeout
        self.configurator = configurator
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard let timeout else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.timeoutTask = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = loopBound.value
            handler.fail(HTTPPrefaceDetectionError.detectionTimedOut, context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.timeoutTask?.cancel()
        switch self.state {
        case .detecting, .configuring:
            self.state = .finished
            self.promise.fail(HTTPPrefaceDetectionError.handlerRemovedBeforeDetection)
        case .finished:
            break
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch self.state {
        case .detecting(let buffered):
            var bytes = self.unwrapInboundIn(data)
            if var buffered {
                buffered.writeBuffer(&bytes)
                bytes = buffered
            }
            if let version = Self.detect(bytes) {
                self.state = .configuring(buffered: bytes, heldEvents: [])
                self.configure(version, context: context)
            } else {
                self.state = .detecting(buffered: bytes)
            }

        case .configuring(var buffered, let heldEvents):
            var bytes = self.unwrapInboundIn(data)
            buffered.writeBuffer(&bytes)
            self.state = .configuring(buffered: buffered, heldEvents: heldEvents)

        case .finished:
            context.fireChannelRead(data)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // Held-back reads get their own readComplete when replayed.
        if case .finished = self.state {
            context.fireChannelReadComplete()
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch self.state {
        case .detecting:
            if let channelEvent = event as? ChannelEvent, channelEvent == .inputClosed {
                // Fewer than 24 bytes, all matching the preface, then EOF: never a valid request.
                self.fail(HTTPPrefaceDetectionError.connectionClosedBeforeDetection, context: context)
            } else if event is ChannelShouldQuiesceEvent {
                // Graceful shutdown: no request is in progress, so close now rather than
                // keep the server waiting for this connection.
                self.fail(HTTPPrefaceDetectionError.serverShuttingDown, context: context)
            } else {
                context.fireUserInboundEventTriggered(event)
            }
        case .configuring(let buffered, var heldEvents):
            // Deliver after the bytes that came before it (e.g. a half-close or quiesce).
            heldEvents.append(event)
            self.state = .configuring(buffered: buffered, heldEvents: heldEvents)
        case .finished:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        switch self.state {
        case .detecting, .configuring:
            self.state = .finished
            self.timeoutTask?.cancel()
            self.promise.fail(HTTPPrefaceDetectionError.connectionClosedBeforeDetection)
        case .finished:
            break
        }
        context.fireChannelInactive()
    }

    /// Decide from the bytes read so far: `nil` means "need more bytes".
    static func detect(_ bytes: ByteBuffer) -> CleartextHTTPVersion? {
        let preface = Self.preface
        let count = min(bytes.readableBytes, preface.utf8CodeUnitCount)
        let matches = preface.withUTF8Buffer { expected in
            bytes.readableBytesView.prefix(count).elementsEqual(expected.prefix(count))
        }
        guard matches else { return .http1 }
        return count == preface.utf8CodeUnitCount ? .http2 : nil
    }

    private func configure(_ version: CleartextHTTPVersion, context: ChannelHandlerContext) {
        self.timeoutTask?.cancel()
        self.timeoutTask = nil
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        self.configurator(version, context.channel)
            .hop(to: context.eventLoop)
            .whenComplete { result in
                let (handler, context) = loopBound.value
                handler.configured(result, context: context)
            }
    }

    private func configured(_ result: Result<Output, any Error>, context: ChannelHandlerContext) {
        guard case .configuring(let buffered, let heldEvents) = self.state else {
            // The channel closed while the pipeline was being configured.
            return
        }
        switch result {
        case .success(let output):
            self.state = .finished
            self.promise.succeed(output)
            context.fireChannelRead(self.wrapInboundOut(buffered))
            context.fireChannelReadComplete()
            for event in heldEvents {
                context.fireUserInboundEventTriggered(event)
            }
            context.pipeline.syncOperations.removeHandler(self, promise: nil)
        case .failure(let error):
            self.fail(error, context: context)
        }
    }

    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        switch self.state {
        case .detecting, .configuring:
            self.state = .finished
            self.timeoutTask?.cancel()
            self.promise.fail(error)
            context.close(promise: nil)
        case .finished:
            break
        }
    }
}

@available(*, unavailable)
extension HTTPPrefaceDetectionHandler: Sendable {}
