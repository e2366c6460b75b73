import Actors
import Trading

extension Render {
    /// `{strategy_id, status, name, symbol, rules, cooldown_seconds, created_at, last_fired_at, signal_count}`;
    /// rules in api.md's JSON form, every operand with its interval.
    static func strategy(_ strategy: StrategyView, _ spec: MarketSpec) -> JSONValue {
        let definition = strategy.definition
        return [
            "strategy_id": .string(strategy.strategyID), "status": .string(strategy.status.rawValue),
            "name": .string(definition.name), "symbol": .string(definition.symbol),
            "rules": .array(
                definition.rules.map { rule in
                    [
                        "when": self.rule(rule.when),
                        "action": [
                            "side": .string(rule.action.side.apiName),
                            "quantity": quantity(rule.action.quantity, spec),
                        ],
                    ]
                }),
            "cooldown_seconds": .int(definition.cooldownSeconds), "created_at": time(strategy.createdAtMillis),
            "last_fired_at": strategy.lastFiredMillis.map(time) ?? .null, "signal_count": .int(strategy.signalCount),
        ]
    }

    /// `{signal_id, strategy_id, rule_index, side, quantity, candle_close_time, fired_at, status, order_id,
    /// client_order_id, reason, reason_code}`: status `pending`, `placed` (with its order) or `refused` (with
    /// the reason the order flow gave and its error code).
    static func signal(_ signal: SignalView, _ spec: MarketSpec) -> JSONValue {
        var object: JSONObject = [
            "signal_id": .string(signal.clientOrderID), "strategy_id": .string(signal.strategyID),
            "rule_index": .int(signal.ruleIndex), "side": .string(signal.side.apiName),
            "quantity": quantity(signal.quantity, spec), "candle_close_time": time(signal.candleCloseMillis),
            "fired_at": time(signal.firedAtMillis),
        ]
        switch signal.outcome {
        case .pending:
            object["status"] = "pending"
            object["order_id"] = .null
            object["client_order_id"] = .string(signal.clientOrderID)
            object["reason"] = .null
            object["reason_code"] = .null
        case .placed(let orderID):
            object["status"] = "placed"
            object["order_id"] = id(orderID)
            object["client_order_id"] = .string(signal.clientOrderID)
            object["reason"] = .null
            object["reason_code"] = .null
        case .refused(let code, let reason):
            object["status"] = "refused"
            object["order_id"] = .null
            object["client_order_id"] = .string(signal.clientOrderID)
            object["reason"] = .string(reason)
            object["reason_code"] = .string(code.rawValue)
        }
        return .object(object)
    }

    /// A rule tree in api.md's JSON form.
    static func rule(_ tree: RuleTree) -> JSONValue {
        switch tree {
        case .all(let children): ["all": .array(children.map(rule))]
        case .any(let children): ["any": .array(children.map(rule))]
        case .not(let child): ["not": rule(child)]
        case .comparison(let comparison):
            [
                "left": operand(comparison.left), "op": .string(comparison.op.rawValue),
                "right": operand(comparison.right),
            ]
        }
    }

    static func operand(_ operand: Operand) -> JSONValue {
        switch operand {
        case .value(let value): return ["value": .double(value)]
        case .indicator(let indicator):
            var object: JSONObject = ["indicator": .string(indicator.spec.name)]
            switch indicator.spec {
            case .price, .volume: break
            case .sma(let period), .ema(let period), .rsi(let period): object["period"] = .int(period)
            case .macd(let fast, let slow, let signal):
                object["fast"] = .int(fast)
                object["slow"] = .int(slow)
                object["signal"] = .int(signal)
            case .bollinger(let period, let k):
                object["period"] = .int(period)
                object["stddev"] = .double(k)
            }
            if let field = indicator.field { object["field"] = .string(field.rawValue) }
            object["interval"] = .string(indicator.interval.rawValue)
            return .object(object)
        }
    }
}
