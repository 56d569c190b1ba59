//! The control side of a run, started and stopped with the dataplane (`antidote run` and
//! `antidote replay`): the policy loaded from a file, the alert pipeline and its sinks, and the
//! HTTP API with its tokens.
use crate::alerts::{AlertPipeline, SinkSpec};
use antidote_dataplane::run::{Hooks, RunContext};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Where the API listens and what it trusts (`antidote run`'s control flags).
#[derive(Clone, Debug)]
pub struct ApiOptions {
    /// Management address (`off`: no API).
    pub control: String,
    pub token_file: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Where the last good policy, the token and the audit log live.
    pub state_dir: PathBuf,
}

/// The API's tokens: from the token file, $ANTIDOTE_TOKEN, or STATE_DIR/token (created).
fn tokens(c: &ApiOptions) -> Result<(Vec<crate::api::Token>, String), String> {
    use crate::api::read_tokens;
    if let Some(f) = &c.token_file {
        let t = std::fs::read_to_string(f).map_err(|e| format!("cannot read token file {}: {e}", f.display()))?;
        let v = read_tokens(&t);
        if v.is_empty() {
            return Err(format!("token file {} holds no token of 16 characters or more", f.display()));
        }
        return Ok((v, f.display().to_string()));
    }
    if let Ok(t) = std::env::var("ANTIDOTE_TOKEN") {
        let v = read_tokens(&t);
        if v.is_empty() {
            return Err("ANTIDOTE_TOKEN must be at least 16 characters".into());
        }
        return Ok((v, "$ANTIDOTE_TOKEN".into()));
    }
    let path = c.state_dir.join("token");
    if !path.exists() {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::create_dir_all(&c.state_dir).map_err(|e| format!("cannot create {}: {e}", c.state_dir.display()))?;
        let mut b = [0u8; 24];
        std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b)).map_err(|e| e.to_string())?;
        let tok: String = b.iter().map(|x| format!("{x:02x}")).collect();
        let mut f =
            std::fs::OpenOptions::new().create_new(true).write(true).mode(0o600).open(&path).map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        writeln!(f, "admin:{tok}").map_err(|e| e.to_string())?;
    }
    let t = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok((read_tokens(&t), path.display().to_string()))
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

/// The control side of a run: the alert pipeline and the HTTP API.
pub struct ControlHooks {
    /// The alert sinks, opened before the dataplane starts (a sink that cannot start is an
    /// error then, not at the end of the run).
    sinks: Vec<crate::alerts::Configured>,
    window: Duration,
    pub pipeline: Option<AlertPipeline>,
    pub error: Option<String>,
    api: Option<(crate::api::ApiConfig, String, PathBuf)>,
    running_api: Option<crate::api::Api>,
    /// Where what is learned of the network is kept (the state directory), and when it is next
    /// written.
    network_dir: Option<PathBuf>,
    next_save: std::time::Instant,
    /// How often, on average, each pair sends a canary of each protocol (0: never).
    canary_interval: Duration,
    canaries: Option<crate::canary::Scheduler>,
    /// SIGHUP (`systemctl reload`): set by the signal; the sinks open their files again and the
    /// configured policy file, if any, is pushed again.
    reload: Option<(Arc<std::sync::atomic::AtomicBool>, Option<PathBuf>)>,
    manager: Option<Arc<crate::manager::Manager>>,
}

impl ControlHooks {
    /// The alert side: `sinks` as `--alerts` gives them, repeats within `window_s` seconds
    /// aggregated.
    pub fn new(sinks: &[String], window_s: f64) -> Result<ControlHooks, String> {
        let host = crate::alerts::host_name();
        let sinks = sinks.iter().map(|s| SinkSpec::parse(s).and_then(|spec| spec.open(&host))).collect::<Result<Vec<_>, _>>()?;
        Ok(ControlHooks {
            sinks,
            window: Duration::from_secs_f64(window_s.max(0.0)),
            pipeline: None,
            error: None,
            api: None,
            running_api: None,
            network_dir: None,
            next_save: std::time::Instant::now(),
            canary_interval: Duration::from_secs(20),
            canaries: None,
            reload: None,
            manager: None,
        })
    }

    /// Canary queries every `interval` on average per pair and protocol, from the pairs'
    /// canary identities (the profile's `canary_mac` / `canary_ipv4`); zero: none.
    pub fn with_canaries(mut self, interval: Duration) -> ControlHooks {
        self.canary_interval = interval;
        self
    }

    /// On `flag` (SIGHUP): the sinks reopen their files, and `policy` is read, compiled and
    /// swapped in as an API push would (a policy with errors is reported and the running one
    /// stays).
    pub fn with_reload(mut self, flag: Arc<std::sync::atomic::AtomicBool>, policy: Option<PathBuf>) -> ControlHooks {
        self.reload = Some((flag, policy));
        self
    }

    /// SIGHUP's work, on the main lcore.
    fn reload_now(&mut self, ctx: &RunContext) {
        if let Some(p) = &self.pipeline {
            p.reopen.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        let (Some((_, Some(path))), Some(m)) = (&self.reload, &self.manager) else {
            println!("antidote: SIGHUP: alert files reopened (no policy file to push again)");
            return;
        };
        let src = match std::fs::read_to_string(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("antidote: SIGHUP: cannot read {}: {e}; the running policy stays", path.display());
                return;
            }
        };
        if ctx.shared.policy.get().is_some_and(|p| p.source == src) {
            println!("antidote: SIGHUP: alert files reopened; {} is unchanged, the running policy stays", path.display());
            return;
        }
        match m.push(&src, "sighup") {
            crate::manager::Outcome::Installed(p, _) => {
                println!("antidote: SIGHUP: alert files reopened; {} installed as policy version {} ({})", path.display(), p.version, &p.hash)
            }
            crate::manager::Outcome::Rejected(_) | crate::manager::Outcome::Valid(_) => {
                // (Its diagnostics as `antidote check` prints them.)
                if let Err(d) = antidote_policy::compile(&src) {
                    eprintln!("{}", antidote_policy::diag::render_all(&d, &src, &path.display().to_string()));
                }
                eprintln!("antidote: SIGHUP: {} has errors (above) and was not installed; the running policy stays", path.display());
            }
        }
    }

    /// Whether any alert sink is configured.
    pub fn has_sinks(&self) -> bool {
        !self.sinks.is_empty()
    }

    /// How long workers fold repeats of an alert before handing them to the pipeline.
    pub fn alert_fold(&self) -> Duration {
        antidote_dataplane::alert::fold_for(self.window)
    }

    /// Adds the HTTP API (unless `--control off`).
    pub fn with_api(mut self, c: &ApiOptions) -> Result<ControlHooks, String> {
        if c.control == "off" {
            return Ok(self);
        }
        // With the API, the state directory also keeps what is learned of the network (as it
        // keeps the last good policy).
        self.network_dir = Some(c.state_dir.clone());
        let (tokens, from) = tokens(c)?;
        let tls = match (&c.tls_cert, &c.tls_key) {
            (Some(cert), Some(key)) => {
                Some((std::fs::read(cert).map_err(|e| format!("{}: {e}", cert.display()))?, std::fs::read(key).map_err(|e| format!("{}: {e}", key.display()))?))
            }
            _ => None,
        };
        // Bound now, before the dataplane starts: an address that cannot be bound stops the run
        // with one sentence instead of being found out later.
        let listener = Some(crate::api::listener(&c.control)?);
        self.api = Some((crate::api::ApiConfig { addr: c.control.clone(), listener, tokens, tls }, from, c.state_dir.clone()));
        Ok(self)
    }
}

/// How often what is learned of the network is written to the state directory.
const NETWORK_SAVE: Duration = Duration::from_secs(60);

impl Hooks for ControlHooks {
    fn started(&mut self, ctx: &RunContext) {
        if let Some(dir) = &self.network_dir {
            match crate::network_store::load(dir, &ctx.shared.network, &ctx.shared.clock) {
                Ok((0, 0)) => {}
                Ok((hosts, owners)) => {
                    println!("antidote: learned network: {hosts} hosts and {owners} name owners from {}", dir.join(crate::network_store::FILE).display())
                }
                Err(e) => eprintln!("antidote: {e}"),
            }
            self.next_save = std::time::Instant::now() + NETWORK_SAVE;
        }
        let host = crate::alerts::host_name();
        let sinks = std::mem::take(&mut self.sinks);
        let ports = crate::alerts::ecs::PortNames { names: ctx.port_names.clone(), peers: ctx.peers.clone() };
        let pipeline = AlertPipeline::start(ctx.shared.clone(), ctx.counters.clone(), sinks, ports, self.window, &host);
        let state_dir = self.api.as_ref().map(|(_, _, d)| d.clone());
        let manager = Arc::new(crate::manager::Manager::new(ctx.shared.clone(), ctx.counters.clone(), state_dir));
        self.manager = Some(manager.clone());
        if let Some((cfg, token_from, state_dir)) = self.api.take() {
            let tls = cfg.tls.is_some();
            if let Some(p) = ctx.shared.policy.get() {
                let _ = crate::manager::write_atomic(&state_dir.join("policy.current"), p.source.as_bytes());
            }
            let state = crate::api::ApiState {
                ctx: ctx.clone(),
                manager,
                rates: Default::default(),
                alerts: Some(pipeline.stats.clone()),
                sinks: pipeline.sink_stats.clone(),
                tokens: cfg.tokens.clone(),
            };
            match crate::api::Api::start(cfg, state) {
                Ok(api) => {
                    println!("antidote: control API on {}://{} (token from {token_from})", if tls { "https" } else { "http" }, api.addr);
                    self.running_api = Some(api);
                }
                Err(e) => self.error = Some(e),
            }
        }
        self.pipeline = Some(pipeline);
        self.canaries = crate::canary::Scheduler::new(ctx, self.canary_interval);
        if let (Some(c), Some(_)) = (&ctx.shared.canaries, &self.canaries) {
            let ids: Vec<String> =
                c.by_port.iter().flatten().map(|i| format!("{} {}", i.ip4, i.ll6)).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
            println!("antidote: canaries from {} every ~{:?} per protocol", ids.join(", "), self.canary_interval);
        }
    }
    fn tick(&mut self, ctx: &RunContext) {
        if self.reload.as_ref().is_some_and(|(f, _)| f.swap(false, std::sync::atomic::Ordering::Relaxed)) {
            self.reload_now(ctx);
        }
        if let Some(s) = self.canaries.as_mut() {
            s.tick(ctx);
        }
        if let Some(dir) = &self.network_dir {
            if std::time::Instant::now() >= self.next_save {
                self.next_save = std::time::Instant::now() + NETWORK_SAVE;
                if let Err(e) = crate::network_store::save(dir, &ctx.shared.network, &ctx.shared.clock) {
                    eprintln!("antidote: cannot save the learned network in {}: {e}", dir.display());
                }
            }
        }
    }
    fn stopped(&mut self, ctx: &RunContext) {
        if let Some(dir) = &self.network_dir {
            if let Err(e) = std::fs::create_dir_all(dir).and_then(|_| crate::network_store::save(dir, &ctx.shared.network, &ctx.shared.clock)) {
                eprintln!("antidote: cannot save the learned network in {}: {e}", dir.display());
            }
        }
        if let Some(mut api) = self.running_api.take() {
            api.stop();
        }
        if let Some(p) = self.pipeline.as_mut() {
            p.stop();
            let st = &p.stats;
            let dropped = ctx.shared.alerts.dropped();
            let lost: u64 = p
                .sink_stats
                .iter()
                .map(|(_, s)| s.failed.load(std::sync::atomic::Ordering::Relaxed) + s.dropped.load(std::sync::atomic::Ordering::Relaxed))
                .sum();
            let ld = |a: &std::sync::atomic::AtomicU64| a.load(std::sync::atomic::Ordering::Relaxed);
            let (events, written, folded, summaries, unknown, storms, notices) =
                (ld(&st.events), ld(&st.written), ld(&st.aggregated), ld(&st.summaries), ld(&st.unknown_policy), ld(&st.storms), ld(&st.notices));
            if notices > 0 {
                let fate = if ctx.shared.floods.over_budget == antidote_dataplane::flood::OverBudget::Drop { "dropped unjudged" } else { "passed unjudged" };
                for kind in crate::alerts::ecs::Flood::ALL {
                    let n = ld(st.reported(kind));
                    let fate = if kind == crate::alerts::ecs::Flood::CanaryFrames { "consumed unjudged" } else { fate };
                    if n > 0 {
                        println!(
                            "antidote: {}: {n} {} over the workers' budget ({fate}), reported in notices (documents of their own)",
                            kind.rule(),
                            kind.what()
                        );
                    }
                }
                println!("antidote: flood notices: {notices}");
            }
            if events + dropped + notices > 0 {
                // Every alert a worker raised, once: written as it came, folded into a summary,
                // lost on the way (queue full), or of a policy no longer known.
                println!(
                    "antidote: alerts: {} raised = {} written as they came + {folded} folded into {summaries} summaries{} + {dropped} lost (queue full){}; {written} documents, {lost} of them lost by sinks",
                    events + dropped,
                    written.saturating_sub(summaries + notices),
                    if storms > 0 { format!(" ({storms} of them of alert storms)") } else { String::new() },
                    if unknown > 0 { format!(" + {unknown} of a policy no longer known") } else { String::new() },
                );
                for (rule, n) in st.per_rule.lock().unwrap().iter() {
                    println!("antidote:   {rule}: {n}");
                }
            }
        }
    }
}
