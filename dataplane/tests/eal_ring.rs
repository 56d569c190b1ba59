//! Real DPDK, no NIC: EAL with two `net_ring` vdevs (`--no-huge`). Frames are put on port A
//! (a net_ring port is a loopback: what is sent on it is received on it), one worker poll
//! forwards A → B, and the frames are read back from B, byte for byte, with the counters.
use antidote_dataplane::dpdk::Burst;
use antidote_dataplane::shared::Task;
use antidote_dataplane::stats::{Snapshot, WorkerCounters};
use antidote_dataplane::worker::Worker;
mod common;
use common::*;
use std::sync::Arc;

fn frame(i: usize) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00];
    // IPv4/UDP 198.18.0.10 -> 198.18.0.20, payload of i bytes (checksums need not be valid here)
    let total = 20 + 8 + i;
    f.extend([0x45, 0, (total >> 8) as u8, total as u8, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 0, 10, 198, 18, 0, 20]);
    f.extend([0x03, 0xe8, 0x07, 0xd0, ((8 + i) >> 8) as u8, (8 + i) as u8, 0, 0]);
    f.extend((0..i).map(|b| b as u8));
    f
}

#[test]
fn frames_cross_the_bridge_unchanged_and_are_counted() {
    let (eal, pool, a, b) = eal_with_rings("antidote-test", "test_pool");
    let prefix = format!("antidote-test-{}", std::process::id());
    let before = pool.in_use();

    // 3 bursts' worth of frames of different sizes, in order.
    let sent: Vec<Vec<u8>> = (0..80).map(|i| frame(i * 17 % 1400)).collect();
    send(a, &pool, &sent);

    let counters = Arc::new(WorkerCounters::default());
    let shared = shared(16, None);
    let mut worker = Worker::new(vec![Task::new(a, 0, 0, b, true, 0)], counters.clone(), shared.clone(), pool.clone(), 0, 0);
    let mut forwarded = 0;
    for _ in 0..10 {
        forwarded += worker.poll_once();
    }
    assert_eq!(forwarded, 80);

    let mut got = Vec::new();
    let mut burst = Burst::new();
    while b.rx_burst(0, &mut burst) > 0 {
        got.extend(burst.drain().map(|m| m.data().to_vec()));
    }
    assert_eq!(got.len(), sent.len(), "every frame leaves port B");
    for (i, (g, s)) in got.iter().zip(&sent).enumerate() {
        assert_eq!(g, s, "frame {i} left port B changed");
    }

    let snap = Snapshot::take(std::slice::from_ref(&counters), 2);
    assert_eq!(snap.ports[0].rx, 80);
    assert_eq!(snap.ports[0].tx, 80);
    assert_eq!(snap.ports[0].tx_full, 0);
    assert_eq!(snap.ports[0].rx_bytes, sent.iter().map(|f| f.len() as u64).sum::<u64>());
    assert_eq!(snap.ports[1].rx, 0);
    assert_eq!(pool.in_use(), before, "no mbuf leaked");

    // Again under the default policy: the header look counts the bytes (in its pass over the
    // descriptors), the same bytes.
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/default.policy")).unwrap();
    shared.policy.install(antidote_policy::compile(&src).ok().unwrap().program, src);
    send(a, &pool, &sent);
    let mut forwarded = 0;
    for _ in 0..10 {
        forwarded += worker.poll_once();
    }
    assert_eq!(forwarded, 80);
    let mut burst = Burst::new();
    let mut again = 0;
    while b.rx_burst(0, &mut burst) > 0 {
        again += burst.drain().count();
    }
    assert_eq!(again, 80, "plain UDP: every frame forwarded under the default policy");
    let snap = Snapshot::take(&[counters], 2);
    assert_eq!(snap.ports[0].rx_bytes, 2 * sent.iter().map(|f| f.len() as u64).sum::<u64>());
    assert_eq!(pool.in_use(), before, "no mbuf leaked");

    // ARP and neighbour discovery under a policy: the worker learns who has which address,
    // passes every frame on, and a forged claim to the server's address neither moves it nor is
    // learned.
    const SERVER: [u8; 6] = [2, 0xad, 0, 0, 0, 0x20];
    const FORGER: [u8; 6] = [2, 0xad, 0, 0, 0, 0x66];
    let arp = |eth_src: [u8; 6], sender: [u8; 6], ip: [u8; 4]| {
        let mut d = vec![0xff; 6];
        d.extend(eth_src);
        d.extend([0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1]);
        d.extend(sender);
        d.extend(ip);
        d.extend([0; 6]);
        d.extend([198, 18, 0, 10]);
        d.resize(60, 0);
        d
    };
    // And IPv6 neighbour discovery: the server advertises its link-local address.
    let na = {
        let mut d = vec![0x33, 0x33, 0, 0, 0, 1];
        d.extend(SERVER);
        d.extend([0x86, 0xdd, 0x60, 0, 0, 0, 0, 32, 58, 255]);
        d.extend("fe80::ad:ff:fe00:20".parse::<std::net::Ipv6Addr>().unwrap().octets());
        d.extend("ff02::1".parse::<std::net::Ipv6Addr>().unwrap().octets());
        d.extend([136, 0, 0, 0, 0x20, 0, 0, 0]);
        d.extend("fe80::ad:ff:fe00:20".parse::<std::net::Ipv6Addr>().unwrap().octets());
        d.extend([2, 1]);
        d.extend(SERVER);
        d
    };
    // And an NBT-NS name registration: the server registers CORPFS01 for its own address.
    let registration = {
        let mut m = vec![0x12, 0x34, 0x29, 0x10, 0, 1, 0, 0, 0, 0, 0, 1, 0x20];
        for c in *b"CORPFS01       \x20" {
            m.extend([b'A' + (c >> 4), b'A' + (c & 0xf)]);
        }
        m.extend([0, 0, 0x20, 0, 1, 0xc0, 0x0c, 0, 0x20, 0, 1, 0, 0, 0x0d, 0x2f, 0, 6, 0, 0, 198, 18, 0, 20]);
        udp((SERVER, [0xff; 6]), ("198.18.0.20", "198.18.0.255"), (137, 137), &m)
    };
    // And a DHCP server's acknowledgement: 198.18.0.30 for the client 02:ad:00:00:00:30.
    let dhcp_ack = {
        let mut m = vec![0u8; 240];
        m[0..3].copy_from_slice(&[2, 1, 6]);
        m[16..20].copy_from_slice(&[198, 18, 0, 30]);
        m[28..34].copy_from_slice(&[2, 0xad, 0, 0, 0, 0x30]);
        m[236..240].copy_from_slice(&[99, 130, 83, 99]);
        m.extend([53, 1, 5, 54, 4, 198, 18, 0, 1, 255]);
        udp(([2, 0xad, 0, 0, 0, 1], [2, 0xad, 0, 0, 0, 0x30]), ("198.18.0.1", "198.18.0.30"), (67, 68), &m)
    };
    // And ARP on VLAN 10: learned on that VLAN's segment only.
    let mut tagged_arp = arp(SERVER, SERVER, [198, 18, 0, 40]);
    tagged_arp.splice(12..12, [0x81, 0x00, 0x00, 10]);
    let arps = vec![
        tagged_arp,
        dhcp_ack,
        registration,
        arp(SERVER, SERVER, [198, 18, 0, 20]),
        arp(FORGER, FORGER, [198, 18, 0, 20]),
        arp(FORGER, SERVER, [198, 18, 0, 21]),
        arp(FORGER, FORGER, [198, 18, 0, 66]),
        na,
    ];
    send(a, &pool, &arps);
    let mut forwarded = 0;
    for _ in 0..10 {
        forwarded += worker.poll_once();
    }
    assert_eq!(forwarded, arps.len());
    let mut got = 0;
    while b.rx_burst(0, &mut burst) > 0 {
        got += burst.drain().count();
    }
    assert_eq!(got, arps.len(), "ARP is forwarded");
    let key = |ip: &str| antidote_policy::keys::ip_key(ip.parse().unwrap());
    let hosts = &shared.network.hosts;
    let now = shared.clock.now_ms();
    let server = hosts.get(key("198.18.0.20"), 0, now).expect("the server's address is learned");
    assert_eq!((server.mac, server.conflicts), (SERVER, 1), "the forger's claim is a conflict, not a rebinding");
    assert!(hosts.get(key("198.18.0.21"), 0, now).is_none(), "an ARP whose sender is not its Ethernet source teaches nothing");
    assert_eq!(hosts.get(key("198.18.0.66"), 0, now).map(|b| b.mac), Some(FORGER));
    assert_eq!(shared.network.arp_mismatched.load(std::sync::atomic::Ordering::Relaxed), 1);
    let ll = hosts.get(key("fe80::ad:ff:fe00:20"), 0, now).expect("the server's link-local address is learned");
    assert_eq!(ll.mac, SERVER);
    let name = antidote_policy::keys::name_key(&antidote_wire::fields::Value::StaticStr("corpfs01")).unwrap();
    let owner = shared.network.owners.get(name, 0, now).expect("the registered name is owned (a broadcast request no rule wants, dissected for it)");
    assert_eq!(owner.mac, SERVER);
    let vlan10 = antidote_policy::state::network::segment(0, 10);
    assert_eq!(hosts.get(key("198.18.0.40"), vlan10, now).map(|b| b.mac), Some(SERVER), "tagged ARP, learned on its VLAN");
    assert!(hosts.get(key("198.18.0.40"), 0, now).is_none(), "and not on the untagged segment");
    let lease = hosts.get(key("198.18.0.30"), 0, now).expect("the DHCP lease is learned (a plain UDP datagram no rule wants, dissected for it)");
    assert_eq!(lease.mac, [2, 0xad, 0, 0, 0, 0x30]);
    // Ordinary traffic, sampled a frame a burst: a server off the link shows its address from
    // its router's MAC; a public address is not learned.
    let router = [2, 0xad, 0, 0, 0, 1];
    for src in ["198.18.7.10", "203.0.113.9"] {
        send(a, &pool, &[udp((router, [2, 0xad, 0, 0, 0, 0x10]), (src, "198.18.0.10"), (445, 50000), b"data")]);
        assert_eq!(worker.poll_once(), 1);
        while b.rx_burst(0, &mut burst) > 0 {
            burst.clear();
        }
    }
    let now = shared.clock.now_ms();
    let seen = shared.network.traffic.get(key("198.18.7.10"), 0, now).expect("the off-link server's address is learned from its traffic");
    assert_eq!(seen.mac, router);
    assert!(shared.network.traffic.get(key("203.0.113.9"), 0, now).is_none(), "a public address is not");
    assert_eq!(pool.in_use(), before, "no mbuf leaked");

    drop(worker);
    drop(shared);
    teardown(eal, pool, [a, b]);
    assert!(!std::path::Path::new(&format!("/var/run/dpdk/{prefix}")).exists(), "runtime dir removed");
}

/// A queue handle calls its PMD's burst function directly while its port stays started as it
/// was; once the port is stopped it goes through ethdev (whose dummy functions serve a stopped
/// port), and after a restart the old handle still moves frames — through ethdev — while a new
/// one is direct again.
#[test]
fn queue_handles_follow_their_port_through_a_stop_and_a_start() {
    let (eal, pool, a, b) = eal_with_rings("antidote-test-queue", "test_pool");
    let prefix = format!("antidote-test-queue-{}", std::process::id());
    let (rx, tx) = (a.rx_queue(0), a.tx_queue(0));
    assert!(rx.is_direct() && tx.is_direct(), "a started net_ring port's queues are called directly");
    let round_trip = |rx: &antidote_dataplane::dpdk::RxQueue, tx: &antidote_dataplane::dpdk::TxQueue, n: usize| {
        let mut burst = Burst::new();
        for i in 0..n {
            let f = frame(i * 7);
            let mut m = antidote_dataplane::dpdk::Mbuf::alloc(&pool).unwrap();
            m.append(f.len() as u16).unwrap().copy_from_slice(&f);
            burst.push(m).ok().unwrap();
        }
        assert_eq!(tx.tx_burst(&mut burst), n);
        let mut got = Burst::new();
        assert_eq!(rx.rx_burst(&mut got), n);
        let lens: Vec<usize> = got.as_slice().iter().map(|m| m.data().len()).collect();
        assert_eq!(lens, (0..n).map(|i| frame(i * 7).len()).collect::<Vec<_>>());
    };
    round_trip(&rx, &tx, 5);

    a.stop();
    assert!(!rx.is_direct() && !tx.is_direct(), "a stopped port's handles go through ethdev");
    let mut burst = Burst::new();
    assert_eq!(rx.rx_burst(&mut burst), 0, "a stopped port receives nothing");

    a.start().unwrap();
    assert!(!rx.is_direct(), "a handle made before the restart stays on ethdev's path");
    round_trip(&rx, &tx, 3);
    let (rx2, tx2) = (a.rx_queue(0), a.tx_queue(0));
    assert!(rx2.is_direct() && tx2.is_direct());
    round_trip(&rx2, &tx2, 4);

    teardown(eal, pool, [a, b]);
    assert!(!std::path::Path::new(&format!("/var/run/dpdk/{prefix}")).exists(), "runtime dir removed");
}
