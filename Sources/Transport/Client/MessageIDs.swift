import Synchronization

/// Message ids for the whole process: unique per incarnation even with many clients (or many in-process nodes).
private let messageIDs = Atomic<UInt64>(0)

/// Reserves `count` consecutive message ids and returns the first.
func reserveMessageIDs(_ count: Int = 1) -> UInt64 {
    messageIDs.wrappingAdd(UInt64(count), ordering: .relaxed).newValue &- UInt64(count) &+ 1
}
