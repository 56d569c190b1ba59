//! Faults an operator meets (issue 24): SIGTERM in the middle of an alert flood, and a start
//! that fails once DPDK is up. Nothing may be left in `/var/run/dpdk` or `/dev/hugepages`, and
//! every alert raised is written or counted as lost.
mod common;
use common::*;
use std::time::Duration;

/// The bench profile replaying `capture` forever into net_null.
fn replaying_profile(s: &Scratch, capture: &std::path::Path, mbufs: u32) -> std::path::PathBuf {
    let text = std::fs::read_to_string(repo().join("hw-profiles/bench-pcap-null.toml"))
        .unwrap()
        .replace("bench/out/mix.pcap", capture.to_str().unwrap())
        .replace("mempool_mbufs = 16383", &format!("mempool_mbufs = {mbufs}"));
    let p = s.path("profile.toml");
    std::fs::write(&p, text).unwrap();
    p
}

/// A capture of `n` copies of one small UDP datagram, a microsecond apart.
fn write_udp_capture(path: &std::path::Path, n: u64) {
    let frame = antidote_wire::emit::udp_datagram(
        antidote_wire::ethernet::Mac([2, 0xad, 0, 0, 0, 1]),
        antidote_wire::ethernet::Mac([2, 0xad, 0, 0, 0, 2]),
        "198.18.0.1".parse().unwrap(),
        "198.18.0.2".parse().unwrap(),
        1,
        2,
        64,
        b"x",
    )
    .unwrap();
    let mut w = pcap_file::pcap::PcapWriter::new(std::fs::File::create(path).unwrap()).unwrap();
    for i in 0..n {
        w.write_packet(&pcap_file::pcap::PcapPacket::new(Duration::from_micros(i), frame.len() as u32, &frame)).unwrap();
    }
}

/// The bench profile replaying a flood of forged answers (4,000 frames, each a new name from a
/// new source: an alert each) forever.
fn flood_profile(s: &Scratch) -> std::path::PathBuf {
    let flood = s.path("flood.pcap");
    let g = run_for(
        std::process::Command::new("/usr/bin/python3").arg(repo().join("bench/gen_flood.py")).arg("answers").arg(&flood).arg("4000"),
        Duration::from_secs(120),
    );
    assert!(g.status.success(), "{}", String::from_utf8_lossy(&g.stderr));
    replaying_profile(s, &flood, 16383)
}

#[test]
fn sigterm_in_an_alert_flood_writes_or_counts_every_alert_and_leaves_nothing_behind() {
    require_root();
    let s = Scratch::new("faults-sigterm");
    let profile = flood_profile(&s);
    let alerts = s.path("alerts.jsonl");
    let hp_before = hugepage_files();
    let dirs_before = runtime_dirs();
    let mut app = Appliance::start(
        &[
            "run",
            "--profile",
            profile.to_str().unwrap(),
            "--policy",
            "policies/default.policy",
            "--alerts",
            alerts.to_str().unwrap(),
            "--stats-interval",
            "1",
            "--state-dir",
            s.path("state").to_str().unwrap(),
        ],
        &s.path("run.log"),
    );
    app.wait_for("antidote: 2", Duration::from_secs(30));
    // SIGTERM (what systemd sends), in the middle of the flood.
    let mut child = app.child.take().unwrap();
    assert!(std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(start.elapsed() < Duration::from_secs(15), "antidote did not stop within 15 s of SIGTERM:\n{}", app.log_text());
        std::thread::sleep(Duration::from_millis(20));
    };
    let log = app.log_text();
    assert!(status.success(), "exit after SIGTERM: {status}\n{log}");
    // Every alert raised: written as it came, folded into a summary, or counted as lost; the
    // documents the line counts are those in the file, minus what the sink lost (counted).
    let line = log.lines().find(|l| l.starts_with("antidote: alerts: ")).unwrap_or_else(|| panic!("no alert accounting line:\n{log}"));
    let nums: Vec<u64> = line.split(|c: char| !c.is_ascii_digit()).filter(|t| !t.is_empty()).map(|t| t.parse().unwrap()).collect();
    // raised = written + folded (into summaries) + lost (queue full); documents, lost by sinks.
    let (raised, written, folded, dropped) = (nums[0], nums[1], nums[2], nums[nums.len() - 3]);
    let (documents, sink_lost) = (nums[nums.len() - 2], nums[nums.len() - 1]);
    assert!(raised > 1000, "a flood of alerts: {line}");
    assert_eq!(raised, written + folded + dropped, "{line}");
    let in_file = std::fs::read_to_string(&alerts).unwrap().lines().count() as u64;
    assert_eq!(in_file + sink_lost, documents, "the alert file holds every document not counted as lost: {line}");
    // Nothing left behind.
    let left = runtime_dirs_left_since(&dirs_before);
    assert!(left.is_empty(), "left in /var/run/dpdk: {left:?}");
    assert!(hugepage_files() <= hp_before, "hugepage files left behind");
}

#[test]
fn a_start_that_fails_once_dpdk_is_up_says_what_to_do_and_leaves_nothing_behind() {
    // net_pcap's infinite_rx keeps the whole capture in mbufs: a capture larger than the
    // mempool fails at the RX queue's setup, after EAL started.
    require_root();
    let s = Scratch::new("faults-bigpcap");
    let big = s.path("big.pcap");
    write_udp_capture(&big, 12_000);
    let profile = replaying_profile(&s, &big, 8191);
    let hp_before = hugepage_files();
    let dirs_before = runtime_dirs();
    let out = run_for(
        std::process::Command::new(bin()).args(["run", "--control", "off", "--duration", "2", "--profile"]).arg(&profile).current_dir(repo()),
        Duration::from_secs(30),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    let last = err.trim().lines().last().unwrap_or_default();
    assert!(last.starts_with("antidote: ") && last.contains("raise `mempool_mbufs` (8191)"), "one sentence that says what to do: {err}");
    let left = runtime_dirs_left_since(&dirs_before);
    assert!(left.is_empty(), "left in /var/run/dpdk: {left:?}");
    assert!(hugepage_files() <= hp_before, "hugepage files left behind");
}

/// A TCP listener on loopback that accepts connections and never reads from them (a receiver
/// that hangs); the accepted sockets are kept open until the test ends.
fn hung_listener() -> (std::net::TcpListener, std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let kept = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (l2, k2) = (l.try_clone().unwrap(), kept.clone());
    std::thread::spawn(move || {
        for c in l2.incoming().flatten() {
            k2.lock().unwrap().push(c);
        }
    });
    (l, kept)
}

#[test]
fn hung_sinks_lose_alerts_counted_and_never_hold_up_the_dataplane() {
    // A syslog-over-TCP receiver and a webhook server that accept and never read or answer,
    // under a flood of forged answers (an alert each): the workers never wait on the sinks —
    // frames flow every second, every frame is accounted for — and what the sinks could not
    // deliver is counted, as is every alert; the run stops promptly.
    require_root();
    let s = Scratch::new("faults-sinks");
    let profile = flood_profile(&s);
    let (syslog, _k1) = hung_listener();
    let (hook, _k2) = hung_listener();
    let t = std::time::Instant::now();
    let out = run_for(
        std::process::Command::new(bin())
            .args(["run", "--control", "off", "--duration", "4", "--stats-interval", "1", "--policy", "policies/default.policy", "--profile"])
            .arg(&profile)
            .args(["--alerts", &format!("syslog+tcp://{}", syslog.local_addr().unwrap())])
            .args(["--alerts", &format!("http://{}/hook", hook.local_addr().unwrap())])
            .args(["--state-dir", s.path("state").to_str().unwrap()])
            .current_dir(repo()),
        Duration::from_secs(60),
    );
    let log = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(t.elapsed() < Duration::from_secs(20), "the run took {:?} to stop with hung sinks:\n{log}", t.elapsed());
    // Frames flowed in every second of the run.
    let rates: Vec<&str> = log.lines().filter(|l| l.starts_with("antidote: ") && l.ends_with("pps") && l.contains("s |")).collect();
    assert!(rates.len() >= 3 && rates.iter().all(|l| !l.ends_with(" 0 pps")), "a second without frames:\n{log}");
    // Every frame accounted for.
    let fl = final_line(&log);
    assert_eq!(counter(&fl, "a→b", "rx"), counter(&fl, "a→b", "tx") + counter(&fl, "a→b", "dropped") + counter(&fl, "a→b", "txfull"), "{fl}");
    // Every alert: written, folded or lost (queue full); and the sinks' losses counted.
    let line = log.lines().find(|l| l.starts_with("antidote: alerts: ")).unwrap_or_else(|| panic!("no alert accounting line:\n{log}"));
    let n: Vec<u64> = line.split(|c: char| !c.is_ascii_digit()).filter(|t| !t.is_empty()).map(|t| t.parse().unwrap()).collect();
    let (raised, written, folded, dropped, sink_lost) = (n[0], n[1], n[2], n[n.len() - 3], n[n.len() - 1]);
    assert!(raised > 1000 && raised == written + folded + dropped, "{line}");
    assert!(sink_lost > 0, "the hung webhook delivered nothing, and says so: {line}");
}

#[test]
fn the_runtime_folder_of_a_killed_antidote_is_removed_at_the_next_start() {
    // SIGKILL (or the power cord) gives antidote no chance to remove /var/run/dpdk/antidote-<pid>;
    // the next start removes what such a run left, and says so.
    require_root();
    let s = Scratch::new("faults-sigkill");
    let capture = s.path("few.pcap");
    write_udp_capture(&capture, 16);
    let profile = replaying_profile(&s, &capture, 16383);
    let mut killed = std::process::Command::new(bin())
        .args(["run", "--control", "off", "--profile"])
        .arg(&profile)
        .current_dir(repo())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let dir = std::path::PathBuf::from(format!("/var/run/dpdk/antidote-{}", killed.id()));
    let start = std::time::Instant::now();
    while !dir.exists() {
        assert!(start.elapsed() < Duration::from_secs(30), "antidote never created {}", dir.display());
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    killed.kill().unwrap();
    killed.wait().unwrap();
    assert!(dir.exists(), "SIGKILL leaves the runtime folder");
    let out = run_for(
        std::process::Command::new(bin()).args(["run", "--control", "off", "--duration", "1", "--profile"]).arg(&profile).current_dir(repo()),
        Duration::from_secs(30),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(!dir.exists(), "the next start removes {}: {err}", dir.display());
    assert!(err.contains(&format!("removed {}", dir.display())), "and says so: {err}");
}

/// `GET path` on the control API at `addr` with `token`: the status and the body.
fn get(addr: &str, path: &str, token: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n").unwrap();
    let mut r = String::new();
    let _ = s.read_to_string(&mut r);
    let code = r.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, r.split("\r\n\r\n").nth(1).unwrap_or_default().to_string())
}

#[test]
fn a_stalled_worker_is_named_at_once_and_its_traffic_forwarded_uninspected_when_the_profile_says_open() {
    // The worker stops polling for 2.5 s (between two rounds, as a descheduled lcore does; the
    // debug build's fault injection); the profile says `on_stall = "open"`: the control thread
    // takes its queues and forwards them without inspection until it is back; health names the
    // worker and its lcore meanwhile; every frame is accounted for.
    require_root();
    let s = Scratch::new("faults-stall-open");
    let mix = s.path("mix.pcap");
    let g = run_for(std::process::Command::new("/usr/bin/python3").arg(repo().join("bench/gen_mix.py")).arg(&mix).arg("2048"), Duration::from_secs(60));
    assert!(g.status.success());
    let profile = s.path("p.toml");
    std::fs::write(
        &profile,
        format!(
            "name = \"stall\"\nworker_lcores = [1]\nmemory_mb = 512\n[faults]\nstall_ms = 300\non_stall = \"open\"\n[[port]]\nname = \"a\"\ndevice = \"net_pcap0,rx_pcap={},infinite_rx=1\"\n[[port]]\nname = \"b\"\ndevice = \"net_null0,no-rx=1\"\n[[pair]]\na = \"a\"\nb = \"b\"\n",
            mix.display()
        ),
    )
    .unwrap();
    let (mut app, base) = start_with_api(
        &s,
        &["run", "--profile", profile.to_str().unwrap(), "--policy", "policies/default.policy", "--stats-interval", "1"],
        &[("ANTIDOTE_TEST_STALL", "1500:2500")],
        "",
    );
    let (addr, token) = (base.trim_start_matches("http://").to_string(), TEST_TOKEN);
    app.wait_for("has not polled for", Duration::from_secs(30));
    let (code, body) = get(&addr, "/v1/health", token);
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("worker 0 (lcore 1)") && body.contains("without inspection"), "health names the stalled worker and what is done: {body}");
    let (_, metrics) = get(&addr, "/metrics", token);
    assert!(metrics.contains("antidote_worker_bypassed{worker=\"0\",lcore=\"1\"} 1"), "{metrics}");
    app.wait_for("is back: it judges its queues again", Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(500));
    let (code, body) = get(&addr, "/v1/health", token);
    assert_eq!(code, 200, "healthy again: {body}");
    let (ok, log) = app.stop();
    assert!(ok, "{log}");
    let fl = final_line(&log);
    let bypassed: u64 = fl.split(" bypassed ").nth(1).and_then(|t| t.split_whitespace().next()).and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(bypassed > 100_000, "the stalled worker's traffic was forwarded meanwhile: {fl}");
    assert_eq!(
        counter(&fl, "a→b", "rx"),
        counter(&fl, "a→b", "tx") + counter(&fl, "a→b", "dropped") + counter(&fl, "a→b", "txfull"),
        "every frame accounted for: {fl}"
    );
}

#[test]
fn lab_a_stalled_worker_takes_the_links_down_when_the_profile_says_closed() {
    // `on_stall = "closed"`: while the worker is stalled both ports of the pair are set down —
    // the victim's interface and the LAN's see no carrier, as with a pulled cable, so that a
    // switch fails over — and up again when it polls again.
    require_root();
    let lab = Lab::up();
    let s = Scratch::new("faults-stall-closed");
    let text = std::fs::read_to_string(repo().join("hw-profiles/lab.toml")).unwrap().replacen(
        "[[port]]",
        "[faults]\nstall_ms = 300\non_stall = \"closed\"\n\n[[port]]",
        1,
    );
    let profile = s.path("lab-closed.toml");
    std::fs::write(&profile, text).unwrap();
    let carrier = |ns: &str, ifc: &str| -> String {
        let o = lab.exec(ns, &["cat", &format!("/sys/class/net/{ifc}/carrier")], Duration::from_secs(5));
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    let mut app = Appliance::start_with_env(
        &["run", "--profile", profile.to_str().unwrap(), "--stats-interval", "1"],
        &s.path("run.log"),
        &[("ANTIDOTE_TEST_STALL", "1500:3000")],
    );
    app.wait_for("running:", Duration::from_secs(30));
    assert_eq!(carrier("ad-victim", "eth0"), "1", "{}", app.log_text());
    app.wait_for("the pairs' links go down", Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(carrier("ad-victim", "eth0"), "0", "the victim's side sees the link down: {}", app.log_text());
    assert_eq!(carrier("ad-lan", "uplink"), "0", "the LAN's side too: {}", app.log_text());
    app.wait_for("polls again", Duration::from_secs(30));
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(carrier("ad-victim", "eth0"), "1", "up again once the worker polls: {}", app.log_text());
    assert_eq!(carrier("ad-lan", "uplink"), "1", "{}", app.log_text());
    // And the bridge carries traffic again.
    let ping = lab.exec("ad-victim", &["ping", "-c", "3", "-W", "2", "198.18.0.20"], Duration::from_secs(15));
    assert!(ping.status.success(), "the victim reaches the file server again: {}\n{}", String::from_utf8_lossy(&ping.stdout), app.log_text());
    let (ok, log) = app.stop();
    assert!(ok, "{log}");
}
