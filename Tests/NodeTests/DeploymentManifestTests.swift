import Foundation
import Storage
import TestSupport
import Testing

@testable import Node

/// deploy/k8s against the node: renders each overlay with kustomize (scripts/render-k8s.py) and checks that
/// the StatefulSet runs `bourse start` the way the node really reads its arguments (the `Start` command's
/// parser), its cluster.yaml (the ConfigMap, resolved with `NodeConfiguration.resolve`) and its environment.
/// scripts/check-k8s validates the same objects against the Kubernetes schemas.
///
/// Needs python3 (with PyYAML) and kubectl or kustomize: without them the tests are skipped with a message,
/// and fail under `CI=true`.
@Suite("Deployment manifests (deploy/k8s)")
struct DeploymentManifestTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test(
        "the StatefulSet's args, cluster.yaml, ports, probes and env are what `bourse start` reads",
        arguments: ["dev", "prod"])
    func statefulSet(overlay: String) async throws {
        guard let manifest = try await Manifest.render(overlay: overlay) else { return }
        let set = try #require(manifest.object("StatefulSet", "bourse"), "no StatefulSet bourse")
        let spec = try #require(set.spec)
        let pod = try #require(spec.template?.spec)
        let container = try #require(pod.containers.first { $0.name == "bourse" }, "no container bourse")
        #expect(spec.podManagementPolicy == "Parallel")
        #expect((pod.terminationGracePeriodSeconds ?? 30) >= 60, "too short to drain")

        // The peer Service: headless, publishing pods that are not ready yet (the seed's DNS name).
        let serviceName = try #require(spec.serviceName)
        let peers = try #require(manifest.object("Service", serviceName), "no Service \(serviceName)")
        #expect(peers.spec?.clusterIP == "None")
        #expect(peers.spec?.publishNotReadyAddresses == true)

        // The arguments, parsed by `bourse` itself (the image's entrypoint is `bourse`).
        #expect(container.command == nil, "the manifest must not replace the image's entrypoint `bourse`")
        let arguments = try #require(container.args, "no args")
        let parsed = try Bourse.parseAsRoot(arguments)
        let start = try #require(parsed as? Start, "\(arguments) is not `bourse start`")
        let flags = NodeConfiguration.Flags(
            nodeID: start.nodeID, listen: start.listen, peerListen: start.peerListen, dataDir: start.dataDir,
            databaseURL: start.databaseURL, noFeeds: start.noFeeds)

        // --config names the ConfigMap's cluster.yaml through a volume mount.
        let configPath = try #require(start.config, "no --config")
        let file = try manifest.configFile(at: configPath, container: container, pod: pod)
        defer { try? FileManager.default.removeItem(atPath: file) }

        let podName = "bourse-0"
        let environment = try manifest.environment(of: container, podName: podName)
        let config = try NodeConfiguration.resolve(file: file, flags: flags, environment: environment)

        // Addresses: every interface, on the container ports the Services and probes use.
        let http = try #require(container.port(named: "http"), "no container port http")
        let peer = try #require(container.port(named: "peer"), "no container port peer")
        #expect(config.listen == HostPort(host: "0.0.0.0", port: http))
        #expect(config.peerListen == HostPort(host: "0.0.0.0", port: peer))
        #expect(peers.spec?.ports?.contains { container.resolve($0.targetPort) == peer } == true)
        let client = try #require(manifest.object("Service", "bourse"), "no client Service bourse")
        let clientPort = try #require(client.spec?.ports?.first { $0.name == "http" }, "no client port http")
        #expect(clientPort.port == 8080)
        #expect(container.resolve(clientPort.targetPort) == config.listen.port)

        // Identity: the pod name is the node id; peers reach the pod by its DNS name under the headless Service.
        #expect(config.nodeID == podName)
        #expect(config.isClustered, "the pods must form a cluster (database URL and cluster secret)")
        #expect(config.advertised(config.peerListen) == "\(podName).\(serviceName):\(peer)")
        #expect(config.advertised(config.listen) == "\(podName).\(serviceName):\(http)")
        // Members find each other through the database: no seed list that would suggest otherwise.
        #expect(config.seeds.isEmpty)
        #expect(config.adminPassword != nil)

        // Probes: /healthz for liveness (and startup), /readyz for readiness, on the client port, in its scheme.
        let scheme = config.tlsCertificate == nil ? "HTTP" : "HTTPS"
        let probes: [(String, Probe?, String)] = [
            ("liveness", container.livenessProbe, "/healthz"), ("readiness", container.readinessProbe, "/readyz"),
            ("startup", container.startupProbe, "/healthz"),
        ]
        for (name, probe, path) in probes {
            if name == "startup", probe == nil { continue }
            let get = try #require(probe?.httpGet, "no \(name) probe over HTTP")
            #expect(get.path == path, "\(name) probe")
            #expect(container.resolve(get.port) == config.listen.port, "\(name) probe port")
            #expect((get.scheme ?? "HTTP") == scheme, "\(name) probe scheme")
        }

        // Every BOURSE_* variable the manifest sets is one the node reads: removing or changing it changes the
        // resolved configuration (or makes it invalid).
        let outcome = { (environment: [String: String]) -> String in
            do {
                return "ok "
                    + canonical(try NodeConfiguration.resolve(file: file, flags: flags, environment: environment))
            } catch {
                return "error \(error)"
            }
        }
        let names = container.env?.map(\.name).filter { $0.hasPrefix("BOURSE_") } ?? []
        #expect(names.contains("BOURSE_NODE_ID"))
        for name in names {
            let value = environment[name] ?? ""
            var without = environment
            without[name] = nil
            var changed = environment
            changed[name] = value + "1"
            let reference = outcome(environment)
            #expect(
                outcome(without) != reference || outcome(changed) != reference,
                "\(name) is set in the manifest but `bourse start` does not read it")
        }
    }

    @Test("dev: the database URL names the in-namespace PostgreSQL and its credentials")
    func devDatabase() async throws {
        guard let manifest = try await Manifest.render(overlay: "dev") else { return }
        let secrets = try #require(manifest.object("Secret", "bourse-secrets"), "dev ships its dev-only Secret")
        let text = try #require(secrets.value("database-url"))
        let url = try PostgresURL(text)
        let service = try #require(manifest.object("Service", url.host), "no Service \(url.host)")
        #expect(service.spec?.ports?.contains { $0.port == url.port } == true)
        let postgres = try #require(manifest.object("Secret", "postgres-dev"))
        #expect(postgres.value("POSTGRES_USER") == url.username)
        #expect(postgres.value("POSTGRES_PASSWORD") == url.password)
        #expect(postgres.value("POSTGRES_DB") == url.database)
        #expect(manifest.object("StatefulSet", "postgres") != nil)
    }

    @Test("prod: no Secret is shipped, the operator supplies them")
    func prodSecrets() async throws {
        guard let manifest = try await Manifest.render(overlay: "prod") else { return }
        #expect(manifest.objects.filter { $0.kind == "Secret" }.isEmpty)
    }
}

/// `value` as text, every stored property included and dictionaries and sets in a fixed order (their own order
/// differs between equal instances), so that two configurations compare equal exactly when they are.
private func canonical(_ value: Any) -> String {
    let mirror = Mirror(reflecting: value)
    switch mirror.displayStyle {
    case .dictionary, .set:
        return "[" + mirror.children.map { canonical($0.value) }.sorted().joined(separator: ", ") + "]"
    case .struct, .class, .enum, .tuple, .optional, .collection:
        if mirror.children.isEmpty { return String(reflecting: value) }
        let fields = mirror.children.map { "\($0.label ?? "_"): \(canonical($0.value))" }
        return "\(mirror.subjectType)(" + fields.joined(separator: ", ") + ")"
    default:
        return String(reflecting: value)
    }
}

// MARK: - The rendered objects

/// The objects of one rendered overlay.
private struct Manifest {
    let objects: [Object]

    func object(_ kind: String, _ name: String) -> Object? {
        objects.first { $0.kind == kind && $0.metadata.name == name }
    }

    /// Renders deploy/k8s/overlays/`overlay` with scripts/render-k8s.py; nil (skipped) when python3 or a kustomize
    /// renderer is missing, except under `CI=true`, where that fails the test.
    static func render(overlay: String) async throws -> Manifest? {
        let ci = ProcessInfo.processInfo.environment["CI"] == "true"
        func unavailable(_ reason: String) throws -> Manifest? {
            if ci { throw ManifestError("\(reason); CI must run the deployment manifest checks") }
            print("DeploymentManifestTests skipped: \(reason)")
            return nil
        }
        guard let python = executable(named: "python3") else { return try unavailable("python3 is not installed") }
        let root = DeploymentManifestTests.root
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bourse-k8s-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let output = scratch.appendingPathComponent("objects.json")
        let errors = scratch.appendingPathComponent("stderr.txt")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        let process = Process()
        process.executableURL = python
        process.arguments = [
            root.appendingPathComponent("scripts/render-k8s.py").path, "--json",
            root.appendingPathComponent("deploy/k8s/overlays/\(overlay)").path,
        ]
        process.currentDirectoryURL = root
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        let status = try await process.runToExit()
        let message = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        switch status {
        case 0:
            return Manifest(objects: try JSONDecoder().decode([Object].self, from: try Data(contentsOf: output)))
        case 69:
            return try unavailable(message.trimmingCharacters(in: .whitespacesAndNewlines))
        case let status:
            throw ManifestError("scripts/render-k8s.py \(overlay) exited \(status): \(message)")
        }
    }

    static func executable(named name: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { URL(fileURLWithPath: String($0)).appendingPathComponent(name) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Writes the ConfigMap file that `path` names inside the container to a temporary file, and returns its path.
    func configFile(at path: String, container: Container, pod: PodSpec) throws -> String {
        for mount in container.volumeMounts ?? [] {
            let key: String
            if let subPath = mount.subPath, path == mount.mountPath {
                key = subPath
            } else if mount.subPath == nil, path.hasPrefix(mount.mountPath + "/") {
                key = String(path.dropFirst(mount.mountPath.count + 1))
            } else {
                continue
            }
            let volume = try #require(pod.volumes?.first { $0.name == mount.name }, "no volume \(mount.name)")
            let name = try #require(volume.configMap?.name, "\(path) is not on a ConfigMap volume")
            let map = try #require(object("ConfigMap", name), "no ConfigMap \(name)")
            let text = try #require(map.data?[key], "ConfigMap \(name) has no \(key)")
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-\(UUID()).yaml").path
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            return file
        }
        throw ManifestError("--config \(path) is on no volume mount")
    }

    /// The container's environment as Kubernetes builds it for pod `podName`: `$(NAME)` expands earlier variables,
    /// `metadata.name` is the pod name, a Secret key is its rendered value (a placeholder for a Secret the operator
    /// supplies).
    func environment(of container: Container, podName: String) throws -> [String: String] {
        var environment: [String: String] = [:]
        for variable in container.env ?? [] {
            if let value = variable.value {
                var expanded = value
                for (name, earlier) in environment {
                    expanded = expanded.replacingOccurrences(of: "$(\(name))", with: earlier)
                }
                environment[variable.name] = expanded
            } else if let field = variable.valueFrom?.fieldRef?.fieldPath {
                guard field == "metadata.name" else {
                    throw ManifestError("\(variable.name): unexpected field \(field)")
                }
                environment[variable.name] = podName
            } else if let ref = variable.valueFrom?.secretKeyRef {
                environment[variable.name] =
                    object("Secret", ref.name)?.value(ref.key) ?? "operator-supplied-\(ref.name)-\(ref.key)"
            } else {
                throw ManifestError("\(variable.name): unsupported value source")
            }
        }
        return environment
    }
}

private struct ManifestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

// MARK: - The fields these tests read (others are ignored)

private struct Object: Decodable {
    struct Metadata: Decodable { var name: String }
    var kind: String
    var metadata: Metadata
    var spec: Spec?
    var data: [String: String]?
    var stringData: [String: String]?

    /// A Secret's value for `key` (stringData as written, data decoded from base64).
    func value(_ key: String) -> String? {
        if let text = stringData?[key] { return text }
        return data?[key].flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
    }
}

private struct Spec: Decodable {
    struct Template: Decodable { var spec: PodSpec }
    struct ServicePort: Decodable {
        var name: String?
        var port: Int
        var targetPort: PortReference?
    }
    var serviceName: String?
    var podManagementPolicy: String?
    var template: Template?
    var clusterIP: String?
    var publishNotReadyAddresses: Bool?
    var ports: [ServicePort]?
}

private struct PodSpec: Decodable {
    struct Volume: Decodable {
        struct ConfigMapSource: Decodable { var name: String }
        var name: String
        var configMap: ConfigMapSource?
    }
    var containers: [Container]
    var volumes: [Volume]?
    var terminationGracePeriodSeconds: Int?
}

private struct Container: Decodable {
    struct Port: Decodable {
        var name: String?
        var containerPort: Int
    }
    struct Variable: Decodable {
        struct Source: Decodable {
            struct FieldRef: Decodable { var fieldPath: String }
            struct SecretKeyRef: Decodable {
                var name: String
                var key: String
            }
            var fieldRef: FieldRef?
            var secretKeyRef: SecretKeyRef?
        }
        var name: String
        var value: String?
        var valueFrom: Source?
    }
    struct Mount: Decodable {
        var name: String
        var mountPath: String
        var subPath: String?
    }
    var name: String
    var command: [String]?
    var args: [String]?
    var ports: [Port]?
    var env: [Variable]?
    var volumeMounts: [Mount]?
    var livenessProbe: Probe?
    var readinessProbe: Probe?
    var startupProbe: Probe?

    func port(named name: String) -> Int? { ports?.first { $0.name == name }?.containerPort }

    /// The container port a Service target or a probe names (by name or number).
    func resolve(_ reference: PortReference?) -> Int? {
        switch reference {
        case .number(let number): number
        case .name(let name): port(named: name)
        case nil: nil
        }
    }
}

private struct Probe: Decodable {
    struct HTTPGet: Decodable {
        var path: String?
        var port: PortReference
        var scheme: String?
    }
    var httpGet: HTTPGet?
}

/// Kubernetes' IntOrString for ports.
private enum PortReference: Decodable {
    case number(Int)
    case name(String)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) {
            self = .number(number)
        } else {
            self = .name(try container.decode(String.self))
        }
    }
}
