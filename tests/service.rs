//! The appliance as a service runs it: every setting from one configuration file (`antidote run
//! --config`, by default /etc/antidote/antidote.toml), and SIGHUP (`systemctl reload`,
//! logrotate) to reopen the alert files and push the configured policy again.
mod common;
use common::*;
use serde_json::Value;
use std::process::Command;
use std::time::{Duration, Instant};

/// Two silent net_null ports, one worker, no hugepages; with `canary`, a canary identity on the
/// pair.
fn quiet_profile(s: &Scratch, canary: bool) -> std::path::PathBuf {
    let mut text = "name = \"service\"\nworker_lcores = [1]\nmemory_mb = 256\n[[port]]\nname = \"a\"\ndevice = \"net_null0,no-rx=1\"\n[[port]]\nname = \"b\"\ndevice = \"net_null1,no-rx=1\"\n[[pair]]\na = \"a\"\nb = \"b\"\n".to_string();
    if canary {
        text += "canary_mac = \"02:cc:00:00:00:fa\"\ncanary_ipv4 = \"198.18.0.250/24\"\n";
    }
    let p = s.path(if canary { "quiet-canary.toml" } else { "quiet.toml" });
    std::fs::write(&p, text).unwrap();
    p
}

fn get(base: &str, path: &str) -> Value {
    let r = ureq::get(&format!("{base}{path}")).set("Authorization", &format!("Bearer {TEST_TOKEN}")).timeout(Duration::from_secs(10)).call().unwrap();
    serde_json::from_str(&r.into_string().unwrap()).unwrap()
}

#[test]
fn the_configuration_file_runs_the_appliance_and_sighup_reopens_alert_files_and_pushes_its_policy() {
    require_root();
    let s = Scratch::new("service-config");
    std::fs::rename(quiet_profile(&s, false), s.path("profile.toml")).unwrap();
    let policy = std::fs::read_to_string(repo().join("policies/default.policy")).unwrap();
    std::fs::write(s.path("site.policy"), &policy).unwrap();
    std::fs::write(s.path("token"), format!("tester:{TEST_TOKEN}\n")).unwrap();
    // Every path relative to the file's folder; no flag but --config.
    std::fs::write(
        s.path("antidote.toml"),
        "profile = \"profile.toml\"\npolicy = \"site.policy\"\nstats_interval = 0\n\n[alerts]\nsinks = [\"alerts.jsonl\"]\nwindow = 5\n\n\
         [control]\nlisten = \"127.0.0.1:0\"\ntoken_file = \"token\"\nstate_dir = \"state\"\n\n[canaries]\ninterval = 0\n",
    )
    .unwrap();
    let cfg = s.path("antidote.toml");
    let mut app = Appliance::start(&["run", "--config", cfg.to_str().unwrap()], &s.path("run.log"));
    app.wait_for("control API on http://", Duration::from_secs(30));
    let log = app.log_text();
    let base = log.lines().find_map(|l| l.split("control API on ").nth(1)).unwrap().split_whitespace().next().unwrap().trim_end_matches('/').to_string();
    let p = get(&base, "/v1/policy");
    assert_eq!((p["version"].as_u64(), p["source"].as_str()), (Some(1), Some(policy.as_str())), "the configured policy runs");
    assert!(s.path("alerts.jsonl").exists() && s.path("state").is_dir(), "the configured sink and state folder");
    let pid = app.child.as_ref().unwrap().id().to_string();
    let hup = || assert!(Command::new("kill").args(["-HUP", &pid]).status().unwrap().success());
    let wait = |app: &mut Appliance, needle: &str, n: usize| {
        let t = Instant::now();
        while app.log_text().matches(needle).count() < n {
            assert!(t.elapsed() < Duration::from_secs(10), "no {n}× `{needle}`:\n{}", app.log_text());
            std::thread::sleep(Duration::from_millis(50));
        }
    };

    // logrotate moves the alert file away; the policy file is edited; SIGHUP.
    std::fs::rename(s.path("alerts.jsonl"), s.path("alerts.jsonl.1")).unwrap();
    let edited = format!("{policy}\n# edited for the reload test\n");
    std::fs::write(s.path("site.policy"), &edited).unwrap();
    hup();
    wait(&mut app, "installed as policy version 2", 1);
    let p = get(&base, "/v1/policy");
    assert_eq!((p["version"].as_u64(), p["source"].as_str()), (Some(2), Some(edited.as_str())), "SIGHUP pushed the file again");
    let t = Instant::now();
    while !s.path("alerts.jsonl").exists() {
        assert!(t.elapsed() < Duration::from_secs(5), "the alert file was not opened again");
        std::thread::sleep(Duration::from_millis(20));
    }
    let audit = std::fs::read_to_string(s.path("state/audit.log")).unwrap();
    assert!(audit.lines().any(|l| l.contains("sighup") && l.contains("installed")), "{audit}");

    // A policy with an error: reported with its caret, the running one stays.
    std::fs::write(s.path("site.policy"), "rule broken {\n  when udp.dport == \n  then drop\n}\n").unwrap();
    hup();
    wait(&mut app, "was not installed; the running policy stays", 1);
    assert!(app.log_text().contains("site.policy:"), "{}", app.log_text());
    assert_eq!(get(&base, "/v1/policy")["version"].as_u64(), Some(2));

    // A flag overrides the file: a missing profile named by --profile fails, naming it.
    let r = run_for(Command::new(bin()).args(["run", "--config"]).arg(&cfg).args(["--profile", "/nonexistent/p.toml", "--dry-run"]), Duration::from_secs(20));
    assert!(!r.status.success() && String::from_utf8_lossy(&r.stderr).contains("/nonexistent/p.toml"), "{}", String::from_utf8_lossy(&r.stderr));
    let (ok, log) = app.stop();
    assert!(ok, "{log}");
}

#[test]
fn a_configuration_file_with_a_mistake_is_refused_with_its_line_and_key() {
    let s = Scratch::new("service-config-bad");
    std::fs::write(s.path("antidote.toml"), "profile = \"p.toml\"\n\n[control]\nlisten = \"127.0.0.1:9440\"\nstate-dir = \"/var/lib/antidote\"\n").unwrap();
    let r = run_for(Command::new(bin()).args(["run", "--config"]).arg(s.path("antidote.toml")), Duration::from_secs(20));
    let err = String::from_utf8_lossy(&r.stderr).to_string();
    assert!(!r.status.success(), "{err}");
    assert!(err.contains("antidote.toml") && err.contains("line 5") && err.contains("state-dir") && err.contains("state_dir"), "{err}");
    let r = run_for(Command::new(bin()).args(["run", "--config", "/nonexistent/antidote.toml"]), Duration::from_secs(20));
    assert!(!r.status.success() && String::from_utf8_lossy(&r.stderr).contains("/nonexistent/antidote.toml"));
}

#[test]
fn preflight_says_one_line_per_check_and_stops_at_the_first_failure_with_what_to_do() {
    require_root();
    let pre = |args: &[&str]| {
        let r = run_for(Command::new(bin()).arg("preflight").args(args).current_dir(repo()), Duration::from_secs(20));
        (r.status.success(), String::from_utf8_lossy(&r.stdout).to_string() + &String::from_utf8_lossy(&r.stderr))
    };
    // A profile this machine can run, with the default policy: every line `ok` (or a warning).
    let (ok, out) = pre(&["--profile", "hw-profiles/null.toml", "--policy", "policies/default.policy"]);
    assert!(ok, "{out}");
    for what in ["profile", "policy", "root", "lcores", "port", "mempool", "hugepages", "mirror", "isolation"] {
        assert!(out.lines().any(|l| (l.starts_with("ok    ") || l.starts_with("warn  ")) && l[6..].starts_with(&format!("{what}:"))), "no {what} line:\n{out}");
    }
    // The Intel profile names lcores and PCI devices this 2-CPU vdev machine lacks.
    let (ok, out) = pre(&["--profile", "hw-profiles/intel-x710.toml"]);
    assert!(!ok, "{out}");
    let last = out.lines().last().unwrap();
    assert!(last.starts_with("FAIL  lcores: ") && last.contains("does not exist on this machine"), "{out}");
    // A policy that mirrors, on a profile with no mirror port.
    let (ok, out) = pre(&["--profile", "hw-profiles/null.toml", "--policy", "policies/mirror-only.policy"]);
    assert!(!ok && out.lines().last().unwrap().starts_with("FAIL  mirror: the policy mirrors (rule `mirror-name-resolution`)"), "{out}");
    // A mempool too small for its descriptors: found before EAL, by `run --dry-run` too.
    let s = Scratch::new("preflight");
    let small = std::fs::read_to_string(repo().join("hw-profiles/null.toml")).unwrap().replace("mempool_mbufs = 16383", "mempool_mbufs = 1024");
    std::fs::write(s.path("small.toml"), small).unwrap();
    let r = run_for(Command::new(bin()).args(["run", "--dry-run", "--profile"]).arg(s.path("small.toml")), Duration::from_secs(20));
    let out = String::from_utf8_lossy(&r.stdout);
    assert!(!r.status.success() && out.lines().last().unwrap().starts_with("FAIL  mempool: ") && out.contains("raise it to at least"), "{out}");
}

#[test]
fn dpdk_telemetry_reads_the_running_appliance() {
    // Telemetry is on by default: DPDK's own `dpdk-telemetry.py` lists the ports of a running
    // appliance and reads their counters.
    require_root();
    let s = Scratch::new("telemetry");
    let profile = quiet_profile(&s, false);
    let mut app = Appliance::start(&["run", "--profile", profile.to_str().unwrap(), "--stats-interval", "0"], &s.path("run.log"));
    app.wait_for("running:", Duration::from_secs(30));
    let pid = app.child.as_ref().unwrap().id();
    let mut child = Command::new("/usr/bin/dpdk-telemetry.py")
        .args(["-f", &format!("antidote-{pid}")])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(b"/ethdev/list\n/ethdev/stats,0\n").unwrap();
    }
    let t = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(t.elapsed() < Duration::from_secs(15), "dpdk-telemetry.py did not finish");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let docs: Vec<Value> = text.lines().filter_map(|l| serde_json::from_str(l.trim()).ok()).collect();
    assert!(docs.iter().any(|d| d["/ethdev/list"] == serde_json::json!([0, 1])), "{text}");
    assert!(docs.iter().any(|d| d["/ethdev/stats"]["ipackets"].is_u64()), "{text}");
    let (ok, log) = app.stop();
    assert!(ok, "{log}");
}

#[test]
fn every_metric_the_grafana_dashboard_names_exists() {
    // packaging/grafana/antidote.json reads the Prometheus metrics of a running appliance: each
    // metric its panels name is one /metrics serves (a renamed metric breaks a panel silently).
    require_root();
    let s = Scratch::new("grafana");
    let profile = quiet_profile(&s, true);
    let (mut app, base) = start_with_api(&s, &["run", "--profile", profile.to_str().unwrap(), "--policy", "policies/default.policy"], &[], "");
    let text = ureq::get(&format!("{base}/metrics"))
        .set("Authorization", &format!("Bearer {TEST_TOKEN}"))
        .timeout(Duration::from_secs(10))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    let served: std::collections::BTreeSet<&str> = text.lines().filter_map(|l| l.strip_prefix("# TYPE ")).filter_map(|l| l.split_whitespace().next()).collect();
    let dash: Value = serde_json::from_str(&std::fs::read_to_string(repo().join("packaging/grafana/antidote.json")).unwrap()).unwrap();
    let mut named = std::collections::BTreeSet::new();
    for p in dash["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().unwrap() {
            let e = t["expr"].as_str().unwrap();
            let mut rest = e;
            while let Some(i) = rest.find("antidote_") {
                let name: String = rest[i..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                rest = &rest[i + name.len()..];
                named.insert(name);
            }
        }
    }
    assert!(named.len() >= 25, "{named:?}");
    let missing: Vec<&String> = named
        .iter()
        .filter(|n| !served.contains(n.as_str()) && !["_sum", "_count"].iter().any(|s| n.strip_suffix(s).is_some_and(|b| served.contains(b))))
        .collect();
    assert!(missing.is_empty(), "the dashboard names metrics /metrics does not serve: {missing:?}\nserved: {served:?}");
    let (ok, log) = app.stop();
    assert!(ok, "{log}");
}
