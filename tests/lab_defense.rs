//! The proof in the lab, under both addressing plans, with the default policy unchanged: real
//! legitimate software (Samba's nmbd, llmnrd, avahi-daemon, dnsmasq, a Windows-like LLMNR host)
//! and real poisoners (Responder 3.2.2.0 in its default configuration and answering only a name
//! that exists; the project's poisoner answering every name, chosen names, chosen victims,
//! with another host's address, with a forged IP source), driven by scripts/lab/scenarios.py.
//! The victim asks with real clients: nmblookup, a Windows-like LLMNR/mDNS client with
//! Windows' timers, avahi-resolve through its own avahi-daemon.
//! Per mode: no legitimate lookup fails, no forged answer for a name that has an owner reaches
//! the victim (the first one included), no host is wrongly learned as a poisoner, no forged
//! answer at all reaches the victim from a poisoner that answers probes (the victim asks names
//! nobody owns first: the first answer is held while its sender is probed), and the poisoner's
//! WPAD file is out of reach. Legitimate first answers are held and released. With policies/alert-only.policy the poison passes and is alerted.
mod common;
use common::*;
use serde_json::Value;
use std::process::Command;
use std::time::{Duration, Instant};

/// Modes whose poisoner answers neither canaries nor probes (a name filter, a victim filter, a
/// query count): its first answers for a name nobody owns cannot be told from a real host's.
const NO_PROBE_ANSWER: [&str; 5] = ["responder-name", "chosen-names", "responder-victims", "chosen-victims", "after-n"];

fn scenarios(plan: &str) -> Value {
    scenarios_with(plan, &[])
}

fn scenarios_with(plan: &str, extra: &[&str]) -> Value {
    require_root();
    let s = Scratch::new(&format!("lab-scenarios-{plan}"));
    let out = s.path("results.json");
    let r = run_for(
        Command::new("/usr/bin/python3")
            .arg(repo().join("scripts/lab/scenarios.py"))
            .args(["--bin", bin(), "--plan", plan, "--work"])
            .arg(s.path("work"))
            .arg("--out")
            .arg(&out)
            .args(extra),
        Duration::from_secs(900),
    );
    let text = String::from_utf8_lossy(&r.stdout).to_string() + &String::from_utf8_lossy(&r.stderr);
    eprintln!("{text}");
    assert!(r.status.success(), "scenarios.py failed:\n{text}");
    // Every alert the lab produced, checked against ECS's own field definitions.
    let alerts = std::fs::read_to_string(s.path("work/alerts.jsonl")).unwrap_or_default();
    let mut checked = 0;
    for line in alerts.lines() {
        let doc: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("an alert that is not JSON ({e}): {line}"));
        let p = ecs::problems(&doc);
        assert!(p.is_empty(), "an alert ECS does not accept:\n{}\n{line}", p.join("\n"));
        checked += 1;
    }
    eprintln!("{checked} alerts checked against ECS ({} fields)", ecs::definitions().len());
    // Kept for docs/lab-results.md (scripts/lab/results_md.py).
    let keep = repo().join("target/lab");
    let _ = std::fs::create_dir_all(&keep);
    let tag = match extra {
        [] => plan.to_string(),
        [.., "--canaries", _] => format!("{plan}-canaries"),
        _ => format!("{plan}-{}", extra.last().unwrap()),
    };
    let _ = std::fs::copy(&out, keep.join(format!("results-{tag}.json")));
    serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap()
}

fn check(res: &Value) {
    let modes = res["modes"].as_array().unwrap();
    assert_eq!(modes.len(), 11, "every mode ran");
    for m in modes {
        let name = m["mode"].as_str().unwrap();
        assert!(m["poisoner_answers"].as_u64().unwrap() > 0, "{name}: the poisoner never answered: the mode proves nothing");
        assert_eq!(m["legit_failed"], 0, "{name}: legitimate lookups failed: {m}");
        assert_eq!(m["forged_owned"], 0, "{name}: forged answers for owned names reached the victim: {m}");
        assert_eq!(m["wrongly_learned"].as_array().unwrap().len(), 0, "{name}: hosts wrongly learned: {m}");
        if !NO_PROBE_ANSWER.contains(&name) {
            // Its first answer is for a name nobody owns (the victim asks those first): held,
            // its sender probed, dropped.
            assert_eq!(m["forged_total"], 0, "{name}: forged answers reached the victim (the first included): {m}");
        }
        // Every mode's poisoner is caught by the end of its lookups: its WPAD file is blocked.
        assert_eq!(m["wpad_fetch"], "000", "{name}: the WPAD fetch from the poisoner went through");
    }
    // What the network taught: the file server's name by registration and announcement, the
    // Windows-like host's by its confirmed answers (it registers nothing), the victim's by DHCP.
    let owners = res["owners"].as_array().unwrap();
    let evidence = |n: &str| owners.iter().find(|o| o["name"] == n).map(|o| o["evidence"].as_str().unwrap().to_string()).unwrap_or_default();
    assert!(evidence("corpfs01").contains("nbns") && evidence("corpfs01").contains("mdns"), "{owners:?}");
    assert!(evidence("winhost").contains("answer"), "{owners:?}");
    assert!(res["dhcp_lease"] == true && evidence("victim01").contains("dhcp"), "{owners:?}");
    assert!(owners.iter().all(|o| o["name"] != "lab"), "a workgroup (group) name owned by one host: {owners:?}");
    // Holding first answers: every legitimate host's first answer came (released after its
    // probe went unanswered), held; its later answers were not.
    let h = &res["hold_latency"];
    assert_eq!(h["failed"], 0, "legitimate first lookups failed under the hold: {h}");
    assert!(h["first_ms"]["p50"].as_u64().unwrap() > h["later_ms"]["p50"].as_u64().unwrap(), "first answers were not held: {h}");
    assert_eq!(res["held"]["hold_fallback"], 0, "{}", res["held"]);
}

#[test]
fn lab_plan_a_every_poisoner_mode() {
    check(&scenarios("a"));
}

#[test]
fn lab_plan_b_every_poisoner_mode() {
    check(&scenarios("b"));
}

/// Canary queries on (one a second per protocol, from the pair's canary identity): the real
/// Responder and the project's poisoner answering every name are caught by a canary before the
/// victim asks anything, and no forged answer reaches the victim — the first one included;
/// Responder in analyze mode, which poisons nothing, by its rogue SQL browser's answer to a
/// SQL-browser canary; the project's poisoner answering a name only from its second query by one
/// host (Inveigh's option) by a canary's resend. On VLANs (802.1Q; the lab makes the VLAN interfaces in user space, this
/// kernel has no 8021q): Responder on VLAN 42, where the profile gives the canary identities an
/// address, is caught by canaries sent on VLAN 42 over IPv4 and IPv6; on VLAN 43, which no
/// profile names, by the IPv6 canaries sent once the VLAN was seen.
#[test]
fn lab_canaries_catch_poisoners_before_the_victim_asks() {
    let res = scenarios_with(
        "b",
        &["--modes", "responder,all-names,forged-source,after-n,responder-analyze,responder-vlan,responder-vlan-unnamed", "--canaries", "1"],
    );
    assert_eq!(res["modes"].as_array().unwrap().len(), 7);
    for m in res["modes"].as_array().unwrap() {
        let name = m["mode"].as_str().unwrap();
        let t = m["canary_detection_s"].as_f64().unwrap_or_else(|| panic!("{name}: no canary caught the poisoner: {m}"));
        assert!(t < 30.0, "{name}: caught after {t} s");
        assert_eq!(m["forged_total"], 0, "{name}: forged answers reached the victim: {m}");
        assert_eq!(m["legit_failed"], 0, "{name}: {m}");
        assert_eq!(m["wrongly_learned"].as_array().unwrap().len(), 0, "{name}: {m}");
        let c = &m["canary_answers"];
        match name {
            "responder-vlan" => assert!(c["vlans"] == serde_json::json!([42]) && c["ip4"] == true && c["ip6"] == true, "{name}: {c}"),
            "responder-vlan-unnamed" => assert!(c["vlans"] == serde_json::json!([43]) && c["ip4"] == false && c["ip6"] == true, "{name}: {c}"),
            "responder-analyze" => {}
            _ => assert_eq!(c["vlans"], serde_json::json!([0]), "{name}: {c}"),
        }
        eprintln!("{name}: caught by a canary {t} s after it started");
    }
    // Canaries counted per segment and protocol (/v1/stats): sent and answered untagged and on
    // VLAN 42 over IPv4 and IPv6; on VLAN 43 over IPv6 only.
    let rows = res["canaries"]["segments"].as_array().unwrap_or_else(|| panic!("no canaries in /v1/stats: {}", res["canaries"]));
    let count = |vlan: u64, proto: &str, what: &str| -> u64 {
        rows.iter().filter(|r| r["vlan"] == vlan && r["proto"] == proto).map(|r| r[what].as_u64().unwrap()).sum()
    };
    for vlan in [0, 42] {
        for proto in ["llmnr4", "llmnr6", "nbns", "mdns", "mdns6", "ssrp"] {
            assert!(count(vlan, proto, "sent") > 0, "vlan {vlan} {proto}: none sent: {rows:?}");
        }
        assert!(count(vlan, "llmnr4", "answered") > 0 && count(vlan, "llmnr6", "answered") > 0, "vlan {vlan}: {rows:?}");
    }
    assert!(count(43, "llmnr6", "sent") > 0 && count(43, "llmnr6", "answered") > 0, "{rows:?}");
    assert_eq!(count(43, "llmnr4", "sent") + count(43, "nbns", "sent"), 0, "no IPv4 canaries where the VLAN has no canary address");
}

/// A flood of forged LLMNR answers to the victim (scripts/lab/flood.py: 40,000 a second, each a
/// new name from a new source) beside the real Responder, while the victim looks names up and
/// connects to the file server: the legitimate lookups and the connection succeed, no forged
/// answer for an owned name reaches the victim, and the answers over the worker's budget are
/// dropped unjudged and counted (issue 24). The tests run a debug build, which judges an answer
/// about ten times slower than a release build, beside other tests: the budget is cut to match
/// (4 answers a millisecond from anyone instead of 32), so that judging takes the worker the share
/// of its time it takes a release build.
#[test]
fn lab_a_flood_of_forged_answers_leaves_legitimate_lookups_and_connections_alone() {
    let res = scenarios_with("a", &["--answers-per-ms", "4", "--modes", "responder-flood"]);
    let m = &res["modes"][0];
    let f = &m["flood"];
    assert!(f["sent"].as_u64().unwrap() > 100_000, "the flood ran: {f}");
    assert!(f["over_budget"].as_u64().unwrap() > 0, "answers over the budget were counted: {f}");
    assert_eq!(f["ordinary_connection"], true, "the victim reached the file server during the flood: {f}");
    assert_eq!(m["legit_failed"], 0, "legitimate lookups failed during the flood: {m}");
    assert_eq!(m["forged_owned"], 0, "forged answers for owned names reached the victim: {m}");
    assert_eq!(m["wrongly_learned"].as_array().unwrap().len(), 0, "hosts wrongly learned: {m}");
    assert_eq!(m["wpad_fetch"], "000", "the poisoner's WPAD file was reachable");
}

fn victim(lab: &Lab, args: &[&str]) -> String {
    let out = lab.exec("ad-victim", args, Duration::from_secs(15));
    String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr)
}

fn answered_by(out: &str, ip: &str) -> bool {
    out.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()).any(|a| a["answers"].as_array().map(|x| x.iter().any(|v| v == ip)).unwrap_or(false))
}

#[test]
fn lab_alert_only_policy_lets_poison_through_and_alerts() {
    require_root();
    let lab = Lab::up();
    let s = Scratch::new("lab-alert-only");
    let log = s.path("poisoner.jsonl");
    std::fs::write(&log, "").unwrap();
    let mut poisoner = Command::new("ip")
        .args(["netns", "exec", "ad-poisoner", "/usr/bin/python3"])
        .arg(repo().join("scripts/lab/poisoner.py"))
        .arg("--log")
        .arg(&log)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while !std::fs::read_to_string(&log).unwrap_or_default().contains("ready") && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let alerts_file = s.path("alerts.jsonl");
    let mut app = Appliance::start(
        &[
            "run",
            "--profile",
            "hw-profiles/lab.toml",
            "--policy",
            "policies/alert-only.policy",
            "--alerts",
            alerts_file.to_str().unwrap(),
            "--stats-interval",
            "0",
        ],
        &s.path("run.log"),
    );
    app.wait_for("running:", Duration::from_secs(20));
    let resolve = repo().join("scripts/lab/resolve.py");
    let out = victim(&lab, &["/usr/bin/python3", resolve.to_str().unwrap(), "llmnr4", "fileservr", "--timeout", "1"]);
    assert!(answered_by(&out, "198.18.0.66"), "alert-only must not block: {out}");
    // A second name: the poisoner is learned (and alerted), its answer passes all the same.
    let out = victim(&lab, &["nmblookup", "-B", "198.18.0.255", "typo-name"]);
    assert!(out.contains("198.18.0.66 typo-name<00>"), "alert-only must not block NBT-NS:\n{out}");
    // The credential-theft follow-on goes through (alert-only) and is alerted: the victim
    // authenticates with NTLM to the poisoner's web server, which answers with its challenge.
    let code = victim(&lab, &["curl", "-s", "-m", "5", "--ntlm", "-u", "alice:Secret1", "-o", "/dev/null", "-w", "%{http_code}", "http://198.18.0.66/share"]);
    assert_eq!(code.trim(), "401", "the poisoner's NTLM exchange did not happen");
    assert!(std::fs::read_to_string(&log).unwrap().contains("http-ntlm-challenge"), "no NTLM challenge was sent");
    std::thread::sleep(Duration::from_millis(300));
    let (ok, run_log) = app.stop();
    let _ = poisoner.kill();
    let _ = poisoner.wait();
    assert!(ok, "{run_log}");
    let docs: Vec<Value> = std::fs::read_to_string(&alerts_file).unwrap_or_default().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(docs.iter().any(|d| d["rule"]["name"] == "many-names" && d["event"]["action"] == "pass" && d["source"]["ip"] == "198.18.0.66"), "{docs:?}");
    let ntlm = docs.iter().find(|d| d["rule"]["name"] == "ntlm-challenge-from-poisoner").expect("no NTLM challenge alert");
    assert!(ntlm["message"].as_str().unwrap().contains("WIN-"), "{ntlm}");
    assert!(docs.iter().all(|d| d["threat"]["technique"]["subtechnique"]["id"][0] == "T1557.001"));
    let fl = final_line(&run_log);
    assert_eq!(counter(&fl, "a→b", "dropped") + counter(&fl, "b→a", "dropped"), 0, "{fl}");
}

/// A capture's frames with their timestamps.
fn timed_frames(p: &std::path::Path) -> Vec<(Duration, Vec<u8>)> {
    let mut r = pcap_file::pcap::PcapReader::new(std::fs::File::open(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))).unwrap();
    let mut v = Vec::new();
    while let Some(x) = r.next_packet() {
        let x = x.unwrap();
        v.push((x.timestamp, x.data.into_owned()));
    }
    v
}

/// Replay agrees with the live appliance (issue 24), compared with the lab rather than with a
/// second run of the same code on the same vdevs: the real Responder and the victim's lookups
/// through the appliance on af_packet, its input and output captured on both ports by tcpdump at
/// the far end of each veth (scenarios.py --capture); the input of both ports, merged in time
/// order as a tap on the wire would see it (with the appliance's own probes, which replay reads
/// back), goes through `antidote replay` with the live profile; every frame the lab forwarded
/// the replay forwards, and every frame the lab dropped (the poisoner's answers among them) the
/// replay drops, as many times each.
#[test]
fn lab_replay_of_the_live_appliances_input_reaches_the_same_verdicts() {
    use std::collections::{HashMap, VecDeque};
    let s = Scratch::new("lab-replay");
    let cap = s.path("capture");
    let res = scenarios_with("a", &["--capture", cap.to_str().unwrap(), "--modes", "responder,forged-source"]);
    assert_eq!(res["modes"][0]["legit_failed"], 0, "{}", res["modes"][0]);
    let window: Value = serde_json::from_str(&std::fs::read_to_string(cap.join("window.json")).unwrap()).unwrap();
    let at = |k: &str| Duration::from_secs_f64(window[k].as_f64().unwrap());
    let (start, end) = (at("start"), at("end"));
    // The appliance's canary identities (scenarios.py): their probes are its own frames.
    let own = |f: &[u8]| f.len() >= 12 && f[6..11] == [2, 0xcc, 0, 0, 0] && (f[11] == 0xfa || f[11] == 0xf9);
    let mut input: Vec<(Duration, Vec<u8>)> =
        ["in-a", "in-b"].iter().flat_map(|n| timed_frames(&cap.join(format!("{n}.pcap")))).filter(|(t, _)| *t >= start && *t < end).collect();
    let output: Vec<(Duration, Vec<u8>)> = ["out-a", "out-b"].iter().flat_map(|n| timed_frames(&cap.join(format!("{n}.pcap")))).collect();
    input.sort_by_key(|(t, _)| *t);
    // The replay's input: the wire's frames and the appliance's own (each once, though a
    // canary leaves both ports), in time order.
    let mut replay_in = input.clone();
    let mut seen_own = std::collections::HashSet::new();
    for (t, f) in output.iter().filter(|(t, f)| own(f) && *t >= start && *t < end) {
        if seen_own.insert(f.clone()) {
            replay_in.push((*t, f.clone()));
        }
    }
    replay_in.sort_by_key(|(t, _)| *t);
    let replay_pcap = s.path("replay-in.pcap");
    {
        let mut w = pcap_file::pcap::PcapWriter::new(std::fs::File::create(&replay_pcap).unwrap()).unwrap();
        for (t, d) in &replay_in {
            w.write_packet(&pcap_file::pcap::PcapPacket::new(*t, d.len() as u32, d)).unwrap();
        }
    }
    let replayed = s.path("replayed.pcap");
    let r = run_for(
        Command::new(bin())
            .args(["replay", "--policy"])
            .arg(repo().join("policies/default.policy"))
            .arg("--profile")
            .arg(cap.join("profile.toml"))
            .arg("--in")
            .arg(&replay_pcap)
            .arg("--out")
            .arg(&replayed),
        Duration::from_secs(120),
    );
    let text = String::from_utf8_lossy(&r.stdout).to_string() + &String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "replay failed:\n{text}");

    // The lab's verdicts: each input frame forwarded when the same bytes left the appliance
    // within a second after it (matched in order, one output to one input).
    let mut pending: HashMap<&[u8], VecDeque<Duration>> = HashMap::new();
    for (t, f) in &input {
        pending.entry(f.as_slice()).or_default().push_back(*t);
    }
    let mut lab: HashMap<&[u8], usize> = HashMap::new();
    let mut lab_other = Vec::new();
    let mut outs: Vec<&(Duration, Vec<u8>)> = output.iter().filter(|(_, f)| !own(f)).collect();
    outs.sort_by_key(|(t, _)| *t);
    for (t, f) in outs {
        let Some(q) = pending.get_mut(f.as_slice()) else {
            // (An output in the window's first second may be of an input just before it.)
            if *t >= start + Duration::from_secs(1) && *t < end {
                lab_other.push(f.as_slice());
            }
            continue;
        };
        while q.front().is_some_and(|i| *t > *i + Duration::from_secs(1)) {
            q.pop_front();
        }
        if q.front().is_some_and(|i| i <= t) {
            q.pop_front();
            *lab.entry(f.as_slice()).or_default() += 1;
        }
    }
    // The replay's: the frames it forwarded (its own probes aside).
    let mut rep: HashMap<&[u8], usize> = HashMap::new();
    let replayed_frames = timed_frames(&replayed);
    let mut rep_other = 0;
    for (_, f) in replayed_frames.iter().filter(|(_, f)| !own(f)) {
        if pending.contains_key(f.as_slice()) {
            *rep.entry(f.as_slice()).or_default() += 1;
        } else {
            rep_other += 1;
        }
    }
    let mut counts: HashMap<&[u8], usize> = HashMap::new();
    for (_, f) in &input {
        *counts.entry(f.as_slice()).or_default() += 1;
    }
    let describe = |f: &[u8]| {
        let mut sc = antidote_wire::Scratch::default();
        let fr = antidote_wire::Frame::parse(f, &mut sc);
        format!("{:?} {:?} {:?}", fr.net.map(|n| (n.src.ip(), n.dst.ip())), fr.transport, fr.app)
    };
    let mut differ = Vec::new();
    for (f, n) in &counts {
        let (l, r) = (lab.get(f).copied().unwrap_or(0), rep.get(f).copied().unwrap_or(0));
        if l != r {
            differ.push(format!("{n} in, lab forwarded {l}, replay {r}: {}", describe(f)));
        }
    }
    let forwarded: usize = lab.values().sum();
    let frames = input.len();
    eprintln!(
        "lab capture: {frames} frames in over {:.1} s, {forwarded} forwarded, {} dropped; {} of the appliance's own; {} other frames out (lab), {rep_other} (replay)",
        (end - start).as_secs_f64(),
        frames - forwarded,
        seen_own.len(),
        lab_other.len()
    );
    assert!(differ.is_empty(), "replay and the lab differ on {} of {} distinct frames:\n{}\n{text}", differ.len(), counts.len(), differ.join("\n"));
    let lab_other: Vec<String> = lab_other.iter().map(|f| describe(f)).collect();
    assert!(
        lab_other.is_empty() && rep_other == 0,
        "frames out that came in nowhere (the default policy injects nothing): lab {lab_other:#?}, replay {rep_other}"
    );
    assert!(frames > 300 && frames - forwarded > 0 && !seen_own.is_empty(), "the capture must hold drops and the appliance's probes");
}

/// The real Responder (default configuration) started in `ad-poisoner`, from the vendored tarball
/// unpacked into `s`, with the lab's venv (scripts/setup.sh builds it); the lab's teardown ends it.
fn start_responder(s: &Scratch) -> (std::process::Child, std::path::PathBuf) {
    let venv = repo().join("target/lab/responder-venv/bin/python");
    assert!(venv.exists(), "no Responder venv at {}: run scripts/setup.sh", venv.display());
    let work = s.path("responder");
    std::fs::create_dir_all(&work).unwrap();
    let tar = repo().join("../shared/vendor/responder-3.2.2.0-92ea4e9.tar.gz");
    let out = run_for(Command::new("tar").arg("xzf").arg(&tar).arg("-C").arg(&work), Duration::from_secs(30));
    assert!(out.status.success(), "{}: {}", tar.display(), String::from_utf8_lossy(&out.stderr));
    let dir = std::fs::read_dir(&work).unwrap().map(|e| e.unwrap().path()).find(|p| p.join("Responder.py").exists()).expect("no Responder.py in the tarball");
    let log = s.path("responder.log");
    let child = Command::new("ip")
        .args(["netns", "exec", "ad-poisoner"])
        .arg(&venv)
        .args(["-u", "Responder.py", "-I", "eth0", "-v"])
        .current_dir(&dir)
        .stdin(std::process::Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::process::Stdio::from(std::fs::File::options().append(true).open(&log).unwrap()))
        .spawn()
        .unwrap();
    let t = Instant::now();
    while !std::fs::read_to_string(&log).unwrap_or_default().contains("Listening for events") {
        assert!(t.elapsed() < Duration::from_secs(60), "Responder did not start:\n{}", std::fs::read_to_string(&log).unwrap_or_default());
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(1));
    (child, log)
}

/// Two victim segments at once (scripts/lab.sh's ad-victim on pair a/b, ad-victim2 on pair c/d,
/// both behind the same LAN switch — the shape of a two-segment profile), the default policy,
/// the real Responder on the LAN: each victim reaches the LAN through its own pair and no frame
/// of one segment leaves by the other pair's LAN port; each pair has a canary identity of its own
/// (Responder answers the canaries of both); Responder's answers to either victim are dropped —
/// the poisoner, once learned on one segment, is blocked on the other too (the default policy's
/// poisoner tables are global; what the network teaches, which MAC owns an address, is kept per
/// segment: tests/pairs.rs); the statistics and alerts name the pair.
#[test]
fn lab_two_segments_are_each_guarded_by_their_own_pair_against_responder() {
    require_root();
    let lab = Lab::up();
    let s = Scratch::new("lab-two-segments");
    let text = std::fs::read_to_string(repo().join("hw-profiles/lab.toml")).unwrap().replace("mempool_mbufs = 8191", "mempool_mbufs = 16383");
    let (pair_ab, more) = ("[[pair]]\na = \"a\"\nb = \"b\"", "[[port]]\nname = \"c\"\ndevice = \"net_af_packet2,iface=ad-c,qpairs=1\"\nrx_desc = 1024\ntx_desc = 1024\n\n[[port]]\nname = \"d\"\ndevice = \"net_af_packet3,iface=ad-d,qpairs=1\"\nrx_desc = 1024\ntx_desc = 1024\n\n");
    assert!(text.contains(pair_ab), "hw-profiles/lab.toml: no pair a/b");
    let text = text.replace(
        pair_ab,
        &format!("{more}{pair_ab}\ncanary_mac = \"02:cc:00:00:00:fa\"\ncanary_ipv4 = \"198.18.0.250/24\"\n\n[[pair]]\na = \"c\"\nb = \"d\"\ncanary_mac = \"02:cc:00:00:00:f8\"\ncanary_ipv4 = \"198.18.0.248/24\"\n"),
    );
    let profile = s.path("lab-two-segments.toml");
    std::fs::write(&profile, &text).unwrap();
    let alerts_file = s.path("alerts.jsonl");
    let (mut app, base) = start_with_api(
        &s,
        &[
            "run",
            "--profile",
            profile.to_str().unwrap(),
            "--policy",
            "policies/default.policy",
            "--alerts",
            alerts_file.to_str().unwrap(),
            "--stats-interval",
            "0",
        ],
        &[],
        "",
    );
    assert!(app.log_text().contains("2 pair(s)"), "{}", app.log_text());
    // What the appliance sends out of the LAN side of each pair, seen where it arrives: frames from
    // one segment's victim must never leave by the other pair's port.
    let watch = |port: &str, src_mac: &str, file: &str| {
        let path = s.path(file);
        let child = Command::new("ip")
            .args(["netns", "exec", "ad-lan", "tcpdump", "-i", port, "-Q", "in", "-nn", "-e", "-l", "-U", "ether", "src", src_mac])
            .stdout(std::fs::File::create(&path).unwrap())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        (child, path)
    };
    let leaks = [watch("uplink2", "02:ad:00:00:00:0a", "victim1-on-d.txt"), watch("uplink", "02:ad:00:00:00:0b", "victim2-on-b.txt")];
    let own = [watch("uplink", "02:ad:00:00:00:0a", "victim1-on-b.txt"), watch("uplink2", "02:ad:00:00:00:0b", "victim2-on-d.txt")];
    std::thread::sleep(Duration::from_secs(1));
    // Both victims reach the file server, each through its own pair.
    for v in ["ad-victim", "ad-victim2"] {
        let t = Instant::now();
        while !lab.exec(v, &["ping", "-c", "1", "-W", "1", "198.18.0.20"], Duration::from_secs(5)).status.success() {
            assert!(t.elapsed() < Duration::from_secs(10), "{v} does not reach 198.18.0.20 through its pair:\n{}", app.log_text());
        }
    }
    let (_responder, responder_log) = start_responder(&s);
    // Each victim asks a name nobody owns (LLMNR, Windows' timers): Responder answers each; no
    // answer reaches either victim.
    let resolve = repo().join("scripts/lab/resolve.py");
    for (v, name) in [("ad-victim", "fileservr"), ("ad-victim2", "printserv")] {
        let o = lab.exec(v, &["/usr/bin/python3", resolve.to_str().unwrap(), "llmnr4", name, "--timeout", "1", "--windows"], Duration::from_secs(20));
        let out = String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr);
        assert!(!answered_by(&out, "198.18.0.66"), "{v}: Responder's answer for {name} reached the victim:\n{out}\n{}", app.log_text());
    }
    let rlog = std::fs::read_to_string(&responder_log).unwrap_or_default();
    assert!(
        rlog.matches("Poisoned answer sent").count() >= 2 && rlog.contains("fileservr") && rlog.contains("printserv"),
        "Responder did not answer both:\n{rlog}"
    );
    std::thread::sleep(Duration::from_millis(500));
    let auth = format!("Bearer {TEST_TOKEN}");
    let stats: Value =
        serde_json::from_str(&ureq::get(&format!("{base}/v1/stats")).set("Authorization", &auth).call().unwrap().into_string().unwrap()).unwrap();
    let (ok, log) = app.stop();
    let mut paths = Vec::new();
    for (mut c, path) in leaks.into_iter().chain(own) {
        let _ = c.kill();
        let _ = c.wait();
        paths.push(path);
    }
    assert!(ok, "{log}");
    for path in &paths[..2] {
        let leaked = std::fs::read_to_string(path).unwrap();
        assert!(leaked.trim().is_empty(), "frames of one segment left by the other pair's port ({}):\n{leaked}", path.display());
    }
    for path in &paths[2..] {
        assert!(!std::fs::read_to_string(path).unwrap().trim().is_empty(), "nothing of the victim left by its own pair's port ({})", path.display());
    }
    // The statistics: every direction of both pairs, each frame accounted for in its own.
    let fl = final_line(&log);
    for dir in ["a→b", "b→a", "c→d", "d→c"] {
        assert!(counter(&fl, dir, "rx") > 0, "{dir}: {fl}");
        assert_eq!(counter(&fl, dir, "rx"), counter(&fl, dir, "tx") + counter(&fl, dir, "dropped") + counter(&fl, dir, "txfull"), "{dir}: {fl}");
    }
    assert!(counter(&fl, "b→a", "dropped") > 0 && counter(&fl, "d→c", "dropped") > 0, "Responder's answers dropped on both pairs: {fl}");
    let peers: Vec<(String, String)> =
        stats["ports"].as_array().unwrap().iter().map(|p| (p["name"].as_str().unwrap().into(), p["peer"].as_str().unwrap_or("").into())).collect();
    let want: Vec<(String, String)> = [("a", "b"), ("b", "a"), ("c", "d"), ("d", "c")].iter().map(|(x, y)| (x.to_string(), y.to_string())).collect();
    assert_eq!(peers, want, "{stats}");
    // The alerts name the pair the answer crossed.
    let docs: Vec<Value> = std::fs::read_to_string(&alerts_file).unwrap_or_default().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for d in &docs {
        eprintln!("alert: {} {} {} {}", d["rule"]["name"], d["event"]["action"], d["observer"]["ingress"]["zone"], d["message"]);
    }
    eprintln!("{fl}\nResponder:\n{rlog}");
    let from_responder =
        |zone: &str| docs.iter().any(|d| d["source"]["ip"] == "198.18.0.66" && d["event"]["action"] == "drop" && d["observer"]["ingress"]["zone"] == zone);
    assert!(from_responder("a/b") && from_responder("c/d"), "no dropped-answer alert on each pair: {docs:#?}");
}
