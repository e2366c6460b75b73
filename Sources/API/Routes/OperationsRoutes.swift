import Hummingbird
import NIOCore
import Trading

/// api.md "Operations": liveness, readiness, Prometheus metrics, and the OpenAPI document.
struct OperationsRoutes {
    let services: APIServices

    func register(on table: APIRouteTable) {
        let services = self.services
        table.get("/healthz") { _, _ in .json(["status": "ok"]) }
        // Ready when this node serves, or when it forwards to the node that does; not ready once it shuts
        // down (load balancers stop sending it requests while it still answers those that come).
        table.get("/readyz") { _, _ in
            switch services.forwarder?.isReady {
            case true?: return .json(["status": "ready"])
            case false?: throw BourseError(.unavailable, "not ready: the node is shutting down")
            case nil: break
            }
            guard await services.exchange.isReady() else {
                throw BourseError(.unavailable, "not ready: shards are recovering")
            }
            return .json(["status": "ready"])
        }
        table.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: services.metrics())))
        }
        let document = JSONWriter.bytes(OpenAPIDocument.make())
        table.get("/openapi.json") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: document)))
        }
    }
}
