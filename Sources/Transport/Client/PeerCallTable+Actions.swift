extension PeerCallTable.Actions {
    /// Both sets of actions; a later wake or arm wins.
    func merged(with other: Self) -> Self {
        var merged = self
        merged.completions += other.completions
        if let wake = other.wake { merged.wake = wake }
        if let arm = other.arm { merged.arm = arm }
        return merged
    }
}
