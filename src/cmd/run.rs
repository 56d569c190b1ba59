//! `antidote run`: the appliance — its flags, then `antidote_dataplane::run` with the control
//! side (`antidote_control::hooks`).
pub use antidote_control::hooks::load_policy;
use antidote_control::hooks::{ApiOptions, ControlHooks};
use antidote_dataplane::profile::Profile;
use antidote_dataplane::run::RunOptions;
use std::net::Ipv4Addr;
use std::path::PathBuf;
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
    /// Where the last good policy, the token and the audit log live.
    #[arg(long, default_value = "/var/lib/antidote")]
    pub state_dir: PathBuf,
    /// Seconds between canary queries, on average, per pair with a canary identity
    /// (`canary_mac` / `canary_ipv4` in the profile) and per protocol (LLMNR v4 and v6, NBT-NS,
    /// mDNS); 0: none.
    #[arg(long, default_value_t = 20.0, value_parser = canary_interval)]
    pub canary_interval: f64,
}

fn canary_interval(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v == 0.0 || (0.2..=86_400.0).contains(&v) => Ok(v),
        _ => Err("give seconds between 0.2 and 86400, or 0 for no canaries".into()),
    }
}

impl AlertArgs {
    /// The control side's alert hooks for these flags.
    pub fn hooks(&self) -> Result<ControlHooks, String> {
        ControlHooks::new(&self.sinks, self.alert_window)
    }
}

impl ControlArgs {
    pub fn api_options(&self) -> ApiOptions {
        ApiOptions {
            control: self.control.clone(),
            token_file: self.token_file.clone(),
            tls_cert: self.tls_cert.clone(),
            tls_key: self.tls_key.clone(),
            state_dir: self.state_dir.clone(),
        }
    }
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
    let mut hooks = match a
        .alerts
        .hooks()
        .and_then(|h| h.with_api(&a.control.api_options()))
        .map(|h| h.with_canaries(Duration::from_secs_f64(a.control.canary_interval)))
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
    let mut opts = RunOptions::new(&file);
    opts.stats_interval = (a.stats_interval > 0.0).then(|| Duration::from_secs_f64(a.stats_interval));
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
