import Storage

/// A journaling actor that snapshots its state on a `SnapshotSchedule`: the state is captured on the actor
/// and written by a task once everything it contains is durable, never on the answer path.
protocol SnapshottingActor: JournalingActor {
    var snapshots: SnapshotSchedule { get set }
    /// The state as of `journal.lastSequence`.
    func snapshotPayload() -> [UInt8]
    /// Runs once the snapshot's records are durable, before it is saved: whatever else must be durable
    /// first (a symbol waits for the accounts' settlements of its events).
    func prepareToSave() async throws
}

extension SnapshottingActor {
    /// Captures a snapshot when one is due and writes it in the background.
    func snapshotIfDue() {
        guard snapshots.isDue(at: journal.lastSequence), journal.broken == nil else { return }
        let snapshot = capture()
        Task { await self.write(snapshot) }
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
                try await prepareToSave()
            } catch {
                logger.warning(
                    "journal not durable at stop", metadata: ["shard": "\(journal.shard)", "error": "\(error)"])
            }
            return 0
        }
        let snapshot = capture()
        return await write(snapshot) ? snapshot.payload.count : 0
    }

    private func capture() -> ShardSnapshot {
        let payload = snapshotPayload()
        snapshots.taken(at: journal.lastSequence, bytes: payload.count)
        return ShardSnapshot(
            shard: journal.shard, epoch: journal.epoch, sequence: journal.lastSequence, payload: payload)
    }

    /// Saves the snapshot once what it covers is durable; false when it could not be saved.
    @discardableResult
    private func write(_ snapshot: ShardSnapshot) async -> Bool {
        do {
            try await awaitDurable(through: snapshot.sequence)
            try await prepareToSave()
            try await store.saveSnapshot(snapshot)
            snapshots.written(saved: true)
            return true
        } catch {
            snapshots.written(saved: false)
            logger.warning("snapshot not saved", metadata: ["shard": "\(journal.shard)", "error": "\(error)"])
            return false
        }
    }
}
