//! Alerts checked against the Elastic Common Schema's own field definitions: npm's `@elastic/ecs`
//! package (9.x) — its `EcsFlat` table, the compiled form of `generated/ecs_flat.ts` — fetched
//! with `npm pack` at test time (cached in target/ecs) and read with node; nothing of it is
//! copied into the project. Every field of a document must be an ECS field of the right type
//! (its values among the allowed ones, an `event.type` expected for the `event.category`), or
//! sit under the product's own namespace `antidote.*`.
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::OnceLock;

/// ECS's flat table: field name → definition (`type`, `allowed_values`, …).
pub fn definitions() -> &'static BTreeMap<String, Value> {
    static DEFS: OnceLock<BTreeMap<String, Value>> = OnceLock::new();
    DEFS.get_or_init(|| {
        let dir = super::repo().join("target/ecs");
        let js = dir.join("package/build/commonjs/ecs_flat.js");
        if !js.exists() {
            std::fs::create_dir_all(&dir).unwrap();
            let r = super::run_for(Command::new("npm").args(["pack", "@elastic/ecs@9", "--silent"]).current_dir(&dir), std::time::Duration::from_secs(180));
            assert!(r.status.success(), "npm pack @elastic/ecs@9: {}", String::from_utf8_lossy(&r.stderr));
            let tgz = String::from_utf8_lossy(&r.stdout).lines().last().unwrap_or_default().trim().to_string();
            let r = super::run_for(Command::new("tar").args(["xzf", &tgz]).current_dir(&dir), std::time::Duration::from_secs(60));
            assert!(r.status.success(), "tar xzf {tgz}: {}", String::from_utf8_lossy(&r.stderr));
        }
        let r = super::run_for(
            Command::new("node").arg("-e").arg(format!("process.stdout.write(JSON.stringify(require({:?}).EcsFlat))", js.display().to_string())),
            std::time::Duration::from_secs(60),
        );
        assert!(r.status.success(), "node: {}", String::from_utf8_lossy(&r.stderr));
        let v: BTreeMap<String, Value> = serde_json::from_slice(&r.stdout).unwrap();
        assert!(v.len() > 1000 && v.contains_key("source.ip"), "ECS's flat table looks wrong: {} fields", v.len());
        v
    })
}

/// A document's leaves as (dotted name, value); arrays of objects are walked into, arrays of
/// plain values kept whole.
fn flatten(prefix: &str, v: &Value, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let name = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&name, x, out);
            }
        }
        Value::Array(a) if a.iter().any(Value::is_object) => {
            for x in a {
                flatten(prefix, x, out);
            }
        }
        _ => out.push((prefix.to_string(), v.clone())),
    }
}

fn type_fits(ty: &str, v: &Value) -> bool {
    let one = |v: &Value| match ty {
        "keyword" | "constant_keyword" | "wildcard" | "match_only_text" | "text" => v.is_string(),
        "ip" => v.as_str().is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok()),
        "long" | "integer" | "short" | "byte" | "unsigned_long" => v.is_i64() || v.is_u64(),
        "float" | "double" | "scaled_float" | "half_float" => v.is_number(),
        "boolean" => v.is_boolean(),
        "date" => v.as_str().is_some_and(|s| s.len() >= 20 && s.as_bytes()[4] == b'-' && s.as_bytes()[10] == b'T'),
        "object" | "flattened" | "nested" => true,
        _ => false,
    };
    match v {
        Value::Array(a) => a.iter().all(one),
        _ => one(v),
    }
}

/// What is wrong with `doc` by ECS, one line per field (empty: nothing).
pub fn problems(doc: &Value) -> Vec<String> {
    let defs = definitions();
    let mut leaves = Vec::new();
    flatten("", doc, &mut leaves);
    let mut out = Vec::new();
    for (name, v) in &leaves {
        if name == "antidote" || name.starts_with("antidote.") {
            continue;
        }
        let Some(def) = defs.get(name) else {
            // Under an ECS field of type object or flattened (`labels.*`), any name goes.
            let parent_open =
                name.rmatch_indices('.').any(|(i, _)| defs.get(&name[..i]).is_some_and(|d| matches!(d["type"].as_str(), Some("object" | "flattened"))));
            if !parent_open {
                out.push(format!("{name}: not an ECS field (and not under antidote.*)"));
            }
            continue;
        };
        let ty = def["type"].as_str().unwrap_or("");
        if !type_fits(ty, v) {
            out.push(format!("{name}: {v} is not of ECS type {ty}"));
        }
        if let Some(allowed) = def["allowed_values"].as_array() {
            let names: Vec<&str> = allowed.iter().filter_map(|a| a["name"].as_str()).collect();
            let vals: Vec<&Value> = match v {
                Value::Array(a) => a.iter().collect(),
                x => vec![x],
            };
            for x in vals {
                if !x.as_str().is_some_and(|s| names.contains(&s)) {
                    out.push(format!("{name}: {x} is not an allowed value ({names:?})"));
                }
            }
        }
    }
    // `event.type` must be one that ECS expects for one of the event's categories.
    if let (Some(cats), Some(types)) = (doc["event"]["category"].as_array(), doc["event"]["type"].as_array()) {
        let allowed = defs["event.category"]["allowed_values"].as_array().cloned().unwrap_or_default();
        let expected: Vec<&str> = allowed
            .iter()
            .filter(|a| cats.iter().any(|c| c.as_str() == a["name"].as_str()))
            .flat_map(|a| a["expected_event_types"].as_array().into_iter().flatten().filter_map(Value::as_str))
            .collect();
        for t in types.iter().filter_map(Value::as_str) {
            if !expected.contains(&t) {
                out.push(format!("event.type {t:?} is not one ECS expects for event.category {cats:?} ({expected:?})"));
            }
        }
    }
    out
}
