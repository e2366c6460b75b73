import Storage
import Testing

/// The membership table (registration, heartbeats, incarnation fencing, suspicion votes, the version
/// compare-and-swap and the assignment stored per version), run against both stores.
@Suite struct MembershipStoreTests {
    func member(
        _ id: String, _ status: MemberStatus = .active, incarnation: Int64 = 100, heartbeat: Int64 = 1_000
    ) -> MemberRow {
        MemberRow(
            nodeID: id, peerAddress: "\(id).peers:7001", apiAddress: "\(id).api:8080", status: status,
            incarnation: incarnation, heartbeatMillis: heartbeat)
    }

    @Test(arguments: StoreKind.allCases)
    func registerAndCompareAndSwap(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            #expect(try await store.membership() == MembershipSnapshot(version: 0, members: [], assignment: nil))

            #expect(try await store.changeMembership(expectedVersion: 0, members: [member("a")], assignment: [1, 2]))
            #expect(
                try await store.membership()
                    == MembershipSnapshot(version: 1, members: [member("a")], assignment: [1, 2]))

            // A stale expected version changes nothing: no row, no version, no assignment.
            #expect(
                !(try await store.changeMembership(expectedVersion: 0, members: [member("b")], assignment: [9])))
            #expect(
                !(try await store.changeMembership(expectedVersion: 5, members: [member("b")], assignment: [9])))
            #expect(
                try await store.membership()
                    == MembershipSnapshot(version: 1, members: [member("a")], assignment: [1, 2]))
            #expect(try await store.assignment(version: 2) == nil)

            // Upsert: b is new, a changes status; rows come back ordered by node id. An empty assignment is
            // stored as such.
            let rows = [member("b", .joining, heartbeat: 1_500), member("a", .leaving)]
            #expect(try await store.changeMembership(expectedVersion: 1, members: rows, assignment: []))
            let snapshot = try await store.membership()
            #expect(snapshot.version == 2)
            #expect(snapshot.members == [member("a", .leaving), member("b", .joining, heartbeat: 1_500)])
            #expect(snapshot.assignment == [])
            #expect(try await store.assignment(version: 1) == [1, 2])

            // A change with no rows still moves the version (a new assignment for the same members).
            #expect(try await store.changeMembership(expectedVersion: 2, members: [], assignment: [3]))
            #expect(try await store.membership().version == 3)

            // The migration is idempotent.
            try await store.migrate()
            #expect(try await store.membership().version == 3)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func heartbeatsAreFencedByIncarnation(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            #expect(try await store.heartbeat(nodeID: "a", incarnation: 100, nowMillis: 1_000) == .notRegistered)
            #expect(try await store.changeMembership(expectedVersion: 0, members: [member("a")], assignment: [0]))

            #expect(try await store.heartbeat(nodeID: "a", incarnation: 100, nowMillis: 2_000) == .recorded)
            // Never back in time, and no version change.
            #expect(try await store.heartbeat(nodeID: "a", incarnation: 100, nowMillis: 1_500) == .recorded)
            var snapshot = try await store.membership()
            #expect(snapshot.version == 1)
            #expect(snapshot.members.map(\.heartbeatMillis) == [2_000])

            // An older incarnation is a zombie; a newer one has not registered yet.
            #expect(try await store.heartbeat(nodeID: "a", incarnation: 99, nowMillis: 3_000) == .superseded)
            #expect(try await store.heartbeat(nodeID: "a", incarnation: 101, nowMillis: 3_000) == .notRegistered)
            #expect(try await store.membership().members.map(\.heartbeatMillis) == [2_000])

            // The restart registers: its heartbeat is its own, even though older than the old incarnation's.
            let restarted = member("a", .joining, incarnation: 101, heartbeat: 1_800)
            #expect(try await store.changeMembership(expectedVersion: 1, members: [restarted], assignment: [1]))
            snapshot = try await store.membership()
            #expect(snapshot.members == [restarted])
            #expect(try await store.heartbeat(nodeID: "a", incarnation: 100, nowMillis: 4_000) == .superseded)
            #expect(try await store.heartbeat(nodeID: "a", incarnation: 101, nowMillis: 4_000) == .recorded)

            // Same incarnation, new status: the stored heartbeat (newer than the row's) is kept.
            let dead = member("a", .dead, incarnation: 101, heartbeat: 3_000)
            #expect(try await store.changeMembership(expectedVersion: 2, members: [dead], assignment: [2]))
            #expect(try await store.membership().members.map(\.heartbeatMillis) == [4_000])
            #expect(try await store.heartbeat(nodeID: "a", incarnation: 101, nowMillis: 5_000) == .declaredDead)
            #expect(try await store.membership().members.map(\.heartbeatMillis) == [4_000])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func suspicionVotesBelongToOneIncarnation(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let rows = [member("a"), member("b"), member("c")]
            #expect(try await store.changeMembership(expectedVersion: 0, members: rows, assignment: [0]))

            #expect(try await store.suspect(nodeID: "c", incarnation: 100, by: "a", nowMillis: 1_000))
            #expect(try await store.suspect(nodeID: "c", incarnation: 100, by: "b", nowMillis: 1_200))
            #expect(try await store.suspect(nodeID: "c", incarnation: 100, by: "a", nowMillis: 900))  // kept at 1,000
            #expect(!(try await store.suspect(nodeID: "c", incarnation: 99, by: "a", nowMillis: 1_300)))
            #expect(!(try await store.suspect(nodeID: "c", incarnation: 100, by: "c", nowMillis: 1_300)))
            #expect(!(try await store.suspect(nodeID: "x", incarnation: 100, by: "a", nowMillis: 1_300)))
            var snapshot = try await store.membership()
            #expect(snapshot.version == 1)
            #expect(snapshot.members.map(\.suspicions) == [[:], [:], ["a": 1_000, "b": 1_200]])

            // A change that leaves c's incarnation as it is keeps its votes.
            #expect(try await store.changeMembership(expectedVersion: 1, members: [member("b")], assignment: [1]))
            #expect(try await store.membership().members[2].suspicions == ["a": 1_000, "b": 1_200])

            // c restarts: the votes against its old incarnation no longer count (and cannot be added).
            let restarted = member("c", .joining, incarnation: 200, heartbeat: 2_000)
            #expect(try await store.changeMembership(expectedVersion: 2, members: [restarted], assignment: [2]))
            snapshot = try await store.membership()
            #expect(snapshot.members[2] == restarted)
            #expect(!(try await store.suspect(nodeID: "c", incarnation: 100, by: "a", nowMillis: 2_100)))
            #expect(try await store.suspect(nodeID: "c", incarnation: 200, by: "a", nowMillis: 2_100))
            #expect(try await store.membership().members[2].suspicions == ["a": 2_100])

            // Nobody votes against the dead.
            #expect(
                try await store.changeMembership(
                    expectedVersion: 3, members: [member("c", .dead, incarnation: 200)], assignment: [3]))
            #expect(!(try await store.suspect(nodeID: "c", incarnation: 200, by: "b", nowMillis: 2_200)))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func assignmentIsStoredPerVersionAndOldOnesArePruned(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let kept = PostgresStore.assignmentsKept
            let last = kept + 5
            for version in 1...last {
                let bytes = Array("assignment of \(version)".utf8)
                #expect(
                    try await store.changeMembership(
                        expectedVersion: version - 1, members: [member("a", heartbeat: version)], assignment: bytes))
            }
            let snapshot = try await store.membership()
            #expect(snapshot.version == last)
            #expect(snapshot.assignment == Array("assignment of \(last)".utf8))
            #expect(try await store.assignment(version: last - kept) == nil)
            for version in [last - kept + 1, last - 50, last] {
                #expect(try await store.assignment(version: version) == Array("assignment of \(version)".utf8))
            }
        }
    }

    /// Nodes racing to change the same version: exactly one wins, and only its rows and assignment are
    /// written. Several rounds, each from the version the previous one left.
    @Test(arguments: StoreKind.allCases)
    func concurrentChangesHaveExactlyOneWinner(_ kind: StoreKind) async throws {
        try await withStore(kind) { store in
            for round in Int64(0)..<5 {
                let winners = try await withThrowingTaskGroup(of: Int?.self) { group in
                    for node in 0..<12 {
                        group.addTask {
                            let won = try await store.changeMembership(
                                expectedVersion: round, members: [member("r\(round)-n\(node)")],
                                assignment: [UInt8(round), UInt8(node)])
                            return won ? node : nil
                        }
                    }
                    return try await group.reduce(into: [Int]()) { winners, node in
                        if let node { winners.append(node) }
                    }
                }
                #expect(winners.count == 1)
                guard let winner = winners.first else { return }
                let snapshot = try await store.membership()
                #expect(snapshot.version == round + 1)
                #expect(snapshot.assignment == [UInt8(round), UInt8(winner)])
                #expect(
                    snapshot.members.filter { $0.nodeID.hasPrefix("r\(round)-") } == [member("r\(round)-n\(winner)")])
            }
            #expect(try await store.membership().members.count == 5)
        }
    }
}
