import Logging
import NIOCore
import NIOHPACK

extension PeerServer {
    /// Serves one HTTP/2 stream: authenticate the head, then answer frames until the peer ends the stream or
    /// the server quiesces.
    func serve(_ stream: PeerStream) async {
        do {
            try await stream.executeThenClose { inbound, outbound in
                var frames = inbound.makeAsyncIterator()
                guard case .head(let head)? = try await frames.next() else { return }
                guard let peer = try await admit(head, outbound: outbound) else { return }
                var logger = self.logger
                logger[metadataKey: "peer_node"] = "\(peer)"
                logger.debug("peer stream opened")
                try await exchange(with: peer, frames: &frames, outbound: outbound)
                logger.debug("peer stream ended")
            }
        } catch {
            logger.debug("peer stream failed", metadata: ["error": "\(error)"])
        }
    }

    /// Checks path, method and signature; answers 404, 405 or 401 (ending the stream) or 200.
    /// - Returns: The authenticated node id, or `nil` if the stream was refused.
    private func admit(_ head: HPACKHeaders, outbound: NIOAsyncChannelOutboundWriter<PeerStreamOutbound>)
        async throws -> String?
    {
        let refusal: (status: Int, reason: String)?
        if head.first(name: ":path") != PeerStreamHeaders.path {
            refusal = (404, "unknown path")
        } else if head.first(name: ":method") != "POST" {
            refusal = (405, "method not allowed")
        } else {
            let now = WallClock.milliseconds()
            let credentials = PeerCredentials(headers: head)
            switch authenticator.verify(credentials, now: now) {
            case .failure(let reason):
                refusal = (401, reason.rawValue)
            case .success(let node):
                let fresh = nonces.withLock { $0.insert(credentials!.nonce, now: now) }
                if fresh {
                    counters.withLock { $0.streamsAccepted += 1 }
                    try await outbound.write(.head(PeerStreamHeaders.response(status: 200), endStream: false))
                    return node
                }
                refusal = (401, PeerAuthenticator.Refusal.replayedNonce.rawValue)
            }
        }
        guard let refusal else { return nil }
        counters.withLock { $0.streamsRefused += 1 }
        logger.warning("peer stream refused", metadata: ["status": "\(refusal.status)", "reason": "\(refusal.reason)"])
        try await outbound.write(.head(PeerStreamHeaders.response(status: refusal.status), endStream: true))
        return nil
    }

    /// Reads frames, answers each as one batch (up to the concurrency limit), writes coalesced replies, and
    /// ends the stream once everything read has been answered.
    private func exchange(
        with peer: String, frames: inout NIOAsyncChannelInboundStream<PeerStreamInbound>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<PeerStreamOutbound>
    ) async throws {
        let outbox = EnvelopeOutbox()
        let limit = max(1, configuration.maximumConcurrentBatchesPerStream)
        try await withThrowingTaskGroup(of: Void.self) { writer in
            writer.addTask { try await self.writeReplies(from: outbox, to: outbound) }
            // Batches are not cancelled when reading fails: their replies must reach the receiver's memory so
            // that the client's retries on its next connection are answered from it.
            let readFailure: (any Error)? = await withTaskGroup(of: Void.self) { batches in
                var inFlight = 0
                do {
                    reading: while let part = try await frames.next() {
                        switch part {
                        case .frame(var envelopes):
                            counters.withLock {
                                $0.framesReceived += 1
                                $0.requestsReceived += envelopes.count
                            }
                            // Probes are answered here, on the event loop, whatever waits for the pool.
                            let inline = configuration.inlineKinds
                            if !inline.isEmpty, envelopes.contains(where: { inline.contains($0.kind) }) {
                                let probes = envelopes.filter { inline.contains($0.kind) }
                                await self.answer(probes, from: peer, into: outbox)
                                envelopes.removeAll { inline.contains($0.kind) }
                                if envelopes.isEmpty { continue reading }
                            }
                            if inFlight >= limit {
                                await batches.next()
                                inFlight -= 1
                            }
                            inFlight += 1
                            // The handler runs on the global pool, not on the connection's event loop.
                            batches.addTask(executorPreference: globalConcurrentExecutor) {
                                await self.answer(envelopes, from: peer, into: outbox)
                            }
                        case .end:
                            break reading
                        case .head:
                            throw PeerTransportError(code: .protocolViolation, reason: "second head on a stream")
                        }
                    }
                    return nil
                } catch {
                    return error
                }
            }
            outbox.finish()
            try await writer.waitForAll()
            if let readFailure { throw readFailure }
        }
    }

    /// Answers one frame of requests through the receiver and queues the replies.
    private func answer(_ envelopes: [PeerEnvelope], from peer: String, into outbox: EnvelopeOutbox) async {
        let now = ContinuousClock.now
        var refused: [PeerEnvelope] = []
        var requests: [PeerRequest] = []
        requests.reserveCapacity(envelopes.count)
        for envelope in envelopes {
            if envelope.flags != .request {
                refused.append(
                    PeerReply.transportFailure(.protocolViolation, requestID: envelope.id).envelope(
                        from: configuration.identity))
            } else if envelope.sender.nodeID != peer {
                refused.append(
                    PeerReply.transportFailure(.permissionDenied, requestID: envelope.id).envelope(
                        from: configuration.identity))
            } else {
                requests.append(PeerRequest(envelope, receivedAt: now))
            }
        }
        var replies = refused
        if !requests.isEmpty {
            let identity = configuration.identity
            replies += await receiver.receive(requests).map { $0.envelope(from: identity) }
        }
        outbox.append(replies)
    }

    /// Writes whatever replies are pending as frames, until the outbox is finished; then ends the stream.
    private func writeReplies(
        from outbox: EnvelopeOutbox, to outbound: NIOAsyncChannelOutboundWriter<PeerStreamOutbound>
    ) async throws {
        let encoder = PeerFrameEncoder(maximumFrameBytes: configuration.maximumFrameBytes)
        while var envelopes = await outbox.next() {
            var bytes = 0
            for index in envelopes.indices {
                do {
                    try encoder.check(envelopes[index])
                } catch {
                    envelopes[index] = PeerReply.transportFailure(error.code, requestID: envelopes[index].id)
                        .envelope(from: configuration.identity)
                }
                bytes += PeerFrameFormat.encodedSize(of: envelopes[index]) + PeerFrameFormat.lengthPrefixBytes
            }
            var buffer = ByteBuffer()
            buffer.reserveCapacity(bytes + 16)
            let frames = try encoder.encode(envelopes, into: &buffer)
            counters.withLock {
                $0.framesSent += frames
                $0.repliesSent += envelopes.count
            }
            try await outbound.write(.frames(buffer))
        }
        try await outbound.write(.end)
    }
}
