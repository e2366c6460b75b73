import Storage
import Testing

/// Journal behaviours, run against both stores.
@Suite struct JournalStoreTests {
    @Test(arguments: StoreKind.allCases)
    func migratingAgainAndConcurrentlyIsHarmless(_ kind: StoreKind) async throws {
        try await withStore(kind, migrate: false) { store in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 { group.addTask { try await store.migrate() } }
                try await group.waitForAll()
            }
            try await store.migrate()
            let epoch = try await lease(store, "symbol/BTC-USD")
            try await store.append([record("symbol/BTC-USD", 1, epoch: epoch)])
            try await store.migrate()
            #expect(try await store.lastSequence(shard: "symbol/BTC-USD") == 1)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func appendedRecordsReadBackInOrder(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let shard = "symbol/ETH-USD"
            let epoch = try await lease(store, shard)
            var written: [JournalRecord] = []
            for sequence in Int64(1)...10 {
                written.append(record(shard, sequence, epoch: epoch))
            }
            written[3].payload = []
            written[4].payload = (0...255).map { UInt8($0) }
            try await store.append(Array(written[0..<4]))
            try await store.append(Array(written[4..<5]))
            try await store.append(Array(written[5...]))

            #expect(try await store.records(shard: shard, after: 0, limit: 100) == written)
            #expect(try await store.records(shard: "symbol/OTHER", after: 0, limit: 100).isEmpty)
            try await store.append([])
        }
    }

    /// Recovery reads many shards at once: each one's latest snapshot and the first records after it.
    @Test(arguments: StoreKind.allCases)
    func recoveryStartsOfManyShards(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let (a, b, c) = ("accounts/0001", "accounts/0002", "accounts/0003")
            let epochA = try await lease(store, a)
            let epochB = try await lease(store, b)
            try await store.append((Int64(1)...5).map { record(a, $0, epoch: epochA) })
            try await store.append((Int64(1)...3).map { record(b, $0, epoch: epochB) })
            try await store.saveSnapshot(ShardSnapshot(shard: a, epoch: epochA, sequence: 2, payload: [2]))
            try await store.saveSnapshot(ShardSnapshot(shard: a, epoch: epochA, sequence: 4, payload: [4]))
            let starts = try await store.recoveryStarts(shards: [a, b, c], limit: 2)
            #expect(starts[a]?.snapshot?.sequence == 4 && starts[a]?.snapshot?.payload == [4])
            #expect(starts[a]?.records.map(\.sequence) == [5])
            #expect(starts[b]?.snapshot == nil)
            #expect(starts[b]?.records.map(\.sequence) == [1, 2], "at most `limit` records")
            #expect(starts[b]?.records.first?.payload == record(b, 1, epoch: epochB).payload)
            #expect(starts[c] != nil && starts[c]?.snapshot == nil && starts[c]?.records.isEmpty == true)
            #expect(try await store.recoveryStarts(shards: [], limit: 2).isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func tailAfterSequenceAndLastSequence(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let shard = "accounts/0417"
            #expect(try await store.lastSequence(shard: shard) == 0)
            let epoch = try await lease(store, shard)
            try await store.append((Int64(1)...12).map { record(shard, $0, epoch: epoch) })

            let tail = try await store.records(shard: shard, after: 5, limit: 3)
            #expect(tail.map(\.sequence) == [6, 7, 8])
            #expect(try await store.records(shard: shard, after: 10, limit: 100).map(\.sequence) == [11, 12])
            #expect(try await store.records(shard: shard, after: 12, limit: 100).isEmpty)
            #expect(try await store.records(shard: shard, after: 0, limit: 0).isEmpty)
            #expect(try await store.lastSequence(shard: shard) == 12)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func staleEpochIsRefusedAndWritesNothing(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let shard = "symbol/BTC-USD"
            let epoch = try await lease(store, shard)
            #expect(
                await storageErrorCode {
                    try await store.append([record(shard, 1, epoch: epoch), record(shard, 2, epoch: epoch + 1)])
                } == .staleEpoch)
            #expect(
                await storageErrorCode { try await store.append([record(shard, 1, epoch: epoch - 1)]) } == .staleEpoch)
            // A shard nobody leased is stale at any epoch.
            #expect(
                await storageErrorCode { try await store.append([record("symbol/NONE", 1, epoch: 1)]) } == .staleEpoch)
            // A call mixing a good shard and a stale one writes neither.
            let other = "symbol/SOL-USD"
            let otherEpoch = try await lease(store, other)
            #expect(
                await storageErrorCode {
                    try await store.append([record(other, 1, epoch: otherEpoch), record(shard, 1, epoch: epoch + 5)])
                } == .staleEpoch)

            #expect(try await store.lastSequence(shard: shard) == 0)
            #expect(try await store.lastSequence(shard: "symbol/NONE") == 0)
            #expect(try await store.lastSequence(shard: other) == 0)
            try await store.append([record(shard, 1, epoch: epoch)])
            #expect(try await store.lastSequence(shard: shard) == 1)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func sequenceConflictFailsOnlyThatCaller(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let shard = "symbol/BTC-USD"
            let other = "symbol/ETH-USD"
            let epoch = try await lease(store, shard)
            let otherEpoch = try await lease(store, other)
            try await store.append((Int64(1)...3).map { record(shard, $0, epoch: epoch) })

            // Several callers at once, so that they share batches: only the one repeating sequence 3 fails,
            // and none of its records (sequence 4 included) is written.
            async let duplicate = storageErrorCode {
                try await store.append([record(shard, 3, epoch: epoch), record(shard, 4, epoch: epoch)])
            }
            async let sameShard = storageErrorCode { try await store.append([record(shard, 5, epoch: epoch)]) }
            async let otherShard = storageErrorCode {
                try await store.append([record(other, 1, epoch: otherEpoch), record(other, 2, epoch: otherEpoch)])
            }
            let outcomes = await (duplicate, sameShard, otherShard)
            #expect(outcomes.0 == .sequenceConflict)
            #expect(outcomes.1 == nil)
            #expect(outcomes.2 == nil)

            #expect(try await store.records(shard: shard, after: 0, limit: 10).map(\.sequence) == [1, 2, 3, 5])
            #expect(
                try await store.records(shard: shard, after: 2, limit: 1).first?.payload == Array("\(shard)#3".utf8))
            #expect(try await store.lastSequence(shard: other) == 2)
            // A call that repeats a sequence within itself is refused before it reaches the database.
            #expect(
                await storageErrorCode {
                    try await store.append([record(shard, 6, epoch: epoch), record(shard, 6, epoch: epoch)])
                } == .sequenceConflict)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func appendsAfterShutdownAreRefused(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let epoch = try await lease(store, "symbol/BTC-USD")
            try await store.append([record("symbol/BTC-USD", 1, epoch: epoch)])
            await store.shutdown()
            #expect(
                await storageErrorCode { try await store.append([record("symbol/BTC-USD", 2, epoch: epoch)]) }
                    == .unavailable)
        }
    }
}
