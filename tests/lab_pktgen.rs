//! The RFC 2544 bench with pktgen-dpdk, in its short form (`bench/pktgen/run.sh --smoke`: 64 and
//! 1518-byte frames and the poisoning mix, dpdk-testpmd and the appliance with the default policy,
//! over net_memif): pktgen is built from `../shared/vendor` if needed, a rate is found for every
//! size and device, latency probes come back, and each device's own counters agree with
//! pktgen's. (Named `lab_` to run alone: it takes both CPUs and ~3.5 GB of hugepages.)
mod common;
use common::*;
use std::process::Command;
use std::time::Duration;

#[test]
fn lab_pktgen_rfc2544_smoke_finds_rates_and_the_counters_agree() {
    require_root();
    let s = Scratch::new("pktgen-smoke");
    let out = run_for(
        Command::new("bash").arg(repo().join("bench/pktgen/run.sh")).args(["--smoke", "--out"]).arg(s.path("out")).env("ANTIDOTE_CONFIG", "none"),
        Duration::from_secs(600),
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "bench/pktgen/run.sh --smoke failed:\n{text}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(s.path("out/results.json")).unwrap()).unwrap();
    for dut in ["testpmd", "antidote-default-policy"] {
        for size in [serde_json::json!(64), serde_json::json!(1518), serde_json::json!("mix")] {
            for kind in ["ndr", "pdr"] {
                let r = rows
                    .iter()
                    .find(|r| r["dut"] == dut && r["size"] == size && r["kind"] == kind)
                    .unwrap_or_else(|| panic!("no {kind} for {dut} at {size}:\n{text}"));
                assert!(r["mpps"].as_f64().unwrap() > 0.0 && r["received"].as_u64().unwrap() > 0, "{dut} {size} {kind}: no rate: {r}");
                assert!(r["loss_pct"].as_f64().unwrap() <= r["loss_tolerance_pct"].as_f64().unwrap(), "{r}");
                // The partial-drop rate lies above the search's floor (0.1 % of the line): the
                // device forwards. (The no-drop rate may rest on the floor here: on this VM's
                // memif, a trial at any higher rate can lose a few frames to the scheduler — a
                // CI run found testpmd's at 1518 bytes there — which is what the field reports
                // as no NDR above it.)
                if kind == "pdr" {
                    assert!(r["rate_pct"].as_f64().unwrap() > 0.1, "{dut} {size} pdr at the search's floor: {r}\n{text}");
                }
            }
            let probes: u64 =
                rows.iter().filter(|r| r["dut"] == dut && r["size"] == size && r["kind"] == "latency").map(|r| r["probes"].as_u64().unwrap()).sum();
            assert!(probes > 0, "{dut} {size}: no latency probe came back:\n{text}");
        }
        assert!(text.contains(&format!("report: {dut}: pktgen sent")) && !text.contains("DISAGREE"), "{text}");
    }
    assert!(s.path("out/results.csv").exists() && s.path("out/rfc2544.png").exists(), "{text}");
}
