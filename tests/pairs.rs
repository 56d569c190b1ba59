//! Two port pairs in one run (the shape of the X710 profile: two segments bridged by one box),
//! over net_pcap files: each pair's frames leave only by its own ports, the statistics and the
//! alerts name the pair, and what the appliance learns on one segment — which MAC an address
//! belongs to — judges answers on that segment only.
mod common;
use common::*;
use pcap_file::pcap::PcapReader;
use std::collections::HashSet;
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

#[test]
fn two_pairs_keep_their_frames_apart_name_their_pair_and_learn_per_segment() {
    require_root();
    let s = Scratch::new("two-pairs");
    let (one, two) = (s.path("segment1.pcap"), s.path("segment2.pcap"));
    // Segment 1: the crafted corpus (its ARP binds 198.18.0.20 to the legit host's MAC), then an
    // LLMNR answer from 198.18.0.20 sent by another MAC. Segment 2: that same answer first, then
    // the fragmented answers' capture. On segment 1 the answer's source belongs to another host:
    // forged. On segment 2 nothing binds the address: it is judged as any first answer.
    let script = format!(
        r#"
import sys
sys.path.insert(0, "{scripts}")
import gen_wire_corpus as g
from scapy.all import DNS, DNSQR, DNSRR, IP, UDP, Ether, wrpcap
forged = Ether(src="02:ad:00:00:00:99", dst=g.V) / IP(src=g.L4, dst=g.V4) / UDP(sport=5355, dport=55200) / DNS(id=0x0099, qr=1, rd=0, qd=DNSQR(qname="printer9"), an=DNSRR(rrname="printer9", ttl=30, rdata=g.L4))
for out, fr in (("{one}", g.frames() + [forged]), ("{two}", [forged] + g.fragmented_answers())):
    for i, f in enumerate(fr):
        f.time = 1_796_400_000 + i / 1e6
    wrpcap(out, fr)
"#,
        scripts = repo().join("scripts").display(),
        one = one.display(),
        two = two.display()
    );
    let g = run_for(Command::new("/usr/bin/python3").args(["-c", &script]), Duration::from_secs(60));
    assert!(g.status.success(), "{}", String::from_utf8_lossy(&g.stderr));
    let (in1, in2) = (frames(&one), frames(&two));
    let forged = in1.last().unwrap().clone();
    assert_eq!(&in2[0], &forged);

    drop(pcap_file::pcap::PcapWriter::new(std::fs::File::create(s.path("empty.pcap")).unwrap()).unwrap());
    let d = s.0.display();
    let port = |name: &str, n: u8, rx: &str| {
        format!("[[port]]\nname = \"{name}\"\ndevice = \"net_pcap{n},rx_pcap={rx},tx_pcap={d}/out-{name}.pcap\"\nrx_desc = 256\ntx_desc = 256\n")
    };
    let empty = format!("{d}/empty.pcap");
    let profile = format!(
        "name = \"two-pairs\"\nworker_lcores = [1]\nmemory_mb = 256\nmempool_mbufs = 4095\n{}{}{}{}[[pair]]\na = \"v1\"\nb = \"u1\"\n[[pair]]\na = \"v2\"\nb = \"u2\"\n",
        port("v1", 0, &one.display().to_string()),
        port("u1", 1, &empty),
        port("v2", 2, &two.display().to_string()),
        port("u2", 3, &empty),
    );
    std::fs::write(s.path("pairs.toml"), profile).unwrap();
    let alerts = s.path("alerts.jsonl");
    let out = run_for(
        Command::new(bin())
            .args(["run", "--profile"])
            .arg(s.path("pairs.toml"))
            .arg("--policy")
            .arg(repo().join("policies/default.policy"))
            .arg("--alerts")
            .arg(&alerts)
            .args(["--until-idle-ms", "400", "--duration", "30", "--control", "off"]),
        Duration::from_secs(40),
    );
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));

    // The statistics name each pair's directions; every frame is accounted for in its own.
    let fl = final_line(&stdout);
    assert_eq!(counter(&fl, "v1→u1", "rx"), in1.len() as u64, "{fl}");
    assert_eq!(counter(&fl, "v2→u2", "rx"), in2.len() as u64, "{fl}");
    for dir in ["v1→u1", "v2→u2"] {
        assert_eq!(counter(&fl, dir, "rx"), counter(&fl, dir, "tx") + counter(&fl, dir, "dropped") + counter(&fl, dir, "txfull"), "{dir}: {fl}");
    }
    // Each pair's frames leave by its own ports only.
    let (set1, set2): (HashSet<&Vec<u8>>, HashSet<&Vec<u8>>) = (in1.iter().collect(), in2.iter().collect());
    let (out1, out2) = (frames(&s.path("out-u1.pcap")), frames(&s.path("out-u2.pcap")));
    assert_eq!(out1.len() as u64, counter(&fl, "v1→u1", "tx"), "{fl}");
    assert_eq!(out2.len() as u64, counter(&fl, "v2→u2", "tx"), "{fl}");
    for f in &out1 {
        assert!(set1.contains(f), "a frame left segment 1's uplink that segment 1 never sent");
    }
    for f in &out2 {
        assert!(set2.contains(f), "a frame left segment 2's uplink that segment 2 never sent");
    }
    // What was learned on segment 1 judged the answer there, and not on segment 2.
    assert!(!out1.contains(&forged), "the forged-source answer passed on the segment whose ARP binds its address elsewhere");
    assert!(out2.contains(&forged), "segment 2 judged the answer by what segment 1 taught:\n{stdout}");

    // The alerts name the port and the pair (ECS observer.ingress / observer.egress).
    let docs: Vec<serde_json::Value> = std::fs::read_to_string(&alerts).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!docs.is_empty());
    for doc in &docs {
        let p = common::ecs::problems(doc);
        assert!(p.is_empty(), "an alert ECS does not accept:\n{}\n{doc}", p.join("\n"));
        let (ingress, zone) = (doc["observer"]["ingress"]["interface"]["name"].as_str().unwrap(), doc["observer"]["ingress"]["zone"].as_str().unwrap());
        let expect = match ingress {
            "v1" | "u1" => "v1/u1",
            "v2" | "u2" => "v2/u2",
            other => panic!("alert from port {other}: {doc}"),
        };
        assert_eq!(zone, expect, "{doc}");
        assert_eq!(doc["observer"]["egress"]["zone"], expect, "{doc}");
    }
    let forged_alerts: Vec<&serde_json::Value> = docs.iter().filter(|d| d["rule"]["name"] == "answer-forged-source").collect();
    assert!(
        forged_alerts.iter().any(|d| d["observer"]["ingress"]["interface"]["name"] == "v1" && d["dns"]["question"]["name"] == "printer9"),
        "no forged-source alert for printer9 on segment 1: {docs:?}"
    );
    assert!(!forged_alerts.iter().any(|d| d["observer"]["ingress"]["interface"]["name"] == "v2"), "{docs:?}");
    assert_eq!(
        docs.iter().filter(|d| d["rule"]["name"] == "name-message-fragmented" && d["observer"]["ingress"]["zone"] == "v2/u2").count(),
        3,
        "segment 2's fragmented answers: {docs:?}"
    );
}
