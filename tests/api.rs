//! The control API of a running appliance (real DPDK over net_pcap → net_null, `--no-huge`):
//! every endpoint, with bad input; and policies swapped 100 times under full-rate traffic with
//! every frame accounted for and the frames after each push following the new policy.
mod common;
use common::*;
use serde_json::Value;
use std::time::{Duration, Instant};

struct Api {
    base: String,
    token: String,
}

impl Api {
    fn req(&self, method: &str, path: &str, token: Option<&str>, body: Option<(&str, &[u8])>) -> (u16, String) {
        let mut r = ureq::request(method, &format!("{}{path}", self.base)).timeout(Duration::from_secs(10));
        if let Some(t) = token {
            r = r.set("Authorization", &format!("Bearer {t}"));
        }
        let res = match body {
            Some((ct, b)) => r.set("Content-Type", ct).send_bytes(b),
            None => r.call(),
        };
        match res {
            Ok(r) => (r.status(), r.into_string().unwrap_or_default()),
            Err(ureq::Error::Status(c, r)) => (c, r.into_string().unwrap_or_default()),
            Err(e) => panic!("{method} {path}: {e}"),
        }
    }
    fn get(&self, path: &str) -> (u16, Value) {
        let (c, b) = self.req("GET", path, Some(&self.token), None);
        (c, serde_json::from_str(&b).unwrap_or(Value::String(b)))
    }
    fn push(&self, src: &str) -> (u16, Value) {
        let (c, b) = self.req("PUT", "/v1/policy", Some(&self.token), Some(("text/plain", src.as_bytes())));
        (c, serde_json::from_str(&b).unwrap())
    }
}

/// A read-only token (the token file's `NAME:TOKEN:read`).
const READER: &str = "reader-token-0123456789abcdef";

fn start(s: &Scratch, policy: &str) -> (Appliance, Api) {
    let mix = s.path("mix.pcap");
    let g = run_for(std::process::Command::new("/usr/bin/python3").arg(repo().join("bench/gen_mix.py")).arg(&mix).arg("2048"), Duration::from_secs(60));
    assert!(g.status.success());
    let profile = format!(
        "name = \"api-test\"\nworker_lcores = [1]\nmemory_mb = 512\n[[port]]\nname = \"a\"\ndevice = \"net_pcap0,rx_pcap={},infinite_rx=1\"\n[[port]]\nname = \"b\"\ndevice = \"net_null0,no-rx=1\"\n[[pair]]\na = \"a\"\nb = \"b\"\n",
        mix.display()
    );
    std::fs::write(s.path("p.toml"), profile).unwrap();
    let (app, base) = start_with_api(
        s,
        &["run", "--profile", s.path("p.toml").to_str().unwrap(), "--policy", policy, "--stats-interval", "0"],
        &[],
        &format!("watcher:{READER}:read\n"),
    );
    (app, Api { base, token: TEST_TOKEN.into() })
}

#[test]
fn every_endpoint_with_good_and_bad_input() {
    require_root();
    let s = Scratch::new("api");
    let (mut app, api) = start(&s, "policies/default.policy");
    let t = Some(api.token.as_str());
    // Authentication.
    assert_eq!(api.req("GET", "/v1/stats", None, None).0, 401);
    let (c, b) = api.req("GET", "/v1/stats", Some("wrong-token-wrong-token"), None);
    assert_eq!(c, 401);
    assert!(b.contains("\"error\""), "{b}");
    // Unknown path, wrong method: JSON.
    let (c, b) = api.req("GET", "/v1/nothing", t, None);
    assert_eq!(c, 404);
    assert!(serde_json::from_str::<Value>(&b).unwrap()["error"].is_string());
    let (c, b) = api.req("DELETE", "/v1/stats", t, None);
    assert_eq!(c, 405);
    assert!(serde_json::from_str::<Value>(&b).unwrap()["error"].is_string());
    // Nothing to roll back to yet (the first policy runs): a conflict, with its reason.
    let (c, b) = api.req("POST", "/v1/policy/rollback", t, Some(("text/plain", b"")));
    assert_eq!(c, 409, "{b}");
    assert!(serde_json::from_str::<Value>(&b).unwrap()["error"].as_str().unwrap().contains("no earlier version"), "{b}");
    // Bodies: invalid JSON, oversized, invalid policy (422 with diagnostics; policy untouched).
    assert_eq!(api.req("PUT", "/v1/policy", t, Some(("application/json", b"{nope"))).0, 400);
    let big = vec![b'#'; (1 << 20) + 10];
    assert_eq!(api.req("PUT", "/v1/policy", t, Some(("text/plain", &big))).0, 413);
    let (_, before) = api.get("/v1/policy");
    let (c, v) = api.push("rule r { when llmnr.qnme == \"x\" then drop }");
    assert_eq!(c, 422);
    assert_eq!(v["diagnostics"][0]["code"], "E001");
    assert_eq!(v["diagnostics"][0]["line"], 1);
    assert_eq!(v["diagnostics"][0]["column"], 15);
    assert_eq!(v["diagnostics"][0]["hint"], "did you mean `llmnr.qname`?");
    assert_eq!(api.get("/v1/policy").1["version"], before["version"], "a bad push leaves the running policy");
    // Validate, push (plain and JSON), get, rollback.
    let (c, b) = api.req("POST", "/v1/policy/validate", t, Some(("text/plain", b"default pass")));
    assert_eq!(c, 200, "{b}");
    assert_eq!(api.req("POST", "/v1/policy/validate", t, Some(("text/plain", b"default maybe"))).0, 422);
    let (c, v) = api.push("rule syn { when tcp.syn then alert }\ndefault pass");
    assert_eq!(c, 200, "{v}");
    assert_eq!(v["version"], 2);
    let body = serde_json::json!({"source": "default pass"}).to_string();
    let (c, b) = api.req("PUT", "/v1/policy", t, Some(("application/json", body.as_bytes())));
    assert_eq!(c, 200, "{b}");
    let (c, p) = api.get("/v1/policy");
    assert_eq!(c, 200);
    assert_eq!(p["version"], 3);
    assert_eq!(p["source"], "default pass");
    assert!(p["hash"].as_str().unwrap().len() == 16 && p["loaded_at"].as_str().unwrap().ends_with('Z'));
    let (c, b) = api.req("POST", "/v1/policy/rollback", t, Some(("text/plain", b"")));
    assert_eq!(c, 200, "{b}");
    assert!(api.get("/v1/policy").1["source"].as_str().unwrap().contains("rule syn"), "rolled back to v2's source");
    // The last good policy persisted; every push audited.
    let saved = std::fs::read_to_string(s.path("state/policy.current")).unwrap();
    assert!(saved.contains("rule syn"));
    let audit = std::fs::read_to_string(s.path("state/audit.log")).unwrap();
    assert!(audit.lines().count() >= 4 && audit.contains("\"token\":\"tester\"") && audit.contains("rejected") && !audit.contains(&api.token));
    // Back to the default policy to learn poisoners from the mix.
    let src = std::fs::read_to_string(repo().join("policies/default.policy")).unwrap();
    assert_eq!(api.push(&src).0, 200);
    std::thread::sleep(Duration::from_millis(500));
    // Stats, metrics, alerts, tables, health.
    // Idle for longer than the sockets' read timeout (5 s): the API still answers (its accept
    // once ended there, and the control API with it).
    std::thread::sleep(Duration::from_millis(5_600));
    let (c, st) = api.get("/v1/stats");
    assert_eq!(c, 200);
    assert!(st["ports"][0]["rx"].as_u64().unwrap() > 0 && st["lcores"][0]["polls"].as_u64().unwrap() > 0);
    assert!(st["rules"].as_array().unwrap().iter().any(|r| r["name"] == "many-names"));
    assert!(st["swap_latency_us"]["count"].as_u64().unwrap() >= 4);
    let (c, m) = api.req("GET", "/metrics", t, None);
    assert_eq!(c, 200);
    assert!(m.contains("# TYPE antidote_port_rx_frames_total counter") && m.contains("antidote_rule_hits_total{rule=\"many-names\"}"));
    assert!(m.contains("antidote_learned_total{table=\"hosts\"}") && m.contains("antidote_learn_refused_total "), "{m}");
    // What the NIC lost before antidote saw it: per port, in the stats and the metrics.
    assert!(st["ports"][0]["nic"]["imissed"].is_u64() && st["ports"][0]["nic"]["rx_nombuf"].is_u64(), "{st}");
    assert!(m.contains("antidote_nic_rx_missed_frames_total{port=\"a\"}") && m.contains("antidote_nic_rx_nombuf_total"), "{m}");
    // Base units (a summary in seconds, with its sum and count), the build, the workers' lcores.
    assert!(m.contains("# TYPE antidote_policy_swap_latency_seconds summary") && m.contains("antidote_policy_swap_latency_seconds_sum "), "{m}");
    assert!(m.contains("antidote_policy_swap_latency_seconds_count ") && m.contains("antidote_build_info{version=\""), "{m}");
    assert!(m.contains("antidote_worker_last_poll_age_seconds{worker=\"0\",lcore=\"1\"}"), "{m}");
    for bad in ["0", "5000", "x"] {
        let (c, b) = api.req("GET", &format!("/v1/alerts?limit={bad}"), t, None);
        assert!(c == 400 && b.contains("`limit`"), "limit={bad}: {c} {b}");
    }
    let (c, a) = api.get("/v1/alerts?limit=5");
    assert_eq!(c, 200);
    assert!(a["alerts"].as_array().unwrap().len() <= 5 && a["next"].is_u64());
    assert_eq!(api.get("/v1/alerts?since=yesterday").0, 400);
    let (c, tb) = api.get("/v1/tables");
    assert_eq!(c, 200);
    assert_eq!(tb["tables"][0]["name"], "poisoners");
    let (c, entries) = api.get("/v1/tables/poisoners");
    assert_eq!(c, 200);
    let key = entries["entries"][0]["key"].as_str().expect("the mix's poisoners were learned").to_string();
    assert!(entries["entries"][0]["ttl_left_ms"].as_u64().unwrap() > 0);
    assert_eq!(api.req("DELETE", &format!("/v1/tables/poisoners/{key}"), t, None).0, 200);
    assert_eq!(api.req("DELETE", "/v1/tables/poisoners/not-an-ip", t, None).0, 400);
    // The operator names a name's owner and binds an address: evidence `operator`.
    let json = |b: &'static str| Some(("application/json", b.as_bytes()));
    assert_eq!(api.req("PUT", "/v1/tables/owners/CORPFS09", t, json(r#"{"mac": "02:aa:00:00:00:09"}"#)).0, 200);
    let (_, o) = api.get("/v1/tables/owners");
    let e = o["entries"].as_array().unwrap().iter().find(|e| e["key"] == "corpfs09").expect("the operator's owner").clone();
    assert_eq!((e["mac"].as_str().unwrap(), e["evidence"].as_str().unwrap()), ("02:aa:00:00:00:09", "operator"), "{e}");
    assert_eq!(api.req("PUT", "/v1/tables/hosts/198.18.9.9", t, json(r#"{"mac": "02:aa:00:00:00:09", "segment": 0}"#)).0, 200);
    assert_eq!(api.req("PUT", "/v1/tables/hosts/not-an-ip", t, json(r#"{"mac": "02:aa:00:00:00:09"}"#)).0, 400);
    let (c, b) = api.req("PUT", "/v1/tables/owners/x", t, json(r#"{"mac": "nope"}"#));
    assert!(c == 400 && b.contains("`mac` must be a MAC address"), "{b}");
    assert_eq!(api.req("PUT", "/v1/tables/owners/x", t, json("{not json")).0, 400);
    assert_eq!(api.get("/v1/tables/nosuch").0, 404);
    // The addresses learned from the mix's ARP frames, with their MACs and evidence.
    let hosts = tb["tables"].as_array().unwrap().iter().find(|t| t["name"] == "hosts").expect("the hosts table is listed").clone();
    assert!(hosts["entries"].as_u64().unwrap() > 0 && hosts["type"] == "ip -> mac", "{hosts}");
    let (c, h) = api.get("/v1/tables/hosts");
    assert_eq!(c, 200);
    let first = &h["entries"][0];
    assert!(first["mac"].as_str().unwrap().len() == 17 && first["evidence"] == "arp" && first["ttl_left_ms"].as_u64().unwrap() > 0, "{h}");
    let ip = first["key"].as_str().unwrap().to_string();
    assert_eq!(api.req("DELETE", &format!("/v1/tables/hosts/{ip}"), t, None).0, 200);
    assert_eq!(api.req("DELETE", "/v1/tables/hosts/not-an-ip", t, None).0, 400);
    assert_eq!(api.req("DELETE", "/v1/tables/hosts/198.18.255.254", t, None).0, 404);
    // A read-only token reads and validates; it changes nothing (403 with a JSON reason).
    let r = Some(READER);
    assert_eq!(api.req("GET", "/v1/stats", r, None).0, 200);
    assert_eq!(api.req("GET", "/metrics", r, None).0, 200);
    assert_eq!(api.req("POST", "/v1/policy/validate", r, Some(("text/plain", b"rule x { when tcp.syn then drop }"))).0, 200);
    let (c, b) = api.req("PUT", "/v1/policy", r, Some(("text/plain", b"rule x { when tcp.syn then drop }")));
    assert_eq!(c, 403, "{b}");
    assert!(serde_json::from_str::<Value>(&b).unwrap()["error"].as_str().unwrap().contains("read-only"), "{b}");
    assert_eq!(api.req("POST", "/v1/policy/rollback", r, None).0, 403);
    assert_eq!(api.req("DELETE", &format!("/v1/tables/hosts/{ip}"), r, None).0, 403);
    // Table changes are audited: who, what, the status.
    let audit = std::fs::read_to_string(s.path("state/audit.log")).unwrap();
    assert!(audit.contains(&format!("\"action\":\"DELETE table hosts {ip}\"")) && audit.contains("\"status\":200"), "{audit}");
    // The addresses ordinary traffic shows (a sample of the mix's frames), weak evidence.
    let (c, tr) = api.get("/v1/tables/traffic");
    assert_eq!(c, 200);
    let e = &tr["entries"][0];
    assert!(e["evidence"].as_str().unwrap().starts_with("traffic") && e["confirmed"].is_boolean() && tr["max"] == 16384, "{tr}");
    assert!(tb["tables"].as_array().unwrap().iter().any(|t| t["name"] == "traffic"), "{tb}");
    let (c, h) = api.get("/v1/health");
    assert_eq!(c, 200, "{h}");
    // A client that stops sending its body is cut off after the socket's 5 s timeout (tiny_http
    // closes the connection, or answers 408), and the API keeps serving others meanwhile.
    {
        use std::io::{Read, Write};
        let addr = api.base.trim_start_matches("http://");
        let mut sock = std::net::TcpStream::connect(addr).unwrap();
        sock.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        write!(sock, "PUT /v1/policy HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: 100\r\n\r\ndefault", api.token).unwrap();
        let t = Instant::now();
        assert_eq!(api.get("/v1/health").0, 200, "a stalled client blocked the API");
        let mut answer = String::new();
        let _ = sock.read_to_string(&mut answer);
        assert!(answer.is_empty() || answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(t.elapsed() < Duration::from_secs(10), "the stalled client was not cut off");
    }
    let (ok, log) = app.stop();
    assert!(ok, "{log}");
    // What was learned of the network is kept in the state directory, and read at the next start.
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(s.path("state/network.json")).expect("the learned network is saved")).unwrap();
    let hosts = saved["hosts"].as_array().unwrap().len();
    assert!(hosts > 0, "{saved}");
    let (mut app, _api) = start(&s, "policies/default.policy");
    app.wait_for("learned network:", Duration::from_secs(10));
    assert!(app.log_text().contains(&format!("learned network: {hosts} hosts")), "{}", app.log_text());
    let (ok, log) = app.stop();
    assert!(ok, "{log}");
}

#[test]
fn https_with_a_certificate() {
    require_root();
    let s = Scratch::new("api-tls");
    let (cert, key) = (s.path("cert.pem"), s.path("key.pem"));
    let o = run_for(
        std::process::Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost", "-keyout"])
            .arg(&key)
            .arg("-out")
            .arg(&cert),
        Duration::from_secs(60),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::write(s.path("token"), "t:tls-test-token-0123456789\n").unwrap();
    std::fs::write(
        s.path("p.toml"),
        "name = \"tls\"\nworker_lcores = [1]\nmemory_mb = 256\n[[port]]\nname = \"a\"\ndevice = \"net_null0\"\n[[port]]\nname = \"b\"\ndevice = \"net_null1\"\n[[pair]]\na = \"a\"\nb = \"b\"\n",
    )
    .unwrap();
    let mut app = Appliance::start(
        &[
            "run",
            "--profile",
            s.path("p.toml").to_str().unwrap(),
            "--control",
            "127.0.0.1:0",
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
            "--token-file",
            s.path("token").to_str().unwrap(),
            "--state-dir",
            s.path("state").to_str().unwrap(),
            "--stats-interval",
            "0",
        ],
        &s.path("run.log"),
    );
    app.wait_for("control API on https://", Duration::from_secs(30));
    let log = app.log_text();
    let addr = log.lines().find_map(|l| l.split("control API on https://").nth(1)).unwrap().split_whitespace().next().unwrap().to_string();
    let out = run_for(
        std::process::Command::new("curl").args(["-sk", "-H", "Authorization: Bearer tls-test-token-0123456789"]).arg(format!("https://{addr}/v1/health")),
        Duration::from_secs(20),
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"status\""), "{}", String::from_utf8_lossy(&out.stdout));
    let plain = run_for(std::process::Command::new("curl").args(["-s", "-m", "3"]).arg(format!("http://{addr}/v1/health")), Duration::from_secs(20));
    assert!(!String::from_utf8_lossy(&plain.stdout).contains("\"status\""), "plain HTTP must not be served");
    app.stop();
}

#[test]
fn swaps_under_load_lose_no_frame_and_take_effect_at_once() {
    require_root();
    let s = Scratch::new("api-swap");
    let (mut app, api) = start(&s, "policies/default.policy");
    let drop_all = "default drop";
    let pass_all = "default pass";
    let tx = |api: &Api| api.get("/v1/stats").1["ports"][0]["tx"].as_u64().unwrap();
    let dropped = |api: &Api| api.get("/v1/stats").1["ports"][0]["dropped"].as_u64().unwrap();
    let t0 = Instant::now();
    for i in 0..100 {
        let drop = i % 2 == 0;
        let (c, v) = api.push(if drop { drop_all } else { pass_all });
        assert_eq!(c, 200, "{v}");
        assert!(v["swap_us"].is_u64(), "a worker did not take version {}: {v}", v["version"]);
        // After the push returns every worker runs the new version: what follows obeys it.
        if i % 10 < 2 {
            let (a, b) = if drop {
                (tx(&api), {
                    std::thread::sleep(Duration::from_millis(30));
                    tx(&api)
                })
            } else {
                (dropped(&api), {
                    std::thread::sleep(Duration::from_millis(30));
                    dropped(&api)
                })
            };
            assert_eq!(
                a,
                b,
                "push {i} ({}): frames still {} after the swap",
                if drop { "drop all" } else { "pass all" },
                if drop { "forwarded" } else { "dropped" }
            );
        }
    }
    eprintln!("100 pushes under load in {:?}", t0.elapsed());
    let (_, st) = api.get("/v1/stats");
    eprintln!("swap latency: {}", st["swap_latency_us"]);
    let (ok, log) = app.stop();
    assert!(ok, "{log}");
    let fl = final_line(&log);
    let (rx, tx, dropped, full) = (counter(&fl, "a→b", "rx"), counter(&fl, "a→b", "tx"), counter(&fl, "a→b", "dropped"), counter(&fl, "a→b", "txfull"));
    assert!(rx > 100_000, "{fl}");
    assert!(dropped > 0 && tx > 0, "{fl}");
    assert_eq!(rx, tx + dropped + full, "every frame accounted for: {fl}");
    // And what the NIC lost before that, in the same line.
    let _ = counter(&fl, "a→b", "nicdrop");
    // The alerts' line adds up: every alert raised is written as it came, folded into a summary
    // or lost (counted).
    let line = log.lines().find(|l| l.starts_with("antidote: alerts: ")).expect("an alerts line");
    let n: Vec<u64> = line.split(|c: char| !c.is_ascii_digit()).filter_map(|w| w.parse().ok()).collect();
    assert!(line.contains(" raised = ") && line.contains(" written as they came + ") && line.contains(" lost (queue full)"), "{line}");
    let unknown = if line.contains("of a policy no longer known") { n[5] } else { 0 };
    assert_eq!(n[0], n[1] + n[2] + n[4] + unknown, "raised = written + folded + lost + of an old policy: {line}");
}

#[test]
fn rule_hits_follow_rule_names_across_a_swap() {
    // Hits belong to a rule, not to a position: after a swap that puts a new rule first, the new
    // rule starts at zero and the kept rule goes on counting.
    require_root();
    let s = Scratch::new("api-rule-hits");
    let (mut app, api) = start(&s, "policies/default.policy");
    let hits = |api: &Api| -> Vec<(String, u64)> {
        let (_, st) = api.get("/v1/stats");
        st["rules"].as_array().unwrap().iter().map(|r| (r["name"].as_str().unwrap().to_string(), r["hits"].as_u64().unwrap())).collect()
    };
    let (c, v) = api.push("rule tcp-seen { when tcp.dport > 0 then pass }");
    assert_eq!(c, 200, "{v}");
    std::thread::sleep(Duration::from_millis(300));
    let before = hits(&api);
    assert_eq!(before.len(), 1);
    assert!(before[0].1 > 1000, "the mix is mostly TCP: {before:?}");
    let (c, v) = api.push("rule never { when udp.dport == 9 then drop }\nrule tcp-seen { when tcp.dport > 0 then pass }");
    assert_eq!(c, 200, "{v}");
    std::thread::sleep(Duration::from_millis(300));
    let after = hits(&api);
    assert_eq!(after[0], ("never".to_string(), 0), "{after:?}");
    assert_eq!(after[1].0, "tcp-seen");
    assert!(after[1].1 > before[0].1, "the kept rule goes on counting: {before:?} -> {after:?}");
    let (ok, log) = app.stop();
    assert!(ok, "{log}");
}

/// Pins the calling thread (and the threads it starts afterwards) to CPU 0: the worker's core
/// (lcore 1) is the appliance's alone, as the profile's CPU set makes it on a real box.
fn pin_to_cpu0() {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET writes within it;
    // sched_setaffinity reads it for the calling thread (pid 0).
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(0, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}

#[test]
fn the_api_hammered_keeps_answering_and_the_dataplane_keeps_forwarding() {
    // Hundreds of concurrent clients, a client that never finishes its request, a request with
    // oversized headers: the API answers a health check within a second all along, and the
    // worker forwards at the rate it had before (the clients run on the main lcore's CPU).
    require_root();
    let s = Scratch::new("api-hammer");
    let (mut app, api) = start(&s, "policies/default.policy");
    pin_to_cpu0();
    // (Beyond 32 requests in flight the API sheds load with a 503 "retry": so do we.)
    let rx = |api: &Api| loop {
        let (c, v) = api.get("/v1/stats");
        match v["ports"][0]["rx"].as_u64() {
            Some(n) => break n,
            None if c == 503 => std::thread::sleep(Duration::from_millis(20)),
            None => panic!("/v1/stats: {c} {v}"),
        }
    };
    let rate = |api: &Api| {
        let (a, t) = (rx(api), Instant::now());
        std::thread::sleep(Duration::from_millis(1500));
        (rx(api) - a) as f64 / t.elapsed().as_secs_f64()
    };
    let before = rate(&api);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let addr = api.base.trim_start_matches("http://").to_string();
    // A client that sends half a request and waits.
    let mut slow = std::net::TcpStream::connect(&addr).unwrap();
    std::io::Write::write_all(&mut slow, b"GET /v1/stats HTTP/1.1\r\nHost: x\r\n").unwrap();
    // 200 clients asking for the stats, the metrics and the tables, over and over.
    let clients: Vec<_> = (0..200)
        .map(|i| {
            let (stop, base, token) = (stop.clone(), api.base.clone(), api.token.clone());
            std::thread::spawn(move || {
                let mut answered = 0u64;
                let path = ["/v1/stats", "/metrics", "/v1/tables", "/v1/health"][i % 4];
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let r = ureq::get(&format!("{base}{path}")).set("Authorization", &format!("Bearer {token}")).timeout(Duration::from_secs(10)).call();
                    answered += r.is_ok() as u64;
                }
                answered
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    // Oversized headers: refused with a 4xx (or the connection closed), never a crash.
    let big = "x".repeat(64 * 1024);
    match ureq::get(&format!("{}/v1/health", api.base)).set("X-Big", &big).timeout(Duration::from_secs(10)).call() {
        Ok(r) => panic!("64 KiB of headers accepted: {}", r.status()),
        Err(ureq::Error::Status(c, _)) => assert!((400..500).contains(&c), "{c}"),
        Err(_) => {} // the server closed the connection
    }
    let during = rate(&api);
    // Health answers within a second while the hammering goes on.
    let mut worst = Duration::ZERO;
    for _ in 0..10 {
        let t = Instant::now();
        let (c, v) = api.get("/v1/health");
        worst = worst.max(t.elapsed());
        assert!(c == 200 && v["status"].is_string(), "the health check is answered even when the API sheds load: {c} {v}");
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let answered: u64 = clients.into_iter().map(|c| c.join().unwrap()).sum();
    drop(slow);
    println!("dataplane {before:.0} fps before, {during:.0} during; {answered} API answers; worst health {worst:?}");
    assert!(answered > 1000, "the clients were answered: {answered}");
    assert!(worst < Duration::from_secs(1), "health took {worst:?} under the hammering");
    // Rates are compared generously: this test shares two CPUs with others running beside it
    // (the figures on a quiet machine are in bench/RESULTS.md: the same rate before and during).
    // What it catches is the collapse the clients caused on the worker's own CPU (24 -> 4 Mpps).
    assert!(during > 0.4 * before, "the dataplane collapsed under the hammering: {before:.0} -> {during:.0} frames/s");
    let (ok, log) = app.stop();
    assert!(ok, "{log}");
}
