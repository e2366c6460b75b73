import Synchronization
import Trading

/// An exchange serving part of the shards sends the places no book has answered again, instead of abandoning
/// them: the book may be on another node, which may have placed the order and lost the answer, or may never
/// have received it (a failed call, a crash, a move). The book's `PlacementLog` makes a place sent twice
/// count once, so sending again is always safe; an order its book refuses (market halted or gone) is then
/// abandoned, its reservation released.
///
/// A place is sent again only once it is `Configuration.resubmitAfter` old: by then the first send, if still
/// on its way, has passed its transport deadline and is dropped on arrival, so an order abandoned after a
/// refusal cannot be placed by a late first copy. A node alone (every shard here) abandons such orders at
/// recovery as before: its books have recovered, so whatever they never placed never will be.
extension Exchange {
    func startResubmission() {
        guard servesPart else { return }
        let task = Task { [weak self] in
            while !Task.isCancelled {
                guard let self, self.ready.isSet else { return }
                await self.resubmitUnanswered(createdBy: self.resubmissionCutoff())
                try? await Task.sleep(for: Self.resubmissionPause)
            }
        }
        resubmission.withLock { $0 = task }
    }

    /// Places created at or before this time (ms) are old enough to be sent again (`Configuration.resubmitAfter`).
    func resubmissionCutoff() -> Int64 {
        let interval = configuration.resubmitAfter
        return clock() - Int64(interval.components.seconds * 1_000)
            - interval.components.attoseconds / 1_000_000_000_000_000
    }

    func stopResubmission() {
        resubmission.withLock { task in
            task?.cancel()
            task = nil
        }
    }

    /// Sends again the places created at or before `createdBy` that no book has answered, in every account
    /// shard served here; abandons those their book refuses. Returns how many were sent and abandoned (those
    /// whose book could not be reached wait for the next round).
    @discardableResult
    func resubmitUnanswered(createdBy: Int64) async -> (sent: Int, abandoned: Int) {
        var sent = 0
        var abandoned = 0
        for shard in accounts.served {
            for place in await shard.unansweredPlaces(createdBy: createdBy) {
                do {
                    _ = try await symbolRoute(place.symbol).place(
                        place.order, settledThrough: place.settledThrough, nowMillis: clock())
                    sent += 1
                } catch let error as BourseError where error.code == .orderRejected || error.code == .notFound {
                    _ = try? await shard.execute(
                        .abandon(orderID: place.order.id, reason: .invalidOrder), nowMillis: clock())
                    abandoned += 1
                } catch {
                    continue
                }
            }
        }
        if sent + abandoned > 0 {
            logger.info("unanswered places sent again", metadata: ["sent": "\(sent)", "abandoned": "\(abandoned)"])
        }
        return (sent, abandoned)
    }

    /// Pause between two rounds of resubmission.
    static let resubmissionPause: Duration = .milliseconds(250)
}
