extension MembershipStateMachine {
    /// The peers an active node finds dead, and those it votes suspect.
    struct Verdicts {
        var dead: [ClusterMember] = []
        var votes: [ClusterMember] = []
    }

    /// Judges every peer that is not dead (see the type's rules). Called only while this node is active.
    func judgePeers(view: MembershipView, now: Int64) -> Verdicts {
        let active = view.members.filter { $0.status == .active }
        let liveVoters = Set(
            active.filter { $0.nodeID == nodeID || age(of: $0, now: now) <= configuration.suspectAfterMillis }
                .map(\.nodeID))
        var verdicts = Verdicts()
        for peer in view.members where peer.nodeID != nodeID && peer.status != .dead {
            let silence = silence(of: peer, now: now)
            // A joining member holds no shards and is admitted only once a probe of it answers, so its failed probes
            // are no reason to vote it dead: a node restarted on the same address is probed at first through a
            // client still backing off from the previous process, and was voted dead before it could answer. The
            // same holds for a new incarnation that registered active (a restart that keeps its shards), for
            // `probeGraceMillis`: one restarted after a database outage was voted dead 3 s after it came back, and
            // exited (chaos `dbstop`, seed 2).
            let unreachable =
                peer.status != .joining && !onProbation(peer, now: now)
                && failedProbes(peer) >= configuration.probeFailuresToSuspect
            // A peer not heard from since this node's reads began (again) is suspected for its silence only once
            // that lasts `deadAfterMillis`, when it is dead by rule anyway: after a database outage a live peer's
            // pool may still be backing its reconnects off for seconds (a standby that came back 3.5 s after the
            // others was voted dead: chaos `dbstop`, seed 2). Its failed probes still count.
            let unheardSinceContact = contactSinceMillis.map { peer.heartbeatMillis < $0 } ?? true
            let suspectAfter =
                unheardSinceContact ? configuration.deadAfterMillis : configuration.suspectAfterMillis
            guard silence > suspectAfter || unreachable else { continue }
            if silence > configuration.deadAfterMillis {
                verdicts.dead.append(peer)
                continue
            }
            let otherVoters = peer.suspicions.filter { voter, votedAt in
                voter != peer.nodeID && voter != nodeID && liveVoters.contains(voter)
                    && elapsed(since: votedAt, now: now) <= configuration.voteWindowMillis
            }
            let possibleVoters = active.filter { $0.nodeID != peer.nodeID }.count
            let needed = max(1, min(configuration.votesToDeclareDead, possibleVoters))
            if otherVoters.count + 1 >= needed {
                verdicts.dead.append(peer)
            } else if peer.suspicions[nodeID].map({
                elapsed(since: $0, now: now) >= configuration.voteWindowMillis / 2
            }) ?? true {
                verdicts.votes.append(peer)
            }
        }
        return verdicts
    }

    /// The one change an active node proposes this tick, by priority: deaths, its own leave, then (as the
    /// coordinator) removing a leaving member from the assignment, then admitting a joiner.
    func activeChange(view: MembershipView, me: ClusterMember, dead: [ClusterMember], now: Int64)
        -> MembershipAction?
    {
        if !dead.isEmpty {
            let rows = dead.map { $0.with(status: .dead) }
            return .declareDead(rows.map(\.nodeID).sorted(), view.change(upserting: rows, shards: shards))
        }
        if leaveRequested {
            return .remove(nodeID, view.change(upserting: [me.with(status: .leaving)], shards: shards))
        }
        guard coordinator(view: view, now: now) == nodeID else { return nil }
        if let leaver = view.members(.leaving).first(where: { view.assignment?.contains(member: $0.nodeID) == true }) {
            return .remove(leaver.nodeID, view.change(upserting: [], shards: shards))
        }
        let joiner = view.members(.joining).first {
            age(of: $0, now: now) <= configuration.suspectAfterMillis && answered.contains($0.nodeID)
                && failedProbes($0) == 0
        }
        if let joiner {
            return .admit(joiner.nodeID, view.change(upserting: [joiner.with(status: .active)], shards: shards))
        }
        return nil
    }

    /// The active member that admits joiners and removes leavers, as this node sees it: the first by node id
    /// that is this node or has a fresh heartbeat and answers probes. Two nodes that disagree both propose;
    /// the version compare-and-swap keeps one change.
    func coordinator(view: MembershipView, now: Int64) -> String? {
        view.members(.active).first {
            $0.nodeID == nodeID
                || (age(of: $0, now: now) <= configuration.suspectAfterMillis
                    && failedProbes($0) < configuration.probeFailuresToSuspect)
        }?.nodeID
    }
}
