//! The soak, three minutes of it (`scripts/soak.sh`; the 30-minute run's result is in
//! bench/RESULTS.md): the lab with mixed traffic, a poisoner, a policy pushed every second, a
//! hung alert sink, a link that goes down and up, the API hammered, SIGTERM at the end — every
//! frame and alert accounted for, resident memory flat, nothing left behind.
mod common;
use common::*;
use std::time::Duration;

#[test]
fn lab_soak_three_minutes_loses_nothing_uncounted() {
    require_root();
    let s = Scratch::new("lab-soak");
    let out = s.path("soak.json");
    let r = run_for(
        std::process::Command::new("bash").arg(repo().join("scripts/soak.sh")).args(["--minutes", "3", "--bin", bin(), "--out"]).arg(&out).current_dir(repo()),
        Duration::from_secs(420),
    );
    let text = String::from_utf8_lossy(&r.stdout).into_owned();
    assert!(r.status.success(), "{text}\n{}", String::from_utf8_lossy(&r.stderr));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    for check in ["accounting", "alerts", "memory", "pushes", "alive"] {
        assert_eq!(v["checks"][check], true, "{check}: {text}");
    }
    assert!(v["pushes"].as_u64().unwrap() >= 150 && v["link_flap_seen"] == true && v["hammer_answers"].as_u64().unwrap() > 100, "{text}");
    assert!(v["alerts"]["raised"].as_u64().unwrap() > 0, "the poisoner was alerted on: {text}");
}
