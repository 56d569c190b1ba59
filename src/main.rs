//! The `antidote` command: run the appliance, and the tools around it.
use antidote_dataplane::bridge::{self, RunOptions};
use antidote_dataplane::profile::Profile;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

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
        /// Hardware profile (hw-profiles/*.toml).
        #[arg(long)]
        profile: PathBuf,
        /// Seconds between summary lines (0: only the final one).
        #[arg(long, default_value_t = 5.0)]
        stats_interval: f64,
        /// Stop after this many seconds.
        #[arg(long)]
        duration: Option<f64>,
        /// Stop once no frame has arrived for this many milliseconds (for pcap input).
        #[arg(long)]
        until_idle_ms: Option<u64>,
        /// Validate the profile and print the EAL command line, then exit.
        #[arg(long)]
        dry_run: bool,
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
    /// Print every decoded field of every frame of a pcap file, one JSON object per line,
    /// named as policies name them (no DPDK needed).
    Dissect {
        /// A pcap capture with Ethernet frames.
        file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Fields => {
            println!("| field | type | meaning |\n|---|---|---|");
            for (name, ty, doc) in antidote_policy::schema::all_names() {
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
        Cmd::Run { profile, stats_interval, duration, until_idle_ms, dry_run } => {
            let file = profile.display().to_string();
            let p = match Profile::load(&profile) {
                Ok(p) => p,
                Err(e) => return fail(&e.to_string()),
            };
            if dry_run {
                println!("{file}: valid; EAL arguments: {}", p.eal_args("antidote-PID").join(" "));
                return ExitCode::SUCCESS;
            }
            let stop = Arc::new(AtomicBool::new(false));
            for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
                if let Err(e) = signal_hook::flag::register(sig, stop.clone()) {
                    return fail(&format!("cannot install the signal handler: {e}"));
                }
            }
            let opts = RunOptions {
                stats_interval: (stats_interval > 0.0).then(|| Duration::from_secs_f64(stats_interval)),
                duration: duration.map(Duration::from_secs_f64),
                until_idle: until_idle_ms.map(Duration::from_millis),
                profile_file: file,
            };
            match bridge::run(&p, &opts, stop) {
                Ok(_) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
    }
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("antidote: {msg}");
    ExitCode::FAILURE
}
