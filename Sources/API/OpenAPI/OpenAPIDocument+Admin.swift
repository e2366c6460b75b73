/// The admin routes (api.md "Operations"): role `admin` required (401 without a valid token, 403 for
/// another role).
extension OpenAPIDocument {
    static func adminOperations() -> [(String, String, JSONValue)] {
        let nodeParameter = pathParameter("node_id", "Node id", pattern: "^.{1,255}$")
        // The examples are the values before percent-encoding: they tell clients (and fuzzers) that the
        // parameter carries an encoded slash.
        let shardParameter: JSONValue = [
            "name": "shard", "in": "path", "required": true,
            "description": "Shard, percent-encoded: symbol%2FBTC-USD or accounts%2F0417",
            "schema": ["type": "string", "pattern": "^.{1,255}$", "examples": ["symbol/BTC-USD", "accounts/0417"]],
        ]
        func admin(
            _ id: String, _ summary: String, parameters: [JSONValue] = [], body: JSONValue? = nil,
            success: [(Int, String, JSONValue?)], errors: [Int] = []
        ) -> JSONValue {
            operation(
                id, summary, tag: "Admin", secured: true, parameters: parameters, body: body, success: success,
                errors: [403, 503] + errors)
        }
        return [
            (
                "/admin/v1/cluster", "get",
                admin(
                    "adminCluster", "Members, ring version and shard counts",
                    success: [(200, "The cluster", ref("ClusterStatus"))])
            ),
            (
                "/admin/v1/shards", "get",
                admin(
                    "adminShards", "Every shard: owner, epoch, journal sequence, last snapshot",
                    success: [(200, "Shards", array(ref("ShardStatus")))])
            ),
            (
                "/admin/v1/nodes/{node_id}/drain", "post",
                admin(
                    "adminDrainNode", "Move every shard off a node so that it can stop (409 on a single node)",
                    parameters: [nodeParameter], success: [(202, "Draining", ref("AdminAccepted"))],
                    errors: [404, 409])
            ),
            (
                "/admin/v1/shards/{shard}/move", "post",
                admin(
                    "adminMoveShard", "Move a shard to a node (409 when it is there already)",
                    parameters: [shardParameter], body: ref("MoveShardRequest"),
                    success: [(202, "Moving", ref("AdminAccepted"))], errors: [404, 409])
            ),
            (
                "/admin/v1/markets", "post",
                admin(
                    "adminAddMarket", "Add a market, durably (validated like cluster.yaml markets)",
                    body: ref("MarketSpec"), success: [(201, "Added", ref("Market"))], errors: [409])
            ),
            (
                "/admin/v1/markets/{symbol}/halt", "post",
                admin(
                    "adminHaltMarket", "Halt a market: new orders are rejected", parameters: [symbolParameter],
                    success: [(200, "The market", ref("Market"))], errors: [404])
            ),
            (
                "/admin/v1/markets/{symbol}/resume", "post",
                admin(
                    "adminResumeMarket", "Resume a halted market", parameters: [symbolParameter],
                    success: [(200, "The market", ref("Market"))], errors: [404])
            ),
            (
                "/admin/v1/verify", "get",
                admin(
                    "adminVerify", "Check the invariants across every shard and the read models",
                    success: [(200, "The report (ok false when a check failed)", ref("InvariantReport"))])
            ),
        ]
    }

    static func adminSchemas() -> JSONObject {
        let integer: JSONValue = ["type": "integer"]
        let text: JSONValue = ["type": "string"]
        return [
            "ClusterStatus": object([
                "node_id": text, "ring_version": integer,
                "members": array(
                    object([
                        "id": text, "api_address": text,
                        "status": ["type": "string", "enum": ["serving", "starting", "draining"]], "shards": integer,
                    ])),
                "shard_counts": object(["total": integer, "symbol": integer, "accounts": integer]),
            ]),
            "ShardStatus": object([
                "shard": text, "kind": ["type": "string", "enum": ["symbol", "accounts"]], "owner": text,
                "epoch": integer, "journal_sequence": integer, "durable_sequence": integer,
                "last_snapshot_sequence": integer,
            ]),
            "AdminAccepted": object(
                ["node": text, "shard": text, "to": text, "status": text], required: ["status"]),
            "MoveShardRequest": object(["to": ["type": "string", "minLength": 1, "description": "Target node id"]]),
            "MarketSpec": object([
                "symbol": ["type": "string", "pattern": "^[A-Z0-9-]{1,20}$"],
                "base": ["type": "string", "pattern": "^[A-Z0-9]{1,10}$"],
                "quote": ["type": "string", "pattern": "^[A-Z0-9]{1,10}$"],
                "tick_size": ref("DecimalInput"), "lot_size": ref("DecimalInput"), "min_quantity": ref("DecimalInput"),
                "maker_fee_bps": ["type": "integer", "minimum": 0, "maximum": 1000],
                "taker_fee_bps": ["type": "integer", "minimum": 0, "maximum": 1000],
            ]),
            "InvariantReport": object([
                "ok": ["type": "boolean"], "violations": integer, "attempts": integer, "checked_at": ref("Timestamp"),
                "scope": object(["markets": integer, "account_shards": integer, "users": integer]),
                "checks": array(
                    object([
                        "name": [
                            "type": "string",
                            "enum": [
                                "money_conservation", "non_negative_balances", "fills_settled", "books_uncrossed",
                                "reservations", "anomalies", "read_models", "shards_audited",
                            ],
                        ],
                        "summary": text, "passed": ["type": "boolean"], "checked": integer, "violations": integer,
                        "examples": array(text), "note": nullable("string"),
                    ])),
            ]),
        ]
    }
}
