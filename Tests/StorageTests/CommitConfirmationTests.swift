import PostgresNIO
import Testing

@testable import Storage

/// A statement outside a transaction block commits at the `Sync` after it, once PostgreSQL has already queued the
/// statement's `CommandComplete`, which postgres-nio reports as success. A backend that ended in between (a crash,
/// a shutdown) sent that `CommandComplete` and never committed; a journal batch was taken as committed so, and an
/// acknowledged order was lost (chaos run, `pg_ctl stop -m immediate`). The store now confirms every journal and
/// read-model write by a second statement on the connection (`PostgresStore.confirmCommitted(on:)`).
///
/// The crash's moment cannot be hit on purpose, but a commit that fails after `CommandComplete` can: a deferred
/// constraint trigger that raises at commit. Without the confirmation the append below returned as committed and
/// the record was not there.
@Suite struct CommitConfirmationTests {
    static let shard = "test/refused-at-commit"

    @Test func aJournalAppendWhoseCommitFailsIsNotTakenAsCommitted() async throws {
        try await withStore(.postgres) { store in
            let postgres = try #require(store as? PostgresStore)
            try await postgres.client.query(
                """
                CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.shard = 'test/refused-at-commit' THEN RAISE EXCEPTION 'refused at commit'; END IF;
                    RETURN NULL;
                END $$
                """, logger: PostgresStore.quiet
            ).drain()
            try await postgres.client.query(
                """
                CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON journal
                DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_at_commit()
                """, logger: PostgresStore.quiet
            ).drain()
            let lease = try await store.acquireLease(
                shard: Self.shard, owner: "node-a", ttlMillis: 60_000, nowMillis: 0)
            let record = JournalRecord(shard: Self.shard, epoch: lease.epoch, sequence: 1, payload: [1, 2, 3])
            await #expect(throws: (any Error).self) { try await store.append([record]) }
            #expect(try await store.records(shard: Self.shard, after: 0, limit: 10).isEmpty)

            // Another shard's append through the same store still commits, and is read back.
            let other = try await store.acquireLease(
                shard: "test/other", owner: "node-a", ttlMillis: 60_000, nowMillis: 0)
            let kept = JournalRecord(shard: "test/other", epoch: other.epoch, sequence: 1, payload: [4])
            try await store.append([kept])
            #expect(try await store.records(shard: "test/other", after: 0, limit: 10) == [kept])
        }
    }
}
