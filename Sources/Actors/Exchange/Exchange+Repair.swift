import Storage
import Trading

/// A node that holds its shards' leases itself — a node alone, or the active node of active/standby — reloads a
/// shard whose journal failed (the database unreachable for a while, a disk error). Such a shard holds state in
/// memory that the store may never have, so it refuses every command (503) from the failure on; once the store
/// answers again its lease is given up and taken back at the next epoch — which fences whatever the failed
/// actor may still have on its way to the store — and a fresh actor recovers it from the latest snapshot and
/// the journal, as a restart would, while the other shards go on serving.
///
/// Accounts are reloaded before books, as at a start. A reloaded account shard runs at a new epoch, so the books
/// send it again the events whose settlement it had not made durable; a reloaded book redelivers the events of
/// its journal after its snapshot (accounts skip what they applied). Places that a reloaded book never journaled
/// are sent again by resubmission rounds, for a while after each reload (the book's placement log makes a
/// place sent twice count once). A cluster that routes by shard does the same through its shard ownership,
/// which hands the shard off and takes it again (`ShardOwnership.journalFailed`).
extension Exchange {
    func startRepairs() {
        guard !servesPart else { return }
        let task = Task { [weak self] in
            var failed: [String: Int64] = [:]
            var pause = Self.repairPause
            var resubmitUntil: ContinuousClock.Instant?
            while !Task.isCancelled {
                guard let self, self.ready.isSet else { return }
                failed.merge(self.journalFailures.take()) { max($0, $1) }
                for (shard, epoch) in failed.sorted(by: { Self.reloadsFirst($0.key, $1.key) }) {
                    do {
                        if try await self.reloadShard(shard, failedAt: epoch) {
                            resubmitUntil = .now + self.configuration.resubmitAfter + Self.repairPause * 20
                        }
                        failed[shard] = nil
                    } catch {
                        self.logger.warning(
                            "reloading a shard whose journal failed did not work yet; trying again",
                            metadata: ["shard": "\(shard)", "error": "\(error)"])
                        // The store is likely still unreachable: the other shards wait for the next round.
                        break
                    }
                }
                if let until = resubmitUntil {
                    await self.resubmitUnanswered(createdBy: self.resubmissionCutoff())
                    if ContinuousClock.now > until { resubmitUntil = nil }
                }
                pause = failed.isEmpty ? Self.repairPause : min(pause * 2, Self.repairBackoffLimit)
                try? await Task.sleep(for: pause)
            }
        }
        repairs.withLock { $0 = task }
    }

    func stopRepairs() {
        repairs.withLock { task in
            task?.cancel()
            task = nil
        }
    }

    /// Gives up the lease of `shard`, whose journal failed at `epoch`, takes it again at the next epoch and loads
    /// the shard into a fresh actor, then retires the failed one. Returns false when there was nothing to do (the
    /// shard is served at a later epoch already).
    /// - Throws: when the store cannot be reached yet, or another node holds the lease now.
    @discardableResult
    func reloadShard(_ shard: String, failedAt epoch: Int64) async throws -> Bool {
        // Out of `heldLeases` while its epoch changes, so that a renewal does not count the released lease lost.
        let due = held.withLock { held -> Bool in
            guard let current = held[shard] else { return true }
            guard current <= epoch else { return false }
            held[shard] = nil
            return true
        }
        guard due else { return false }
        try await store.releaseLease(shard: shard, owner: leaseOwner, epoch: epoch)
        let taken = try await store.acquireLeases(
            shards: [shard], owner: leaseOwner, ttlMillis: configuration.leaseTTLMillis, nowMillis: clock())
        guard let lease = taken.first, lease.epoch > epoch else {
            throw StorageError(.leaseHeld, "\(shard) is held by another node")
        }
        let failedActor = shardActor(shard)
        let actor = try await loadShard(shard, epoch: lease.epoch)
        install(actor)
        await addMarkets(to: actor)
        held.withLock { $0[shard] = lease.epoch }
        if let failedActor { await retire(failedActor) }
        logger.warning(
            "shard reloaded after its journal failed", metadata: ["shard": "\(shard)", "epoch": "\(lease.epoch)"])
        return true
    }

    /// The epoch of this node's lease of `shard`; nil while it holds none (or is changing it).
    public func heldEpoch(of shard: String) -> Int64? { held.withLock { $0[shard] } }

    /// Account shards before books, each kind by name.
    static func reloadsFirst(_ left: String, _ right: String) -> Bool {
        let (leftBook, rightBook) = (ShardKey.symbol(of: left) != nil, ShardKey.symbol(of: right) != nil)
        return leftBook == rightBook ? left < right : !leftBook
    }

    /// Between two looks for failed journals; doubled while a reload fails, up to `repairBackoffLimit`.
    static let repairPause: Duration = .milliseconds(250)
    static let repairBackoffLimit: Duration = .seconds(4)
}
