//! `antidote run`: the appliance — its flags, then `antidote_dataplane::run` with the control
//! side (`antidote_control::hooks`).
use super::config::{AlertsConfig, CanariesConfig, Config, ControlConfig, DEFAULT_PATH};
pub use antidote_control::hooks::load_policy;
use antidote_control::hooks::{ApiOptions, ControlHooks};
use antidote_dataplane::profile::Profile;
use antidote_dataplane::run::RunOptions;
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
    /// `syslog+udp://HOST:PORT`, `syslog+tcp://HOST:PORT` or `http(s)://…` (webhook), then its
    /// options: `,packet=N` (the first N ≤ 384 bytes of the alert's frame, base64, in
    /// `event.original`), `,sd_id=NAME@PEN` (syslog: your enterprise number). Repeatable.
    #[arg(long = "alerts")]
    pub sinks: Vec<String>,
    /// Repeats of an alert (same rule, source, destination, name) within this many seconds are
    /// written once more as one summary with their count [default: 10].
    #[arg(long)]
    pub alert_window: Option<f64>,
    /// Source IPv4 of NBT-NS negative answers to broadcast queries (default: the address the
    /// query was sent to). Unicast queries are answered from the server they asked.
    #[arg(long)]
    pub inject_from: Option<Ipv4Addr>,
}

/// The control API.
#[derive(clap::Args, Clone, Debug)]
pub struct ControlArgs {
    /// Management address of the HTTP API (`off` to disable). Never a data port
    /// [default: 127.0.0.1:9440].
    #[arg(long)]
    pub control: Option<String>,
    /// File with the API's bearer token(s): one per line, `NAME:TOKEN[:read|admin]` or `TOKEN` (≥ 16
    /// characters). Default: $ANTIDOTE_TOKEN, else STATE_DIR/token (created with a random
    /// token when missing).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// PEM certificate and key: serve the API over HTTPS (rustls).
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Where the last good policy, the token and the audit log live [default: /var/lib/antidote].
    #[arg(long)]
    pub state_dir: Option<PathBuf>,
    /// Seconds between canary queries, on average, per pair with a canary identity
    /// (`canary_mac` / `canary_ipv4` in the profile) and per protocol (LLMNR v4 and v6, NBT-NS,
    /// mDNS); 0: none [default: 20].
    #[arg(long, value_parser = canary_interval)]
    pub canary_interval: Option<f64>,
}

pub(crate) fn canary_interval(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v == 0.0 || (0.2..=86_400.0).contains(&v) => Ok(v),
        _ => Err("give seconds between 0.2 and 86400, or 0 for no canaries".into()),
    }
}

impl AlertArgs {
    /// The control side's alert hooks for these flags.
    pub fn hooks(&self) -> Result<ControlHooks, String> {
        ControlHooks::new(&self.sinks, self.window())
    }

    /// The fold window, in seconds.
    pub fn window(&self) -> f64 {
        self.alert_window.unwrap_or(10.0)
    }

    /// Settings the flags leave out, from the configuration file.
    fn fill_from(&mut self, c: &mut AlertsConfig) {
        if self.sinks.is_empty() {
            self.sinks = std::mem::take(&mut c.sinks);
        }
        self.alert_window = self.alert_window.or(c.window);
        self.inject_from = self.inject_from.or(c.inject_from);
    }
}

impl ControlArgs {
    pub fn api_options(&self) -> ApiOptions {
        ApiOptions {
            control: self.address().to_string(),
            token_file: self.token_file.clone(),
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
            state_dir: self.state_dir(),
        }
    }

    /// The API's address, or `off`.
    pub fn address(&self) -> &str {
        self.control.as_deref().unwrap_or("127.0.0.1:9440")
    }

    pub fn state_dir(&self) -> PathBuf {
        self.state_dir.clone().unwrap_or_else(|| PathBuf::from("/var/lib/antidote"))
    }

    pub fn canary_interval(&self) -> f64 {
        self.canary_interval.unwrap_or(20.0)
    }

    /// Settings the flags leave out, from the configuration file.
    fn fill_from(&mut self, c: &mut ControlConfig, canaries: &CanariesConfig) {
        self.control = self.control.take().or(c.listen.take());
        self.token_file = self.token_file.take().or(c.token_file.take());
        if self.tls_cert.is_none() && self.tls_key.is_none() {
            (self.tls_cert, self.tls_key) = (c.tls_cert.take(), c.tls_key.take());
        }
        self.state_dir = self.state_dir.take().or(c.state_dir.take());
        self.canary_interval = self.canary_interval.or(canaries.interval);
    }
}

pub struct RunArgs {
    pub config: Option<PathBuf>,
    pub profile: Option<PathBuf>,
    pub stats_interval: Option<f64>,
    pub duration: Option<f64>,
    pub until_idle_ms: Option<u64>,
    pub dry_run: bool,
    pub policy: Option<PathBuf>,
    pub alerts: AlertArgs,
    pub control: ControlArgs,
}

impl RunArgs {
    /// The flags, with what they leave out taken from the configuration file (`--config`, else
    /// /etc/antidote/antidote.toml when it exists).
    fn with_config(mut self) -> Result<RunArgs, String> {
        let (mut c, from) = Config::load(self.config.as_deref())?;
        self.profile = self.profile.or(c.profile.take());
        self.policy = self.policy.or(c.policy.take());
        self.stats_interval = self.stats_interval.or(c.stats_interval);
        self.alerts.fill_from(&mut c.alerts);
        self.control.fill_from(&mut c.control, &c.canaries);
        if self.profile.is_none() {
            return Err(no_profile(from));
        }
        Ok(self)
    }
}

pub fn run(a: RunArgs) -> ExitCode {
    let a = match a.with_config() {
        Ok(a) => a,
        Err(e) => return crate::fail(&e),
    };
    let profile_path = a.profile.clone().unwrap_or_default();
    let file = profile_path.display().to_string();
    let p = match Profile::load(&profile_path) {
        Ok(p) => p,
        Err(e) => return crate::fail(&e.to_string()),
    };
    let mut policy = match a.policy.as_deref().map(load_policy).transpose() {
        Ok(p) => p,
        Err(e) => return crate::fail(&e),
    };
    // Without --policy, the last good policy pushed over the API is loaded again; with one, it
    // replaces it (said when they differ).
    let saved = a.control.state_dir().join("policy.current");
    if let (Some((_, src)), true) = (&policy, a.control.address() != "off") {
        if std::fs::read_to_string(&saved).is_ok_and(|old| old != *src) {
            println!(
                "antidote: {} replaces the last good policy kept in {} (pushed over the API before)",
                a.policy.as_deref().unwrap_or(Path::new("")).display(),
                saved.display()
            );
        }
    }
    if policy.is_none() && a.control.address() != "off" {
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
        if !print_checks(&p, &file, policy.as_ref().map(|(prog, _)| prog)) {
            return ExitCode::FAILURE;
        }
        println!("{file}: valid; EAL arguments: {}", p.eal_args("antidote-PID").join(" "));
        return ExitCode::SUCCESS;
    }
    // Host checks first: not root, no hugepages, a missing interface, a mempool too small get
    // their one sentence before anything else is set up.
    let needs = policy.as_ref().map(|(prog, _)| policy_needs(prog));
    let checks = antidote_dataplane::preflight::checks(&p, &file, needs.as_ref());
    if let Some(e) = checks.iter().find_map(|c| c.outcome.as_ref().err()) {
        return crate::fail(e);
    }
    for c in checks.iter().filter(|c| c.warn && c.what == antidote_dataplane::preflight::MEMIF) {
        eprintln!("antidote: warning: {}", c.outcome.as_ref().map_or("", |s| s.as_str()));
    }
    let hooks = match a
        .alerts
        .hooks()
        .and_then(|h| h.with_api(&a.control.api_options()))
        .map(|h| h.with_canaries(Duration::from_secs_f64(a.control.canary_interval())))
    {
        Ok(h) => h,
        Err(e) => return crate::fail(&e),
    };
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(sig, stop.clone()) {
            return crate::fail(&format!("cannot install the signal handler: {e}"));
        }
    }
    // SIGHUP (`systemctl reload`, logrotate): alert files reopened, the policy file pushed again.
    let hup = Arc::new(AtomicBool::new(false));
    if let Err(e) = signal_hook::flag::register(signal_hook::consts::SIGHUP, hup.clone()) {
        return crate::fail(&format!("cannot install the signal handler: {e}"));
    }
    let mut hooks = hooks.with_reload(hup, a.policy.clone());
    let mut opts = RunOptions::new(&file);
    let every = a.stats_interval.unwrap_or(5.0);
    opts.stats_interval = (every > 0.0).then(|| Duration::from_secs_f64(every));
    opts.duration = a.duration.map(Duration::from_secs_f64);
    opts.until_idle = a.until_idle_ms.map(Duration::from_millis);
    opts.policy = policy;
    opts.inject_from = a.alerts.inject_from;
    opts.alert_fold = hooks.alert_fold();
    let alerts =
        opts.policy.as_ref().is_some_and(|(prog, _)| prog.rules.iter().any(|r| r.acts.iter().any(|a| matches!(a, antidote_policy::program::Act::Alert))));
    if alerts && !hooks.has_sinks() {
        eprintln!(
            "antidote: warning: the policy raises alerts and no --alerts sink is given: they are counted, and shown by the API (`antidote ctl alerts`) only"
        );
    }
    let r = antidote_dataplane::run::run(&p, opts, stop, &mut hooks);
    if let Some(e) = hooks.error {
        eprintln!("antidote: alert sink: {e}");
    }
    match r {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => crate::fail(&e),
    }
}

/// What a policy asks of the hardware.
fn policy_needs(prog: &antidote_policy::Program) -> antidote_dataplane::preflight::PolicyNeeds {
    use antidote_policy::program::Act;
    antidote_dataplane::preflight::PolicyNeeds {
        mirror_rules: prog.rules.iter().filter(|r| r.acts.iter().any(|a| matches!(a, Act::Mirror))).map(|r| r.name.clone()).collect(),
    }
}

/// Prints the pre-flight checks, one line each; whether they all passed.
fn print_checks(p: &Profile, file: &str, policy: Option<&antidote_policy::Program>) -> bool {
    let needs = policy.map(policy_needs);
    let checks = antidote_dataplane::preflight::checks(p, file, needs.as_ref());
    for c in &checks {
        println!("{}", c.line());
    }
    checks.iter().all(|c| c.outcome.is_ok())
}

/// The profile to use: `--profile`, else the configuration file's (`--config`, else
/// /etc/antidote/antidote.toml when it exists); with the rest of the file.
fn profile_path(config: Option<PathBuf>, profile: Option<PathBuf>) -> Result<(PathBuf, Config), String> {
    let (mut c, from) = Config::load(config.as_deref())?;
    match profile.or(c.profile.take()) {
        Some(p) => Ok((p, c)),
        None => Err(no_profile(from)),
    }
}

/// The sentence for a run with no profile, given the configuration file read (if any).
fn no_profile(config: Option<PathBuf>) -> String {
    match config {
        Some(f) => format!("no hardware profile: set `profile` in {} or pass --profile", f.display()),
        None => format!("no hardware profile: pass --profile hw-profiles/….toml, or write one in {DEFAULT_PATH} (`profile = …`)"),
    }
}

/// The profile to use, loaded (see [`profile_path`]), and its file name.
pub fn resolve_profile(config: Option<PathBuf>, profile: Option<PathBuf>) -> Result<(Profile, String), String> {
    let (path, _) = profile_path(config, profile)?;
    let p = Profile::load(&path).map_err(|e| e.to_string())?;
    Ok((p, path.display().to_string()))
}

/// `antidote preflight`.
pub fn preflight(config: Option<PathBuf>, profile: Option<PathBuf>, policy: Option<PathBuf>) -> ExitCode {
    let (profile, mut c) = match profile_path(config, profile) {
        Ok(x) => x,
        Err(e) => return crate::fail(&e),
    };
    let file = profile.display().to_string();
    let p = match Profile::load(&profile) {
        Ok(p) => {
            let n = |k: usize, one: &str, many: &str| format!("{k} {}", if k == 1 { one } else { many });
            println!(
                "ok    profile: {file} ({}, {}, {})",
                n(p.ports.len(), "port", "ports"),
                n(p.pairs.len(), "pair", "pairs"),
                n(p.worker_lcores.len(), "worker", "workers")
            );
            p
        }
        Err(e) => {
            println!("FAIL  profile: {e}");
            return ExitCode::FAILURE;
        }
    };
    let prog = match policy.or(c.policy.take()) {
        Some(path) => match load_policy(&path) {
            Ok((prog, _)) => {
                println!("ok    policy: {} ({} rules)", path.display(), prog.rules.len());
                Some(prog)
            }
            Err(e) => {
                println!("FAIL  policy: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => None,
    };
    if print_checks(&p, &file, prog.as_ref()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
