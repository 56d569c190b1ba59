//! Stats as JSON (per port, per lcore, per rule, with rates) and as Prometheus text.
use antidote_dataplane::run::RunContext;
use antidote_dataplane::stats::{PortTotals, Snapshot};
use serde_json::{json, Value};
use std::fmt::Write;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Mutex;
use std::time::Instant;

/// The previous reading, for rates.
#[derive(Default)]
pub struct Rates {
    last: Mutex<Option<(Instant, Snapshot)>>,
}

fn rate(now: u64, before: u64, secs: f64) -> f64 {
    if secs <= 0.0 {
        0.0
    } else {
        (now.saturating_sub(before)) as f64 / secs
    }
}

/// What the stats endpoints need besides the run context.
pub struct Extra<'a> {
    pub policy_version: u64,
    pub swap: (usize, u64, u64, u64),
    /// The sum of the swap latencies counted in `swap.0` (µs).
    pub swap_sum_us: u64,
    pub alerts: Option<&'a crate::alerts::PipelineStats>,
    pub sinks: &'a [(String, std::sync::Arc<crate::alerts::sinks::SinkStats>)],
}

pub fn stats_json(ctx: &RunContext, rates: &Rates, x: &Extra<'_>) -> Value {
    let snap = ctx.snapshot();
    let now = Instant::now();
    let mut last = rates.last.lock().unwrap_or_else(|e| e.into_inner());
    let (secs, prev) = match last.as_ref() {
        Some((t, s)) => ((now - *t).as_secs_f64(), s.clone()),
        None => (0.0, Snapshot::default()),
    };
    let ports: Vec<Value> = snap
        .ports
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let q = prev.ports.get(i).copied().unwrap_or_default();
            let link = ctx.ports[i].link();
            let nic = ctx.ports[i].stats();
            json!({
                "nic": {"imissed": nic.imissed, "ierrors": nic.ierrors, "rx_nombuf": nic.rx_nombuf, "oerrors": nic.oerrors},
                "name": ctx.port_names[i], "peer": ctx.peers[i].map(|j| ctx.port_names[j].clone()),
                "link_up": ctx.link_up.get(i).map_or(link.up, |u| u.load(Relaxed)), "speed_mbps": link.speed_mbps, "link_downs": ctx.link_downs.get(i).map_or(0, |n| n.load(Relaxed)),
                "rx": p.rx, "rx_bytes": p.rx_bytes, "tx": p.tx, "dropped": p.dropped, "tx_full": p.tx_full,
                "rx_pps": rate(p.rx, q.rx, secs), "tx_pps": rate(p.tx, q.tx, secs), "dropped_pps": rate(p.dropped, q.dropped, secs),
            })
        })
        .collect();
    let run_now = ctx.shared.clock.now_ms();
    let lcores: Vec<Value> = ctx
        .counters
        .iter()
        .enumerate()
        .map(|(w, c)| {
            let rx: u64 = c.ports.iter().map(|p| p.rx.load(Relaxed)).sum();
            json!({
                "worker": w, "lcore": ctx.lcores.get(w), "polls": c.polls.load(Relaxed), "rx": rx,
                "bypassed": c.lease.load(Relaxed) == antidote_dataplane::stall::TAKEN,
                "last_poll_ms_ago": run_now.saturating_sub(c.last_poll_ms.load(Relaxed)),
                "policy_version": c.policy_version.load(Relaxed),
                "alerts": c.actions.alerts.load(Relaxed), "dropped": c.actions.dropped.load(Relaxed),
            })
        })
        .collect();
    let before: std::collections::HashMap<&str, u64> = prev.rule_hits.iter().map(|(n, h)| (n.as_str(), *h)).collect();
    let rules: Vec<Value> = snap
        .rule_hits
        .iter()
        .map(|(name, h)| {
            let hp = before.get(name.as_str()).copied().unwrap_or(0);
            json!({"name": name, "hits": h, "hits_per_s": rate(*h, hp, secs)})
        })
        .collect();
    let a = snap.actions;
    let alerts = x.alerts.map(|s| {
        json!({
            "raised": s.events.load(Relaxed), "written": s.written.load(Relaxed), "aggregated": s.aggregated.load(Relaxed),
            "summaries": s.summaries.load(Relaxed), "storm_summaries": s.storms.load(Relaxed),
            "lost_queue_full": ctx.shared.alerts.dropped(),
            "sinks": x.sinks.iter().map(|(n, st)| json!({"sink": n, "sent": st.sent.load(Relaxed), "failed": st.failed.load(Relaxed), "dropped": st.dropped.load(Relaxed)})).collect::<Vec<_>>(),
        })
    });
    // Canary queries per segment (port, VLAN) and protocol: sent, answered (docs/canaries.md).
    let canaries = ctx.shared.canaries.as_ref().map(|c| {
        let mut rows = Vec::new();
        for (i, per_vlan) in c.sent.iter().enumerate() {
            if c.by_port.get(i).is_none_or(Vec::is_empty) {
                continue;
            }
            for (vlan, sent) in per_vlan.iter().enumerate() {
                let answered = &c.answered[i][vlan];
                if vlan != 0 && sent.iter().chain(answered.iter()).all(|n| n.load(Relaxed) == 0) {
                    continue;
                }
                for (p, proto) in antidote_dataplane::canary::PROTOS.iter().enumerate() {
                    rows.push(
                        json!({"port": ctx.port_names[i], "vlan": vlan, "proto": proto, "sent": sent[p].load(Relaxed), "answered": answered[p].load(Relaxed)}),
                    );
                }
            }
        }
        json!({"segments": rows, "arp_nd_answered": c.resolved.load(Relaxed), "consumed": c.consumed.load(Relaxed), "failed": c.failed.load(Relaxed),
               "probes_answered": c.probes_answered.load(Relaxed)})
    });
    let v = json!({
        "policy_version": x.policy_version,
        "ports": ports, "lcores": lcores, "rules": rules, "canaries": canaries,
        "actions": {"dropped": a.dropped, "quarantined": a.quarantined, "rate_limited": a.rate_limited, "mirrored": a.mirrored,
            "mirror_failed": a.mirror_failed, "injected": a.injected, "inject_failed": a.inject_failed, "alerts": a.alerts, "malformed": a.malformed, "learn_deferred": a.learn_deferred,
            "held": a.held, "hold_released": a.hold_released, "hold_dropped": a.hold_dropped, "hold_fallback": a.hold_fallback, "probes": a.probes, "over_budget": a.over_budget, "follow_on_over_budget": a.follow_on_over_budget, "canary_over_budget": a.canary_over_budget, "bypassed": a.bypassed},
        "alerts": alerts,
        "swap_latency_us": {"count": x.swap.0, "p50": x.swap.1, "p99": x.swap.2, "max": x.swap.3},
        "interval_s": secs,
    });
    *last = Some((now, snap));
    v
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

pub fn prometheus(ctx: &RunContext, x: &Extra<'_>) -> String {
    let snap = ctx.snapshot();
    let mut o = String::new();
    let mut metric = |name: &str, help: &str, kind: &str, rows: Vec<(String, f64)>| {
        let _ = writeln!(o, "# HELP {name} {help}\n# TYPE {name} {kind}");
        for (labels, v) in rows {
            let _ = writeln!(o, "{name}{labels} {v}");
        }
    };
    let port = |i: usize| format!("{{port=\"{}\"}}", esc(&ctx.port_names[i]));
    type PortMetric = (&'static str, &'static str, fn(&PortTotals) -> u64);
    let per_port: [PortMetric; 5] = [
        ("antidote_port_rx_frames_total", "Frames received on a port.", |p| p.rx),
        ("antidote_port_rx_bytes_total", "Bytes received on a port.", |p| p.rx_bytes),
        ("antidote_port_forwarded_frames_total", "Frames received on a port and sent out of its peer.", |p| p.tx),
        ("antidote_port_policy_dropped_frames_total", "Frames received on a port that the policy dropped.", |p| p.dropped),
        ("antidote_port_tx_full_frames_total", "Frames freed because the peer's TX queue was full.", |p| p.tx_full),
    ];
    for (name, help, value) in per_port {
        metric(name, help, "counter", snap.ports.iter().enumerate().map(|(i, p)| (port(i), value(p) as f64)).collect());
    }
    // What the NIC lost before antidote saw it.
    let nic: Vec<antidote_dataplane::dpdk::PortStats> = ctx.ports.iter().map(|p| p.stats()).collect();
    type NicMetric = (&'static str, &'static str, fn(&antidote_dataplane::dpdk::PortStats) -> u64);
    let per_nic: [NicMetric; 4] = [
        ("antidote_nic_rx_missed_frames_total", "Frames the NIC dropped for want of a free RX descriptor (imissed).", |s| s.imissed),
        ("antidote_nic_rx_errors_total", "Frames the NIC received in error (ierrors).", |s| s.ierrors),
        ("antidote_nic_rx_nombuf_total", "Frames the PMD could not receive for want of an mbuf (rx_nombuf).", |s| s.rx_nombuf),
        ("antidote_nic_tx_errors_total", "Frames the NIC failed to send (oerrors).", |s| s.oerrors),
    ];
    for (name, help, value) in per_nic {
        metric(name, help, "counter", nic.iter().enumerate().map(|(i, s)| (port(i), value(s) as f64)).collect());
    }
    metric(
        "antidote_port_link_downs_total",
        "Times the port's link went down during the run (looked at every 100 ms).",
        "counter",
        (0..ctx.ports.len()).map(|i| (port(i), ctx.link_downs.get(i).map_or(0, |n| n.load(Relaxed)) as f64)).collect(),
    );
    metric(
        "antidote_port_link_up",
        "1 when the port's link is up.",
        "gauge",
        (0..ctx.ports.len()).map(|i| (port(i), if ctx.link_up.get(i).is_none_or(|u| u.load(Relaxed)) { 1.0 } else { 0.0 })).collect(),
    );
    metric(
        "antidote_rule_hits_total",
        "Frames that matched a rule.",
        "counter",
        snap.rule_hits.iter().map(|(r, h)| (format!("{{rule=\"{}\"}}", esc(r)), *h as f64)).collect(),
    );
    let a = snap.actions;
    metric(
        "antidote_actions_total",
        "What the policy did.",
        "counter",
        [
            ("dropped", a.dropped),
            ("quarantined", a.quarantined),
            ("rate_limited", a.rate_limited),
            ("mirrored", a.mirrored),
            ("mirror_failed", a.mirror_failed),
            ("injected", a.injected),
            ("inject_failed", a.inject_failed),
            ("alerted", a.alerts),
            ("malformed", a.malformed),
            ("learn_deferred", a.learn_deferred),
            ("held", a.held),
            ("hold_released", a.hold_released),
            ("hold_dropped", a.hold_dropped),
            ("hold_fallback", a.hold_fallback),
            ("probed", a.probes),
            ("over_budget", a.over_budget),
            ("follow_on_over_budget", a.follow_on_over_budget),
            ("canary_over_budget", a.canary_over_budget),
            ("bypassed", a.bypassed),
        ]
        .iter()
        .map(|(k, v)| (format!("{{action=\"{k}\"}}"), *v as f64))
        .collect(),
    );
    metric(
        "antidote_worker_polls_total",
        "Poll rounds of a worker.",
        "counter",
        ctx.counters.iter().enumerate().map(|(w, c)| (format!("{{worker=\"{w}\"}}"), c.polls.load(Relaxed) as f64)).collect(),
    );
    let run_now = ctx.shared.clock.now_ms();
    // A gauge per worker, labelled with its lcore.
    let per_worker = |v: &dyn Fn(&antidote_dataplane::stats::WorkerCounters) -> f64| -> Vec<(String, f64)> {
        ctx.counters
            .iter()
            .enumerate()
            .map(|(w, c)| (format!("{{worker=\"{w}\",lcore=\"{}\"}}", ctx.lcores.get(w).copied().unwrap_or_default()), v(c)))
            .collect()
    };
    metric(
        "antidote_worker_last_poll_age_seconds",
        "Time since a worker's last poll round (a stalled worker's grows; the profile's [faults] stall_ms says when it is stalled).",
        "gauge",
        per_worker(&|c| run_now.saturating_sub(c.last_poll_ms.load(Relaxed)) as f64 / 1000.0),
    );
    metric(
        "antidote_worker_bypassed",
        "1 while a stalled worker's queues are forwarded without inspection by the control thread (on_stall = \"open\").",
        "gauge",
        per_worker(&|c| (c.lease.load(Relaxed) == antidote_dataplane::stall::TAKEN) as u8 as f64),
    );
    metric("antidote_policy_version", "Version of the running policy.", "gauge", vec![(String::new(), x.policy_version as f64)]);
    metric(
        "antidote_alerts_lost_total",
        "Alerts lost because the queue to the sinks was full.",
        "counter",
        vec![(String::new(), ctx.shared.alerts.dropped() as f64)],
    );
    if let Some(s) = x.alerts {
        metric("antidote_alerts_total", "Alerts raised by the workers.", "counter", vec![(String::new(), s.events.load(Relaxed) as f64)]);
    }
    // What each sink did with the documents it was given (docs/loss.md).
    metric(
        "antidote_alert_sink_documents_total",
        "Alert documents per sink: sent, failed (write errors, retries spent), dropped (its queue full, or undelivered at exit).",
        "counter",
        x.sinks
            .iter()
            .flat_map(|(n, st)| {
                let esc = n.replace('\\', "\\\\").replace('"', "\\\"");
                [("sent", st.sent.load(Relaxed)), ("failed", st.failed.load(Relaxed)), ("dropped", st.dropped.load(Relaxed))]
                    .map(|(r, v)| (format!("{{sink=\"{esc}\",result=\"{r}\"}}"), v as f64))
            })
            .collect(),
    );
    // The policy's learned tables: size, and what a full table did with new keys.
    if let Some(lp) = ctx.shared.policy.current.load_full() {
        let now = ctx.shared.clock.now_ms();
        let per = |f: &dyn Fn(&antidote_policy::state::LearnTable) -> f64| {
            lp.program.tables.iter().map(|t| (format!("{{table=\"{}\"}}", t.name), f(&t.state))).collect::<Vec<_>>()
        };
        metric("antidote_policy_table_entries", "Live keys in the policy's learned tables (at most the table's max).", "gauge", per(&|t| t.len(now) as f64));
        metric(
            "antidote_policy_table_evictions_total",
            "Live keys pushed out of a full policy table (least recently used first).",
            "counter",
            per(&|t| t.evictions() as f64),
        );
        metric(
            "antidote_policy_table_refused_total",
            "New keys a full policy table did not learn: nothing near them could be pushed out (keys confirmed by a canary or probe are kept).",
            "counter",
            per(&|t| t.refusals() as f64),
        );
    }
    // What the workers learned of the network (docs/learning.md).
    let net = &ctx.shared.network;
    let tables = |f: fn(&antidote_policy::state::BindTable) -> f64| {
        vec![
            ("{table=\"hosts\"}".to_string(), f(&net.hosts)),
            ("{table=\"owners\"}".to_string(), f(&net.owners)),
            ("{table=\"infra\"}".to_string(), f(&net.infra)),
            ("{table=\"traffic\"}".to_string(), f(&net.traffic)),
            ("{table=\"stations\"}".to_string(), f(&net.stations)),
        ]
    };
    metric("antidote_learned_total", "Bindings learned from the wire (new ones, not refreshes).", "counter", tables(|t| t.learned() as f64));
    metric(
        "antidote_learned_conflicts_total",
        "Claims on an address or name bound to another MAC (kept, not rebound).",
        "counter",
        tables(|t| t.conflicts() as f64),
    );
    metric("antidote_learned_evictions_total", "Live bindings pushed out of a full table.", "counter", tables(|t| t.evictions() as f64));
    metric(
        "antidote_learn_refused_total",
        "Learn or quarantine actions refused: the address is bound to another MAC, or a router's.",
        "counter",
        vec![(String::new(), net.learn_refused.load(Relaxed) as f64)],
    );
    metric(
        "antidote_learn_mismatched_total",
        "Frames not learned from because their own fields disagree (ARP sender, neighbour-discovery link-layer address or hop limit).",
        "counter",
        vec![("{kind=\"arp\"}".into(), net.arp_mismatched.load(Relaxed) as f64), ("{kind=\"ndp\"}".into(), net.ndp_mismatched.load(Relaxed) as f64)],
    );
    // Canary queries (issue 23): per port and protocol.
    if let Some(c) = &ctx.shared.canaries {
        // Untagged (vlan "0") always; a VLAN once something was sent or answered on it.
        let per = |rows: &Vec<Box<[antidote_dataplane::canary::ProtoCounters]>>| {
            let mut v = Vec::new();
            for (i, port_rows) in rows.iter().enumerate() {
                if c.by_port.get(i).is_none_or(Vec::is_empty) {
                    continue;
                }
                let port = ctx.port_names.get(i).cloned().unwrap_or_default();
                for (vlan, row) in port_rows.iter().enumerate() {
                    if vlan != 0 && row.iter().all(|n| n.load(Relaxed) == 0) {
                        continue;
                    }
                    for (p, n) in row.iter().enumerate() {
                        v.push((format!("{{port=\"{port}\",vlan=\"{vlan}\",proto=\"{}\"}}", antidote_dataplane::canary::PROTOS[p]), n.load(Relaxed) as f64));
                    }
                }
            }
            v
        };
        metric("antidote_canaries_sent_total", "Canary queries sent, per port, VLAN (0: untagged) and protocol.", "counter", per(&c.sent));
        metric(
            "antidote_canaries_answered_total",
            "Answers to canary queries (poisoners), per port, VLAN (0: untagged) and protocol.",
            "counter",
            per(&c.answered),
        );
        metric(
            "antidote_canary_frames_total",
            "Frames for the canary identities: ARP and neighbour solicitations answered, frames consumed, canaries not sent.",
            "counter",
            vec![
                ("{kind=\"resolved\"}".into(), c.resolved.load(Relaxed) as f64),
                ("{kind=\"consumed\"}".into(), c.consumed.load(Relaxed) as f64),
                ("{kind=\"failed\"}".into(), c.failed.load(Relaxed) as f64),
            ],
        );
    }
    metric(
        "antidote_policy_swap_latency_seconds",
        "From a policy push to every worker on the new version.",
        "summary",
        vec![
            ("{quantile=\"0.5\"}".into(), x.swap.1 as f64 / 1e6),
            ("{quantile=\"0.99\"}".into(), x.swap.2 as f64 / 1e6),
            ("_sum".into(), x.swap_sum_us as f64 / 1e6),
            ("_count".into(), x.swap.0 as f64),
        ],
    );
    metric("antidote_build_info", "The running build (always 1).", "gauge", vec![(format!("{{version=\"{}\"}}", env!("CARGO_PKG_VERSION")), 1.0)]);
    o
}
