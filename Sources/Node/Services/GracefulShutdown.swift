import Logging
import ServiceLifecycle

/// A cluster node's way out on SIGTERM (or SIGINT), before the other services stop.
///
/// It is the last service of the node's `ServiceGroup`, so the first to be told to shut down, and the
/// others (the client API first) are told only once it returns. In order:
/// 1. **Not ready**: `/readyz` answers 503 at once, so that Kubernetes takes the pod out of the client
///    Service's endpoints (and a load balancer stops sending it new requests). The API keeps serving and
///    forwarding whatever still comes.
/// 2. **Endpoint delay**: waits `endpointDelay` (cluster.yaml `node.shutdown_delay_seconds`,
///    `BOURSE_SHUTDOWN_DELAY_SECONDS`; 1 s by default, 5 s on Kubernetes) for the endpoints to drop it.
/// 3. **Hand off**: drains the node. The active node stops admitting requests, lets those it admitted finish,
///    snapshots every shard and releases its leases; a standby takes over. Requests arriving meanwhile, here
///    or on other nodes, wait for the new active node and are forwarded to it. A standby just never takes
///    over from now on.
/// 4. Returns: the group stops the API (in-flight requests finish), the market data, the active role,
///    membership (the node leaves), the peer server and the read-model writer; the process exits 0.
///
/// Cancelled instead (the group fails), it skips what is left: the node is failing, not leaving.
struct GracefulShutdown: Service {
    /// What the steps do (the node's active role; tests record them).
    struct Steps: Sendable {
        /// Makes `/readyz` answer 503.
        var stopBeingReady: @Sendable () -> Void
        /// Hands the node's shards off and returns once it has.
        var handOff: @Sendable () async throws -> Void
    }

    let endpointDelay: Duration
    let steps: Steps
    let logger: Logger
    /// Waits the endpoint delay (tests inject a clock of their own).
    var sleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }

    func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return  // cancelled: the group is failing
        }
        logger.info("shutting down: not ready", metadata: ["endpoint_delay": "\(endpointDelay)"])
        steps.stopBeingReady()
        do {
            try await sleep(endpointDelay)
        } catch {
            return
        }
        logger.info("shutting down: handing off")
        do {
            try await steps.handOff()
        } catch is CancellationError {
            return
        } catch {
            // Whatever is left is done by the exchange's stop, as after a drain that failed.
            logger.error("shutting down: the handoff failed", metadata: ["error": "\(error)"])
        }
        logger.info("shutting down: stopping the API")
    }
}
