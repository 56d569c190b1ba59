//! NBT-NS negative answers injected by a worker, read back by tshark: a unicast (WINS-style)
//! query for a name nobody owns, behind one 802.1Q tag and behind two (QinQ), through a worker
//! on real DPDK (`net_ring`) under a policy that injects the negative answer. The answer leaves
//! out of the port the query came in on (a net_ring port is a loopback: it comes back in and is
//! forwarded to B, where the test reads it); tshark checks its tags, addresses, flags and both
//! checksums.
use antidote_dataplane::shared::Task;
use antidote_dataplane::stats::{Snapshot, WorkerCounters};
use antidote_dataplane::worker::Worker;
use antidote_wire::emit::{udp_frame, UdpAddressing};
use antidote_wire::ethernet::{Mac, VlanTag};
mod common;
use common::*;
use std::sync::Arc;

const CLIENT: [u8; 6] = [2, 0xad, 0, 0, 0, 0x10];
const SERVER: [u8; 6] = [2, 0xad, 0, 0, 0, 0x20];

/// A unicast NBT-NS name query for `name` from the client to the server, with `tags`.
fn query(tags: &[VlanTag], id: u16, name: &str) -> Vec<u8> {
    let mut vlans = [VlanTag::default(); 2];
    vlans[..tags.len()].copy_from_slice(tags);
    let a = UdpAddressing {
        src_mac: Mac(CLIENT),
        dst_mac: Mac(SERVER),
        vlans,
        vlan_count: tags.len() as u8,
        src_ip: "198.18.0.10".parse().unwrap(),
        dst_ip: "198.18.0.20".parse().unwrap(),
        src_port: 137,
        dst_port: 137,
        ttl: 64,
    };
    let mut out = vec![0u8; 512];
    let n = udp_frame(&mut out, &a, |p| antidote_wire::nbns::emit_query(p, id, name.as_bytes(), 0x20, false)).unwrap();
    out.truncate(n);
    out
}

/// `frames` as a pcap file (Ethernet).
fn pcap(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(0xa1b2_c3d4u32.to_le_bytes());
    out.extend(2u16.to_le_bytes());
    out.extend(4u16.to_le_bytes());
    out.extend([0u8; 8]);
    out.extend(65_535u32.to_le_bytes());
    out.extend(1u32.to_le_bytes());
    for (i, f) in frames.iter().enumerate() {
        out.extend((i as u32).to_le_bytes());
        out.extend(0u32.to_le_bytes());
        out.extend((f.len() as u32).to_le_bytes());
        out.extend((f.len() as u32).to_le_bytes());
        out.extend(f);
    }
    out
}

#[test]
fn negative_answers_behind_tags_read_back_by_tshark() {
    let (eal, pool, a, b) = eal_with_rings("antidote-inject", "inject_pool");
    let before = pool.in_use();
    let counters = Arc::new(WorkerCounters::default());
    let shared = shared(16, None);
    let src = "rule nbns-negative { when nbns.query and not nbns.broadcast and not learned.name_owned then inject nbns.negative; pass }\ndefault pass";
    shared.policy.install(antidote_policy::compile(src).ok().unwrap().program, src.into());
    let task = Task::new(a, 0, 0, b, true, 0);
    let mut worker = Worker::new(vec![task], counters.clone(), shared.clone(), pool.clone(), 0, 0);
    let one = [VlanTag { tpid: 0x8100, tci: 42 }];
    let two = [VlanTag { tpid: 0x88a8, tci: 100 }, VlanTag { tpid: 0x8100, tci: 7 }];
    let queries = [query(&one, 0x1234, "NOSUCHHOST"), query(&two, 0x4321, "NOSUCHHOST")];
    send(a, &pool, &queries);
    let mut out = Vec::new();
    for _ in 0..20 {
        worker.poll_once();
        out.extend(drain(b));
    }
    assert!(queries.iter().all(|q| out.contains(q)), "the queries are forwarded (pass)");
    let answers: Vec<Vec<u8>> = out.into_iter().filter(|f| !queries.contains(f)).collect();
    assert_eq!(answers.len(), 2, "one negative answer per query");
    assert_eq!(Snapshot::take(std::slice::from_ref(&counters), 2).actions.injected, 2);

    // tshark reads them: the tags, the server as the source, the client as the destination,
    // a response with the query's ID, rcode 3 (name error), and both checksums good.
    let dir = std::env::temp_dir().join(format!("antidote-inject-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("answers.pcap");
    std::fs::write(&file, pcap(&answers)).unwrap();
    let fields = [
        "ieee8021ad.id",
        "vlan.id",
        "eth.src",
        "eth.dst",
        "ip.src",
        "ip.dst",
        "ip.checksum.status",
        "udp.checksum.status",
        "nbns.id",
        "nbns.flags.response",
        "nbns.flags.rcode",
        "nbns.name",
    ];
    let mut cmd = std::process::Command::new("tshark");
    cmd.args(["-r"]).arg(&file).args(["-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-T", "fields", "-E", "separator=|"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let o = cmd.output().expect("tshark runs (scripts/setup.sh installs it)");
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('|').collect()).collect();
    assert_eq!(rows.len(), 2, "{text}");
    // (tshark names an 802.1ad outer tag apart from an 802.1Q one.)
    for (row, (outer, vlan, id)) in rows.iter().zip([("", "42", "0x1234"), ("100", "7", "0x4321")]) {
        let got = |f: &str| row[fields.iter().position(|x| *x == f).unwrap()];
        assert_eq!((got("ieee8021ad.id"), got("vlan.id")), (outer, vlan), "the query's tags: {text}");
        assert_eq!((got("eth.src"), got("eth.dst")), ("02:ad:00:00:00:20", "02:ad:00:00:00:10"), "from the server it asked: {text}");
        assert_eq!((got("ip.src"), got("ip.dst")), ("198.18.0.20", "198.18.0.10"), "{text}");
        assert_eq!((got("ip.checksum.status"), got("udp.checksum.status")), ("1", "1"), "checksums good: {text}");
        assert_eq!(got("nbns.id"), id, "{text}");
        assert!(matches!(got("nbns.flags.response"), "1" | "True"), "{text}");
        assert_eq!(got("nbns.flags.rcode"), "3", "name error: {text}");
        assert!(got("nbns.name").starts_with("NOSUCHHOST"), "{text}");
    }
    drop(worker);
    drop(shared);
    assert_eq!(pool.in_use(), before, "no mbuf leaked");
    teardown(eal, pool, [a, b]);
}
