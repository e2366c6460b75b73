import SQLiteNIO
import Trading

extension SQLiteStore {
    /// Read inside a write transaction, which is one snapshot and cannot interleave with a change (the reader
    /// connection is shared by concurrent reads and cannot hold a transaction for one of them).
    public func membership() async throws -> MembershipSnapshot {
        try await write("membership read") { db -> MembershipSnapshot in
            let head = try await db.query(
                """
                SELECT v.version AS version, a.version AS stored, a.assignment AS assignment
                FROM membership_version v
                LEFT JOIN membership_assignments a ON a.version = v.version
                WHERE v.id = 1
                """)
            guard let first = head.first else { throw StorageError(.corrupt, "membership version row is missing") }
            let version = try first.int64("version")
            let assignment = first.column("stored")?.isNull == false ? try first.bytes("assignment") : nil
            let votes = try await db.query(
                """
                SELECT s.node_id AS node_id, s.voter AS voter, s.voted_at_ms AS voted_at_ms
                FROM member_suspicions s
                JOIN members m ON m.node_id = s.node_id AND m.incarnation = s.incarnation
                """)
            var suspicions: [String: [String: Int64]] = [:]
            for vote in votes {
                suspicions[try vote.text("node_id"), default: [:]][try vote.text("voter")] =
                    try vote.int64("voted_at_ms")
            }
            let rows = try await db.query(
                """
                SELECT node_id, peer_address, api_address, status, incarnation, heartbeat_ms
                FROM members ORDER BY node_id
                """)
            let members = try rows.map { row in
                let id = try row.text("node_id")
                return MemberRow(
                    nodeID: id, peerAddress: try row.text("peer_address"), apiAddress: try row.text("api_address"),
                    status: try memberStatus(try row.text("status")), incarnation: try row.int64("incarnation"),
                    heartbeatMillis: try row.int64("heartbeat_ms"), suspicions: suspicions[id] ?? [:])
            }
            return MembershipSnapshot(version: version, members: members, assignment: assignment)
        }
    }

    public func heartbeat(nodeID: String, incarnation: Int64, nowMillis: Int64) async throws -> HeartbeatOutcome {
        try await write("membership heartbeat") { db -> HeartbeatOutcome in
            let updated = try await db.query(
                """
                UPDATE members SET heartbeat_ms = max(heartbeat_ms, ?1)
                WHERE node_id = ?2 AND incarnation = ?3 AND status <> 'dead'
                RETURNING incarnation
                """, [.int64(nowMillis), .text(nodeID), .int64(incarnation)])
            if !updated.isEmpty { return .recorded }
            let rows = try await db.query(
                "SELECT incarnation, status FROM members WHERE node_id = ?", [.text(nodeID)])
            guard let row = rows.first else { return .notRegistered }
            return heartbeatRefusal(
                stored: try row.int64("incarnation"), status: try row.text("status"), incarnation: incarnation)
        }
    }

    public func suspect(nodeID: String, incarnation: Int64, by voter: String, nowMillis: Int64) async throws -> Bool {
        guard voter != nodeID else { return false }
        return try await write("membership suspect") { db -> Bool in
            let rows = try await db.query(
                """
                INSERT INTO member_suspicions AS s (node_id, incarnation, voter, voted_at_ms)
                SELECT node_id, incarnation, ?1, ?2 FROM members
                WHERE node_id = ?3 AND incarnation = ?4 AND status <> 'dead'
                ON CONFLICT (node_id, incarnation, voter) DO UPDATE
                    SET voted_at_ms = max(s.voted_at_ms, excluded.voted_at_ms)
                RETURNING voted_at_ms
                """, [.text(voter), .int64(nowMillis), .text(nodeID), .int64(incarnation)])
            return !rows.isEmpty
        }
    }

    /// The same steps as PostgreSQL's in one `BEGIN IMMEDIATE` transaction; writes are serialized, so the
    /// version check and the bump cannot interleave with another change.
    public func changeMembership(expectedVersion: Int64, members: [MemberRow], assignment: [UInt8]) async throws
        -> Bool
    {
        let rows = uniqueRows(members)
        let kept = Self.assignmentsKept
        return try await write("membership change") { db -> Bool in
            let bumped = try await db.query(
                "UPDATE membership_version SET version = version + 1 WHERE id = 1 AND version = ? RETURNING version",
                [.int64(expectedVersion)])
            guard let newVersion = try bumped.first?.int64("version") else { return false }
            for row in rows {
                _ = try await db.query(
                    """
                    INSERT INTO members AS m (node_id, peer_address, api_address, status, incarnation, heartbeat_ms)
                    VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                    ON CONFLICT (node_id) DO UPDATE SET
                        peer_address = excluded.peer_address,
                        api_address = excluded.api_address,
                        status = excluded.status,
                        incarnation = excluded.incarnation,
                        heartbeat_ms = CASE WHEN m.incarnation = excluded.incarnation
                            THEN max(m.heartbeat_ms, excluded.heartbeat_ms) ELSE excluded.heartbeat_ms END
                    """,
                    [
                        .text(row.nodeID), .text(row.peerAddress), .text(row.apiAddress), .text(row.status.rawValue),
                        .int64(row.incarnation), .int64(row.heartbeatMillis),
                    ])
            }
            _ = try await db.query(
                """
                DELETE FROM member_suspicions WHERE NOT EXISTS (
                    SELECT 1 FROM members m
                    WHERE m.node_id = member_suspicions.node_id AND m.incarnation = member_suspicions.incarnation)
                """)
            _ = try await db.query(
                """
                INSERT INTO membership_assignments (version, assignment) VALUES (?1, coalesce(?2, X''))
                ON CONFLICT (version) DO UPDATE SET assignment = excluded.assignment
                """, [.int64(newVersion), .bytes(assignment)])
            _ = try await db.query(
                "DELETE FROM membership_assignments WHERE version <= ?", [.int64(newVersion - kept)])
            return true
        }
    }

    public func assignment(version: Int64) async throws -> [UInt8]? {
        let rows = try await read(
            "membership assignment read", "SELECT assignment FROM membership_assignments WHERE version = ?",
            [.int64(version)])
        return try rows.first?.bytes("assignment")
    }
}
