import Storage
import Testing

/// Leases, snapshots and the key-value table, run against both stores.
@Suite struct LeaseStoreTests {
    @Test(arguments: StoreKind.allCases)
    func takeoverFencesTheOldOwner(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let shard = "symbol/BTC-USD"
            let first = try await store.acquireLease(shard: shard, owner: "node-a", ttlMillis: 1_000, nowMillis: 0)
            #expect(first == ShardLease(shard: shard, owner: "node-a", epoch: 1, expiresAtMillis: 1_000))
            try await store.append([record(shard, 1, epoch: 1)])
            try await store.saveSnapshot(ShardSnapshot(shard: shard, epoch: 1, sequence: 1, payload: [1]))

            // Held and unexpired: another node cannot take it; its owner re-acquires at the same epoch.
            #expect(
                await storageErrorCode {
                    _ = try await store.acquireLease(shard: shard, owner: "node-b", ttlMillis: 1_000, nowMillis: 500)
                } == .leaseHeld)
            let again = try await store.acquireLease(shard: shard, owner: "node-a", ttlMillis: 1_000, nowMillis: 600)
            #expect(again.epoch == 1 && again.expiresAtMillis == 1_600)
            try await store.renewLease(shard: shard, owner: "node-a", epoch: 1, ttlMillis: 1_000, nowMillis: 700)

            // Lapsed: node-b takes it over at epoch 2, and node-a is fenced out.
            let taken = try await store.acquireLease(shard: shard, owner: "node-b", ttlMillis: 1_000, nowMillis: 2_000)
            #expect(taken == ShardLease(shard: shard, owner: "node-b", epoch: 2, expiresAtMillis: 3_000))
            #expect(await storageErrorCode { try await store.append([record(shard, 2, epoch: 1)]) } == .staleEpoch)
            #expect(
                await storageErrorCode {
                    try await store.saveSnapshot(ShardSnapshot(shard: shard, epoch: 1, sequence: 2, payload: [2]))
                } == .staleEpoch)
            #expect(
                await storageErrorCode {
                    try await store.renewLease(
                        shard: shard, owner: "node-a", epoch: 1, ttlMillis: 1_000, nowMillis: 2_100)
                } == .staleEpoch)
            try await store.releaseLease(shard: shard, owner: "node-a", epoch: 1)  // not theirs: a no-op
            #expect(try await store.leases() == [taken])
            #expect(try await store.latestSnapshot(shard: shard)?.epoch == 1)

            try await store.append([record(shard, 2, epoch: 2)])
            try await store.renewLease(shard: shard, owner: "node-b", epoch: 2, ttlMillis: 1_000, nowMillis: 2_500)

            // Released: the next owner (even the same node) gets a higher epoch at once.
            try await store.releaseLease(shard: shard, owner: "node-b", epoch: 2)
            let back = try await store.acquireLease(shard: shard, owner: "node-a", ttlMillis: 1_000, nowMillis: 2_600)
            #expect(back.epoch == 3)
            #expect(await storageErrorCode { try await store.append([record(shard, 3, epoch: 2)]) } == .staleEpoch)
            #expect(try await store.lastSequence(shard: shard) == 2)
        }
    }

    /// A node renews every lease it holds in one round trip; leases it lost are left out and untouched.
    @Test(arguments: StoreKind.allCases)
    func renewingManyLeasesRenewsOnlyThoseStillHeld(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            for shard in ["accounts/0001", "accounts/0002", "accounts/0003"] {
                _ = try await store.acquireLease(shard: shard, owner: "node-a", ttlMillis: 1_000, nowMillis: 0)
            }
            // accounts/0002 lapses and node-b takes it at epoch 2.
            _ = try await store.renewLeases(
                owner: "node-a", [("accounts/0001", 1), ("accounts/0003", 1)], ttlMillis: 1_000, nowMillis: 900)
            let taken = try await store.acquireLease(
                shard: "accounts/0002", owner: "node-b", ttlMillis: 1_000, nowMillis: 1_200)
            #expect(taken.epoch == 2)

            let renewed = try await store.renewLeases(
                owner: "node-a", [("accounts/0001", 1), ("accounts/0002", 1), ("accounts/0003", 1), ("symbol/X", 1)],
                ttlMillis: 1_000, nowMillis: 1_500)
            #expect(renewed == ["accounts/0001", "accounts/0003"])
            let leases = Dictionary(uniqueKeysWithValues: try await store.leases().map { ($0.shard, $0) })
            #expect(leases["accounts/0001"]?.expiresAtMillis == 2_500)
            #expect(leases["accounts/0003"]?.expiresAtMillis == 2_500)
            #expect(leases["accounts/0002"] == taken)
            #expect(leases["symbol/X"] == nil)
            #expect(try await store.renewLeases(owner: "node-a", [], ttlMillis: 1_000, nowMillis: 1_600).isEmpty)
        }
    }

    /// A node taking over takes every shard in one round trip: free and lapsed leases (at a higher epoch), its own
    /// (same epoch), never one another node holds.
    @Test(arguments: StoreKind.allCases)
    func acquiringManyLeasesTakesOnlyFreeOrLapsedOnes(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            _ = try await store.acquireLease(shard: "accounts/0001", owner: "node-a", ttlMillis: 1_000, nowMillis: 0)
            _ = try await store.acquireLease(shard: "accounts/0002", owner: "node-a", ttlMillis: 5_000, nowMillis: 0)
            _ = try await store.acquireLease(shard: "accounts/0003", owner: "node-b", ttlMillis: 5_000, nowMillis: 0)
            let taken = try await store.acquireLeases(
                shards: ["accounts/0001", "accounts/0002", "accounts/0003", "symbol/X"], owner: "node-b",
                ttlMillis: 1_000, nowMillis: 2_000)
            let epochs = Dictionary(uniqueKeysWithValues: taken.map { ($0.shard, $0.epoch) })
            #expect(epochs == ["accounts/0001": 2, "accounts/0003": 1, "symbol/X": 1])
            #expect(taken.allSatisfy { $0.owner == "node-b" && $0.expiresAtMillis == 3_000 })
            #expect(try await store.lease(shard: "accounts/0002")?.owner == "node-a")
            #expect(try await store.acquireLeases(shards: [], owner: "node-b", ttlMillis: 1, nowMillis: 1).isEmpty)
        }
    }

    /// A node handing off releases every lease in one round trip: the ones still its own lapse at once (the
    /// next owner takes them at a higher epoch without waiting), a lease another node took is left alone.
    @Test(arguments: StoreKind.allCases)
    func releasingManyLeasesFreesOnlyThoseStillHeld(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            for shard in ["accounts/0001", "accounts/0002"] {
                _ = try await store.acquireLease(shard: shard, owner: "node-a", ttlMillis: 1_000, nowMillis: 0)
            }
            let taken = try await store.acquireLease(
                shard: "accounts/0002", owner: "node-b", ttlMillis: 1_000, nowMillis: 1_200)
            try await store.releaseLeases(owner: "node-a", [("accounts/0001", 1), ("accounts/0002", 1)])
            #expect(try await store.lease(shard: "accounts/0002") == taken)
            #expect(try await store.lease(shard: "accounts/0001")?.expiresAtMillis == 0)
            #expect(try await store.lease(shard: "symbol/X") == nil)
            // A release is final: a renewal racing the handoff (asked before, run after) does not take it back.
            #expect(
                try await store.renewLeases(owner: "node-a", [("accounts/0001", 1)], ttlMillis: 1_000, nowMillis: 1_250)
                    .isEmpty)
            #expect(
                await storageErrorCode {
                    try await store.renewLease(
                        shard: "accounts/0001", owner: "node-a", epoch: 1, ttlMillis: 1_000, nowMillis: 1_250)
                } == .staleEpoch)
            #expect(try await store.lease(shard: "accounts/0001")?.expiresAtMillis == 0)
            let next = try await store.acquireLease(
                shard: "accounts/0001", owner: "node-b", ttlMillis: 1_000, nowMillis: 1_300)
            #expect(next.epoch == 2)
            #expect(next.owner == "node-b")
        }
    }

    /// The old owner keeps appending while the new owner takes over: once the takeover has returned, no
    /// write of the old epoch may commit, so the new owner's view of the tail is final.
    @Test(arguments: StoreKind.allCases)
    func takeoverDuringAppendsLeavesNoLateOldEpochWrite(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let shard = "symbol/BTC-USD"
            _ = try await store.acquireLease(shard: shard, owner: "node-a", ttlMillis: 1_000, nowMillis: 0)
            let oldOwner = Task {
                var written: Int64 = 0
                while true {
                    do {
                        try await store.append([record(shard, written + 1, epoch: 1)])
                        written += 1
                    } catch let error as StorageError where error.code == .staleEpoch {
                        return written
                    }
                }
            }
            while try await store.lastSequence(shard: shard) < 20 {
                try await Task.sleep(for: .milliseconds(2))
            }
            let lease = try await store.acquireLease(shard: shard, owner: "node-b", ttlMillis: 1_000, nowMillis: 5_000)
            #expect(lease.epoch == 2)
            let tail = try await store.lastSequence(shard: shard)
            try await store.append([record(shard, tail + 1, epoch: 2)])
            let written = try await oldOwner.value
            #expect(written == tail)
            let records = try await store.records(shard: shard, after: 0, limit: 100_000)
            #expect(records.map(\.sequence) == Array(1...(tail + 1)))
            #expect(records.dropLast().allSatisfy { $0.epoch == 1 } && records.last?.epoch == 2)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func racingAcquirersGetOneWinner(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let winners = try await withThrowingTaskGroup(of: ShardLease?.self) { group in
                for node in 0..<8 {
                    group.addTask {
                        do {
                            return try await store.acquireLease(
                                shard: "accounts/0001", owner: "node-\(node)", ttlMillis: 10_000, nowMillis: 0)
                        } catch let error as StorageError where error.code == .leaseHeld {
                            return nil
                        }
                    }
                }
                return try await group.compactMap { $0 }.reduce(into: []) { $0.append($1) }
            }
            #expect(winners.count == 1)
            #expect(winners.first?.epoch == 1)
            #expect(try await store.leases() == winners)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func newestSnapshotWinsAndIsFenced(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let shard = "symbol/BTC-USD"
            #expect(try await store.latestSnapshot(shard: shard) == nil)
            let epoch = try await lease(store, shard)
            for sequence in [Int64(10), 30, 20, 5, 40, 35] {
                try await store.saveSnapshot(
                    ShardSnapshot(shard: shard, epoch: epoch, sequence: sequence, payload: [UInt8(sequence)]))
            }
            #expect(
                try await store.latestSnapshot(shard: shard)
                    == ShardSnapshot(shard: shard, epoch: epoch, sequence: 40, payload: [40]))
            // Saving the same sequence again replaces it.
            try await store.saveSnapshot(ShardSnapshot(shard: shard, epoch: epoch, sequence: 40, payload: []))
            #expect(try await store.latestSnapshot(shard: shard)?.payload == [])
            #expect(
                await storageErrorCode {
                    try await store.saveSnapshot(
                        ShardSnapshot(shard: "symbol/NONE", epoch: 1, sequence: 1, payload: []))
                } == .staleEpoch)
            #expect(try await store.latestSnapshot(shard: "symbol/NONE") == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func putIfAbsentHasOneWinner(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            #expect(try await store.value(forKey: "jwt-signing-key") == nil)
            let stored = try await withThrowingTaskGroup(of: [UInt8].self) { group in
                for candidate in 0..<16 {
                    group.addTask {
                        try await store.putIfAbsent(key: "jwt-signing-key", value: [UInt8(candidate), 0xFF])
                    }
                }
                return try await group.reduce(into: [[UInt8]]()) { $0.append($1) }
            }
            #expect(stored.count == 16)
            #expect(Set(stored).count == 1)
            #expect(try await store.value(forKey: "jwt-signing-key") == stored.first)
            #expect(try await store.putIfAbsent(key: "empty", value: []) == [])
        }
    }
}
