//! The lab end to end: namespaces joined only through `antidote run --profile hw-profiles/lab.toml`.
//! Ping (IPv4 and IPv6) and a UDP exchange between ad-victim and ad-legit pass through the
//! appliance, and stop passing when it stops. A data link that goes down and up (the segment
//! side's veth) is said and counted, and traffic passes again once it is back.
mod common;
use common::*;
use std::time::Duration;

fn ping(lab: &Lab, dst: &str) -> bool {
    let v6 = dst.contains(':');
    let mut args = vec!["ping", "-c", "3", "-i", "0.2", "-W", "1"];
    if v6 {
        args.insert(1, "-6");
    }
    args.push(dst);
    lab.exec("ad-victim", &args, Duration::from_secs(10)).status.success()
}

/// Sends one UDP datagram victim → legit and expects legit's echo back.
fn udp_roundtrip(lab: &Lab) -> bool {
    let server = std::process::Command::new("ip")
        .args(["netns", "exec", "ad-legit", "timeout", "4", "socat", "-T", "3", "UDP-RECVFROM:7777,reuseaddr", "EXEC:cat"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let out = lab.exec("ad-victim", &["bash", "-c", "echo antidote-udp-probe | timeout 3 socat -T 2 - UDP-SENDTO:198.18.0.20:7777"], Duration::from_secs(6));
    let mut server = server;
    let _ = server.kill();
    let _ = server.wait();
    String::from_utf8_lossy(&out.stdout).contains("antidote-udp-probe")
}

#[test]
fn lab_traffic_passes_through_antidote_and_stops_without_it() {
    require_root();
    let lab = Lab::up();
    let s = Scratch::new("lab-bridge");
    // Without the appliance the segments are apart.
    assert!(!ping(&lab, "198.18.0.20"), "victim reached legit with no appliance in the path");

    let mut app = Appliance::start(&["run", "--profile", "hw-profiles/lab.toml", "--stats-interval", "1"], &s.path("run.log"));
    app.wait_for("running:", Duration::from_secs(20));
    assert!(ping(&lab, "198.18.0.20"), "IPv4 ping through antidote failed:\n{}", app.log_text());
    assert!(ping(&lab, "fd00:198:18::20"), "IPv6 ping through antidote failed:\n{}", app.log_text());
    assert!(udp_roundtrip(&lab), "UDP exchange through antidote failed:\n{}", app.log_text());

    // The segment side's link goes down, then up: said at once and counted; the appliance
    // carries on, and traffic passes again.
    let link = |state: &str| {
        let o = std::process::Command::new("ip").args(["link", "set", "ad-a", state]).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    link("down");
    app.wait_for("port a link DOWN", Duration::from_secs(3));
    assert!(!ping(&lab, "198.18.0.20"), "traffic passed with the segment's link down");
    app.wait_for("LINK a DOWN", Duration::from_secs(3));
    link("up");
    app.wait_for("port a link up again", Duration::from_secs(5));
    let t = std::time::Instant::now();
    while !ping(&lab, "198.18.0.20") {
        assert!(t.elapsed() < Duration::from_secs(10), "no traffic after the link came back:\n{}", app.log_text());
    }

    let (ok, log) = app.stop();
    assert!(ok, "antidote did not stop cleanly on SIGINT:\n{log}");
    let fl = final_line(&log);
    assert!(counter(&fl, "a→b", "rx") >= 8, "{fl}");
    assert_eq!(counter(&fl, "a→b", "rx"), counter(&fl, "a→b", "tx"), "{fl}");
    assert_eq!(counter(&fl, "b→a", "rx"), counter(&fl, "b→a", "tx"), "{fl}");
    assert_eq!(counter(&fl, "a→b", "linkdowns"), 1, "{fl}");

    // With the appliance gone, nothing passes.
    assert!(!ping(&lab, "198.18.0.20"), "traffic still passes after antidote stopped");
    assert!(!udp_roundtrip(&lab), "UDP still passes after antidote stopped");
}

/// Sends `flows` UDP flows of `n` numbered datagrams each from the victim to `dst` (ports 7000 +
/// flow on the far side) and returns, per flow, the sequence numbers received there in order.
fn flows_through(lab: &Lab, receiver_ns: &str, dst: &str, flows: u16, n: u32) -> Vec<Vec<u32>> {
    let recv = format!(
        "import socket,select,time,json\nss=[]\nfor f in range({flows}):\n s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('{dst}',7000+f)); ss.append(s)\nopen('/tmp/antidote-flows-ready','w').close()\ngot={{f:[] for f in range({flows})}}\nend=time.time()+6\nwhile time.time()<end:\n r,_,_=select.select(ss,[],[],0.2)\n for s in r:\n  d,_=s.recvfrom(64); got[s.getsockname()[1]-7000].append(int.from_bytes(d[:4],'big'))\nprint(json.dumps([got[f] for f in range({flows})]))\n"
    );
    let _ = std::fs::remove_file("/tmp/antidote-flows-ready");
    let receiver = std::process::Command::new("ip")
        .args(["netns", "exec", receiver_ns, "/usr/bin/python3", "-c", &recv])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..50 {
        if std::path::Path::new("/tmp/antidote-flows-ready").exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let send = format!(
        "import socket,time\nfor i in range({n}):\n for f in range({flows}):\n  s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(('198.18.0.10',30000+f)); s.sendto(i.to_bytes(4,'big'),('{dst}',7000+f)); s.close()\n time.sleep(0.01)\n"
    );
    let out = lab.exec("ad-victim", &["/usr/bin/python3", "-c", &send], Duration::from_secs(20));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got = receiver.wait_with_output().unwrap();
    serde_json::from_slice(&got.stdout).unwrap_or_else(|e| panic!("receiver: {e}: {}", String::from_utf8_lossy(&got.stdout)))
}

#[test]
fn lab_two_workers_over_rss_keep_flows_in_order_share_what_they_learn_and_count_exactly() {
    // Two workers (lcores 1 and 2; lcore 2 on the main lcore's CPU: this machine has two), each
    // port over net_af_packet with two queue pairs (the kernel's fanout spreads flows by their
    // hash: RSS). 32 UDP flows from the victim: every datagram arrives, each flow in order, and
    // both workers take a share. A policy pushed under traffic reaches both; what it learns from
    // a frame one worker judges blocks the flows the other one judges; each worker's alerts reach
    // the sink through its own lane and folds, none lost; the counters add up.
    require_root();
    let lab = Lab::up();
    let s = Scratch::new("lab-two-workers");
    let text = std::fs::read_to_string(repo().join("hw-profiles/lab.toml"))
        .unwrap()
        .replace("worker_lcores = [1]", "worker_lcores = [1, 2]\nworker_cpus = [1, 0]")
        .replace("qpairs=1\"", "qpairs=2\"\nrx_queues = 2")
        .replace("mempool_mbufs = 8191", "mempool_mbufs = 16383");
    let profile = s.path("lab-two.toml");
    std::fs::write(&profile, &text).unwrap();
    let alerts_file = s.path("alerts.jsonl");
    let (mut app, base) =
        start_with_api(&s, &["run", "--profile", profile.to_str().unwrap(), "--stats-interval", "0", "--alerts", alerts_file.to_str().unwrap()], &[], "");
    let log = app.log_text();
    assert!(log.contains("2 worker(s) on lcore(s) [1, 2]"), "{log}");
    let token = TEST_TOKEN;
    let auth = format!("Bearer {token}");
    let stats = || -> serde_json::Value {
        ureq::get(&format!("{base}/v1/stats")).set("Authorization", &auth).call().unwrap().into_string().map(|t| serde_json::from_str(&t).unwrap()).unwrap()
    };
    // Every datagram of every flow arrives, each flow in order; both workers took a share.
    let got = flows_through(&lab, "ad-legit", "198.18.0.20", 32, 20);
    for (f, seqs) in got.iter().enumerate() {
        assert_eq!(seqs, &(0..20).collect::<Vec<u32>>(), "flow {f}: all datagrams, in order");
    }
    let st = stats();
    let rx: Vec<u64> = st["lcores"].as_array().unwrap().iter().map(|l| l["rx"].as_u64().unwrap()).collect();
    assert!(rx.len() == 2 && rx.iter().all(|&n| n > 0), "both workers received: {rx:?}");
    // A policy pushed under traffic: what a frame to port 9 teaches blocks every flow to that
    // address, whichever worker judges it.
    let policy = "table blocked : ip ttl 1h\nrule mark \"{ip.dst} marked\" severity low {\n  when udp.dport == 9\n  then alert; learn blocked ip.dst; drop\n}\nrule block \"{ip.dst} blocked\" severity low {\n  when ip.dst in blocked\n  then alert; drop\n}\n";
    let r = ureq::put(&format!("{base}/v1/policy")).set("Authorization", &auth).set("Content-Type", "text/plain").send_string(policy).unwrap();
    let v: serde_json::Value = serde_json::from_str(&r.into_string().unwrap()).unwrap();
    let version = v["version"].as_u64().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let st = stats();
    assert!(st["lcores"].as_array().unwrap().iter().all(|l| l["policy_version"] == version), "every worker on v{version}: {}", st["lcores"]);
    let mark = lab.exec(
        "ad-victim",
        &["/usr/bin/python3", "-c", "import socket; socket.socket(socket.AF_INET,socket.SOCK_DGRAM).sendto(b'x',('198.18.0.66',9))"],
        Duration::from_secs(5),
    );
    assert!(mark.status.success());
    std::thread::sleep(Duration::from_millis(200));
    let blocked = flows_through(&lab, "ad-poisoner", "198.18.0.66", 32, 5);
    assert!(blocked.iter().all(|s| s.is_empty()), "no flow reached the marked address, on either worker: {blocked:?}");
    let passed = flows_through(&lab, "ad-legit", "198.18.0.20", 32, 5);
    assert!(passed.iter().all(|s| s.len() == 5), "flows to others pass: {passed:?}");
    // Each worker raised the alerts of the frames it dropped (its own lane, its own folds of
    // repeats); the alert thread took every one: the documents' counts add up to the rule's hits.
    std::thread::sleep(Duration::from_millis(1500));
    let st = stats();
    let per: Vec<(u64, u64)> = st["lcores"].as_array().unwrap().iter().map(|l| (l["alerts"].as_u64().unwrap(), l["dropped"].as_u64().unwrap())).collect();
    assert!(per.iter().all(|&(a, d)| a > 0 && d > 0), "both workers dropped and alerted: {per:?}");
    let hits = |rule: &str| st["rules"].as_array().unwrap().iter().find(|r| r["name"] == rule).map_or(0, |r| r["hits"].as_u64().unwrap());
    assert_eq!(hits("block"), 32 * 5, "{}", st["rules"]);
    assert_eq!(per.iter().map(|p| p.0).sum::<u64>(), hits("block") + hits("mark"), "{st}");
    assert_eq!(st["alerts"]["raised"].as_u64(), Some(hits("block") + hits("mark")), "{}", st["alerts"]);
    assert_eq!(st["alerts"]["lost_queue_full"], 0, "{}", st["alerts"]);
    let (ok, log) = app.stop();
    assert!(ok, "{log}");
    let docs: Vec<serde_json::Value> = std::fs::read_to_string(&alerts_file).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let count = |d: &serde_json::Value| d["antidote"]["count"].as_u64().unwrap_or(1);
    let blocked: Vec<u64> = docs.iter().filter(|d| d["rule"]["name"] == "block").map(count).collect();
    assert_eq!(blocked.iter().sum::<u64>(), 32 * 5, "the documents account for every alert of both workers: {blocked:?}");
    assert!(blocked.len() < 32 * 5 / 4, "repeats folded, not written one by one: {} documents", blocked.len());
    let fl = final_line(&log);
    for dir in ["a→b", "b→a"] {
        assert_eq!(counter(&fl, dir, "rx"), counter(&fl, dir, "tx") + counter(&fl, dir, "dropped") + counter(&fl, dir, "txfull"), "{dir}: {fl}");
    }
    assert!(counter(&fl, "a→b", "dropped") >= 32 * 5, "the blocked flows were dropped: {fl}");
}

#[test]
fn lab_a_link_lost_on_one_side_is_taken_down_on_the_other_and_brought_back() {
    // `link_propagation = true` (the default for PCI ports, set here for the lab's veths): the
    // victim's side loses its link (its cable pulled: the victim's interface goes down); the
    // appliance takes the LAN side's link down, so that the switch there sees the failure as
    // if the cable were cut through; both come back together.
    require_root();
    let lab = Lab::up();
    let s = Scratch::new("lab-link-propagation");
    let text = std::fs::read_to_string(repo().join("hw-profiles/lab.toml"))
        .unwrap()
        .replace("[[pair]]\na = \"a\"\nb = \"b\"", "[[pair]]\na = \"a\"\nb = \"b\"\nlink_propagation = true");
    assert!(text.contains("link_propagation"), "hw-profiles/lab.toml: no pair a/b");
    let profile = s.path("lab-propagate.toml");
    std::fs::write(&profile, text).unwrap();
    let carrier = |ns: &str, ifc: &str| -> String {
        let o = lab.exec(ns, &["cat", &format!("/sys/class/net/{ifc}/carrier")], Duration::from_secs(5));
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    let until = |what: &str, f: &dyn Fn() -> bool, app: &Appliance| {
        let t = std::time::Instant::now();
        while !f() {
            assert!(t.elapsed() < Duration::from_secs(5), "{what}:\n{}", app.log_text());
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    let mut app = Appliance::start(&["run", "--profile", profile.to_str().unwrap(), "--stats-interval", "1"], &s.path("run.log"));
    app.wait_for("running:", Duration::from_secs(20));
    assert!(ping(&lab, "198.18.0.20"), "{}", app.log_text());
    assert_eq!(carrier("ad-lan", "uplink"), "1");
    let victim_link = |state: &str| {
        let o = lab.exec("ad-victim", &["ip", "link", "set", "eth0", state], Duration::from_secs(5));
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    victim_link("down");
    app.wait_for("port a link DOWN", Duration::from_secs(3));
    app.wait_for("port b link taken down: its pair's port a lost its link", Duration::from_secs(3));
    until("the LAN side's link did not go down", &|| carrier("ad-lan", "uplink") == "0", &app);
    victim_link("up");
    app.wait_for("port a link up again", Duration::from_secs(5));
    app.wait_for("port b link brought up again", Duration::from_secs(3));
    until("the LAN side's link did not come back", &|| carrier("ad-lan", "uplink") == "1", &app);
    let t = std::time::Instant::now();
    while !ping(&lab, "198.18.0.20") {
        assert!(t.elapsed() < Duration::from_secs(10), "no traffic after the links came back:\n{}", app.log_text());
    }
    // The LAN side's own loss, propagated the other way, is left to the end: the run ends with
    // the link the appliance took down brought back.
    let o = lab.exec("ad-lan", &["ip", "link", "set", "uplink", "down"], Duration::from_secs(5));
    assert!(o.status.success());
    app.wait_for("port a link taken down: its pair's port b lost its link", Duration::from_secs(3));
    until("the victim's side did not go down", &|| carrier("ad-victim", "eth0") == "0", &app);
    let (ok, log) = app.stop();
    assert!(ok, "{log}");
    let o = lab.exec("ad-lan", &["ip", "link", "set", "uplink", "up"], Duration::from_secs(5));
    assert!(o.status.success());
    let flags = std::process::Command::new("ip").args(["-o", "link", "show", "ad-a"]).output().unwrap();
    assert!(String::from_utf8_lossy(&flags.stdout).contains(",UP"), "the appliance left ad-a down at exit: {}", String::from_utf8_lossy(&flags.stdout));
    assert_eq!(counter(&final_line(&log), "a→b", "linkdowns"), 1, "{log}");
}

/// Two namespaces of the test's own (`ad-jumbo-l`, `ad-jumbo-r`), each joined to the host by a
/// veth whose host end is one port of the appliance; their own ends have MTU 9000. Removed on drop.
struct JumboSegments;

impl JumboSegments {
    const L: &'static str = "ad-jumbo-l";
    const R: &'static str = "ad-jumbo-r";

    fn up() -> JumboSegments {
        let ip = |args: &[&str]| {
            let o = std::process::Command::new("ip").args(args).output().unwrap();
            assert!(o.status.success(), "ip {}: {}", args.join(" "), String::from_utf8_lossy(&o.stderr));
        };
        JumboSegments::down();
        for (ns, host, addr) in [(Self::L, "ad-jl", "198.18.61.1/24"), (Self::R, "ad-jr", "198.18.61.2/24")] {
            ip(&["netns", "add", ns]);
            ip(&["link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns]);
            ip(&["link", "set", host, "up"]);
            ip(&["-n", ns, "link", "set", "eth0", "mtu", "9000", "up"]);
            ip(&["-n", ns, "addr", "add", addr, "dev", "eth0"]);
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        JumboSegments
    }

    fn down() {
        for ns in [Self::L, Self::R] {
            let _ = std::process::Command::new("ip").args(["netns", "del", ns]).stderr(std::process::Stdio::null()).status();
        }
        for host in ["ad-jl", "ad-jr"] {
            let _ = std::process::Command::new("ip").args(["link", "del", host]).stderr(std::process::Stdio::null()).status();
        }
    }

    fn mtu(host: &str) -> String {
        std::fs::read_to_string(format!("/sys/class/net/{host}/mtu")).unwrap().trim().to_string()
    }

    /// Pings the right side from the left with `size` bytes of payload, never fragmented.
    fn ping(size: usize) -> bool {
        let size = size.to_string();
        run_for(
            std::process::Command::new("ip").args([
                "netns",
                "exec",
                Self::L,
                "ping",
                "-c",
                "3",
                "-i",
                "0.2",
                "-W",
                "1",
                "-M",
                "do",
                "-s",
                &size,
                "198.18.61.2",
            ]),
            Duration::from_secs(10),
        )
        .status
        .success()
    }
}

impl Drop for JumboSegments {
    fn drop(&mut self) {
        JumboSegments::down();
    }
}

#[test]
fn lab_jumbo_frames_cross_a_pair_whose_mtu_is_9000() {
    // A pair with `mtu = 9000`: the appliance sets both ports to it (over net_af_packet, the
    // kernel interfaces under them too) and its mbufs hold the frames; 9000-byte IP packets
    // cross in both directions, unfragmented. Without it they cannot: the ports stay at 1500.
    require_root();
    let _segments = JumboSegments::up();
    let s = Scratch::new("lab-jumbo");
    let profile = |mtu: &str, ring: &str| {
        let p = s.path(&format!("jumbo{}.toml", if mtu.is_empty() { "" } else { "-9000" }));
        std::fs::write(
            &p,
            format!(
                "name = \"jumbo\"\nhugepages = false\nmemory_mb = 512\nworker_lcores = [1]\nmempool_mbufs = 4095\nmempool_cache = 128\n\
                 [[port]]\nname = \"a\"\ndevice = \"net_af_packet0,iface=ad-jl,qpairs=1{ring}\"\nrx_desc = 256\ntx_desc = 256\n\
                 [[port]]\nname = \"b\"\ndevice = \"net_af_packet1,iface=ad-jr,qpairs=1{ring}\"\nrx_desc = 256\ntx_desc = 256\n\
                 [[pair]]\na = \"a\"\nb = \"b\"\n{mtu}"
            ),
        )
        .unwrap();
        p
    };
    // The pair at the drivers' default: small packets cross, jumbo ones do not.
    let plain = profile("", "");
    let mut app = Appliance::start(&["run", "--profile", plain.to_str().unwrap(), "--stats-interval", "1"], &s.path("plain.log"));
    app.wait_for("running:", Duration::from_secs(20));
    assert!(JumboSegments::ping(1400), "{}", app.log_text());
    assert!(!JumboSegments::ping(8972), "a jumbo frame crossed a pair left at MTU 1500:\n{}", app.log_text());
    let (ok, log) = app.stop();
    assert!(ok, "{log}");
    assert_eq!((JumboSegments::mtu("ad-jl"), JumboSegments::mtu("ad-jr")), ("1500".into(), "1500".into()));

    // The pair at 9000: the preflight says so, the ports are set, jumbo frames cross.
    let jumbo = profile("mtu = 9000\n", ",framesz=10240,blocksz=20480,framecnt=256");
    let o = run_for(std::process::Command::new(bin()).args(["preflight", "--profile", jumbo.to_str().unwrap()]), Duration::from_secs(20));
    let pre = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success() && pre.contains("a/b 9000 (frames up to 9022 bytes; mbufs of 10368 bytes)"), "{pre}");
    let mut app = Appliance::start(&["run", "--profile", jumbo.to_str().unwrap(), "--stats-interval", "1"], &s.path("jumbo.log"));
    app.wait_for("running:", Duration::from_secs(20));
    assert_eq!((JumboSegments::mtu("ad-jl"), JumboSegments::mtu("ad-jr")), ("9000".into(), "9000".into()), "{}", app.log_text());
    assert!(JumboSegments::ping(8972), "9000-byte packets did not cross the pair at MTU 9000:\n{}", app.log_text());
    assert!(JumboSegments::ping(1400), "{}", app.log_text());
    let (ok, log) = app.stop();
    assert!(ok, "{log}");
    // The interfaces' own MTUs are put back at exit.
    assert_eq!((JumboSegments::mtu("ad-jl"), JumboSegments::mtu("ad-jr")), ("1500".into(), "1500".into()));
    let fl = final_line(&log);
    for dir in ["a→b", "b→a"] {
        assert!(counter(&fl, dir, "rx") >= 6, "{dir}: {fl}");
        assert_eq!(counter(&fl, dir, "rx"), counter(&fl, dir, "tx"), "{dir}: {fl}");
    }
}
