import Logging
import Storage
import Trading

/// Feeding the read models: the rows each command changes are captured as it is applied, kept until its
/// journal record is durable, then handed to the node's `ProjectionWriter` with the durable sequence — never
/// waiting for the database, and never showing a command whose record could still be lost.
extension AccountShardActor {
    /// Keeps the rows the command just applied changed, under the sequence its record is about to get.
    func captureProjection(since marks: AccountShardState.ProjectionMarks, outcome: AccountShardState.Outcome) {
        // A broken journal refuses the record: nothing of it will ever be durable.
        guard journal.broken == nil else { return }
        unprojected.append((journal.lastSequence + 1, state.projection(since: marks, outcome: outcome)))
    }

    /// Hands the rows of every record up to `sequence` (now durable) to the writer, with the offset.
    func handOffProjection(through sequence: Int64) {
        guard let projections else { return }
        let durable = unprojected.prefix { $0.sequence <= sequence }.count
        var batch = ProjectionBatch(shard: journal.shard, sequence: sequence)
        batch.epochs[journal.shard] = journal.epoch
        for entry in unprojected.prefix(durable) { batch.append(entry.rows) }
        unprojected.removeFirst(durable)
        projections.enqueue(batch)
    }

    /// After recovery: when the read models are behind the journal (the node stopped before writing them),
    /// projects every user of the shard again, as of the last journaled sequence. Rows are upserts and
    /// inserts-or-ignore, so rows already written are harmless.
    func reprojectIfBehind() async {
        unprojected.removeAll()
        guard let projections, journal.lastSequence > 0 else { return }
        let sequence = journal.lastSequence
        var offset: Int64 = 0
        do {
            offset = try await projections.projectionOffset(shard: journal.shard)
        } catch {
            logger.warning(
                "projection offset unknown; projecting the shard again",
                metadata: ["shard": "\(journal.shard)", "error": "\(error)"])
        }
        guard offset < sequence, journal.lastSequence == sequence else { return }
        var batch = state.projection(of: state.userIDs)
        batch.offsets[journal.shard] = sequence
        batch.epochs[journal.shard] = journal.epoch
        projections.enqueue(batch)
        logger.info(
            "account shard projected again",
            metadata: [
                "shard": "\(journal.shard)", "projected_through": "\(offset)", "journal": "\(sequence)",
                "users": "\(state.userCount)",
            ])
    }
}
