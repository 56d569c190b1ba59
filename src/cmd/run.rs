//! `antidote run`: the appliance.
use antidote_control::alerts::{AlertPipeline, SinkSpec};
use antidote_dataplane::bridge::{self, Hooks, RunContext, RunOptions};
use antidote_dataplane::profile::Profile;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// Where alerts go and how they are handled.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct AlertArgs {
    /// An alert sink: a file for ECS JSON lines (`alerts.jsonl` or `jsonl:PATH`),
    /// `syslog+udp://HOST:PORT`, `syslog+tcp://HOST:PORT` or `http://…` (webhook). Repeatable.
    #[arg(long = "alerts")]
    pub sinks: Vec<String>,
    /// Repeats of an alert (same rule, source, destination, name) within this many seconds are
    /// written once more as one summary with their count.
    #[arg(long, default_value_t = 10.0)]
    pub alert_window: f64,
    /// Source IPv4 of NBT-NS negative answers to broadcast queries (default: the address the
    /// query was sent to). Unicast queries are answered from the server they asked.
    #[arg(long)]
    pub inject_from: Option<Ipv4Addr>,
}

pub struct RunArgs {
    pub profile: PathBuf,
    pub stats_interval: f64,
    pub duration: Option<f64>,
    pub until_idle_ms: Option<u64>,
    pub dry_run: bool,
    pub policy: Option<PathBuf>,
    pub alerts: AlertArgs,
}

/// Reads and compiles a policy, printing its diagnostics like `antidote check`.
pub fn load_policy(path: &Path) -> Result<(antidote_policy::Program, String), String> {
    let src = std::fs::read_to_string(path).map_err(|e| format!("cannot read policy {}: {e}", path.display()))?;
    match antidote_policy::compile(&src) {
        Ok(c) => {
            if !c.warnings.is_empty() {
                eprintln!("{}", antidote_policy::diag::render_all(&c.warnings, &src, &path.display().to_string()));
            }
            Ok((c.program, src))
        }
        Err(d) => {
            eprintln!("{}", antidote_policy::diag::render_all(&d, &src, &path.display().to_string()));
            Err(format!("policy {} has errors (above); fix them, `antidote check {}` shows them again", path.display(), path.display()))
        }
    }
}

/// The control side of a run: the alert pipeline.
pub struct ControlHooks {
    sinks: Vec<SinkSpec>,
    window: Duration,
    pub pipeline: Option<AlertPipeline>,
    pub error: Option<String>,
}

impl ControlHooks {
    pub fn new(a: &AlertArgs) -> Result<ControlHooks, String> {
        let sinks = a.sinks.iter().map(|s| SinkSpec::parse(s)).collect::<Result<Vec<_>, _>>()?;
        Ok(ControlHooks { sinks, window: Duration::from_secs_f64(a.alert_window.max(0.0)), pipeline: None, error: None })
    }
}

impl Hooks for ControlHooks {
    fn started(&mut self, ctx: &RunContext) {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_default();
        let mut sinks = Vec::new();
        for s in &self.sinks {
            match s.open(&host) {
                Ok(s) => sinks.push(s),
                Err(e) => self.error = Some(e),
            }
        }
        self.pipeline = Some(AlertPipeline::start(ctx.shared.clone(), sinks, ctx.port_names.clone(), self.window));
    }
    fn stopped(&mut self, ctx: &RunContext) {
        if let Some(p) = self.pipeline.as_mut() {
            p.stop();
            let st = &p.stats;
            let dropped = ctx.shared.alerts.dropped.load(std::sync::atomic::Ordering::Relaxed);
            let lost: u64 = p.sink_stats.iter().map(|(_, s)| s.failed.load(std::sync::atomic::Ordering::Relaxed) + s.dropped.load(std::sync::atomic::Ordering::Relaxed)).sum();
            let events = st.events.load(std::sync::atomic::Ordering::Relaxed);
            if events + dropped > 0 {
                println!(
                    "antidote: alerts: {events} raised, {} written, {} folded into summaries, {dropped} lost (queue full), {lost} lost by sinks",
                    st.written.load(std::sync::atomic::Ordering::Relaxed),
                    st.aggregated.load(std::sync::atomic::Ordering::Relaxed),
                );
                for (rule, n) in st.per_rule.lock().unwrap().iter() {
                    println!("antidote:   {rule}: {n}");
                }
            }
        }
    }
}

pub fn run(a: RunArgs) -> ExitCode {
    let file = a.profile.display().to_string();
    let p = match Profile::load(&a.profile) {
        Ok(p) => p,
        Err(e) => return crate::fail(&e.to_string()),
    };
    let policy = match a.policy.as_deref().map(load_policy).transpose() {
        Ok(p) => p,
        Err(e) => return crate::fail(&e),
    };
    if a.dry_run {
        println!("{file}: valid; EAL arguments: {}", p.eal_args("antidote-PID").join(" "));
        return ExitCode::SUCCESS;
    }
    let mut hooks = match ControlHooks::new(&a.alerts) {
        Ok(h) => h,
        Err(e) => return crate::fail(&e),
    };
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(sig, stop.clone()) {
            return crate::fail(&format!("cannot install the signal handler: {e}"));
        }
    }
    let mut opts = RunOptions::new(&file);
    opts.stats_interval = (a.stats_interval > 0.0).then(|| Duration::from_secs_f64(a.stats_interval));
    opts.duration = a.duration.map(Duration::from_secs_f64);
    opts.until_idle = a.until_idle_ms.map(Duration::from_millis);
    opts.policy = policy;
    opts.inject_from = a.alerts.inject_from;
    let r = bridge::run(&p, opts, stop, &mut hooks);
    if let Some(e) = hooks.error {
        eprintln!("antidote: alert sink: {e}");
    }
    match r {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => crate::fail(&e),
    }
}
