//! What the dataplane's DPDK tests share: EAL with two `net_ring` vdevs (`--no-huge`; a net_ring
//! port is a loopback: what is sent on it is received on it), putting frames on a port, reading
//! what left one, and building UDP frames.
#![allow(dead_code)]
use antidote_dataplane::dpdk::{Burst, Eal, Mbuf, Mempool, Port, PortConfig};
use antidote_wire::ethernet::Mac;
use std::sync::Arc;

/// EAL (file prefix `prefix` and the process ID), a mempool named `pool`, and the two started
/// net_ring ports.
pub fn eal_with_rings(prefix: &str, pool: &str) -> (&'static Eal, Arc<Mempool>, Port, Port) {
    eal_with_ring_queues(prefix, pool, 1)
}

/// [`eal_with_rings`] with `queues` RX and TX queues per port (a net_ring port's TX queue q
/// loops back to its RX queue q: the test plays the NIC's RSS by the queue it sends on).
pub fn eal_with_ring_queues(prefix: &str, pool: &str, queues: u16) -> (&'static Eal, Arc<Mempool>, Port, Port) {
    assert!(antidote_dataplane::preflight::is_root(), "this test drives DPDK: run it as root");
    let args: Vec<String> =
        ["antidote-test", "-l", "0", "--no-huge", "-m", "256", "--no-pci", "--no-telemetry", "--log-level=*:warning", "--vdev=net_ring0", "--vdev=net_ring1"]
            .iter()
            .map(|s| s.to_string())
            .chain([format!("--file-prefix={prefix}-{}", std::process::id())])
            .collect();
    // A failing test (a panic) leaves no EAL runtime directory behind.
    let dir = format!("/var/run/dpdk/{prefix}-{}", std::process::id());
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = std::fs::remove_dir_all(&dir);
        hook(info);
    }));
    let eal = Eal::init(&args).expect("EAL starts with --no-huge and net_ring vdevs");
    let pool = Arc::new(Mempool::new(pool, 4095, 64, 2176, -1).unwrap());
    let a = Port::by_name("net_ring0").expect("net_ring0 probed");
    let b = Port::by_name("net_ring1").expect("net_ring1 probed");
    let cfg = PortConfig { rx_queues: queues, tx_queues: queues, rx_desc: 512, tx_desc: 512, rss: false, promiscuous: true, rx_timestamp: false, mtu: None };
    for p in [a, b] {
        p.configure(&cfg, &pool).unwrap();
        p.start().unwrap();
    }
    (eal, pool, a, b)
}

/// Puts `frames` on `port` (a net_ring port receives what is sent on it), a burst at a time.
pub fn send(port: Port, pool: &Mempool, frames: &[Vec<u8>]) {
    send_on(port, 0, pool, frames)
}

/// [`send`] on queue `q`.
pub fn send_on(port: Port, q: u16, pool: &Mempool, frames: &[Vec<u8>]) {
    for chunk in frames.chunks(32) {
        let mut burst = Burst::new();
        for f in chunk {
            let mut m = Mbuf::alloc(pool).unwrap();
            m.append(f.len() as u16).unwrap().copy_from_slice(f);
            burst.push(m).ok().unwrap();
        }
        assert_eq!(port.tx_burst(q, &mut burst), chunk.len());
    }
}

/// What left port `b`, as bytes.
pub fn drain(b: Port) -> Vec<Vec<u8>> {
    drain_queue(b, 0)
}

/// What left port `b` on queue `q`.
pub fn drain_queue(b: Port, q: u16) -> Vec<Vec<u8>> {
    let mut burst = Burst::new();
    let mut got = Vec::new();
    while b.rx_burst(q, &mut burst) > 0 {
        got.extend(burst.drain().map(|m| m.data().to_vec()));
    }
    got
}

/// An IPv4/UDP frame between (source, destination) MACs, addresses and ports.
pub fn udp(macs: ([u8; 6], [u8; 6]), ips: (&str, &str), ports: (u16, u16), payload: &[u8]) -> Vec<u8> {
    let (src, dst) = (ips.0.parse().unwrap(), ips.1.parse().unwrap());
    antidote_wire::emit::udp_datagram(Mac(macs.0), Mac(macs.1), src, dst, ports.0, ports.1, 64, payload).unwrap()
}

/// What a test's worker shares: a fresh learned network, an alert queue of `alerts` events, no
/// folding, no mirror, and `canaries` (registered in the network).
pub fn shared(alerts: usize, canaries: Option<antidote_dataplane::canary::Canaries>) -> Arc<antidote_dataplane::shared::Shared> {
    shared_for(1, alerts, canaries)
}

/// [`shared`] for `workers` workers (their alert lanes and rule-hit rows).
pub fn shared_for(workers: usize, alerts: usize, canaries: Option<antidote_dataplane::canary::Canaries>) -> Arc<antidote_dataplane::shared::Shared> {
    let network = Arc::new(antidote_policy::state::Network::default());
    let shared = Arc::new(antidote_dataplane::shared::Shared {
        policy: antidote_dataplane::policy::PolicySlot::with_network(workers, network.clone()),
        network,
        alerts: antidote_dataplane::alert::AlertQueue::new(alerts, workers),
        clock: antidote_dataplane::clock::Clock::new(),
        inject_from: None,
        alert_fold_ms: 0,
        mirror: None,
        canaries: canaries.map(Arc::new),
        capture_time: None,
        floods: antidote_dataplane::flood::FloodSpec::default(),
    });
    if let Some(c) = &shared.canaries {
        c.register(&shared.network);
    }
    shared
}

/// Stops and closes the ports, frees the pool and cleans EAL up (after everything that held an
/// mbuf or a port is gone).
pub fn teardown(eal: &'static Eal, pool: Arc<Mempool>, ports: [Port; 2]) {
    for p in ports {
        p.stop();
        p.close();
    }
    drop(pool);
    eal.cleanup();
}
