import Storage

/// A journaling actor that snapshots its state on a `SnapshotSchedule`: the state is captured on the actor (a
/// copy of its value, which costs little until the actor changes it), encoded off the actor and written by a
/// task once everything it contains is durable, never on the answer path.
protocol SnapshottingActor: JournalingActor {
    var snapshots: SnapshotSchedule { get set }
    /// Encodes the state as of `journal.lastSequence` when called, on any thread.
    func snapshotEncoder() -> @Sendable () -> [UInt8]
    /// Runs once the snapshot's records (through `sequence`) are durable, before it is saved: whatever else
    /// must be durable first (a symbol waits for the accounts' settlements of those records' events).
    func prepareToSave(through sequence: Int64) async throws
}

extension SnapshottingActor {
    /// Captures a snapshot when one is due and writes it in the background.
    func snapshotIfDue() {
        guard snapshots.isDue(at: journal.lastSequence), journal.broken == nil else { return }
        let snapshot = capture()
        Task { await self.write(snapshot, inBackground: true) }
    }

    /// At a graceful stop, once no more commands arrive: snapshots the shard if it changed since its last
    /// snapshot, and returns once that is saved, so that the next start replays nothing.
    ///
    /// - Parameter tailLimit: a shard fewer records than this past its last snapshot is not saved again: its
    ///   records are only made durable (a symbol's accounts' settlements of its events too), and whoever
    ///   recovers it next replays them. A handoff passes the records the next owner reads with the snapshot
    ///   anyway (`Exchange.recoveryHead`): replaying a short tail costs less than encoding and saving the whole
    ///   state again, which for an account shard with long histories is megabytes. 1 saves every change.
    /// - Returns: the size of the snapshot written (0 when none was).
    @discardableResult
    func checkpoint(savingTailsFrom tailLimit: Int64 = 1) async -> Int {
        let tail = journal.lastSequence - snapshots.last
        guard tail > 0, journal.broken == nil else { return 0 }
        guard tail >= tailLimit else {
            do {
                try await awaitDurable(through: journal.lastSequence)
                try await prepareToSave(through: journal.lastSequence)
            } catch {
                logger.warning(
                    "journal not durable at stop", metadata: ["shard": "\(journal.shard)", "error": "\(error)"])
            }
            return 0
        }
        return await write(capture()) ?? 0
    }

    private func capture() -> SnapshotCapture {
        snapshots.taken(at: journal.lastSequence)
        return SnapshotCapture(sequence: journal.lastSequence, epoch: journal.epoch, encode: snapshotEncoder())
    }

    /// Encodes the snapshot off the actor, then saves it once what it covers is durable; its size, or nil when
    /// it could not be saved.
    /// - Parameter inBackground: encode on the low-priority `BackgroundThread.snapshots` (periodic snapshots,
    ///   which nothing waits for) rather than on the concurrency runtime's threads (a stop or a handoff, which
    ///   waits for it).
    @discardableResult
    private func write(_ capture: SnapshotCapture, inBackground: Bool = false) async -> Int? {
        let payload =
            inBackground
            ? await BackgroundThread.snapshots.run(capture.encode) : await Self.encode(capture.encode)
        snapshots.measured(bytes: payload.count)
        do {
            try await awaitDurable(through: capture.sequence)
            try await prepareToSave(through: capture.sequence)
            try await store.saveSnapshot(
                ShardSnapshot(
                    shard: journal.shard, epoch: capture.epoch, sequence: capture.sequence, payload: payload))
            snapshots.written(saved: true)
            return payload.count
        } catch {
            snapshots.written(saved: false)
            logger.warning("snapshot not saved", metadata: ["shard": "\(journal.shard)", "error": "\(error)"])
            return nil
        }
    }

    /// Runs `encode` on the global executor: a long history's snapshot takes milliseconds to encode, which
    /// the shard's commands do not wait for.
    private nonisolated static func encode(_ encode: @Sendable () -> [UInt8]) async -> [UInt8] {
        encode()
    }
}

/// A snapshot taken but not encoded yet: the state as of `sequence`.
struct SnapshotCapture: Sendable {
    var sequence: Int64
    var epoch: Int64
    var encode: @Sendable () -> [UInt8]
}
