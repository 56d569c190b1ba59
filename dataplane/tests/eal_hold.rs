//! Held first answers, on real DPDK (EAL with two `net_ring` vdevs, `--no-huge`): under the
//! default policy, an LLMNR answer for a name nobody owns is held while the worker probes its
//! sender from the pair's canary identity. A net_ring port is a loopback, so the probe the worker
//! sends out of port A comes back in on A and is forwarded to B, where the test reads it — and
//! answers it as a poisoner does, or not, as a legitimate host does.
use antidote_dataplane::canary::Canaries;
use antidote_dataplane::profile::CanaryIdentity;
use antidote_dataplane::shared::Task;
use antidote_dataplane::stats::{Snapshot, WorkerCounters};
use antidote_dataplane::worker::Worker;
mod common;
use common::*;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CANARY: [u8; 6] = [2, 0xcc, 0, 0, 0, 1];
const LEGIT: [u8; 6] = [2, 0xad, 0, 0, 0, 0x20];
const POISONER: [u8; 6] = [2, 0xad, 0, 0, 0, 0x66];
const VICTIM: [u8; 6] = [2, 0xad, 0, 0, 0, 0x10];

/// An LLMNR answer (id, name, address), as Responder sends it (TTL 30).
fn llmnr_answer(id: u16, name: &str, addr: [u8; 4]) -> Vec<u8> {
    let mut m = vec![(id >> 8) as u8, id as u8, 0x80, 0, 0, 1, 0, 1, 0, 0, 0, 0];
    for l in name.split('.') {
        m.push(l.len() as u8);
        m.extend(l.as_bytes());
    }
    m.extend([0, 0, 1, 0, 1]);
    for l in name.split('.') {
        m.push(l.len() as u8);
        m.extend(l.as_bytes());
    }
    m.extend([0, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4]);
    m.extend(addr);
    m
}

/// The probe among `frames`: sent from the canary identity to `to`; its name, id and port.
fn probe_to(frames: &[Vec<u8>], to: [u8; 6]) -> Option<(String, u16, u16)> {
    let mut sc = antidote_wire::Scratch::default();
    frames.iter().find_map(|d| {
        let f = antidote_wire::Frame::parse(d, &mut sc);
        let e = f.eth?;
        if e.src.0 != CANARY || e.dst.0 != to {
            return None;
        }
        let m = f.llmnr()?;
        let q = m.question()?;
        let mut buf = [0u8; 256];
        let n = q.name.write_text(&mut buf);
        let name = String::from_utf8_lossy(&buf[..n]).into_owned();
        Some((name, m.id, f.udp()?.src_port))
    })
}

/// Polls until `done` holds or `ms` pass.
fn poll_until(worker: &mut Worker, ms: u64, mut done: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_millis(ms);
    while Instant::now() < end {
        worker.poll_once();
        if done() {
            return;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

#[test]
fn first_answers_are_held_while_their_sender_is_probed() {
    let (eal, pool, a, b) = eal_with_rings("antidote-hold", "hold_pool");
    let before = pool.in_use();
    let id = CanaryIdentity {
        mac: CANARY,
        ip4: "198.18.0.250".parse().unwrap(),
        broadcast: "198.18.0.255".parse().unwrap(),
        ll6: CanaryIdentity::link_local(CANARY),
    };
    let counters = Arc::new(WorkerCounters::default());
    let shared = shared(64, Canaries::new(vec![vec![id], vec![id]], Vec::new()));
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/default.policy")).unwrap();
    shared.policy.install(antidote_policy::compile(&src).ok().unwrap().program, src);
    let task = Task::new(a, 0, 0, b, true, 0);
    let mut worker = Worker::new(vec![task], counters.clone(), shared.clone(), pool.clone(), 0, 0);
    let snap = || Snapshot::take(std::slice::from_ref(&counters), 2).actions;

    // 1. A poisoner's answer for a name nobody owns: held, its sender probed; the poisoner answers
    // the probe (to the canary identity); the probe's answer is consumed and the held answer
    // dropped — the victim gets neither.
    let forged = udp((POISONER, VICTIM), ("198.18.0.66", "198.18.0.10"), (5355, 50001), &llmnr_answer(0x1111, "fileserv", [198, 18, 0, 66]));
    send(a, &pool, std::slice::from_ref(&forged));
    let mut out = Vec::new();
    poll_until(&mut worker, 500, || {
        out.extend(drain(b));
        probe_to(&out, POISONER).is_some()
    });
    let (pname, pid, pport) = probe_to(&out, POISONER).expect("the poisoner is probed, from the canary identity, to its MAC alone");
    assert!(!out.contains(&forged), "the forged answer is held, not forwarded");
    assert_eq!((snap().held, snap().probes), (1, 1));
    let probe_answer = udp((POISONER, CANARY), ("198.18.0.66", "198.18.0.250"), (5355, pport), &llmnr_answer(pid, &pname, [198, 18, 0, 66]));
    send(a, &pool, std::slice::from_ref(&probe_answer));
    poll_until(&mut worker, 500, || snap().hold_dropped == 1);
    let out = drain(b);
    assert_eq!(snap().hold_dropped, 1, "the held answer is dropped once its sender answered the probe");
    assert!(!out.contains(&forged) && !out.contains(&probe_answer), "neither the forged answer nor the probe's answer leaves");
    assert_eq!(snap().hold_released, 0);
    let poisoners = shared.policy.current.load_full().unwrap();
    let t = poisoners.program.tables.iter().find(|t| t.name == "poisoner_macs").unwrap();
    assert!(t.state.contains(antidote_policy::keys::mac_key(&POISONER), shared.clock.now_ms()), "the poisoner is learned by MAC");

    // 2. A legitimate host's first answer for its own name, and meanwhile the poisoner's answer
    // for the same name (caught already: dropped at once). The host does not answer the probe:
    // at the deadline its answer leaves unchanged, the host verified and the name's owner.
    let legit = udp((LEGIT, VICTIM), ("198.18.0.20", "198.18.0.10"), (5355, 50002), &llmnr_answer(0x2222, "corpfs01", [198, 18, 0, 20]));
    send(a, &pool, std::slice::from_ref(&legit));
    let held_at = Instant::now();
    let mut out = Vec::new();
    poll_until(&mut worker, 1000, || {
        out.extend(drain(b));
        out.contains(&legit)
    });
    let waited = held_at.elapsed();
    assert!(probe_to(&out, LEGIT).is_some(), "the host is probed");
    assert!(out.contains(&legit), "released at the deadline");
    assert!(waited >= Duration::from_millis(35), "held until its deadline (40 ms), not {waited:?}");
    let a2 = snap();
    assert_eq!((a2.held, a2.hold_released, a2.hold_dropped, a2.hold_fallback), (2, 1, 1, 0));
    let now = shared.clock.now_ms();
    let name = antidote_policy::keys::name_key(&antidote_wire::fields::Value::StaticStr("corpfs01")).unwrap();
    let owner = shared.network.owners.get(name, 0, now).expect("the name is owned");
    assert!(owner.mac == LEGIT && owner.owns(), "by the host that left the probe unanswered");
    assert!(shared.network.verified.get(antidote_policy::keys::ip_key("198.18.0.20".parse().unwrap()), 0, now).is_some_and(|b| b.mac == LEGIT));

    // 3. Its next answer is not held: the name is owned (rule owner-answers).
    let again = udp((LEGIT, VICTIM), ("198.18.0.20", "198.18.0.10"), (5355, 50003), &llmnr_answer(0x2223, "corpfs01", [198, 18, 0, 20]));
    send(a, &pool, std::slice::from_ref(&again));
    poll_until(&mut worker, 200, || false);
    assert!(drain(b).contains(&again), "forwarded at once");
    assert_eq!(snap().held, 2);

    // 4. While a name's first answer is held, a second answer for it (another new responder) is
    // held with it, probed too: both leave after the first one's deadline, in the order they came.
    let (one, two): ([u8; 6], [u8; 6]) = ([2, 0xad, 0, 0, 0, 0x21], [2, 0xad, 0, 0, 0, 0x22]);
    let first = udp((one, VICTIM), ("198.18.0.21", "198.18.0.10"), (5355, 50004), &llmnr_answer(0x3333, "printer7", [198, 18, 0, 21]));
    let second = udp((two, VICTIM), ("198.18.0.22", "198.18.0.10"), (5355, 50004), &llmnr_answer(0x3333, "printer7", [198, 18, 0, 22]));
    send(a, &pool, &[first.clone(), second.clone()]);
    let mut out = Vec::new();
    poll_until(&mut worker, 1000, || {
        out.extend(drain(b));
        out.contains(&first) && out.contains(&second)
    });
    assert!(probe_to(&out, one).is_some() && probe_to(&out, two).is_some(), "each responder probed");
    assert_eq!((snap().held, snap().hold_released), (4, 3));
    let (i1, i2) = (out.iter().position(|f| *f == first), out.iter().position(|f| *f == second));
    assert!(i1.is_some() && i2.is_some() && i1 < i2, "both released, in the order they came");

    // 5. A SQL-browser answer from a responder never seen (Responder's rogue browser answers any
    // instance request): held; the probe — an instance request for a name nobody has, to the
    // responder's address — is answered; the held answer is dropped.
    let rogue: [u8; 6] = [2, 0xad, 0, 0, 0, 0x77];
    let svr_resp = |inst: &str| {
        let body = format!("ServerName;QWERTYUIOPAS;InstanceName;{inst};IsClustered;No;Version;12.00.4100.00;tcp;1433;;");
        let mut m = vec![5, body.len() as u8, (body.len() >> 8) as u8];
        m.extend(body.as_bytes());
        m
    };
    let sql = udp((rogue, VICTIM), ("198.18.0.77", "198.18.0.10"), (1434, 50005), &svr_resp("MSSQLSERVER"));
    let dropped_before = snap().hold_dropped;
    send(a, &pool, std::slice::from_ref(&sql));
    let mut out = Vec::new();
    let mut sc = antidote_wire::Scratch::default();
    let mut probe = None;
    poll_until(&mut worker, 500, || {
        out.extend(drain(b));
        probe = out.iter().find_map(|d| {
            let f = antidote_wire::Frame::parse(d, &mut sc);
            let (e, m) = (f.eth?, f.ssrp()?);
            (e.src.0 == CANARY && e.dst.0 == rogue && m.kind == 4 && f.net?.dst.ip().to_string() == "198.18.0.77")
                .then(|| (String::from_utf8_lossy(m.instance).into_owned(), f.udp().unwrap().src_port))
        });
        probe.is_some()
    });
    let (inst, port) = probe.expect("the SQL-browser responder is probed with an instance request to its address");
    assert!(!out.contains(&sql), "held");
    let held_before = snap().held;
    // (As Responder 3.2.2.0 answers under Python 3: the instance name as `b'NAME'`.)
    send(a, &pool, &[udp((rogue, CANARY), ("198.18.0.77", "198.18.0.250"), (1434, port), &svr_resp(&format!("b'{inst}'")))]);
    poll_until(&mut worker, 500, || snap().hold_dropped == dropped_before + 1);
    assert_eq!(snap().hold_dropped, dropped_before + 1, "dropped once the rogue browser answered the probe");
    assert_eq!(snap().held, held_before, "an answer sent to the identity is consumed, never held (nor probed again)");
    assert!(!drain(b).contains(&sql));

    // Nothing leaked: every held mbuf left or was freed.
    poll_until(&mut worker, 100, || false);
    drain(b);
    assert_eq!(pool.in_use(), before, "no mbuf leaked");
    drop(worker);
    drop(shared);
    teardown(eal, pool, [a, b]);
}

/// `d` with an 802.1Q tag for `vlan` after its MAC addresses.
fn tagged(mut d: Vec<u8>, vlan: u16) -> Vec<u8> {
    d.splice(12..12, [0x81, 0x00, (vlan >> 8) as u8, vlan as u8]);
    d
}

#[test]
fn on_a_vlan_the_identity_answers_and_probes_with_the_vlans_address() {
    let (eal, pool, a, b) = eal_with_rings("antidote-hold-vlan", "hold_vlan_pool");
    let before = pool.in_use();
    let ident =
        |ip: &str, bc: &str| CanaryIdentity { mac: CANARY, ip4: ip.parse().unwrap(), broadcast: bc.parse().unwrap(), ll6: CanaryIdentity::link_local(CANARY) };
    let (id, id42) = (ident("198.18.0.250", "198.18.0.255"), ident("198.18.42.250", "198.18.42.255"));
    let counters = Arc::new(WorkerCounters::default());
    let vlans = vec![vec![(42, vec![id42])], vec![(42, vec![id42])]];
    let shared = shared(64, Canaries::new(vec![vec![id], vec![id]], vlans));
    let canaries = shared.canaries.clone().unwrap();
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/default.policy")).unwrap();
    shared.policy.install(antidote_policy::compile(&src).ok().unwrap().program, src);
    let task = Task::new(a, 0, 0, b, true, 0);
    let mut worker = Worker::new(vec![task], counters.clone(), shared.clone(), pool.clone(), 0, 0);
    let snap = || Snapshot::take(std::slice::from_ref(&counters), 2).actions;
    let mut sc = antidote_wire::Scratch::default();

    // 1. An ARP request on VLAN 42 for the identity's address there: answered, tagged 42, from
    // that address (the answer, sent out of A, comes back in on A and is forwarded to B). The
    // pair's untagged address is not answered on VLAN 42.
    let arp_req = |target: [u8; 4]| {
        let mut d = vec![0xff; 6];
        d.extend(VICTIM);
        d.extend([0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1]);
        d.extend(VICTIM);
        d.extend([198, 18, 42, 10, 0, 0, 0, 0, 0, 0]);
        d.extend(target);
        d.resize(60, 0);
        tagged(d, 42)
    };
    send(a, &pool, &[arp_req([198, 18, 42, 250]), arp_req([198, 18, 0, 250])]);
    let mut out = Vec::new();
    poll_until(&mut worker, 300, || {
        out.extend(drain(b));
        out.iter().any(|d| d.get(12..16) == Some(&[0x81, 0, 0, 42][..]) && d.get(24..26) == Some(&[0, 2][..]))
    });
    let replies: Vec<&Vec<u8>> = out.iter().filter(|d| d.get(24..26) == Some(&[0, 2][..])).collect();
    assert_eq!(replies.len(), 1, "one ARP reply: for the VLAN's address only");
    assert_eq!((&replies[0][6..12], &replies[0][12..16], &replies[0][32..36]), (&CANARY[..], &[0x81, 0, 0, 42][..], &[198, 18, 42, 250][..]));
    assert_eq!(canaries.seen[0].list(), [42], "VLAN 42 seen on port A");

    // 2. A poisoner's answer on VLAN 42: held, its sender probed on VLAN 42 from the VLAN's
    // address.
    let forged = tagged(udp((POISONER, VICTIM), ("198.18.42.66", "198.18.42.10"), (5355, 50001), &llmnr_answer(0x1111, "fileserv", [198, 18, 42, 66])), 42);
    send(a, &pool, std::slice::from_ref(&forged));
    let probe_on = |out: &[Vec<u8>], sc: &mut antidote_wire::Scratch, vlan: u16, to: [u8; 6]| {
        out.iter().find_map(|d| {
            let f = antidote_wire::Frame::parse(d, sc);
            let e = f.eth?;
            let n = f.net?;
            (e.src.0 == CANARY && e.dst.0 == to && e.vlan_id() == Some(vlan) && f.llmnr().is_some()).then(|| (n.src.ip(), n.dst.ip()))
        })
    };
    let mut out = Vec::new();
    poll_until(&mut worker, 500, || {
        out.extend(drain(b));
        probe_on(&out, &mut sc, 42, POISONER).is_some()
    });
    let (from, to) = probe_on(&out, &mut sc, 42, POISONER).expect("the poisoner is probed on VLAN 42");
    assert_eq!((from.to_string(), to.to_string()), ("198.18.42.250".into(), "198.18.42.66".into()), "from the VLAN's canary address");
    assert!(!out.contains(&forged), "held");
    assert_eq!(snap().probes, 1);

    // 3. On VLAN 43, which the profile gives no address: an IPv4 answer cannot be probed (the
    // fallback: let through, counted); an IPv6 one is, from the link-local address, tagged 43.
    // (Two more responders: one answering two names would be rule many-names' poisoner.)
    let (r1, r2): ([u8; 6], [u8; 6]) = ([2, 0xad, 0, 0, 0, 0x67], [2, 0xad, 0, 0, 0, 0x68]);
    let v4 = tagged(udp((r1, VICTIM), ("198.18.43.66", "198.18.43.10"), (5355, 50002), &llmnr_answer(0x2222, "printer9", [198, 18, 43, 66])), 43);
    let v6 = tagged(udp((r2, VICTIM), ("fe80::ad:ff:fe00:68", "fe80::ad:ff:fe00:10"), (5355, 50003), &llmnr_answer(0x3333, "scanner4", [198, 18, 43, 66])), 43);
    send(a, &pool, &[v4.clone(), v6.clone()]);
    let mut out = Vec::new();
    poll_until(&mut worker, 500, || {
        out.extend(drain(b));
        probe_on(&out, &mut sc, 43, r2).is_some()
    });
    assert!(out.contains(&v4), "the IPv4 answer on VLAN 43 gets the fallback (pass)");
    assert_eq!(snap().hold_fallback, 1);
    let (from, _) = probe_on(&out, &mut sc, 43, r2).expect("the IPv6 answer's sender is probed on VLAN 43");
    assert_eq!(from, std::net::IpAddr::V6(CanaryIdentity::link_local(CANARY)));
    assert_eq!(canaries.seen[0].list(), [42, 43]);

    // Nothing leaked once the holds ran out.
    poll_until(&mut worker, 150, || false);
    drain(b);
    assert_eq!(pool.in_use(), before, "no mbuf leaked");
    drop(worker);
    drop(shared);
    drop(canaries);
    teardown(eal, pool, [a, b]);
}
