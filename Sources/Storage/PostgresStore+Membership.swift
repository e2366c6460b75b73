import PostgresNIO
import Trading

extension PostgresStore {
    /// Three reads in one `REPEATABLE READ, READ ONLY` transaction, so that they see one snapshot.
    public func membership() async throws -> MembershipSnapshot {
        let read = try await attempt("membership read", on: membership) { connection in
            try await Self.readMembership(on: connection)
        }
        return try read.snapshot()
    }

    private static func readMembership(on connection: PostgresConnection) async throws -> MembershipRead {
        try await connection.withTransaction(logger: Self.quiet) { connection -> MembershipRead in
            try await connection.query(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: Self.quiet
            ).drain()
            var read = MembershipRead()
            let head = try await connection.query(
                """
                SELECT v.version, a.assignment FROM membership_version v
                LEFT JOIN membership_assignments a ON a.version = v.version
                WHERE v.id = 1
                """, logger: Self.quiet)
            for try await (version, assignment) in head.decode((Int64, ByteBuffer?).self) {
                read.version = version
                read.assignment = assignment?.byteArray
            }
            let members = try await connection.query(
                """
                SELECT node_id, peer_address, api_address, status, incarnation, heartbeat_ms
                FROM members ORDER BY node_id
                """, logger: Self.quiet)
            for try await row in members.decode((String, String, String, String, Int64, Int64).self) {
                read.members.append(row)
            }
            let votes = try await connection.query(
                """
                SELECT s.node_id, s.voter, s.voted_at_ms FROM member_suspicions s
                JOIN members m ON m.node_id = s.node_id AND m.incarnation = s.incarnation
                """, logger: Self.quiet)
            for try await vote in votes.decode((String, String, Int64).self) {
                read.votes.append(vote)
            }
            return read
        }
    }

    /// One `UPDATE` of the row of this incarnation; when it changes nothing, a second read says why.
    public func heartbeat(nodeID: String, incarnation: Int64, nowMillis: Int64) async throws -> HeartbeatOutcome {
        try await attempt("membership heartbeat", on: membership) { connection in
            let updated = try await connection.query(
                """
                UPDATE members SET heartbeat_ms = GREATEST(heartbeat_ms, \(nowMillis))
                WHERE node_id = \(nodeID) AND incarnation = \(incarnation) AND status <> 'dead'
                RETURNING incarnation
                """, logger: Self.quiet
            ).collect()
            if !updated.isEmpty { return .recorded }
            let rows = try await connection.query(
                "SELECT incarnation, status FROM members WHERE node_id = \(nodeID)", logger: Self.quiet)
            for try await (stored, status) in rows.decode((Int64, String).self) {
                return heartbeatRefusal(stored: stored, status: status, incarnation: incarnation)
            }
            return .notRegistered
        }
    }

    /// An upsert that selects the row of this incarnation, so a vote for any other incarnation inserts nothing.
    public func suspect(nodeID: String, incarnation: Int64, by voter: String, nowMillis: Int64) async throws -> Bool {
        guard voter != nodeID else { return false }
        return try await attempt("membership suspect", on: membership) { connection in
            let rows = try await connection.query(
                """
                INSERT INTO member_suspicions AS s (node_id, incarnation, voter, voted_at_ms)
                SELECT node_id, incarnation, \(voter), \(nowMillis) FROM members
                WHERE node_id = \(nodeID) AND incarnation = \(incarnation) AND status <> 'dead'
                ON CONFLICT (node_id, incarnation, voter) DO UPDATE
                    SET voted_at_ms = GREATEST(s.voted_at_ms, EXCLUDED.voted_at_ms)
                RETURNING voted_at_ms
                """, logger: Self.quiet
            ).collect()
            return !rows.isEmpty
        }
    }

    /// The `UPDATE` of the single version row decides the race: a second writer waits for the first's row
    /// lock, then re-checks `version = expected` against the committed row, finds it changed and updates
    /// nothing; its transaction then writes nothing else.
    public func changeMembership(expectedVersion: Int64, members: [MemberRow], assignment: [UInt8]) async throws
        -> Bool
    {
        let rows = uniqueRows(members)
        let kept = Self.assignmentsKept
        return try await attempt("membership change", on: membership) { connection in
            try await connection.withTransaction(logger: Self.quiet) { connection -> Bool in
                let bumped = try await connection.query(
                    """
                    UPDATE membership_version SET version = version + 1
                    WHERE id = 1 AND version = \(expectedVersion)
                    RETURNING version
                    """, logger: Self.quiet)
                var newVersion: Int64?
                for try await version in bumped.decode(Int64.self) {
                    newVersion = version
                }
                guard let newVersion else { return false }
                if !rows.isEmpty {
                    try await connection.query(Self.upsertMembers(rows), logger: Self.quiet).drain()
                }
                try await connection.query(
                    """
                    DELETE FROM member_suspicions s WHERE NOT EXISTS (
                        SELECT 1 FROM members m WHERE m.node_id = s.node_id AND m.incarnation = s.incarnation)
                    """, logger: Self.quiet
                ).drain()
                try await connection.query(
                    """
                    INSERT INTO membership_assignments (version, assignment)
                    VALUES (\(newVersion), \(ByteBuffer(bytes: assignment)))
                    ON CONFLICT (version) DO UPDATE SET assignment = EXCLUDED.assignment
                    """, logger: Self.quiet
                ).drain()
                try await connection.query(
                    "DELETE FROM membership_assignments WHERE version <= \(newVersion - kept)", logger: Self.quiet
                ).drain()
                return true
            }
        }
    }

    public func assignment(version: Int64) async throws -> [UInt8]? {
        try await attempt("membership assignment read", on: membership) { connection in
            let rows = try await connection.query(
                "SELECT assignment FROM membership_assignments WHERE version = \(version)", logger: Self.quiet)
            for try await bytes in rows.decode(ByteBuffer.self) {
                return bytes.byteArray
            }
            return nil
        }
    }

    /// One statement for all rows: six arrays through `unnest`. For the same incarnation the heartbeat only
    /// moves forward.
    private static func upsertMembers(_ rows: [MemberRow]) -> PostgresQuery {
        let ids = rows.map(\.nodeID)
        let peers = rows.map(\.peerAddress)
        let apis = rows.map(\.apiAddress)
        let statuses = rows.map(\.status.rawValue)
        let incarnations = rows.map(\.incarnation)
        let heartbeats = rows.map(\.heartbeatMillis)
        return """
            INSERT INTO members AS m (node_id, peer_address, api_address, status, incarnation, heartbeat_ms)
            SELECT * FROM unnest(\(ids)::text[], \(peers)::text[], \(apis)::text[], \(statuses)::text[],
                \(incarnations)::bigint[], \(heartbeats)::bigint[])
            ON CONFLICT (node_id) DO UPDATE SET
                peer_address = EXCLUDED.peer_address,
                api_address = EXCLUDED.api_address,
                status = EXCLUDED.status,
                incarnation = EXCLUDED.incarnation,
                heartbeat_ms = CASE WHEN m.incarnation = EXCLUDED.incarnation
                    THEN GREATEST(m.heartbeat_ms, EXCLUDED.heartbeat_ms) ELSE EXCLUDED.heartbeat_ms END
            """
    }
}

/// The raw rows of a membership read, converted outside the transaction (so that a corrupt row throws
/// `StorageError.corrupt` rather than a transaction error).
private struct MembershipRead: Sendable {
    var version: Int64 = 0
    var assignment: [UInt8]?
    var members: [(String, String, String, String, Int64, Int64)] = []
    var votes: [(String, String, Int64)] = []

    func snapshot() throws -> MembershipSnapshot {
        var suspicions: [String: [String: Int64]] = [:]
        for (node, voter, at) in votes { suspicions[node, default: [:]][voter] = at }
        let rows = try members.map { id, peer, api, status, incarnation, heartbeat in
            MemberRow(
                nodeID: id, peerAddress: peer, apiAddress: api, status: try memberStatus(status),
                incarnation: incarnation, heartbeatMillis: heartbeat, suspicions: suspicions[id] ?? [:])
        }
        return MembershipSnapshot(version: version, members: rows, assignment: assignment)
    }
}
