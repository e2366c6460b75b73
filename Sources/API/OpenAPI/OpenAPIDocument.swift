/// The OpenAPI 3.1 description of the client API, served at `GET /openapi.json`.
///
/// Built as a `JSONValue` so it is checked by the compiler and rendered by the same writer as every
/// response. Tests check that it lists exactly the routes `APIServer` serves and that it validates.
enum OpenAPIDocument {
    static func make() -> JSONValue {
        var paths = JSONObject()
        for (path, method, operation) in operations() {
            var item = paths[path]?.objectValue ?? JSONObject()
            item[method] = operation
            paths[path] = .object(item)
        }
        return [
            "openapi": "3.1.0",
            "info": [
                "title": "Bourse client API",
                "version": "1.0.0",
                "description": """
                Paper-trading exchange. Decimal values are JSON strings (numbers are accepted on input \
                and read exactly); currency amounts have 8 decimals; timestamps are RFC 3339 UTC with \
                milliseconds; ids are strings. Errors are {"error": {"code", "message"}}.
                """,
            ],
            "tags": .array(
                ["Auth", "Markets", "Account", "Orders", "Portfolio", "Strategies", "Streams", "Operations", "Admin"]
                    .map { ["name": .string($0)] }),
            "paths": .object(paths),
            "components": [
                "securitySchemes": ["bearerAuth": ["type": "http", "scheme": "bearer", "bearerFormat": "JWT"]],
                "schemas": .object(schemas()),
                "responses": .object(errorResponses()),
            ],
        ]
    }

    /// `$ref` to a component schema.
    static func ref(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }

    /// An array of `items`.
    static func array(_ items: JSONValue) -> JSONValue { ["type": "array", "items": items] }

    /// A schema that also allows `null`.
    static func nullable(_ type: String, _ extra: JSONObject = [:]) -> JSONValue {
        var schema = extra
        schema["type"] = [.string(type), "null"]
        return .object(schema)
    }

    /// An object schema with `properties` (in order) of which `required` must be present.
    static func object(_ properties: JSONObject, required: [String]? = nil, description: String? = nil) -> JSONValue {
        var schema: JSONObject = ["type": "object", "properties": .object(properties)]
        schema["required"] = .array((required ?? properties.keys).map { .string($0) })
        if let description { schema["description"] = .string(description) }
        return .object(schema)
    }

    static let errorNames: [Int: (name: String, description: String)] = [
        400: ("BadRequest", "VALIDATION_ERROR: malformed JSON, missing or invalid field, off-grid value, unknown enum"),
        401: ("Unauthorized", "UNAUTHORIZED: missing, malformed, expired or wrongly signed token; bad credentials"),
        403: ("Forbidden", "FORBIDDEN: authenticated but not allowed"),
        404: ("NotFound", "NOT_FOUND: unknown route, symbol or order (or another user's order)"),
        409: ("Conflict", "CONFLICT: username taken, order no longer cancellable, client_order_id reused"),
        413: ("PayloadTooLarge", "PAYLOAD_TOO_LARGE: body over the limit (default 64 KiB)"),
        422: ("Unprocessable", "INSUFFICIENT_FUNDS, ORDER_REJECTED or INVALID_STRATEGY (with details)"),
        429: ("RateLimited", "RATE_LIMITED: over the per-user or per-IP limit; see Retry-After"),
        500: ("Internal", "INTERNAL: unexpected server error (no details)"),
        503: ("Unavailable", "UNAVAILABLE: shard moving, node draining or not ready; see Retry-After"),
    ]

    static func errorResponses() -> JSONObject {
        var responses = JSONObject()
        for status in errorNames.keys.sorted() {
            let (name, description) = errorNames[status]!
            var response: JSONObject = [
                "description": .string(description),
                "content": ["application/json": ["schema": ref("Error")]],
            ]
            if status == 429 || status == 503 {
                response["headers"] = [
                    "Retry-After": [
                        "description": "Seconds to wait before retrying", "schema": ["type": "integer", "minimum": 1],
                    ]
                ]
            }
            responses[name] = .object(response)
        }
        return responses
    }

    /// One operation.
    /// - Parameters:
    ///   - success: status, description and response schema (nil: no body).
    ///   - errors: error statuses besides 429 and 500, which every operation may answer.
    static func operation(
        _ id: String, _ summary: String, tag: String, secured: Bool = false, parameters: [JSONValue] = [],
        body: JSONValue? = nil, success: [(Int, String, JSONValue?)], errors: [Int] = [],
        contentType: String = "application/json"
    ) -> JSONValue {
        var responses = JSONObject()
        for (status, description, schema) in success {
            var response: JSONObject = ["description": .string(description)]
            if let schema { response["content"] = .object([contentType: ["schema": schema]]) }
            responses[String(status)] = .object(response)
        }
        var statuses = Set(errors)
        if secured { statuses.insert(401) }
        if body != nil { statuses.formUnion([400, 413]) }
        if !parameters.isEmpty { statuses.insert(400) }
        statuses.formUnion([429, 500])
        for status in statuses.sorted() {
            responses[String(status)] = ["$ref": .string("#/components/responses/\(errorNames[status]!.name)")]
        }
        var operation: JSONObject = [
            "operationId": .string(id), "summary": .string(summary), "tags": [.string(tag)],
        ]
        if !parameters.isEmpty { operation["parameters"] = .array(parameters) }
        if let body {
            operation["requestBody"] = ["required": true, "content": ["application/json": ["schema": body]]]
        }
        operation["responses"] = .object(responses)
        if secured { operation["security"] = [["bearerAuth": []]] }
        return .object(operation)
    }

    static func pathParameter(_ name: String, _ description: String, pattern: String) -> JSONValue {
        [
            "name": .string(name), "in": "path", "required": true, "description": .string(description),
            "schema": ["type": "string", "pattern": .string(pattern)],
        ]
    }

    static func queryParameter(_ name: String, _ description: String, schema: JSONValue) -> JSONValue {
        [
            "name": .string(name), "in": "query", "required": false, "description": .string(description),
            "schema": schema,
        ]
    }

    static func limitParameter(_ name: String = "limit", default value: Int) -> JSONValue {
        queryParameter(
            name, "Number of items, 1-1000",
            schema: ["type": "integer", "minimum": 1, "maximum": 1000, "default": .int(value)])
    }

    static let symbolParameter = pathParameter("symbol", "Market symbol, e.g. BTC-USD", pattern: "^[A-Z0-9-]{1,20}$")
    static let orderIDParameter = pathParameter("order_id", "Order id (decimal)", pattern: "^[0-9]{1,20}$")
}
