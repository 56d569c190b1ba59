//! `antidote run`: start EAL from a profile, set up the ports, launch one worker per lcore,
//! report counters, and shut everything down cleanly.
use crate::alert::AlertQueue;
use crate::clock::Clock;
use crate::policy::PolicySlot;
use crate::preflight;
use crate::profile::Profile;
use crate::shared::{Shared, Task};
use crate::stats::{Snapshot, WorkerCounters};
use crate::worker::Worker;
use antidote_dpdk::{lcore, Eal, Mempool, Port, PortConfig};
use antidote_policy::Program;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long to run and how to report.
pub struct RunOptions {
    /// Print a summary line this often (None: only the final one).
    pub stats_interval: Option<Duration>,
    /// Stop after this long (None: until SIGINT/SIGTERM).
    pub duration: Option<Duration>,
    /// Stop once no frame has arrived for this long (after the first one). For pcap input.
    pub until_idle: Option<Duration>,
    /// The file the profile came from, for messages.
    pub profile_file: String,
    /// The policy to run (program and source); None: a plain bridge.
    pub policy: Option<(Program, String)>,
    /// Source address of injected NBT-NS answers to broadcast queries.
    pub inject_from: Option<Ipv4Addr>,
    /// Alert events in flight between the workers and the sinks (split into one lane per worker).
    pub alert_queue: usize,
    /// How long a worker folds repeats of an alert before handing them over as one event
    /// ([`crate::alert::AlertFolds`]; 0: never). [`crate::alert::fold_for`] of the alert window.
    pub alert_fold: Duration,
    /// Print summary lines (off for replay, which prints its own).
    pub quiet: bool,
    /// The frames are a capture's (`antidote replay`): see `Canaries::replay`.
    pub replay: bool,
}

impl RunOptions {
    pub fn new(profile_file: &str) -> RunOptions {
        RunOptions {
            stats_interval: None,
            duration: None,
            until_idle: None,
            profile_file: profile_file.to_string(),
            policy: None,
            inject_from: None,
            alert_queue: 65_536,
            alert_fold: Duration::ZERO,
            quiet: false,
            replay: false,
        }
    }
}

/// What the control side sees of a running bridge.
#[derive(Clone)]
pub struct RunContext {
    pub shared: Arc<Shared>,
    pub counters: Vec<Arc<WorkerCounters>>,
    pub port_names: Vec<String>,
    pub peers: Vec<Option<usize>>,
    pub ports: Vec<Port>,
    /// Per port: times its link went down during the run (the main lcore looks every 100 ms).
    pub link_downs: Arc<Vec<std::sync::atomic::AtomicU64>>,
    /// Per port: whether its link was up at the last look.
    pub link_up: Arc<Vec<std::sync::atomic::AtomicBool>>,
    /// Per worker: its lcore.
    pub lcores: Vec<u32>,
    /// What the appliance does while a worker stalls (the profile's `[faults]`).
    pub faults: crate::stall::FaultSpec,
}

impl RunContext {
    /// Every worker's counters summed, with the current policy's rule hits.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::take(&self.counters, self.port_names.len()).with_rules(self.shared.policy.rule_hits())
    }
}

/// The control side's part in a run: called on the main lcore.
pub trait Hooks {
    /// Once the workers run.
    fn started(&mut self, _ctx: &RunContext) {}
    /// About every 20 ms.
    fn tick(&mut self, _ctx: &RunContext) {}
    /// After the workers stopped, before the ports close.
    fn stopped(&mut self, _ctx: &RunContext) {}
}

/// Hooks that do nothing.
pub struct NoHooks;
impl Hooks for NoHooks {}

/// What the run did, for the final line and for tests.
#[derive(Clone, Debug)]
pub struct RunSummary {
    pub port_names: Vec<String>,
    pub snapshot: Snapshot,
    pub elapsed: Duration,
    /// Received frames per second over the last reporting interval (None: average of the run).
    pub interval_pps: Option<f64>,
    /// Frames each port's NIC (or PMD) lost before antidote saw them: missed for want of a free
    /// descriptor, received in error, no mbuf to put them in (`imissed + ierrors + rx_nombuf`).
    pub nic_dropped: Vec<u64>,
    /// Per port: whether its link is down now, and how often it went down.
    pub link_down: Vec<bool>,
    pub link_downs: Vec<u64>,
}

/// What a port's NIC lost before antidote saw the frames (see [`RunSummary::nic_dropped`]).
pub fn nic_dropped(ports: &[Port]) -> Vec<u64> {
    ports
        .iter()
        .map(|p| {
            let s = p.stats();
            s.imissed + s.ierrors + s.rx_nombuf
        })
        .collect()
}

impl RunSummary {
    /// One line: per-direction counters and the average rate.
    pub fn line(&self, peers: &[Option<usize>], final_: bool) -> String {
        let s = &self.snapshot;
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        let mut parts = Vec::new();
        for (i, p) in s.ports.iter().enumerate() {
            if let Some(j) = peers[i] {
                let nic = self.nic_dropped.get(i).copied().unwrap_or(0);
                let mut part =
                    format!("{}→{} rx {} tx {} dropped {} txfull {} nicdrop {nic}", self.port_names[i], self.port_names[j], p.rx, p.tx, p.dropped, p.tx_full);
                let downs = self.link_downs.get(i).copied().unwrap_or(0);
                if self.link_down.get(i).copied().unwrap_or(false) {
                    part += &format!(" LINK {} DOWN", self.port_names[i]);
                }
                if downs > 0 {
                    part += &format!(" linkdowns {downs}");
                }
                parts.push(part);
            }
        }
        let a = &s.actions;
        if a.alerts + a.injected + a.mirrored + a.malformed > 0 {
            parts.push(format!("alerts {} injected {} mirrored {} malformed {}", a.alerts, a.injected, a.mirrored, a.malformed));
        }
        if a.held + a.hold_fallback > 0 {
            parts.push(format!("held {} released {} dropped {} fallback {} probes {}", a.held, a.hold_released, a.hold_dropped, a.hold_fallback, a.probes));
        }
        if a.over_budget > 0 {
            parts.push(format!("over_budget {}", a.over_budget));
        }
        if a.follow_on_over_budget > 0 {
            parts.push(format!("follow_on_over_budget {}", a.follow_on_over_budget));
        }
        if a.canary_over_budget > 0 {
            parts.push(format!("canary_over_budget {}", a.canary_over_budget));
        }
        if a.bypassed > 0 {
            parts.push(format!("bypassed {}", a.bypassed));
        }
        format!(
            "antidote{} {:.1}s | {} | {}",
            if final_ { " final:" } else { ":" },
            secs,
            parts.join(" | "),
            rate(self.interval_pps.unwrap_or(s.rx() as f64 / secs))
        )
    }
}

/// A packet rate with a readable unit: `27.946 Mpps`, `12.5 kpps`, `3 pps`.
pub fn rate(pps: f64) -> String {
    if pps >= 1e6 {
        format!("{:.3} Mpps", pps / 1e6)
    } else if pps >= 1e3 {
        format!("{:.1} kpps", pps / 1e3)
    } else {
        format!("{pps:.0} pps")
    }
}

/// Runs the bridge until `stop` is set (or the options end it). Returns the final counters.
pub fn run(profile: &Profile, opts: RunOptions, stop: Arc<AtomicBool>, hooks: &mut dyn Hooks) -> Result<RunSummary, String> {
    preflight::check(profile, &opts.profile_file)?;
    sweep_runtime_dirs_of_gone_processes();
    let prefix = format!("antidote-{}", std::process::id());
    let eal =
        Eal::init(&profile.eal_args(&prefix)).map_err(|e| format!("{e}\nDPDK could not start with profile {}; the lines above say why.", opts.profile_file))?;
    // A panic once EAL is up (a closed stdout, a bug) leaves no runtime folder behind either.
    let dir = format!("/var/run/dpdk/{prefix}");
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = std::fs::remove_dir_all(&dir);
        hook(info);
    }));
    let result = run_on(eal, profile, opts, stop, hooks);
    eal.cleanup();
    result
}

/// Removes `/var/run/dpdk/antidote-<pid>` folders whose process is gone: what an antidote
/// killed by SIGKILL (or the power cord) leaves behind, and which nothing else would remove.
fn sweep_runtime_dirs_of_gone_processes() {
    let Ok(dir) = std::fs::read_dir("/var/run/dpdk") else { return };
    for e in dir.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix("antidote-").and_then(|p| p.parse::<u32>().ok()) else { continue };
        if pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists() && std::fs::remove_dir_all(e.path()).is_ok() {
            eprintln!("antidote: removed /var/run/dpdk/{name}, left by an antidote that is gone (killed, not stopped)");
        }
    }
}

struct Ports {
    ports: Vec<Port>,
    started: Vec<Port>,
}

impl Drop for Ports {
    fn drop(&mut self) {
        for p in self.started.drain(..) {
            p.stop();
        }
        for p in &self.ports {
            p.close();
        }
    }
}

fn run_on(eal: &Eal, profile: &Profile, mut opts: RunOptions, stop: Arc<AtomicBool>, hooks: &mut dyn Hooks) -> Result<RunSummary, String> {
    let workers = profile.worker_lcores.len();
    // Resolve every port the profile names.
    let mut ports = Ports { ports: Vec::new(), started: Vec::new() };
    for (i, spec) in profile.ports.iter().enumerate() {
        let dev = profile.device(i);
        let port = Port::by_name(dev.port_name()).ok_or_else(|| {
            format!(
                "{}: port `{}` ({}) did not come up in DPDK; check the device string and the EAL messages above.",
                opts.profile_file, spec.name, spec.device
            )
        })?;
        ports.ports.push(port);
    }
    // Enough mbufs for every descriptor plus the workers' caches and bursts.
    let need = profile.mbufs_needed();
    if profile.mempool_mbufs < need {
        return Err(format!(
            "{}: key `mempool_mbufs` = {} is too small for these queues and descriptors; raise it to at least {need}.",
            opts.profile_file, profile.mempool_mbufs
        ));
    }
    let socket = ports.ports.first().map(|p| p.socket()).unwrap_or(-1);
    let pool = Arc::new(
        Mempool::new("antidote_pkts", profile.mempool_mbufs, profile.mempool_cache, profile.data_room(), socket)
            .map_err(|e| format!("{e}; lower `mempool_mbufs` in {} or give DPDK more memory", opts.profile_file))?,
    );

    // The kernel interface of each port over net_af_packet (its link is read, and set, there;
    // its MTU too).
    let ifaces: Vec<Option<String>> = profile
        .ports
        .iter()
        .map(|p| p.device.starts_with("net_af_packet").then(|| p.device.split(',').find_map(|kv| kv.strip_prefix("iface=")).map(str::to_string)).flatten())
        .collect();
    let mut kernel_mtus = crate::links::KernelMtus::default();
    for (i, spec) in profile.ports.iter().enumerate() {
        let port = ports.ports[i];
        // A port over a kernel interface takes its MTU there; DPDK's drivers take it themselves.
        let mtu = match (profile.mtu_of(i), &ifaces[i]) {
            (Some(m), Some(ifc)) => {
                kernel_mtus.set(ifc, m).map_err(|e| format!("{}: port `{}`: {e}", opts.profile_file, spec.name))?;
                None
            }
            (m, _) => m,
        };
        let cfg = PortConfig {
            rx_queues: spec.rx_queues,
            tx_queues: spec.tx_queues(workers),
            rx_desc: spec.rx_desc,
            tx_desc: spec.tx_desc,
            rss: spec.rss,
            promiscuous: true,
            rx_timestamp: opts.replay,
            mtu,
        };
        port.configure(&cfg, &pool).map_err(|e| {
            // net_pcap with infinite_rx keeps the whole capture in mbufs of the pool.
            let hint = if e.contains("rx_queue_setup") && spec.device.contains("infinite_rx=1") {
                format!(
                    " (net_pcap's infinite_rx keeps the whole capture in the mempool: raise `mempool_mbufs` ({}) by the capture's frame count, or use a smaller capture)",
                    profile.mempool_mbufs
                )
            } else if e.contains("rx_queue_setup") {
                " (the lines above say why; too few mbufs is the usual cause: raise `mempool_mbufs`)".to_string()
            } else {
                String::new()
            };
            format!("{}: port `{}`: {e}{hint}", opts.profile_file, spec.name)
        })?;
        port.start().map_err(|e| format!("{}: port `{}`: {e}", opts.profile_file, spec.name))?;
        ports.started.push(port);
        let link = port.link();
        if !opts.quiet {
            println!(
                "antidote: port {} = {} mac {} link {}{}",
                spec.name,
                port.name(),
                antidote_wire::ethernet::Mac(port.mac()),
                if link.up { "up" } else { "down" },
                if link.up && link.speed_mbps > 0 { format!(" {} Mb/s", link.speed_mbps) } else { String::new() }
            );
        }
    }

    let network = Arc::new(antidote_policy::state::Network::default());
    let policy = PolicySlot::with_network(workers, network.clone());
    if let Some((program, source)) = opts.policy.take() {
        let p = policy.install(program, source);
        if !opts.quiet {
            println!("antidote: policy v{} ({}) loaded: {} rule(s)", p.version, p.hash, p.program.rules.len());
        }
    }
    let shared = Arc::new(Shared {
        policy,
        network,
        alerts: AlertQueue::new(opts.alert_queue, workers),
        clock: Clock::new(),
        inject_from: opts.inject_from,
        alert_fold_ms: opts.alert_fold.as_millis() as u64,
        mirror: profile.mirror_index().map(|i| ports.ports[i]),
        canaries: {
            let pair_of = |i: usize| profile.pairs.iter().find(|p| p.a == profile.ports[i].name || p.b == profile.ports[i].name);
            crate::canary::Canaries::new(
                (0..profile.ports.len()).map(|i| pair_of(i).and_then(|p| p.canary().ok()).unwrap_or_default()).collect(),
                (0..profile.ports.len()).map(|i| pair_of(i).and_then(|p| p.canary_vlans().ok()).unwrap_or_default()).collect(),
            )
            .map(|mut c| {
                c.replay = opts.replay;
                Arc::new(c)
            })
        },
        capture_time: if opts.replay { antidote_dpdk::RxTimestamp::lookup() } else { None },
        floods: profile.floods,
    });
    if let Some(c) = &shared.canaries {
        c.register(&shared.network);
    }
    let segment_side: Vec<bool> = (0..profile.ports.len()).map(|i| profile.pairs.iter().any(|p| p.a == profile.ports[i].name)).collect();

    // Worker w polls RX queue w of every paired port and sends on TX queue w of its peer.
    let peers = profile.peers();
    let lcores = profile.worker_lcores.clone();
    let counters: Vec<Arc<WorkerCounters>> = (0..workers).map(|_| Arc::new(WorkerCounters::default())).collect();
    let enabled = eal.worker_lcores();
    let mut launched = Vec::new();
    let mut launch_err = None;
    let mut worker_tasks: Vec<Vec<Task>> = Vec::new();
    for (w, &lc) in lcores.iter().enumerate() {
        if !enabled.contains(&lc) {
            launch_err = Some(format!("lcore {lc} is not enabled in EAL; check `worker_lcores` in {}", opts.profile_file));
            break;
        }
        let tasks: Vec<Task> = (0..profile.ports.len())
            .filter_map(|i| {
                let j = peers[i]?;
                (w < profile.ports[i].rx_queues as usize).then(|| Task::new(ports.ports[i], i, w as u16, ports.ports[j], segment_side[i], i.min(j) as u16))
            })
            .collect();
        worker_tasks.push(tasks.clone());
        let worker = Worker::new(tasks, counters[w].clone(), shared.clone(), pool.clone(), lc as u16, w as u16);
        let st = stop.clone();
        match lcore::launch(lc, move || worker.run(st)) {
            Ok(()) => launched.push(lc),
            Err(e) => {
                launch_err = Some(e);
                break;
            }
        }
    }
    if !opts.quiet {
        println!(
            "antidote: profile {} running: {} worker(s) on lcore(s) {:?}, {} pair(s); Ctrl-C stops",
            profile.name,
            launched.len(),
            launched,
            profile.pairs.len()
        );
    }

    // The workers as the control thread watches them for stalls (`crate::stall`).
    let mut stall = crate::stall::StallWatch::new(
        profile.faults,
        worker_tasks.iter().enumerate().map(|(w, tasks)| (counters[w].clone(), tasks.clone(), lcores[w])).collect(),
        (0..profile.ports.len()).filter(|&i| peers[i].is_some()).map(|i| (ports.ports[i], ifaces[i].clone())).collect(),
    );
    let names: Vec<String> = profile.ports.iter().map(|p| p.name.clone()).collect();
    // Each paired port's link (`crate::links`).
    let mut links = crate::links::LinkWatch::new(
        (0..profile.ports.len()).map(|i| (ports.ports[i], ifaces[i].clone(), names[i].clone(), peers[i], profile.link_propagation(i))).collect(),
    );
    let link_downs = links.downs.clone();
    let ctx = RunContext {
        shared: shared.clone(),
        counters: counters.clone(),
        port_names: names.clone(),
        peers: peers.clone(),
        ports: ports.ports.clone(),
        link_downs: link_downs.clone(),
        link_up: links.shown.clone(),
        lcores: lcores.clone(),
        faults: profile.faults,
    };
    let mut last_link_look = Instant::now();
    hooks.started(&ctx);
    let start = Instant::now();
    let mut last_report = start;
    let mut last_rx = 0u64;
    let mut last_report_rx = 0u64;
    let mut last_change = start;
    let tick = Duration::from_millis(20);
    let mut last_sweep = start;
    if launch_err.is_some() {
        stop.store(true, Relaxed);
    }
    while !stop.load(Relaxed) {
        // A stalled worker's queues, taken over (fail-open), are forwarded here for the tick;
        // else the control thread sleeps.
        if stall.forwarding() {
            let until = Instant::now() + tick;
            while Instant::now() < until {
                if stall.forward() == 0 {
                    std::hint::spin_loop();
                }
            }
        } else {
            std::thread::sleep(tick);
        }
        stall.look(shared.clock.now_ms(), &mut |m| {
            if !opts.quiet {
                eprintln!("antidote: {m}");
            }
        });
        hooks.tick(&ctx);
        let now = Instant::now();
        if now - last_sweep >= Duration::from_secs(1) {
            // Learned keys that expired are forgotten, so a table they all left reads as empty
            // and the rules that need a key in it go dormant again (`Program::live_rules`).
            last_sweep = now;
            if let Some(p) = shared.policy.current.load().as_deref() {
                let ms = shared.clock.now_ms();
                for t in &p.program.tables {
                    t.state.sweep(ms);
                }
            }
        }
        if now - last_link_look >= Duration::from_millis(100) {
            last_link_look = now;
            links.look((now - start).as_secs_f64(), &mut |m| {
                if !opts.quiet {
                    eprintln!("antidote: {m}");
                }
            });
        }
        if let Some(d) = opts.duration {
            if now - start >= d {
                break;
            }
        }
        if opts.until_idle.is_some() || opts.stats_interval.is_some() {
            let snap = Snapshot::take(&counters, names.len());
            let rx = snap.rx();
            if rx != last_rx {
                last_rx = rx;
                last_change = now;
            }
            if let Some(idle) = opts.until_idle {
                if rx > 0 && now - last_change >= idle {
                    break;
                }
            }
            if let Some(iv) = opts.stats_interval {
                if now - last_report >= iv && !opts.quiet {
                    let pps = (rx - last_report_rx) as f64 / (now - last_report).as_secs_f64();
                    last_report = now;
                    last_report_rx = rx;
                    let s = RunSummary {
                        port_names: names.clone(),
                        snapshot: snap,
                        elapsed: now - start,
                        interval_pps: Some(pps),
                        nic_dropped: nic_dropped(&ctx.ports),
                        link_down: links.down(),
                        link_downs: link_downs.iter().map(|n| n.load(Relaxed)).collect(),
                    };
                    println!("{}", s.line(&peers, false));
                }
            }
        }
    }
    stop.store(true, Relaxed);
    stall.release();
    links.release();
    let mut failed = Vec::new();
    for lc in launched {
        if lcore::wait(lc) != 0 {
            failed.push(lc);
        }
    }
    hooks.stopped(&ctx);
    let summary = RunSummary {
        port_names: names,
        snapshot: Snapshot::take(&counters, profile.ports.len()).with_rules(shared.policy.rule_hits()),
        elapsed: start.elapsed(),
        interval_pps: None,
        nic_dropped: nic_dropped(&ctx.ports),
        link_down: (0..ctx.ports.len()).map(|i| peers[i].is_some() && !links.link_of(i)).collect(),
        link_downs: link_downs.iter().map(|n| n.load(Relaxed)).collect(),
    };
    if !opts.quiet {
        println!("{}", summary.line(&peers, true));
    }
    drop(ctx);
    drop(shared);
    drop(ports);
    drop(pool);
    if let Some(e) = launch_err {
        return Err(e);
    }
    if !failed.is_empty() {
        return Err(format!("worker(s) on lcore(s) {failed:?} failed"));
    }
    Ok(summary)
}
