//! The thread that turns worker events into written alerts.
use super::ecs;
use super::sinks::{Configured, SinkStats};
use antidote_dataplane::alert::AlertEvent;
use antidote_dataplane::shared::Shared;
use antidote_policy::ast::Severity;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Counters of the pipeline.
#[derive(Default, Debug)]
pub struct PipelineStats {
    /// Events taken from the workers' queue.
    pub events: AtomicU64,
    /// Documents written (first sightings and aggregates).
    pub written: AtomicU64,
    /// Repeats folded into aggregates.
    pub aggregated: AtomicU64,
    /// Aggregate documents written (each stands for some of `aggregated`).
    pub summaries: AtomicU64,
    /// Events whose policy version was no longer known.
    pub unknown_policy: AtomicU64,
    /// Storm summaries written (each stands for new alerts a worker did not hand over one by
    /// one; counted in `aggregated` and `summaries` too).
    pub storms: AtomicU64,
    /// `answer-flood`, `follow-on-flood` and `canary-flood` notices written (in `written` too):
    /// one a second per kind while frames come over the workers' budgets
    /// ([`antidote_dataplane::flood`]).
    pub notices: AtomicU64,
    /// Answers over the workers' budget that the notices reported.
    pub over_budget_reported: AtomicU64,
    /// Follow-ons and frames for a canary identity over theirs that the notices reported.
    pub follow_on_reported: AtomicU64,
    pub canary_reported: AtomicU64,
    /// Recent documents (for the API) with their sequence numbers, newest last.
    pub recent: Mutex<std::collections::VecDeque<(u64, Box<str>)>>,
    /// Per rule name: alerts seen (repeats included).
    pub per_rule: Mutex<std::collections::BTreeMap<String, u64>>,
}

impl PipelineStats {
    /// The frames over budget `kind` that the notices reported.
    pub fn reported(&self, kind: ecs::Flood) -> &AtomicU64 {
        match kind {
            ecs::Flood::Answers => &self.over_budget_reported,
            ecs::Flood::FollowOns => &self.follow_on_reported,
            ecs::Flood::CanaryFrames => &self.canary_reported,
        }
    }
}

/// Documents kept for the API.
pub const RECENT: usize = 1024;

pub struct AlertPipeline {
    stop: Arc<AtomicBool>,
    /// Set to have the sinks open their files again (SIGHUP, after logrotate).
    pub reopen: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
    pub stats: Arc<PipelineStats>,
    pub sink_stats: Vec<(String, Arc<SinkStats>)>,
}

struct Group {
    first_ms: u64,
    last_ms: u64,
    count: u64,
    last: AlertEvent,
}

fn syslog_severity(s: Severity) -> u8 {
    match s {
        Severity::Critical => 2,
        Severity::High => 3,
        Severity::Medium => 4,
        Severity::Low => 5,
    }
}

/// How long the sinks get at the end of a run to deliver what they still queue.
pub const SINK_CLOSE: Duration = Duration::from_secs(3);

impl AlertPipeline {
    /// Starts the thread. Repeats of an alert within `window` are aggregated.
    /// `host` names the observer in the documents.
    pub fn start(
        shared: Arc<Shared>,
        counters: Vec<Arc<antidote_dataplane::stats::WorkerCounters>>,
        mut sinks: Vec<Configured>,
        port_names: ecs::PortNames,
        window: Duration,
        host: &str,
    ) -> AlertPipeline {
        let stop = Arc::new(AtomicBool::new(false));
        let stats: Arc<PipelineStats> = Arc::default();
        let sink_stats = sinks.iter().map(|s| (s.sink.name(), s.sink.stats())).collect();
        let reopen = Arc::new(AtomicBool::new(false));
        let (st, stp, reo) = (stats.clone(), stop.clone(), reopen.clone());
        let host = if host.is_empty() { "antidote".to_string() } else { host.to_string() };
        let handle = std::thread::Builder::new()
            .name("alerts".into())
            .spawn(move || {
                let window_ms = window.as_millis() as u64;
                let grace_ms = antidote_dataplane::alert::fold_for(window).as_millis() as u64 + 500;
                let mut groups: HashMap<u64, Group> = HashMap::new();
                // Frames over each of the workers' budgets, as last reported, and when.
                let over_budget = |k: ecs::Flood| counters.iter().map(|c| k.over(c)).sum::<u64>();
                // (Stamped by the run's clock: in a replay, the capture's time.)
                let stamp = || shared.clock.unix_ms(shared.clock.now_ms());
                let (mut over_reported, mut over_since, mut next_over_check) = ([0u64; 3], [stamp(); 3], 0u64);
                // `frame`: the bytes of the alert's frame, for the sinks that take them.
                let write = |sinks: &mut Vec<Configured>, doc: serde_json::Value, sev: Severity, st: &PipelineStats, frame: Option<&[u8]>| {
                    for s in sinks.iter_mut() {
                        match frame.filter(|f| s.packet > 0 && !f.is_empty()) {
                            Some(f) => s.sink.send(&ecs::with_packet(&doc, f, s.packet), syslog_severity(sev)),
                            None => s.sink.send(&doc, syslog_severity(sev)),
                        }
                    }
                    let seq = st.written.fetch_add(1, Relaxed) + 1;
                    let mut r = st.recent.lock().unwrap_or_else(|e| e.into_inner());
                    // Kept as its JSON text: as a `Value` (a map per object) a document takes many
                    // times the room.
                    r.push_back((seq, doc.to_string().into_boxed_str()));
                    while r.len() > RECENT {
                        r.pop_front();
                    }
                };
                // The summary of a group's repeats (none for a group of one).
                let summary = |sinks: &mut Vec<Configured>, g: Group, st: &PipelineStats| {
                    if g.count > 1 {
                        if let Some(policy) = shared.policy.version(g.last.policy_version) {
                            let doc = ecs::document(&g.last, &policy, &port_names, &host, g.count - 1, g.first_ms, g.last_ms);
                            let sev = policy.program.rules[g.last.rule as usize].severity;
                            write(sinks, doc, sev, st, Some(g.last.frame()));
                            st.summaries.fetch_add(1, Relaxed);
                        }
                    }
                };
                loop {
                    let stopping = stp.load(Relaxed);
                    if reo.swap(false, Relaxed) {
                        sinks.iter_mut().for_each(|s| s.sink.reopen());
                    }
                    let mut n = 0;
                    while let Some(e) = shared.alerts.pop() {
                        n += 1;
                        // An event stands for `count` occurrences: the repeats a worker folded
                        // (`AlertFolds`) arrive as one, the first of them at `first_unix_ms`.
                        let count = e.count.max(1) as u64;
                        st.events.fetch_add(count, Relaxed);
                        let Some(policy) = shared.policy.version(e.policy_version) else {
                            st.unknown_policy.fetch_add(count, Relaxed);
                            continue;
                        };
                        let rule = &policy.program.rules[e.rule as usize];
                        *st.per_rule.lock().unwrap_or_else(|x| x.into_inner()).entry(rule.name.clone()).or_default() += count;
                        if e.storm {
                            // New alerts over a worker's budget in a second: one summary, the
                            // first of them its example (`AlertFolds`).
                            let doc = ecs::document(&e, &policy, &port_names, &host, count, e.first_unix_ms, e.unix_ms);
                            write(&mut sinks, doc, rule.severity, &st, Some(e.frame()));
                            st.aggregated.fetch_add(count, Relaxed);
                            st.summaries.fetch_add(1, Relaxed);
                            st.storms.fetch_add(1, Relaxed);
                            continue;
                        }
                        // The event's group (`antidote_dataplane::alert::key`).
                        let key = e.group;
                        match groups.get_mut(&key) {
                            Some(g) if e.first_unix_ms.saturating_sub(g.first_ms) < window_ms => {
                                g.count += count;
                                g.last_ms = g.last_ms.max(e.unix_ms);
                                g.last = e;
                                st.aggregated.fetch_add(count, Relaxed);
                            }
                            _ => {
                                // A group whose window ended and was not closed yet: its summary first.
                                if let Some(g) = groups.remove(&key) {
                                    summary(&mut sinks, g, &st);
                                }
                                if count == 1 {
                                    let doc = ecs::document(&e, &policy, &port_names, &host, 1, e.unix_ms, e.unix_ms);
                                    write(&mut sinks, doc, rule.severity, &st, Some(e.frame()));
                                    groups.insert(key, Group { first_ms: e.unix_ms, last_ms: e.unix_ms, count: 1, last: e });
                                } else {
                                    // Repeats whose first sighting's window has closed: one summary.
                                    let doc = ecs::document(&e, &policy, &port_names, &host, count, e.first_unix_ms, e.unix_ms);
                                    write(&mut sinks, doc, rule.severity, &st, Some(e.frame()));
                                    st.aggregated.fetch_add(count, Relaxed);
                                    st.summaries.fetch_add(1, Relaxed);
                                }
                            }
                        }
                    }
                    // Close the windows that ended: one summary each for repeated alerts. A group
                    // stays open `grace_ms` past its window, for the repeats workers fold in its
                    // last moments to arrive.
                    let now = antidote_dataplane::clock::unix_now_ms();
                    let ended: Vec<_> =
                        groups.iter().filter(|(_, g)| stopping || now.saturating_sub(g.first_ms) >= window_ms + grace_ms).map(|(k, _)| *k).collect();
                    for k in ended {
                        let g = groups.remove(&k).unwrap();
                        summary(&mut sinks, g, &st);
                    }
                    // A flood over one of the workers' budgets: one notice a second per kind.
                    if now >= next_over_check || stopping {
                        next_over_check = now + 1000;
                        for (k, kind) in ecs::Flood::ALL.into_iter().enumerate() {
                            let total = over_budget(kind);
                            if total > over_reported[k] {
                                // (A replay's clock turns to the capture's time at its first frame.)
                                let (t, n) = (stamp(), total - over_reported[k]);
                                let doc = ecs::flood_notice(kind, n, over_since[k].min(t), t, &host, shared.floods);
                                write(&mut sinks, doc, Severity::High, &st, None);
                                st.notices.fetch_add(1, Relaxed);
                                st.reported(kind).fetch_add(n, Relaxed);
                                *st.per_rule.lock().unwrap_or_else(|x| x.into_inner()).entry(kind.rule().to_string()).or_default() += n;
                                over_reported[k] = total;
                            }
                            over_since[k] = stamp();
                        }
                    }
                    if n > 0 || stopping {
                        sinks.iter_mut().for_each(|s| s.sink.flush());
                    }
                    if stopping && shared.alerts.is_empty() {
                        // What the sinks still queue is delivered now, or counted as lost.
                        sinks.iter_mut().for_each(|s| s.sink.close(SINK_CLOSE));
                        break;
                    }
                    if n == 0 {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                }
            })
            .expect("spawn alert thread");
        AlertPipeline { stop, reopen, handle: Some(handle), stats, sink_stats }
    }

    /// Drains what is queued, writes the open aggregates, flushes the sinks and stops.
    pub fn stop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for AlertPipeline {
    fn drop(&mut self) {
        self.stop();
    }
}
