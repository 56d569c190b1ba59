//! Two workers over real DPDK (`net_ring` vdevs with two queues per port; the test plays the
//! NIC's RSS by the queue it puts each flow on): what one worker learns, the other acts on at
//! its next frame; the counters of both add up exactly per port; a policy swap reaches both; each
//! hands its alerts over in its own lane; a flow's frames leave in order.
use antidote_dataplane::shared::Task;
use antidote_dataplane::stats::{Snapshot, WorkerCounters};
use antidote_dataplane::worker::Worker;
mod common;
use common::*;
use std::sync::Arc;

const VICTIM: [u8; 6] = [2, 0xad, 0, 0, 0, 0x10];
const POISONER: [u8; 6] = [2, 0xad, 0, 0, 0, 0x66];

/// An LLMNR answer for `wpad` from the poisoner, giving its own address.
fn answer() -> Vec<u8> {
    let mut m = vec![0x12, 0x34, 0x80, 0x00, 0, 1, 0, 1, 0, 0, 0, 0, 4, b'w', b'p', b'a', b'd', 0, 0, 1, 0, 1];
    m.extend([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 198, 18, 0, 66]);
    udp((POISONER, VICTIM), ("198.18.0.66", "198.18.0.10"), (5355, 50000), &m)
}

/// A datagram of flow `port` from the victim to `dst`, numbered `seq`.
fn to(dst: &str, port: u16, seq: u32) -> Vec<u8> {
    udp((VICTIM, POISONER), ("198.18.0.10", dst), (port, 445), &seq.to_be_bytes())
}

const POLICY: &str = r#"
table poisoners : ip ttl 1h
rule caught "{ip.src} answered {llmnr.qname}" severity high {
  when llmnr.response
  then alert; learn poisoners ip.src; drop
}
rule to-poisoner "{ip.src} to poisoner {ip.dst}" severity high {
  when ip.dst in poisoners
  then alert; drop
}
"#;

#[test]
fn two_workers_share_what_they_learn_count_exactly_and_take_every_swap() {
    let (eal, pool, a, b) = eal_with_ring_queues("antidote-workers", "workers_pool", 2);
    let shared = shared_for(2, 64, None);
    shared.policy.install(antidote_policy::compile(POLICY).ok().unwrap().program, POLICY.into());
    let counters: Vec<Arc<WorkerCounters>> = (0..2).map(|_| Arc::new(WorkerCounters::default())).collect();
    let mut workers: Vec<Worker> = (0..2u16)
        .map(|w| {
            let task = Task::new(a, 0, w, b, true, 0);
            Worker::new(vec![task], counters[w as usize].clone(), shared.clone(), pool.clone(), w, w)
        })
        .collect();
    let poll = |workers: &mut Vec<Worker>| {
        for _ in 0..4 {
            for w in workers.iter_mut() {
                w.poll_once();
            }
        }
    };
    // Worker 1's flows to the address not yet known as a poisoner's: forwarded, in order.
    let flow: Vec<Vec<u8>> = (0..100).map(|i| to("198.18.0.66", 40001, i)).collect();
    send_on(a, 1, &pool, &flow);
    poll(&mut workers);
    assert_eq!(drain_queue(b, 1), flow, "a flow's frames leave in order, unchanged");
    // Worker 0 catches the poisoner's answer and learns its address.
    send_on(a, 0, &pool, &[answer()]);
    poll(&mut workers);
    assert!(drain_queue(b, 0).is_empty(), "the answer is dropped");
    // Worker 1's next frame to it is dropped; one to another host still passes.
    send_on(a, 1, &pool, &[to("198.18.0.66", 40001, 100), to("198.18.0.20", 40002, 0)]);
    poll(&mut workers);
    assert_eq!(drain_queue(b, 1), vec![to("198.18.0.20", 40002, 0)], "what worker 0 learned, worker 1 acts on");
    // Each worker handed its alert over in its own lane.
    let mut lcores = Vec::new();
    while let Some(e) = shared.alerts.pop() {
        lcores.push(e.lcore);
    }
    lcores.sort();
    assert_eq!(lcores, vec![0, 1], "one alert from each worker");
    // The counters of both add up, per port, exactly.
    let snap = Snapshot::take(&counters, 2);
    let p = snap.ports[0];
    assert_eq!(p.rx, 103);
    assert_eq!((p.tx, p.dropped, p.tx_full), (101, 2, 0));
    assert!(counters.iter().all(|c| c.ports[0].rx.load(std::sync::atomic::Ordering::Relaxed) > 0), "both workers received");
    // A swap reaches both workers at their next round.
    let v2 = shared.policy.install(antidote_policy::compile("rule r { when udp.dport == 9 then drop }").ok().unwrap().program, "v2".into()).version;
    poll(&mut workers);
    assert!(counters.iter().all(|c| c.policy_version.load(std::sync::atomic::Ordering::Relaxed) == v2), "every worker on v{v2}");
    for mut w in workers {
        w.finish();
    }
    teardown(eal, pool, [a, b]);
}
