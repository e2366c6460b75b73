import Metrics

/// Users passivated when idle, by a sweep over the account shards (`AccountShardState+Passivation`).
extension Exchange {
    /// Passivates, in every account shard, the users not used since the previous sweep. Returns the users
    /// active and passivated after it, which the `bourse_accounts_*` gauges show too.
    @discardableResult
    public func passivateIdleUsers() async -> (active: Int, passive: Int) {
        var active = 0
        var passive = 0
        var bytes = 0
        for shard in accounts.served {
            while true {
                // In slices: each is one turn of the shard's actor, so commands wait for one slice at most.
                let counts = await shard.passivateIdle(limit: Self.passivationSlice)
                guard counts.done else { continue }
                active += counts.active
                passive += counts.passive
                bytes += counts.passiveBytes
                break
            }
        }
        Self.activeAccounts.record(active)
        Self.passiveAccounts.record(passive)
        Self.passiveAccountBytes.record(bytes)
        return (active, passive)
    }

    /// Sweeps every `configuration.passivationInterval` until the exchange stops: a user is passivated after
    /// one to two intervals without use.
    func startPassivation() {
        guard let interval = configuration.passivationInterval else { return }
        let task = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard let self, !Task.isCancelled, self.ready.isSet else { return }
                await self.passivateIdleUsers()
            }
        }
        passivation.withLock { $0 = task }
    }

    func stopPassivation() {
        passivation.withLock { task in
            task?.cancel()
            task = nil
        }
    }

    /// Users passivated per turn of an account shard's actor (about 0.2 ms each with 50 orders of history).
    static let passivationSlice = 16

    static let activeAccounts = Gauge(label: "bourse_accounts_active")
    static let passiveAccounts = Gauge(label: "bourse_accounts_passive")
    static let passiveAccountBytes = Gauge(label: "bourse_accounts_passive_bytes")
}
