//! The `antidote` command: run the appliance, and the tools around it.
#![forbid(unsafe_code)]
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

mod cmd;

#[derive(Parser)]
#[command(name = "antidote", version, about = "Inline appliance that stops LLMNR / NBT-NS / mDNS poisoning")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Bridge the profile's port pairs in poll mode until SIGINT/SIGTERM.
    Run {
        /// The configuration file, whose settings the flags override [default:
        /// /etc/antidote/antidote.toml, when it exists].
        #[arg(long)]
        config: Option<PathBuf>,
        /// Hardware profile (hw-profiles/*.toml).
        #[arg(long)]
        profile: Option<PathBuf>,
        /// Seconds between summary lines (0: only the final one) [default: 5].
        #[arg(long)]
        stats_interval: Option<f64>,
        /// Stop after this many seconds.
        #[arg(long)]
        duration: Option<f64>,
        /// Stop once no frame has arrived for this many milliseconds (for pcap input).
        #[arg(long)]
        until_idle_ms: Option<u64>,
        /// Run the pre-flight checks (`antidote preflight`) and print the EAL command line, then
        /// exit.
        #[arg(long)]
        dry_run: bool,
        /// The policy to enforce (policies/*.policy). Without one, antidote only bridges.
        #[arg(long)]
        policy: Option<PathBuf>,
        #[command(flatten)]
        alerts: cmd::run::AlertArgs,
        #[command(flatten)]
        control: cmd::run::ControlArgs,
    },
    /// Check the machine against a profile (and a policy) before a run: root, lcores, devices
    /// and their drivers, mempool, memory or hugepages, the mirror port, CPU isolation — one
    /// line per check; exits 1 at the first failure, with what to do.
    Preflight {
        /// The configuration file [default: /etc/antidote/antidote.toml, when it exists].
        #[arg(long)]
        config: Option<PathBuf>,
        /// Hardware profile (else the configuration file's).
        #[arg(long)]
        profile: Option<PathBuf>,
        /// The policy to check against the profile (else the configuration file's).
        #[arg(long)]
        policy: Option<PathBuf>,
    },
    /// Make the host ready for a profile (the service's first step): reserve the hugepages its
    /// mempool needs, mount hugetlbfs, bind its PCI ports to vfio-pci (never a port with
    /// addresses). One line per step.
    Prepare {
        /// The configuration file [default: /etc/antidote/antidote.toml, when it exists].
        #[arg(long)]
        config: Option<PathBuf>,
        /// Hardware profile (else the configuration file's).
        #[arg(long)]
        profile: Option<PathBuf>,
    },
    /// A client of the control API of a running antidote.
    Ctl(cmd::ctl::CtlArgs),
    /// Run a policy over a capture through the real dataplane (DPDK net_pcap): forwarded and
    /// injected frames go to --out, dropped ones do not; ends with a summary.
    Replay {
        /// The policy.
        #[arg(long)]
        policy: PathBuf,
        /// The capture to replay (pcap, Ethernet).
        #[arg(long = "in")]
        input: PathBuf,
        /// Where forwarded and injected frames go (pcap).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The live run's hardware profile: the canary identities of its first pair that has
        /// them, so that the run's canaries and probes in the capture are read back and held
        /// answers get the live verdicts (without it, held answers get their rule's fallback).
        #[arg(long)]
        profile: Option<PathBuf>,
        /// Name-resolution answers judged per millisecond of the capture before the rest are
        /// dropped unjudged, as a worker does under a flood (default: the --profile's
        /// `[floods]`, else 32; 0 judges every answer).
        #[arg(long, value_name = "N")]
        answers_per_ms: Option<u32>,
        #[command(flatten)]
        alerts: cmd::run::AlertArgs,
    },
    /// Check a policy: exit 0 when it compiles, 1 with its diagnostics.
    Check {
        /// The policy file.
        file: PathBuf,
        /// Print the diagnostics as JSON (the form the HTTP API returns).
        #[arg(long)]
        json: bool,
    },
    /// Print a policy's compiled program: gates, tests in order, set sizes, tables, counters.
    Explain {
        /// The policy file.
        file: PathBuf,
    },
    /// List every field a policy can read, with its type (a Markdown table).
    Fields,
    /// Write the manual pages (antidote.1, antidote-run.1, …) into a folder, as the Debian
    /// package installs them.
    #[command(hide = true)]
    Man { dir: PathBuf },
    /// Print shell completions (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
    /// Print every decoded field of every frame of a pcap file, one JSON object per line,
    /// named as policies name them (no DPDK needed).
    Dissect {
        /// A pcap capture with Ethernet frames.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    antidote_dataplane::dpdk::process::steady_allocator();
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Fields => {
            println!("| field | type | meaning |\n|---|---|---|");
            for (name, ty, doc) in antidote_policy::fields::all_names() {
                println!("| `{name}` | {} | {doc} |", ty.as_str());
            }
            ExitCode::SUCCESS
        }
        Cmd::Check { file, json } => cmd::policy::check(&file, json),
        Cmd::Explain { file } => cmd::policy::explain(&file),
        Cmd::Dissect { file } => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            match cmd::dissect::run(&file, &mut out) {
                Ok(_) => ExitCode::SUCCESS,
                // `antidote dissect x.pcap | head` is normal use: a closed pipe is not an error.
                Err(e) if e.contains("Broken pipe") => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
        Cmd::Run { config, profile, stats_interval, duration, until_idle_ms, dry_run, policy, alerts, control } => {
            cmd::run::run(cmd::run::RunArgs { config, profile, stats_interval, duration, until_idle_ms, dry_run, policy, alerts, control })
        }
        Cmd::Preflight { config, profile, policy } => cmd::run::preflight(config, profile, policy),
        Cmd::Prepare { config, profile } => cmd::prepare::prepare(config, profile),
        Cmd::Ctl(a) => cmd::ctl::ctl(a),
        Cmd::Man { dir } => {
            use clap::CommandFactory;
            match std::fs::create_dir_all(&dir).and_then(|_| clap_mangen::generate_to(Cli::command(), &dir)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&format!("{}: {e}", dir.display())),
            }
        }
        Cmd::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "antidote", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Cmd::Replay { policy, input, out, profile, answers_per_ms, alerts } => {
            cmd::replay::replay(&policy, &input, out.as_deref(), profile.as_deref(), answers_per_ms, &alerts)
        }
    }
}

pub fn fail(msg: &str) -> ExitCode {
    eprintln!("antidote: {msg}");
    ExitCode::FAILURE
}
