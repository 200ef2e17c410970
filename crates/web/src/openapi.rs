//! The OpenAPI 3.1 document, generated from the route table: every path,
//! its method, summary, the roles allowed (`x-roles`) and the shapes of
//! its body and answer. Served at `/api/openapi.json`; a copy is committed
//! as `docs/openapi.json` and a test keeps it fresh.

use crate::routes::{RouteDoc, docs};
use serde_json::{Map, Value, json};

fn obj(props: Value, required: &[&str]) -> Value {
    json!({ "type": "object", "properties": props, "required": required })
}

fn list(item: &str) -> Value {
    json!({ "type": "array", "items": { "$ref": format!("#/components/schemas/{item}") } })
}

fn free(description: &str) -> Value {
    json!({ "type": "object", "description": description, "additionalProperties": true })
}

/// The component schemas referred to by the route table.
fn schemas() -> Map<String, Value> {
    let s = json!({ "type": "string" });
    let n = json!({ "type": "integer" });
    let b = json!({ "type": "boolean" });
    let t = json!({ "type": "integer", "description": "milliseconds since the Unix epoch" });
    let strings = json!({ "type": "array", "items": { "type": "string" } });
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    let problem = obj(json!({ "path": s, "node": s, "field": s, "message": s }), &["path", "message"]);
    let problems = json!({ "type": "array", "items": problem, "description": "422 of a flow or the telephony settings: every problem" });
    put(
        "Error",
        obj(
            json!({ "error": obj(json!({ "code": s, "message": s, "problems": problems }), &["code", "message"]) }),
            &["error"],
        ),
    );
    put("Login", obj(json!({ "login": s, "password": s }), &["login", "password"]));
    put(
        "User",
        obj(
            json!({ "id": n, "login": s, "display_name": s, "role": { "enum": ["agent", "supervisor", "qa", "planner", "admin"] }, "team_id": n, "agent_id": n, "failed_logins": n, "locked_until": t }),
            &["id", "login", "role"],
        ),
    );
    put("Users", list("User"));
    put(
        "LoginAnswer",
        obj(
            json!({ "token": s, "expires_at": t, "user": { "$ref": "#/components/schemas/User" } }),
            &["token", "user"],
        ),
    );
    put(
        "Me",
        obj(
            json!({ "user": { "$ref": "#/components/schemas/User" }, "agent": { "$ref": "#/components/schemas/AgentView" }, "settings": obj(json!({ "not_ready_reasons": strings, "wrap_up_codes": strings, "queues": { "type": "array" }, "agents": { "type": "array" } }), &[]) }),
            &["user", "settings"],
        ),
    );
    put(
        "AgentView",
        obj(
            json!({ "id": n, "name": s, "state": { "enum": ["offline", "ready", "not-ready", "reserved", "busy", "on-hold", "wrap-up"] }, "reason": s, "since": t, "work": { "type": "array", "items": obj(json!({ "contact": n, "queue": n, "channel": s, "phase": { "enum": ["reserved", "dialling", "talking", "held", "wrap-up"] }, "deadline": t }), &["contact", "phase"]) }, "missed": n, "handled": n, "talk_ms": n }),
            &["id", "state", "work"],
        ),
    );
    put("NotReady", obj(json!({ "reason": s }), &["reason"]));
    put(
        "AgentStats",
        obj(
            json!({ "handled": n, "answered": n, "offers": n, "missed": n, "talk_seconds": { "type": "number" }, "aht_seconds": { "type": "number" }, "state_seconds": { "type": "object" } }),
            &[],
        ),
    );
    put(
        "Transfer",
        obj(json!({ "to": obj(json!({ "kind": { "enum": ["queue", "agent"] }, "id": n }), &["kind", "id"]) }), &["to"]),
    );
    put("Consult", obj(json!({ "to": n }), &["to"]));
    put(
        "WrapUp",
        obj(json!({ "need": s, "service_given": s, "disposition": s, "notes": s, "follow_up": b }), &["disposition"]),
    );
    put("Extend", obj(json!({ "seconds": n }), &["seconds"]));
    put(
        "NewContact",
        obj(
            json!({ "queue": n, "channel": { "enum": ["voice", "callback", "chat", "email"] }, "caller": s, "customer_id": s, "language": s, "problem_type": s, "priority": n, "attributes": { "type": "object", "additionalProperties": { "type": "string" } } }),
            &["queue"],
        ),
    );
    put("NewContactAnswer", obj(json!({ "contact": n, "customer_id": s }), &["contact"]));
    put("Callback", obj(json!({ "number": s }), &[]));
    put("ContactViews", json!({ "type": "array", "items": free("a live contact as the engine sees it") }));
    put(
        "ScreenPop",
        obj(
            json!({ "contact": free("id, queue, queue_name, channel, caller, language, problem_type, priority, segment, attributes, dial_attempts [{attempt, at, outcome, retry_at}] (callback dials that failed)"), "customer": { "$ref": "#/components/schemas/Customer" }, "history": { "$ref": "#/components/schemas/ContactRecords" }, "orders": {} }),
            &["contact"],
        ),
    );
    put(
        "Board",
        obj(
            json!({ "at": t, "queues": { "type": "array" }, "agents": { "type": "array" }, "states": { "type": "object" }, "total": { "type": "object" }, "history": { "type": "array" } }),
            &["at", "queues", "agents"],
        ),
    );
    put(
        "CustomerData",
        obj(
            json!({ "name": s, "phones": strings, "emails": strings, "segment": { "enum": ["new", "returning", "vip"] }, "attributes": { "type": "object" } }),
            &["name"],
        ),
    );
    put(
        "Customer",
        obj(
            json!({ "id": s, "name": s, "phones": strings, "emails": strings, "segment": { "enum": ["new", "returning", "vip"] }, "attributes": { "type": "object" }, "created_at": t, "updated_at": t }),
            &["id", "name"],
        ),
    );
    put("Customers", list("Customer"));
    put("CustomerPage", obj(json!({ "items": list("Customer"), "next": s }), &["items"]));
    put(
        "ContactRecords",
        json!({ "type": "array", "items": free("contact, customer_id, queue, agent, channel, arrived_at, answered_at, ended_at, outcome, wrap_up, dial_attempts (callback dials made), dial_outcome (the last: busy, no-answer, failed, connected)") }),
    );
    put("Csv", json!({ "type": "string", "description": "CSV text: id,name,phones,emails,segment,attributes" }));
    put(
        "ImportReport",
        obj(
            json!({ "inserted": n, "updated": n, "errors": { "type": "array", "items": obj(json!({ "line": n, "message": s }), &[]) } }),
            &[],
        ),
    );
    put(
        "QueueReport",
        json!({ "type": "array", "items": free("queue, name, start, end, counts and figures of one interval") }),
    );
    put(
        "AgentReport",
        json!({ "type": "array", "items": free("agent, name, start, end, counts and figures of one interval") }),
    );
    put(
        "UserInput",
        obj(
            json!({ "login": s, "display_name": s, "password": s, "role": { "enum": ["agent", "supervisor", "qa", "planner", "admin"] }, "team_id": n, "agent_id": n }),
            &["login", "display_name", "role"],
        ),
    );
    put("Team", obj(json!({ "id": n, "name": s, "created_at": t, "updated_at": t }), &["id", "name"]));
    put("Teams", list("Team"));
    put("TeamInput", obj(json!({ "name": s }), &["name"]));
    put(
        "QueueConfig",
        free(
            "the engine's queue configuration: id, name, routing steps, strategy, limits, overflow, callbacks (see crates/engine/src/config.rs)",
        ),
    );
    put("QueueConfigs", list("QueueConfig"));
    put(
        "AgentConfig",
        free("the engine's agent configuration: id, name, skills, team, attributes, queues, capacity, auto_answer"),
    );
    put("AgentConfigs", list("AgentConfig"));
    put(
        "DeskSettings",
        obj(
            json!({ "not_ready_reasons": strings, "wrap_up_codes": strings, "business_hours": { "type": "object" }, "order_hook_url": s, "webhooks": { "type": "array", "items": obj(json!({ "url": s, "secret": s, "events": strings }), &["url", "secret"]) } }),
            &["not_ready_reasons", "wrap_up_codes"],
        ),
    );
    put(
        "VoiceStatus",
        free(
            "enabled, sip (address), registered (live registrations: device user → contact), devices (every configured phone: user, agent, registered, contact, expires_in_s, user_agent), calls (in progress)",
        ),
    );
    put(
        "VoiceSettings",
        obj(
            json!({ "devices": { "type": "array", "items": obj(json!({ "user": s, "password": s, "agent": n }), &["user", "password", "agent"]) }, "numbers": { "type": "array", "items": obj(json!({ "number": s, "flow": s }), &["number", "flow"]) }, "queue_media": obj(json!({ "announce_every_s": n, "announce_position": b, "announce_wait": b, "callback_key": s }), &[]), "record_calls": b, "survey": free("enabled, intro, questions [{id, prompt, min, max}], thanks, timeout_ms, retries, cooldown_days") }),
            &[],
        ),
    );
    put("Flows", json!({ "type": "array", "items": obj(json!({ "name": s, "version": n }), &["name", "version"]) }));
    put(
        "Flow",
        free(
            "an IVR flow: name, version, start, language, calendar, nodes {id: {type: play|menu|collect|hours|set|lookup|queue|callback_offer|voicemail|transfer|hangup, …}} (see crates/ivr/src/flow.rs)",
        ),
    );
    put("FlowVersion", obj(json!({ "name": s, "version": n }), &["name", "version"]));
    put(
        "Call",
        obj(
            json!({ "call": s, "contact": n, "direction": s, "caller": s, "callee": s, "started_at": t, "answered_at": t, "ended_at": t, "end_reason": s, "agent": n, "recording": s, "recording_ms": n, "quality": free("legs (per leg: rx_packets, rx_lost, loss_percent, jitter_ms, max_gap_ms, tx_packets, rx_level_dbfs, voiced_frames, one_way), announcements, transfer (an IVR transfer: to, at, outcome, outcome_at), voicemail_contact"), "voicemail": s }),
            &["call", "direction", "caller", "callee", "started_at"],
        ),
    );
    put("Calls", list("Call"));
    put(
        "SurveySummary",
        json!({ "type": "array", "items": obj(json!({ "agent": n, "queue": n, "question": s, "question_text": { "type": "string", "description": "what the question says in `lang`; its id when no longer configured" }, "count": n, "mean": { "type": "number" }, "scores": { "type": "array", "items": n, "description": "how many answered 1, 2, 3, 4, 5" } }), &["question", "question_text", "count", "mean", "scores"]) }),
    );
    put(
        "IvrNodeStats",
        json!({ "type": "array", "items": obj(json!({ "version": n, "node": s, "kind": s, "entered": n, "dropped": n, "outcomes": { "type": "object", "additionalProperties": n }, "timed": n, "total_ms": n, "mean_ms": { "type": "number" } }), &["version", "node", "entered"]) }),
    );
    put(
        "IvrNodeIntervals",
        json!({ "type": "array", "items": obj(json!({ "start": t, "end": t, "version": n, "node": s, "kind": s, "entered": n, "dropped": n, "outcomes": { "type": "object", "additionalProperties": n }, "timed": n, "total_ms": n, "mean_ms": { "type": "number" } }), &["start", "end", "version", "node", "entered"]) }),
    );
    put(
        "AuditEntries",
        json!({ "type": "array", "items": obj(json!({ "id": n, "at": t, "actor": s, "action": s, "record_type": s, "record_id": s, "detail": {} }), &[]) }),
    );
    m
}

fn operation(r: &RouteDoc) -> Value {
    let mut op = Map::new();
    op.insert("summary".into(), json!(r.summary));
    op.insert("tags".into(), json!([r.tag]));
    op.insert("x-roles".into(), json!(r.roles.iter().map(|r| r.name()).collect::<Vec<_>>()));
    if r.roles.is_empty() {
        op.insert("security".into(), json!([]));
    }
    let params: Vec<Value> = r
        .path
        .split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
        .collect();
    if !params.is_empty() {
        op.insert("parameters".into(), json!(params));
    }
    if let Some(body) = r.body {
        let media = if body == "Csv" { "text/csv" } else { "application/json" };
        op.insert(
            "requestBody".into(),
            json!({ "required": true, "content": { media: { "schema": { "$ref": format!("#/components/schemas/{body}") } } } }),
        );
    }
    let ok = match r.response {
        Some(name) => {
            json!({ "description": "OK", "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{name}") } } } })
        }
        None => json!({ "description": "OK" }),
    };
    let err = json!({ "description": "error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } });
    let mut responses = Map::new();
    responses.insert("200".into(), ok);
    responses.insert("400".into(), err.clone());
    if !r.roles.is_empty() {
        responses.insert("401".into(), err.clone());
        responses.insert("403".into(), err.clone());
    }
    responses.insert("404".into(), err.clone());
    responses.insert("409".into(), err);
    op.insert("responses".into(), Value::Object(responses));
    Value::Object(op)
}

/// The whole document.
pub fn document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for r in docs() {
        let entry = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        entry[r.method.as_str().to_ascii_lowercase()] = operation(&r);
    }
    paths.insert(
        "/healthz".into(),
        json!({ "get": { "summary": "200 when the engine and the store are ready", "tags": ["health"], "security": [], "x-roles": [], "responses": { "200": { "description": "ready" }, "503": { "description": "not ready" } } } }),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Switchboard API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The contact center's JSON API. Sign in with POST /api/login; the session cookie (or the token as a Bearer header) authenticates the rest. x-roles lists the roles each operation allows; others get 403. Errors are {\"error\":{\"code\",\"message\"}}. See docs/api.md.",
            "license": { "name": "MIT" }
        },
        "components": {
            "schemas": schemas(),
            "securitySchemes": {
                "session": { "type": "apiKey", "in": "cookie", "name": crate::auth::COOKIE },
                "bearer": { "type": "http", "scheme": "bearer" }
            }
        },
        "security": [{ "session": [] }, { "bearer": [] }],
        "paths": paths,
    })
}

/// The document as committed: pretty JSON with a final newline.
pub fn document_text() -> String {
    let mut s = serde_json::to_string_pretty(&document()).unwrap_or_default();
    s.push('\n');
    s
}
