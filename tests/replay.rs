//! `antidote replay` over the project's crafted capture with the default policy: the same
//! dataplane and worker code as the live appliance, over net_pcap. Forwarded and injected frames
//! go to --out, dropped ones do not; the summary and the alert file agree with the counts.
mod common;
use common::*;
use pcap_file::pcap::PcapReader;
use std::process::Command;
use std::time::Duration;

fn frames(p: &std::path::Path) -> Vec<Vec<u8>> {
    let mut r = PcapReader::new(std::fs::File::open(p).unwrap()).unwrap();
    let mut v = Vec::new();
    while let Some(x) = r.next_packet() {
        v.push(x.unwrap().data.into_owned());
    }
    v
}

/// Writes a capture with one of the project's generators (`script` and its arguments) to `out`.
fn generate(script: &str, out: &std::path::Path, args: &[&str]) {
    let g = run_for(Command::new("/usr/bin/python3").arg(repo().join(script)).arg(out).args(args), Duration::from_secs(120));
    assert!(g.status.success(), "{script}: {}", String::from_utf8_lossy(&g.stderr));
}

/// `antidote replay` of `input` under the default policy into `out` (and `extra` arguments).
fn replay(input: &std::path::Path, out: &std::path::Path, extra: &[&std::ffi::OsStr]) -> std::process::Output {
    replay_with("policies/default.policy", input, out, extra)
}

/// A capture written by an inline scapy script (`script`, given the capture's path and `args`),
/// then replayed under the default policy with its alerts to a file (and `extra` arguments):
/// the input, output and alert file's paths in `s`, and what replay printed (it must succeed).
fn replay_script(s: &Scratch, script: &str, args: &[&str], extra: &[&std::ffi::OsStr]) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf, String) {
    let (input, out, alerts) = (s.path("in.pcap"), s.path("out.pcap"), s.path("alerts.jsonl"));
    let g = run_for(Command::new("/usr/bin/python3").args(["-c", script]).arg(&input).args(args), Duration::from_secs(120));
    assert!(g.status.success(), "{}", String::from_utf8_lossy(&g.stderr));
    let mut all: Vec<&std::ffi::OsStr> = vec!["--alerts".as_ref(), alerts.as_os_str()];
    all.extend(extra);
    let r = replay(&input, &out, &all);
    let text = String::from_utf8_lossy(&r.stdout).to_string();
    assert!(r.status.success(), "{text}\n{}", String::from_utf8_lossy(&r.stderr));
    (input, out, alerts, text)
}

/// `antidote replay` of `input` under `policy` (a path in the repository).
fn replay_with(policy: &str, input: &std::path::Path, out: &std::path::Path, extra: &[&std::ffi::OsStr]) -> std::process::Output {
    let policy = repo().join(policy);
    run_for(Command::new(bin()).args(["replay", "--policy"]).arg(policy).arg("--in").arg(input).arg("--out").arg(out).args(extra), Duration::from_secs(60))
}

#[test]
fn replay_drops_poison_injects_negatives_and_alerts() {
    require_root();
    let s = Scratch::new("replay");
    let input = s.path("in.pcap");
    generate("scripts/gen_wire_corpus.py", &input, &[]);
    let (out, alerts) = (s.path("out.pcap"), s.path("alerts.jsonl"));
    // A second file sink takes each alert's packet (its first 128 bytes) in `event.original`.
    let with_packets = format!("{},packet=128", s.path("alerts-packets.jsonl").display());
    let r = replay(&input, &out, &["--alerts".as_ref(), alerts.as_os_str(), "--alerts".as_ref(), with_packets.as_ref()]);
    let text = String::from_utf8_lossy(&r.stdout).to_string();
    assert!(r.status.success(), "{text}\n{}", String::from_utf8_lossy(&r.stderr));
    let inp = frames(&input);
    let outp = frames(&out);
    // The summary line: frames in, forwarded, dropped, injected.
    let line = text.lines().find(|l| l.starts_with("replay: ") && l.contains("frames in")).unwrap();
    let num = |key: &str| -> usize {
        let w: Vec<&str> = line.split_whitespace().collect();
        let i = w.iter().position(|x| x.starts_with(key)).unwrap();
        w[i - 1].trim_end_matches(',').parse().unwrap()
    };
    let (fin, fwd, dropped, injected) = (num("frames"), num("forwarded"), num("dropped"), num("negative"));
    assert_eq!(fin, inp.len());
    assert_eq!(fwd + dropped, fin, "{line}");
    assert_eq!(outp.len(), fwd + injected, "out.pcap holds forwarded and injected frames");
    assert!(dropped >= 6, "the poisoned answers and follow-ons are dropped: {line}");
    assert_eq!(injected, 0, "the default policy injects nothing (it does not know which names do not exist): {line}");
    // The follow-ons to the poisoner learned earlier in the same burst (the first poisoned
    // answer is frame 13 of 39, read in the first burst of 32 with them) are dropped: the
    // rules about learned poisoners wake within the burst.
    let has = |f: &[u8], s: &[u8]| f.windows(s.len()).any(|w| w == s);
    for follow_on in [&b"GET /wpad.dat"[..], b"HTTP/1.1 407"] {
        assert!(inp.iter().any(|f| has(f, follow_on)));
        assert!(!outp.iter().any(|f| has(f, follow_on)), "a follow-on ({}) was forwarded", String::from_utf8_lossy(follow_on));
    }
    // Nothing dropped reaches the output; every forwarded frame is unchanged.
    let input_set: std::collections::HashSet<&Vec<u8>> = inp.iter().collect();
    let forwarded_in_out = outp.iter().filter(|f| input_set.contains(f)).count();
    assert_eq!(forwarded_in_out, fwd);
    // The injected frames are NBT-NS negative answers.
    for f in outp.iter().filter(|f| !input_set.contains(f)) {
        let mut sc = antidote_wire::Scratch::default();
        let fr = antidote_wire::Frame::parse(f, &mut sc);
        assert!(fr.nbns().map(|m| m.is_negative_response()).unwrap_or(false), "an injected frame is not an NBT-NS negative answer");
    }
    // One alert per dropped frame here (each dropping rule alerts), all written as ECS.
    let docs: Vec<serde_json::Value> = std::fs::read_to_string(&alerts).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    // Each document as ECS defines its fields (npm's @elastic/ecs, read at test time).
    for d in &docs {
        let p = common::ecs::problems(d);
        assert!(p.is_empty(), "an alert ECS does not accept:\n{}\n{d}", p.join("\n"));
    }
    let drops: usize = docs.iter().filter(|d| d["event"]["action"] == "drop").map(|d| d["antidote"]["count"].as_u64().unwrap_or(1) as usize).sum();
    assert_eq!(drops, dropped, "{line}");
    // HTTP follow-ons carry ECS's own HTTP and URL fields.
    let get = docs.iter().find(|d| d["url"]["path"] == "/wpad.dat").unwrap_or_else(|| panic!("no alert with url.path /wpad.dat"));
    assert_eq!(get["http"]["request"]["method"], "GET", "{get}");
    assert!(get["url"]["domain"].is_string() && get["url"]["original"].is_string(), "{get}");
    assert!(docs.iter().any(|d| d["http"]["response"]["status_code"] == 407), "no alert with http.response.status_code 407");
    // The packet sink: the same documents, each with the first 128 bytes of its frame (base64),
    // which are the first bytes of a frame of the capture; the plain sink has none.
    use base64::Engine;
    let packets: Vec<serde_json::Value> =
        std::fs::read_to_string(s.path("alerts-packets.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(packets.len(), docs.len());
    for (d, p) in docs.iter().zip(&packets) {
        assert!(d["event"].get("original").is_none(), "{d}");
        let problems = common::ecs::problems(p);
        assert!(problems.is_empty(), "an alert ECS does not accept:\n{}\n{p}", problems.join("\n"));
        let bytes = base64::engine::general_purpose::STANDARD.decode(p["event"]["original"].as_str().unwrap()).unwrap();
        let len = p["antidote"]["frame_length"].as_u64().unwrap() as usize;
        assert_eq!(bytes.len(), len.min(128), "{p}");
        assert_eq!(p["antidote"]["packet_bytes"], bytes.len(), "{p}");
        assert!(inp.iter().any(|f| f.len() == len && f.starts_with(&bytes)), "event.original is no frame of the capture: {p}");
        let mut same = p.clone();
        same["event"].as_object_mut().unwrap().remove("original");
        same["antidote"].as_object_mut().unwrap().remove("packet_bytes");
        assert_eq!(&same, d);
    }
    assert!(text.contains("replay:   answer-for-owned-name:") && text.contains("replay:   answer-from-poisoner:"), "{text}");
    // Under strict-inline.policy, the unicast NBT-NS query for a name nobody owns is answered.
    let r = replay_with("policies/strict-inline.policy", &input, &out, &[]);
    let text = String::from_utf8_lossy(&r.stdout).to_string();
    assert!(r.status.success(), "{text}");
    let line = text.lines().find(|l| l.starts_with("replay: ") && l.contains("frames in")).unwrap();
    assert!(line.contains(" 1 negative answers injected"), "{line}");
}

#[test]
fn replay_agrees_with_the_live_appliance_frame_for_frame() {
    // The same capture through `antidote replay` and through `antidote run` on a profile whose
    // ports are net_pcap files: the frames forwarded to port b, the answers injected out of
    // port a and the frames dropped are the same, frame for frame. Two captures: the crafted
    // corpus, and the throughput bench's 4096-frame mix (poisoned answers, follow-ons, plain).
    require_root();
    let s = Scratch::new("replay-vs-live");
    let (corpus, mix) = (s.path("corpus.pcap"), s.path("mix.pcap"));
    generate("scripts/gen_wire_corpus.py", &corpus, &[]);
    generate("bench/gen_mix.py", &mix, &["4096"]);
    let (mut injected, mut dropped) = (0, 0);
    for (policy, input) in [("policies/default.policy", &corpus), ("policies/default.policy", &mix), ("policies/strict-inline.policy", &corpus)] {
        let (i, d) = replay_and_live(&s, policy, input);
        injected += i;
        dropped += d;
    }
    assert!(injected > 0 && dropped > 0, "the captures must exercise drops and injections");
}

/// Runs `input` through replay and through the live appliance; asserts they agree and returns
/// the injected and dropped counts.
fn replay_and_live(s: &Scratch, policy: &str, input: &std::path::Path) -> (usize, usize) {
    let replayed = s.path("replayed.pcap");
    let r = replay_with(policy, input, &replayed, &[]);
    assert!(
        r.status.success(),
        "replay of {} failed ({:?}):\n{}\n{}",
        input.display(),
        r.status,
        String::from_utf8_lossy(&r.stdout),
        String::from_utf8_lossy(&r.stderr)
    );
    let policy = repo().join(policy);

    drop(pcap_file::pcap::PcapWriter::new(std::fs::File::create(s.path("empty.pcap")).unwrap()).unwrap());
    let d = s.0.display();
    let port = |name: &str, n: u8, rx: &str, tx: &str| {
        format!("[[port]]\nname = \"{name}\"\ndevice = \"net_pcap{n},rx_pcap={rx},tx_pcap={d}/{tx}\"\nrx_desc = 256\ntx_desc = 256\n")
    };
    let profile = format!(
        "name = \"live\"\nworker_lcores = [1]\nmemory_mb = 256\nmempool_mbufs = 4095\n{}{}[[pair]]\na = \"a\"\nb = \"b\"\n",
        port("a", 0, &input.display().to_string(), "out-a.pcap"),
        port("b", 1, &format!("{d}/empty.pcap"), "out-b.pcap")
    );
    std::fs::write(s.path("live.toml"), profile).unwrap();
    let out = run_for(
        Command::new(bin()).args(["run", "--profile"]).arg(s.path("live.toml")).arg("--policy").arg(&policy).args([
            "--until-idle-ms",
            "400",
            "--duration",
            "30",
            "--control",
            "off",
        ]),
        Duration::from_secs(40),
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));

    let inp = frames(input);
    let input_set: std::collections::HashSet<&Vec<u8>> = inp.iter().collect();
    let rep = frames(&replayed);
    let (rep_fwd, rep_inj): (Vec<&Vec<u8>>, Vec<&Vec<u8>>) = rep.iter().partition(|f| input_set.contains(f));
    let live_fwd = frames(&s.path("out-b.pcap"));
    let live_inj = frames(&s.path("out-a.pcap"));
    assert_eq!(live_fwd.iter().collect::<Vec<_>>(), rep_fwd, "{}: forwarded frames differ between replay and the live appliance", input.display());
    assert_eq!(live_inj.iter().collect::<Vec<_>>(), rep_inj, "{}: injected answers differ between replay and the live appliance", input.display());
    let fl = final_line(&stdout);
    let dropped = inp.len() - rep_fwd.len();
    assert_eq!(counter(&fl, "a→b", "dropped") as usize, dropped, "{fl}");
    eprintln!(
        "{} under {policy:?}: {} frames: {} forwarded, {dropped} dropped, {} answers injected — the same in replay and live",
        input.display(),
        inp.len(),
        rep_fwd.len(),
        rep_inj.len()
    );
    (rep_inj.len(), dropped)
}

/// A capture where poisoners are learned while others are already known, each followed in the
/// same burst of 32 by the victim's connections to it: the file server registers its name
/// FILESERVR (frame 0); LLMNR answers for it from 198.18.0.66 (frame 10), 198.18.0.77 (41) and
/// fd00:198:18::77 (51, the same MAC as .77), a SYN to port 445 after each, a WPAD fetch after
/// the second; between them, TCP between other hosts.
const GATE_CASE: &str = r#"
import sys
from scapy.all import DNS, DNSQR, DNSRR, IP, IPv6, TCP, UDP, Ether, Raw, wrpcap
V4, V6 = "198.18.0.10", "fd00:198:18::10"
def l2(src="02:ad:00:00:00:01"):
    return Ether(src=src, dst="02:ad:00:00:00:02")
def registration(name, addr):
    enc = b"".join(bytes([0x41 + (c >> 4), 0x41 + (c & 15)]) for c in name.ljust(15).encode() + b"\x00")
    m = bytes([0x12, 0x34, 0x29, 0x10, 0, 1, 0, 0, 0, 0, 0, 1, 0x20]) + enc + bytes([0, 0, 0x20, 0, 1])
    m += bytes([0xc0, 0x0c, 0, 0x20, 0, 1, 0, 0, 0x0d, 0x2f, 0, 6, 0, 0]) + bytes(int(x) for x in addr.split("."))
    return Ether(src="02:ad:00:00:00:20", dst="ff:ff:ff:ff:ff:ff") / IP(src=addr, dst="198.18.0.255") / UDP(sport=137, dport=137) / Raw(m)
def filler(i):
    return l2() / IP(src=V4, dst="198.18.0.20") / TCP(sport=40000 + i, dport=443, flags="A") / Raw(b"x" * 20)
def answer(p, v6=False):
    net = IPv6(src=p, dst=V6) if v6 else IP(src=p, dst=V4)
    mac = "02:ad:00:00:00:66" if p.endswith("66") else "02:ad:00:00:00:77"
    return l2(mac) / net / UDP(sport=5355, dport=50000) / DNS(id=7, qr=1, qd=DNSQR(qname="fileservr"),
        an=DNSRR(rrname="fileservr", ttl=30, rdata="198.18.0.66"))
def syn(p, v6=False):
    net = IPv6(src=V6, dst=p) if v6 else IP(src=V4, dst=p)
    return l2() / net / TCP(sport=50001, dport=445, flags="S")
wpad = l2() / IP(src=V4, dst="198.18.0.77") / TCP(sport=50002, dport=80, flags="PA") / Raw(
    b"GET /wpad.dat HTTP/1.1\r\nHost: wpad\r\n\r\n")
f = [filler(i) for i in range(71)]
f[0] = registration("FILESERVR", "198.18.0.20")
f[10], f[11] = answer("198.18.0.66"), syn("198.18.0.66")
f[41], f[42], f[43] = answer("198.18.0.77"), syn("198.18.0.77"), wpad
f[51], f[52] = answer("fd00:198:18::77", True), syn("fd00:198:18::77", True)
wrpcap(sys.argv[1], f)
"#;

#[test]
fn replay_judges_every_frame_as_a_full_evaluation_in_order_would() {
    // The workers' header look lets most frames through without dissecting them (and, once a
    // poisoner is known, TCP between other hosts on the learned table's address filter); the
    // verdicts must be those of dissecting and evaluating every frame in order. Two captures:
    // the bench mix, and one where a new poisoner's follow-ons come in its own burst.
    require_root();
    let s = Scratch::new("replay-vs-eval");
    let (mix, case) = (s.path("mix.pcap"), s.path("gate.pcap"));
    generate("bench/gen_mix.py", &mix, &["4096"]);
    let g = run_for(Command::new("/usr/bin/python3").args(["-c", GATE_CASE]).arg(&case), Duration::from_secs(120));
    assert!(g.status.success(), "{}", String::from_utf8_lossy(&g.stderr));
    for input in [&mix, &case] {
        let src = std::fs::read_to_string(repo().join("policies/default.policy")).unwrap();
        let mut program = antidote_policy::compile(&src).unwrap().program;
        // The network learned as the workers learn it: from each frame before it is judged, and
        // from the answers let through.
        let net = std::sync::Arc::new(antidote_policy::state::Network::default());
        program.network = Some(net.clone());
        let inp = frames(input);
        let meta = antidote_policy::Meta::default();
        let mut want = Vec::new();
        let mut dropped = Vec::new();
        for (i, f) in inp.iter().enumerate() {
            let mut sc = antidote_wire::Scratch::default();
            let fr = antidote_wire::Frame::parse(f, &mut sc);
            let mut o = antidote_policy::Outcome::default();
            if let Some((at, _)) = antidote_wire::triage::arp_at(f) {
                net.learn_arp_frame(f, at, 0, 1);
            }
            net.learn_frame(&fr, 0, 1);
            program.eval(&fr, &meta, 1, &mut o);
            if fr.app.is_answer() {
                if o.dropped() {
                    net.unlearn_answer(&fr, 0, 1);
                } else {
                    net.learn_answer(&fr, 0, 1);
                }
            }
            if o.dropped() {
                dropped.push(i);
            } else {
                want.push(f);
            }
        }
        let out = s.path("out.pcap");
        let r = replay(input, &out, &[]);
        assert!(r.status.success(), "{}\n{}", String::from_utf8_lossy(&r.stdout), String::from_utf8_lossy(&r.stderr));
        let input_set: std::collections::HashSet<&Vec<u8>> = inp.iter().collect();
        let got = frames(&out);
        let got: Vec<&Vec<u8>> = got.iter().filter(|f| input_set.contains(f)).collect();
        assert_eq!(
            got.len(),
            want.len(),
            "{}: replay forwarded {} frames, a full evaluation {} (it drops {dropped:?})",
            input.display(),
            got.len(),
            want.len()
        );
        assert!(got == want, "{}: the forwarded frames differ from a full evaluation's", input.display());
        if input == &case {
            assert_eq!(dropped, [10, 11, 41, 42, 43, 51, 52], "the answers and every follow-on to their senders");
        }
        eprintln!("{}: {} frames, {} dropped — as a full evaluation of each", input.display(), inp.len(), dropped.len());
    }
}

/// A poisoner answering one victim's LLMNR queries for two names, `n` times each, interleaved
/// (the transaction IDs differ, as a real storm's do).
const STORM: &str = r#"
import sys
from scapy.all import DNS, DNSQR, DNSRR, IP, UDP, Ether, wrpcap
n = int(sys.argv[2])
def answer(i, name):
    return Ether(src="02:ad:00:00:00:66", dst="02:ad:00:00:00:10") / IP(src="198.18.0.66", dst="198.18.0.10") / UDP(
        sport=5355, dport=50000 + i % 1000) / DNS(id=i & 0xffff, qr=1, qd=DNSQR(qname=name), an=DNSRR(rrname=name, ttl=30, rdata="198.18.0.66"))
frames = [answer(i, name) for i in range(n) for name in ("fileservr", "printr")]
# The capture's own clock, 20 µs apart (scapy stamps a frame when it builds it: on a busy machine
# the storm would spread over seconds of capture time, and the replay folds by that time).
for k, f in enumerate(frames):
    f.time = 1700000000 + k * 0.00002
wrpcap(sys.argv[1], frames)
"#;

#[test]
fn an_alert_storm_is_written_as_first_sightings_and_summaries_and_loses_nothing() {
    // Every poisoned answer raises an alert; the workers fold the repeats of each (rule,
    // poisoner, victim, name) and hand them over together, and the alert file holds, per
    // group, the first sighting and summaries whose counts add up to every alert raised.
    require_root();
    let s = Scratch::new("replay-storm");
    // (Every answer judged: the alert storm is what is looked at, not the answer budget.)
    let (_, _, alerts, text) = replay_script(&s, STORM, &["3000"], &["--answers-per-ms".as_ref(), "0".as_ref()]);
    let raised: u64 = text.lines().find_map(|l| l.strip_prefix("replay: ")?.strip_suffix(" alerts")?.parse().ok()).unwrap();
    assert!(raised >= 6000, "every poisoned answer alerts: {text}");
    let docs: Vec<serde_json::Value> = std::fs::read_to_string(&alerts).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let count = |d: &serde_json::Value| d["antidote"]["count"].as_u64().unwrap_or(1);
    assert_eq!(docs.iter().map(count).sum::<u64>(), raised, "the documents account for every alert: {text}");
    // Per group (rule, name): one first sighting, then summaries only.
    let mut groups: std::collections::BTreeMap<(String, String), Vec<u64>> = Default::default();
    for d in &docs {
        let key = (d["rule"]["name"].as_str().unwrap().to_string(), d["dns"]["question"]["name"].as_str().unwrap_or("").to_string());
        groups.entry(key).or_default().push(count(d));
    }
    for (k, counts) in &groups {
        assert_eq!(counts[0], 1, "{k:?}: the first document is the first sighting ({counts:?})");
        assert!(counts.len() <= 3, "{k:?}: repeats are summarised, not written one by one ({counts:?})");
    }
    assert!(groups.keys().any(|(_, n)| n.contains("fileservr")) && groups.keys().any(|(_, n)| n.contains("printr")), "{groups:?}");
    assert!(docs.len() < 20, "{} documents for {raised} alerts", docs.len());
}

/// An LLMNR answer (id, name, address), as Responder sends it.
fn llmnr_answer(id: u16, name: &str, addr: [u8; 4]) -> Vec<u8> {
    let label = |m: &mut Vec<u8>| {
        for l in name.split('.') {
            m.push(l.len() as u8);
            m.extend(l.as_bytes());
        }
        m.extend([0, 0, 1, 0, 1]);
    };
    let mut m = vec![(id >> 8) as u8, id as u8, 0x80, 0, 0, 1, 0, 1, 0, 0, 0, 0];
    label(&mut m);
    label(&mut m);
    m.extend([0, 0, 0, 30, 0, 4]);
    m.extend(addr);
    m
}

#[test]
fn replay_reads_the_live_runs_canaries_and_probes_back_to_its_verdicts() {
    // A capture as the live appliance's segment saw it: its canary (from its identity) answered
    // by poisoner P; a victim's lookup answered by poisoner Q, which stays quiet to canaries
    // but answers the probe the appliance sent it; a legitimate host's first answer, whose probe
    // went unanswered; Q again. Live: P's answer to the canary and Q's answers are dropped (the
    // first one held, then dropped when Q answered the probe), the host's answer released.
    // Replay cannot probe; with the live profile it reads the run's own canary and probe back
    // from the capture and reaches the same verdicts.
    require_root();
    use antidote_wire::emit::{self, QueryKind};
    use antidote_wire::ethernet::Mac;
    let s = Scratch::new("replay-canaries");
    let ident: [u8; 6] = [2, 0xcc, 0, 0, 0, 0xfa];
    let (p, q, l, v): ([u8; 6], [u8; 6], [u8; 6], [u8; 6]) =
        ([2, 0xad, 0, 0, 0, 0x66], [2, 0xad, 0, 0, 0, 0x67], [2, 0xad, 0, 0, 0, 0x20], [2, 0xad, 0, 0, 0, 0x10]);
    let ip = |n: u8| std::net::IpAddr::V4(std::net::Ipv4Addr::new(198, 18, 0, n));
    let udp = |from: ([u8; 6], u8), to: ([u8; 6], u8), ports: (u16, u16), m: &[u8]| {
        emit::udp_datagram(Mac(from.0), Mac(to.0), ip(from.1), ip(to.1), ports.0, ports.1, 64, m).unwrap()
    };
    let query = |to: Option<([u8; 6], u8)>, name: &str, id: u16, port: u16| {
        let mut out = [0u8; emit::MAX_FRAME];
        let n = emit::query(&mut out, QueryKind::Llmnr, Mac(ident), ip(250), &[], name, id, port, to.map(|(m, h)| (Mac(m), ip(h)))).unwrap();
        out[..n].to_vec()
    };
    let canary = query(None, "corpfs17", 0x1001, 50001);
    let p_canary = udp((p, 0x66), (ident, 250), (5355, 50001), &llmnr_answer(0x1001, "corpfs17", [198, 18, 0, 0x66]));
    let victim_q = udp((v, 10), (v, 10), (50002, 5355), b"");
    let q_first = udp((q, 0x67), (v, 10), (5355, 50002), &llmnr_answer(0x2002, "fileserv", [198, 18, 0, 0x67]));
    let q_probe = query(Some((q, 0x67)), "srv1234", 0x3003, 50003);
    let q_probe_answer = udp((q, 0x67), (ident, 250), (5355, 50003), &llmnr_answer(0x3003, "srv1234", [198, 18, 0, 0x67]));
    let l_first = udp((l, 0x20), (v, 10), (5355, 50004), &llmnr_answer(0x4004, "corpfs01", [198, 18, 0, 0x20]));
    let l_probe = query(Some((l, 0x20)), "nas5678", 0x5005, 50005);
    let q_again = udp((q, 0x67), (v, 10), (5355, 50006), &llmnr_answer(0x6006, "printer", [198, 18, 0, 0x67]));
    // R answers its probe 300 ms late, the hold (40 ms) long over: live, its first answer was
    // released at the deadline. Replay reads the capture's time, not how fast it reads it.
    let r = [2, 0xad, 0, 0, 0, 0x68];
    let r_first = udp((r, 0x68), (v, 10), (5355, 50007), &llmnr_answer(0x7007, "mailhost", [198, 18, 0, 0x68]));
    let r_probe = query(Some((r, 0x68)), "wks9012", 0x8008, 50008);
    let r_late = udp((r, 0x68), (ident, 250), (5355, 50008), &llmnr_answer(0x8008, "wks9012", [198, 18, 0, 0x68]));
    let capture = [
        (0, &canary),
        (2, &p_canary),
        (1000, &victim_q),
        (1001, &q_first),
        (1002, &q_probe),
        (1004, &q_probe_answer),
        (2000, &l_first),
        (2001, &l_probe),
        (3000, &q_again),
        (4000, &r_first),
        (4001, &r_probe),
        (4300, &r_late),
    ];
    let input = s.path("live.pcap");
    {
        let mut w = pcap_file::pcap::PcapWriter::new(std::fs::File::create(&input).unwrap()).unwrap();
        for (ms, d) in capture {
            w.write_packet(&pcap_file::pcap::PcapPacket::new(Duration::from_millis(ms), d.len() as u32, d)).unwrap();
        }
    }
    let profile = s.path("live.toml");
    std::fs::write(
        &profile,
        "name = \"live\"\nworker_lcores = [1]\n[[port]]\nname = \"a\"\ndevice = \"net_null0\"\n[[port]]\nname = \"b\"\ndevice = \"net_null1\"\n\
         [[pair]]\na = \"a\"\nb = \"b\"\ncanary_mac = \"02:cc:00:00:00:fa\"\ncanary_ipv4 = \"198.18.0.250/24\"\n",
    )
    .unwrap();

    // With the live profile: the live verdicts.
    let out = s.path("out.pcap");
    let r = replay(&input, &out, &["--profile".as_ref(), profile.as_os_str()]);
    let text = String::from_utf8_lossy(&r.stdout).to_string();
    assert!(r.status.success(), "{text}\n{}", String::from_utf8_lossy(&r.stderr));
    let got = frames(&out);
    for (what, f) in [
        ("the canary", &canary),
        ("the victim's query", &victim_q),
        ("the probes", &q_probe),
        ("the probes", &l_probe),
        ("the host's answer", &l_first),
        ("R's first answer, released at its deadline", &r_first),
    ] {
        assert!(got.contains(f), "{what} left: {text}");
    }
    for (what, f) in [
        ("P's answer to the canary", &p_canary),
        ("Q's first answer", &q_first),
        ("Q's answer to the probe", &q_probe_answer),
        ("Q's next answer", &q_again),
        ("R's late answer to its probe", &r_late),
    ] {
        assert!(!got.contains(f), "{what} was forwarded: {text}");
    }
    assert!(text.contains("3 answers held") && text.contains("2 released, 1 dropped"), "{text}");
    assert!(!text.contains("fallback"), "{text}");

    // Without it: replay cannot tell the canary or the probe from anyone's query; the held
    // answers get their rule's fallback (pass), and the summary says how to do better.
    let r = replay(&input, &out, &[]);
    let text = String::from_utf8_lossy(&r.stdout).to_string();
    assert!(r.status.success(), "{text}");
    assert!(frames(&out).contains(&q_first), "{text}");
    assert!(text.contains("fallback verdict") && text.contains("--profile"), "{text}");

    // A profile with no identity is refused with what to do.
    std::fs::write(&profile, std::fs::read_to_string(&profile).unwrap().replace("canary_mac = \"02:cc:00:00:00:fa\"\ncanary_ipv4 = \"198.18.0.250/24\"\n", ""))
        .unwrap();
    let r = replay(&input, &out, &["--profile".as_ref(), profile.as_os_str()]);
    assert!(!r.status.success() && String::from_utf8_lossy(&r.stderr).contains("no pair has a canary identity"), "{}", String::from_utf8_lossy(&r.stderr));
}

#[test]
fn a_storm_of_new_alerts_is_summarised_per_rule_and_second() {
    // Forged LLMNR answers, each for a new name from a new source: every alert a first
    // sighting that no fold can take. A worker hands over at most 200 new alerts of a rule a
    // second and summarises the rest (one storm summary per rule and second, the first of them
    // as its example); the documents still account for every alert raised.
    require_root();
    let s = Scratch::new("replay-alert-storm");
    let (input, out, alerts) = (s.path("flood.pcap"), s.path("out.pcap"), s.path("alerts.jsonl"));
    let g =
        run_for(Command::new("/usr/bin/python3").arg(repo().join("bench/gen_flood.py")).args(["answers"]).arg(&input).arg("5000"), Duration::from_secs(120));
    assert!(g.status.success(), "{}", String::from_utf8_lossy(&g.stderr));
    // (Every answer judged: the alert storm is what is looked at, not the answer budget.)
    let r = replay(&input, &out, &["--alerts".as_ref(), alerts.as_os_str(), "--answers-per-ms".as_ref(), "0".as_ref()]);
    let text = String::from_utf8_lossy(&r.stdout).to_string();
    assert!(r.status.success(), "{text}\n{}", String::from_utf8_lossy(&r.stderr));
    let raised: u64 = text.lines().find_map(|l| l.strip_prefix("replay: ")?.strip_suffix(" alerts")?.parse().ok()).unwrap();
    assert!(raised >= 5000, "every forged answer alerts: {text}");
    let docs: Vec<serde_json::Value> = std::fs::read_to_string(&alerts).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let count = |d: &serde_json::Value| d["antidote"]["count"].as_u64().unwrap_or(1);
    assert_eq!(docs.iter().map(count).sum::<u64>(), raised, "the documents account for every alert: {text}");
    let storms: Vec<&serde_json::Value> = docs.iter().filter(|d| d["antidote"]["storm"] == true).collect();
    assert!(!storms.is_empty(), "no storm summary for {raised} alerts in {} documents", docs.len());
    for d in &storms {
        assert!(d["message"].as_str().unwrap().starts_with("alert storm: "), "{d}");
        assert!(d["source"]["ip"].is_string() && d["dns"]["question"]["name"].is_string(), "the example's addresses and name: {d}");
    }
    // Per rule: the new alerts written one by one stay within the budget for each second of the
    // capture (a replay judges by the capture's time: 5,000 frames at 1,000 a second).
    let mut per_rule: std::collections::BTreeMap<String, u64> = Default::default();
    for d in docs.iter().filter(|d| d["antidote"]["storm"] != true) {
        *per_rule.entry(d["rule"]["name"].as_str().unwrap().to_string()).or_default() += 1;
    }
    for (rule, n) in &per_rule {
        assert!(*n <= 200 * 6, "{rule}: {n} alerts written one by one");
    }
    assert!(docs.len() < 2000, "{} documents for {raised} alerts", docs.len());
}

/// 3,000 forged LLMNR answers within 3 ms of capture time, each a new name from a new source,
/// and in their midst the file server's answer for its own name (its address bound to its MAC
/// by an ARP request before the flood).
const ANSWER_FLOOD: &str = r#"
import sys
from scapy.all import ARP, DNS, DNSQR, DNSRR, IP, UDP, Ether, wrpcap
victim, srv_mac, srv_ip = "02:ad:00:00:00:10", "02:ad:00:00:00:20", "198.18.0.20"
arp = Ether(src=srv_mac, dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc=srv_mac, psrc=srv_ip, pdst="198.18.0.10")
arp.time = 1000.0
frames = [arp]
def answer(mac, ip, name, port, i):
    return Ether(src=mac, dst=victim) / IP(src=ip, dst="198.18.0.10") / UDP(sport=5355, dport=port) / DNS(
        id=i & 0xffff, qr=1, qd=DNSQR(qname=name), an=DNSRR(rrname=name, ttl=30, rdata=ip))
for i in range(3000):
    f = answer("02:f1:00:00:%02x:%02x" % (i >> 8, i & 0xff), "198.19.%d.%d" % (i >> 8, (i & 0xff) or 1), "n%05d" % i, 50000, i)
    f.time = 1001.0005 + (i // 1000) * 0.001  # mid-millisecond: no float lands on a boundary
    frames.append(f)
    if i == 1500:
        ok = answer(srv_mac, srv_ip, "corpfs01", 50001, 7)
        ok.time = f.time
        frames.append(ok)
wrpcap(sys.argv[1], frames)
"#;

#[test]
fn a_flood_of_answers_costs_a_look_each_and_the_owners_answer_still_passes() {
    // Each worker judges 32 answers a millisecond from anyone and 128 more from senders the
    // network knows as themselves; the rest of a flood is dropped unjudged, counted, and
    // reported once a second (`answer-flood`).
    require_root();
    let s = Scratch::new("replay-answer-flood");
    let (_, out, alerts, text) = replay_script(&s, ANSWER_FLOOD, &[], &[]);
    // Over the budget: all but 3 ms × 32 of the forged answers (the server's is judged).
    let over: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("antidote: answer-flood: ")?.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no answer-flood line: {text}"));
    assert_eq!(over, 3000 - 3 * 32, "{text}");
    // Every frame accounted for: forwarded, or dropped over the budget.
    let nums = |prefix: &str| -> Vec<u64> {
        let l = text.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no {prefix}: {text}"));
        l.split(|c: char| !c.is_ascii_digit()).filter(|t| !t.is_empty()).map(|t| t.parse().unwrap()).collect()
    };
    let (frames_in, forwarded, policy_dropped) = (nums("replay: ")[0], nums("replay: ")[1], nums("replay: ")[2]);
    assert_eq!(frames_in, 3002, "{text}");
    assert_eq!(nums(&format!("replay: {over} answers over the answer budget"))[0], over, "{text}");
    assert_eq!(frames_in, forwarded + policy_dropped + over, "{text}");
    // The owner's answer passed; none of the forged answers over the budget did.
    let passed = frames(&out);
    let is_answer_from = |f: &Vec<u8>, mac: [u8; 6]| f.len() > 42 && f[6..12] == mac && f[12..14] == [8, 0] && f[34..36] == [0x14, 0xeb];
    assert!(passed.iter().any(|f| is_answer_from(f, [2, 0xad, 0, 0, 0, 0x20])), "the file server's answer went through the flood");
    assert!(
        passed.iter().filter(|f| f.len() > 42 && f[6..8] == [2, 0xf1] && f[34..36] == [0x14, 0xeb]).count() <= 3 * 32,
        "at most the budget's forged answers were judged (and passed)"
    );
    // One notice a second, its count the frames over the budget.
    let docs: Vec<serde_json::Value> = std::fs::read_to_string(&alerts).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let notices: Vec<&serde_json::Value> = docs.iter().filter(|d| d["rule"]["name"] == "answer-flood").collect();
    assert!(!notices.is_empty(), "an answer-flood notice: {text}");
    assert_eq!(notices.iter().map(|d| d["antidote"]["count"].as_u64().unwrap()).sum::<u64>(), over, "{text}");
    assert_eq!(notices[0]["event"]["action"], "drop");
    // Every document says its ECS version and rule id; a frame's alert names its flow by its
    // Community ID (what a SIEM joins it to Zeek's and Suricata's records by).
    for d in &docs {
        assert!(d["ecs"]["version"].is_string() && d["rule"]["id"].is_string(), "{d}");
        // Stamped with the capture's time (1,001 s after the epoch), not the replay's.
        assert!(d["@timestamp"].as_str().unwrap().starts_with("1970-01-01T00:16:4"), "{d}");
        if d["rule"]["name"] != "answer-flood" {
            let cid = d["network"]["community_id"].as_str().unwrap_or_else(|| panic!("no community_id: {d}"));
            assert!(cid.starts_with("1:") && cid.len() == 30, "{d}");
            assert_eq!(d["network"]["iana_number"], "17", "{d}");
        }
    }
}

/// A poisoner learned (its answers for two names), then, in one millisecond, 1,000 SYNs from
/// made-up sources to its SMB port and 300 SYNs from 198.19.0.66 — an address the learned table's
/// address filter cannot tell from the poisoner's 198.18.0.66 (same last two bytes) — to the
/// file server, interleaved; every SYN padded to 60 bytes, as a NIC delivers it.
const SYN_FLOOD: &str = r#"
import sys
from scapy.all import DNS, DNSQR, DNSRR, IP, TCP, UDP, Ether, wrpcap
victim, p_mac, p_ip = "02:ad:00:00:00:10", "02:ad:00:00:00:66", "198.18.0.66"
frames = []
for i in range(4):
    f = Ether(src=p_mac, dst=victim) / IP(src=p_ip, dst="198.18.0.10") / UDP(sport=5355, dport=50000 + i) / DNS(
        id=i, qr=1, qd=DNSQR(qname="name%d" % i), an=DNSRR(rrname="name%d" % i, ttl=30, rdata=p_ip))
    f.time = 1000.0005
    frames.append(f)
def syn(mac, src, dst_mac, dst, i):
    f = Ether(bytes(Ether(src=mac, dst=dst_mac) / IP(src=src, dst=dst) / TCP(sport=40000 + i, dport=445, flags="S", seq=i)).ljust(60, b"\0"))
    f.time = 1001.0005
    return f
k = 0
for i in range(1300):
    if i % 13 < 3:
        frames.append(syn("02:ad:00:00:01:66", "198.19.0.66", "02:ad:00:00:00:20", "198.18.0.20", i))
    else:
        frames.append(syn("02:f1:00:00:%02x:%02x" % (k >> 8, k & 0xff), "198.18.%d.%d" % (1 + (k >> 8), (k & 0xff) or 1), p_mac, p_ip, i))
        k += 1
wrpcap(sys.argv[1], frames)
"#;

#[test]
fn a_flood_of_syns_to_a_learned_poisoner_is_held_to_the_follow_on_budget() {
    // Each worker judges 256 frames with a learned poisoner's address a millisecond (the
    // profile's `[floods] follow_ons_per_ms`); beyond, one whose address the learned table holds
    // is dropped unjudged and counted, and one that only the address filter took for the
    // poisoner's gets the default verdict. So every SYN to the poisoner is dropped — judged (and
    // alerted) or over the budget — and every SYN between other hosts passes.
    require_root();
    let s = Scratch::new("replay-syn-flood");
    let (input, out, alerts, text) = replay_script(&s, SYN_FLOOD, &[], &[]);
    let over: u64 = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("replay: ")?.strip_suffix(" unjudged")?.split(" frames to or from a learned poisoner over the follow-on budget").next()?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no follow-on budget line: {text}"));
    let passed = frames(&out);
    let syn_from = |f: &Vec<u8>, src: [u8; 4]| f.len() >= 54 && f[12..14] == [8, 0] && f[23] == 6 && f[26..30] == src;
    assert!(!passed.iter().any(|f| f.len() >= 54 && f[12..14] == [8, 0] && f[23] == 6 && f[30..34] == [198, 18, 0, 66]), "a SYN to the poisoner passed");
    assert_eq!(passed.iter().filter(|f| syn_from(f, [198, 19, 0, 66])).count(), 300, "the SYNs between other hosts all pass:\n{text}");
    // Every SYN to the poisoner judged (its alerts' counts) or over the budget; most over it.
    let docs: Vec<serde_json::Value> = std::fs::read_to_string(&alerts).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let judged: u64 = docs.iter().filter(|d| d["rule"]["name"] == "connect-to-poisoner").map(|d| d["antidote"]["count"].as_u64().unwrap_or(1)).sum();
    assert_eq!(judged + over, 1000, "judged {judged}, over the budget {over}:\n{text}");
    // Reported once a second: the notices' counts are the frames over the budget.
    let notices: u64 = docs.iter().filter(|d| d["rule"]["name"] == "follow-on-flood").map(|d| d["antidote"]["count"].as_u64().unwrap()).sum();
    assert_eq!(notices, over, "{text}");
    assert!(judged <= 256 + 32 && over >= 700, "judged {judged}: at most the budget's worth (and a burst):\n{text}");
    // Under a policy whose default is drop, the filter's false positives over the budget get
    // that default too, as judging them would.
    let strict = s.path("default-drop.policy");
    let text = std::fs::read_to_string(repo().join("policies/default.policy")).unwrap();
    assert!(text.contains("\ndefault pass"), "policies/default.policy: no `default pass`");
    std::fs::write(&strict, text.replace("\ndefault pass", "\ndefault drop")).unwrap();
    let r = replay_with(strict.to_str().unwrap(), &input, &out, &[]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    assert_eq!(frames(&out).iter().filter(|f| syn_from(f, [198, 19, 0, 66])).count(), 0, "{}", String::from_utf8_lossy(&r.stdout));
}

/// The canary identity's LLMNR query (as the live run sent it), then in one millisecond 500
/// forged answers to the identity for the canary's name, each from a new source, then in the
/// next millisecond the real poisoner's answer.
const CANARY_FLOOD: &str = r#"
import sys
from scapy.all import DNS, DNSQR, DNSRR, IP, UDP, Ether, wrpcap
cmac, cip = "02:cc:00:00:00:fa", "198.18.0.250"
q = Ether(src=cmac, dst="01:00:5e:00:00:fc") / IP(src=cip, dst="224.0.0.252", ttl=1) / UDP(sport=49500, dport=5355) / DNS(id=0x4242, qd=DNSQR(qname="fileserv7"))
q.time = 1000.0005
frames = [q]
def answer(mac, ip, t):
    f = Ether(src=mac, dst=cmac) / IP(src=ip, dst=cip) / UDP(sport=5355, dport=49500) / DNS(
        id=0x4242, qr=1, qd=DNSQR(qname="fileserv7"), an=DNSRR(rrname="fileserv7", ttl=30, rdata=ip))
    f.time = t
    return f
for i in range(500):
    frames.append(answer("02:f1:00:00:%02x:%02x" % (i >> 8, i & 0xff), "198.19.%d.%d" % (i >> 8, (i & 0xff) or 1), 1001.0005))
frames.append(answer("02:ad:00:00:00:66", "198.18.0.66", 1002.0005))
wrpcap(sys.argv[1], frames)
"#;

#[test]
fn a_flood_of_answers_to_a_canary_costs_a_look_each_and_the_poisoner_is_still_caught() {
    // Each worker takes 64 frames for a canary identity a millisecond (`[floods]
    // canary_frames_per_ms`); beyond, they are consumed unjudged and counted. The real poisoner's
    // answer in the next millisecond is judged: caught.
    require_root();
    let s = Scratch::new("replay-canary-flood");
    let profile = s.path("live.toml");
    std::fs::write(
        &profile,
        "name = \"live\"\nworker_lcores = [1]\n[[port]]\nname = \"a\"\ndevice = \"net_null0\"\n[[port]]\nname = \"b\"\ndevice = \"net_null1\"\n\
         [[pair]]\na = \"a\"\nb = \"b\"\ncanary_mac = \"02:cc:00:00:00:fa\"\ncanary_ipv4 = \"198.18.0.250/24\"\n",
    )
    .unwrap();
    let (_, out, alerts, text) = replay_script(&s, CANARY_FLOOD, &[], &["--profile".as_ref(), profile.as_os_str()]);
    let over: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("replay: ")?.split(" frames for a canary identity over the canary budget").next()?.parse().ok())
        .unwrap_or_else(|| panic!("no canary budget line: {text}"));
    assert_eq!(over, 500 - 64, "{text}");
    let notices: u64 = std::fs::read_to_string(&alerts)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|d| d["rule"]["name"] == "canary-flood")
        .map(|d| d["antidote"]["count"].as_u64().unwrap())
        .sum();
    assert_eq!(notices, over, "the canary-flood notices report what went over: {text}");
    // Nothing sent to the identity left.
    assert!(!frames(&out).iter().any(|f| f[..6] == [2, 0xcc, 0, 0, 0, 0xfa]), "a frame for the canary identity was forwarded:\n{text}");
    // The budget's worth of the flood and the real poisoner caught by the canary.
    let docs: Vec<serde_json::Value> = std::fs::read_to_string(&alerts).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let caught: Vec<&serde_json::Value> = docs.iter().filter(|d| d["rule"]["name"] == "canary-answered").collect();
    assert_eq!(caught.iter().map(|d| d["antidote"]["count"].as_u64().unwrap_or(1)).sum::<u64>(), 64 + 1, "{text}");
    assert!(caught.iter().any(|d| d["source"]["ip"] == "198.18.0.66"), "the real poisoner was not caught: {caught:?}");
}

#[test]
fn poisoned_answers_sent_in_ip_fragments_are_dropped_by_their_first_fragment() {
    // A poisoner that cuts its answers into IP fragments (LLMNR and NBT-NS over IPv4, mDNS over
    // IPv6; the first fragment holding the UDP header and at most the message's first bytes) gets
    // past every rule that reads answers; the victim's kernel reassembles them. The default
    // policy drops each datagram's first fragment (`ns.fragment`): without it nothing is
    // reassembled. The legitimate, whole answer passes.
    require_root();
    let s = Scratch::new("replay-fragments");
    let input = s.path("in.pcap");
    generate("scripts/gen_wire_corpus.py", &input, &["--fragments"]);
    let (out, alerts) = (s.path("out.pcap"), s.path("alerts.jsonl"));
    let r = replay(&input, &out, &["--alerts".as_ref(), alerts.as_os_str()]);
    let text = String::from_utf8_lossy(&r.stdout).to_string();
    assert!(r.status.success(), "{text}\n{}", String::from_utf8_lossy(&r.stderr));
    let (inp, outp) = (frames(&input), frames(&out));
    // First fragments: IPv4 with MF set and offset 0; IPv6 with a fragment header at offset 0.
    let first = |f: &[u8]| match u16::from_be_bytes([f[12], f[13]]) {
        0x0800 => u16::from_be_bytes([f[20], f[21]]) == 0x2000,
        0x86dd => f[20] == 44 && u16::from_be_bytes([f[56], f[57]]) == 1,
        _ => false,
    };
    let firsts: Vec<&Vec<u8>> = inp.iter().filter(|f| first(f)).collect();
    assert_eq!(firsts.len(), 3, "the capture's three fragmented answers");
    assert!(!outp.iter().any(|f| first(f)), "a first fragment of a fragmented answer was forwarded");
    assert_eq!(outp.len(), inp.len() - 3, "everything else is forwarded (the later fragments cannot be reassembled alone)");
    assert!(outp.iter().any(|f| f.windows(5).any(|w| w == b"legit")), "the legitimate answer did not pass");
    let docs: Vec<serde_json::Value> = std::fs::read_to_string(&alerts).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let fragmented: Vec<&serde_json::Value> = docs.iter().filter(|d| d["rule"]["name"] == "name-message-fragmented").collect();
    assert_eq!(fragmented.len(), 3, "{docs:?}");
    for d in &fragmented {
        assert_eq!(d["event"]["action"], "drop", "{d}");
        assert!(d["source"]["ip"] == "198.18.0.66" || d["source"]["ip"] == "fd00:198:18::66", "{d}");
        let p = common::ecs::problems(d);
        assert!(p.is_empty(), "an alert ECS does not accept:\n{}\n{d}", p.join("\n"));
    }
}
