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
    /// `syslog+udp://HOST:PORT`, `syslog+tcp://HOST:PORT` or `http(s)://…` (webhook). Repeatable.
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

/// The control API.
#[derive(clap::Args, Clone, Debug)]
pub struct ControlArgs {
    /// Management address of the HTTP API (`off` to disable). Never a data port.
    #[arg(long, default_value = "127.0.0.1:9440")]
    pub control: String,
    /// File with the API's bearer token(s): one per line, `NAME:TOKEN` or `TOKEN` (≥ 16
    /// characters). Default: $ANTIDOTE_TOKEN, else STATE_DIR/token (created with a random
    /// token when missing).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// PEM certificate and key: serve the API over HTTPS (rustls).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Where the last good policy, the token and the audit log live.
    #[arg(long, default_value = "/var/lib/antidote")]
    pub state_dir: PathBuf,
}

pub struct RunArgs {
    pub profile: PathBuf,
    pub stats_interval: f64,
    pub duration: Option<f64>,
    pub until_idle_ms: Option<u64>,
    pub dry_run: bool,
    pub policy: Option<PathBuf>,
    pub alerts: AlertArgs,
    pub control: ControlArgs,
}

/// The API's tokens: from the token file, $ANTIDOTE_TOKEN, or STATE_DIR/token (created).
fn tokens(c: &ControlArgs) -> Result<(Vec<antidote_control::api::Token>, String), String> {
    use antidote_control::api::read_tokens;
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
    sinks: Vec<SinkSpec>,
    window: Duration,
    pub pipeline: Option<AlertPipeline>,
    pub error: Option<String>,
    api: Option<(antidote_control::api::ApiConfig, String, PathBuf)>,
    running_api: Option<antidote_control::api::Api>,
}

impl ControlHooks {
    pub fn new(a: &AlertArgs) -> Result<ControlHooks, String> {
        let sinks = a.sinks.iter().map(|s| SinkSpec::parse(s)).collect::<Result<Vec<_>, _>>()?;
        Ok(ControlHooks { sinks, window: Duration::from_secs_f64(a.alert_window.max(0.0)), pipeline: None, error: None, api: None, running_api: None })
    }

    /// How long workers fold repeats of an alert before handing them to the pipeline.
    pub fn alert_fold(&self) -> Duration {
        antidote_dataplane::alert::fold_for(self.window)
    }

    /// Adds the HTTP API (unless `--control off`).
    pub fn with_api(mut self, c: &ControlArgs) -> Result<ControlHooks, String> {
        if c.control == "off" {
            return Ok(self);
        }
        let (tokens, from) = tokens(c)?;
        let tls = match (&c.tls_cert, &c.tls_key) {
            (Some(cert), Some(key)) => {
                Some((std::fs::read(cert).map_err(|e| format!("{}: {e}", cert.display()))?, std::fs::read(key).map_err(|e| format!("{}: {e}", key.display()))?))
            }
            _ => None,
        };
        self.api = Some((antidote_control::api::ApiConfig { addr: c.control.clone(), tokens, tls }, from, c.state_dir.clone()));
        Ok(self)
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
        let pipeline = AlertPipeline::start(ctx.shared.clone(), sinks, ctx.port_names.clone(), self.window);
        if let Some((cfg, token_from, state_dir)) = self.api.take() {
            let tls = cfg.tls.is_some();
            let manager = antidote_control::manager::Manager::new(ctx.shared.clone(), ctx.counters.clone(), Some(state_dir.clone()));
            if let Some(p) = ctx.shared.policy.get() {
                let _ = antidote_control::manager::write_atomic(&state_dir.join("policy.current"), p.source.as_bytes());
            }
            let state = antidote_control::api::ApiState {
                ctx: ctx.clone(),
                manager,
                rates: Default::default(),
                alerts: Some(pipeline.stats.clone()),
                sinks: pipeline.sink_stats.clone(),
                tokens: cfg.tokens.clone(),
            };
            match antidote_control::api::Api::start(cfg, state) {
                Ok(api) => {
                    println!("antidote: control API on {}://{} (token from {token_from})", if tls { "https" } else { "http" }, api.addr);
                    self.running_api = Some(api);
                }
                Err(e) => self.error = Some(e),
            }
        }
        self.pipeline = Some(pipeline);
    }
    fn stopped(&mut self, ctx: &RunContext) {
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
    let mut policy = match a.policy.as_deref().map(load_policy).transpose() {
        Ok(p) => p,
        Err(e) => return crate::fail(&e),
    };
    // Without --policy, the last good policy pushed over the API is loaded again.
    if policy.is_none() && a.control.control != "off" {
        let saved = a.control.state_dir.join("policy.current");
        if saved.exists() {
            match load_policy(&saved) {
                Ok(p) => {
                    println!("antidote: loading the last good policy from {}", saved.display());
                    policy = Some(p);
                }
                Err(e) => eprintln!("antidote: {e} (starting without a policy)"),
            }
        }
    }
    if a.dry_run {
        println!("{file}: valid; EAL arguments: {}", p.eal_args("antidote-PID").join(" "));
        return ExitCode::SUCCESS;
    }
    // Host checks first: not root, no hugepages, a missing interface get their one sentence
    // before anything else is set up.
    if let Err(e) = antidote_dataplane::preflight::check(&p, &file) {
        return crate::fail(&e);
    }
    let mut hooks = match ControlHooks::new(&a.alerts).and_then(|h| h.with_api(&a.control)) {
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
    opts.alert_fold = hooks.alert_fold();
    let r = bridge::run(&p, opts, stop, &mut hooks);
    if let Some(e) = hooks.error {
        eprintln!("antidote: alert sink: {e}");
    }
    match r {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => crate::fail(&e),
    }
}
