/// When a shard writes its next snapshot: once `every` records have been journaled since the last one,
/// or later when snapshots are big, so that writing them costs at most about `bytesPerRecord` bytes per
/// journaled record (an account shard whose users keep long histories snapshots less often: a 3 MB snapshot
/// every 49,000 records, whose replay takes well under a second). One snapshot is written at a time.
struct SnapshotSchedule: Sendable {
    /// The fewest records between two snapshots.
    var every: Int64
    /// Snapshot bytes per journaled record: a third or so of a record's own size. At 256 a busy account
    /// shard with long histories saved a 3 MB snapshot every few seconds, and each save held up the journal
    /// commits behind its write-ahead log.
    var bytesPerRecord: Int64 = 64
    /// Sequence of the last snapshot taken (or restored).
    private(set) var last: Int64 = 0
    private var interval: Int64
    private var inFlight = false
    /// `last` before the snapshot in flight was taken: back to it if that one is not saved.
    private var lastSaved: Int64 = 0

    init(every: Int64) {
        self.every = max(1, every)
        interval = self.every
    }

    /// Whether a snapshot is due with the state at `sequence`.
    func isDue(at sequence: Int64) -> Bool { !inFlight && sequence - last >= interval }

    /// A snapshot was taken at `sequence` and is being encoded and written.
    mutating func taken(at sequence: Int64) {
        lastSaved = last
        last = sequence
        inFlight = true
    }

    /// The snapshot being written is `bytes` long: the next one is due that much later.
    mutating func measured(bytes: Int) {
        interval = max(every, Int64(bytes) / bytesPerRecord)
    }

    /// The snapshot being written is saved, or failed: then the last saved one counts again (the records since
    /// are still to save; the next one is due as scheduled from there).
    mutating func written(saved: Bool) {
        inFlight = false
        if !saved { last = lastSaved }
    }

    /// Recovery restored the snapshot at `sequence`.
    mutating func restored(at sequence: Int64) {
        last = sequence
        lastSaved = sequence
    }

    mutating func setEvery(_ records: Int64) {
        every = max(1, records)
        interval = every
    }
}
