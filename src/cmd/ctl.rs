//! `antidote ctl`: a client of the control API.
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct CtlArgs {
    /// The API's address.
    #[arg(long, default_value = "http://127.0.0.1:9440")]
    pub url: String,
    /// Token file (`NAME:TOKEN` or `TOKEN`); default $ANTIDOTE_TOKEN, else /var/lib/antidote/token.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    #[command(subcommand)]
    pub cmd: CtlCmd,
}

#[derive(clap::Subcommand, Debug)]
pub enum CtlCmd {
    /// Push a policy: compile, swap in, print the new version (or the diagnostics).
    Push { file: PathBuf },
    /// Compile a policy on the appliance without swapping it in.
    Validate { file: PathBuf },
    /// Back to the previous policy version.
    Rollback,
    /// The running policy's version, hash and source.
    Policy,
    /// Counters per port, lcore and rule, with rates.
    Stats,
    /// Recent alerts; --follow streams new ones.
    Alerts {
        #[arg(long)]
        follow: bool,
    },
    /// Learned tables, or one table's entries.
    Tables { name: Option<String> },
    /// Forget one entry of a table (`hosts ADDRESS`, `owners NAME`, `poisoners ADDRESS`, …).
    Forget { table: String, key: String },
    /// Bind an address to a MAC (`hosts ADDRESS MAC`) or name a name's owner (`owners NAME MAC`),
    /// as the operator: it replaces what was learned, and the wire does not move it.
    Bind { table: String, key: String, mac: String },
    /// Health: ports up, workers polling.
    Health,
}

fn token(a: &CtlArgs) -> Result<String, String> {
    let text = match &a.token_file {
        Some(f) => std::fs::read_to_string(f).map_err(|e| format!("cannot read {}: {e}", f.display()))?,
        None => match std::env::var("ANTIDOTE_TOKEN") {
            Ok(t) => t,
            Err(_) => std::fs::read_to_string("/var/lib/antidote/token")
                .map_err(|_| "no token: pass --token-file, set ANTIDOTE_TOKEN, or run as root next to antidote run (/var/lib/antidote/token)".to_string())?,
        },
    };
    let line = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).ok_or("the token file is empty")?;
    // NAME:TOKEN[:ROLE] or TOKEN.
    Ok(line.split(':').nth(1).unwrap_or(line).trim().to_string())
}

/// Renders API diagnostics (JSON) as `antidote check` does.
fn render(diags: &Value, src: &str, file: &str) -> String {
    let mut out = String::new();
    for d in diags.as_array().into_iter().flatten() {
        let line = d["line"].as_u64().unwrap_or(1) as usize;
        let col = d["column"].as_u64().unwrap_or(1) as usize;
        let end = if d["end_line"].as_u64() == Some(line as u64) { d["end_column"].as_u64().unwrap_or(col as u64 + 1) as usize } else { col + 1 };
        let text = src.lines().nth(line.saturating_sub(1)).unwrap_or("");
        let pad = " ".repeat(line.to_string().len());
        out.push_str(&format!(
            "{}[{}]: {}\n{pad}--> {file}:{line}:{col}\n{pad} |\n{line} | {text}\n{pad} | {}{}\n",
            d["level"].as_str().unwrap_or("error"),
            d["code"].as_str().unwrap_or(""),
            d["message"].as_str().unwrap_or(""),
            " ".repeat(col.saturating_sub(1)),
            "^".repeat(end.saturating_sub(col).max(1))
        ));
        if let Some(h) = d["hint"].as_str() {
            out.push_str(&format!("{pad} = hint: {h}\n"));
        }
        out.push('\n');
    }
    out
}

pub fn ctl(a: CtlArgs) -> ExitCode {
    match run(&a) {
        Ok(code) => code,
        Err(e) => crate::fail(&e),
    }
}

fn run(a: &CtlArgs) -> Result<ExitCode, String> {
    let tok = token(a)?;
    let agent = ureq::AgentBuilder::new().timeout_connect(Duration::from_secs(3)).build();
    let url = |p: &str| format!("{}{p}", a.url.trim_end_matches('/'));
    let auth = format!("Bearer {tok}");
    let call = |req: ureq::Request, body: Option<&str>| -> Result<(u16, Value), String> {
        let req = req.set("Authorization", &auth);
        let r = match body {
            Some(b) => req.set("Content-Type", "text/plain").send_string(b),
            None => req.call(),
        };
        match r {
            Ok(r) => Ok((r.status(), r.into_string().ok().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or(Value::Null))),
            Err(ureq::Error::Status(code, r)) => Ok((code, r.into_string().ok().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or(Value::Null))),
            Err(e) => Err(format!("cannot reach the control API at {}: {e}", a.url)),
        }
    };
    let show = |v: &Value| println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
    match &a.cmd {
        CtlCmd::Push { file } | CtlCmd::Validate { file } => {
            let src = std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let (path, verb) = if matches!(a.cmd, CtlCmd::Push { .. }) { ("/v1/policy", "PUT") } else { ("/v1/policy/validate", "POST") };
            let (code, v) = call(agent.request(verb, &url(path)), Some(&src))?;
            let name = file.display().to_string();
            if code == 200 {
                let warn = render(&v["diagnostics"], &src, &name);
                if !warn.is_empty() {
                    eprint!("{warn}");
                }
                match v["version"].as_u64() {
                    Some(ver) => println!(
                        "{name}: pushed as version {ver} ({}), {} rule(s), every worker on it after {} µs",
                        v["hash"].as_str().unwrap_or(""),
                        v["rules"],
                        v["swap_us"]
                    ),
                    None => println!("{name}: valid, {} rule(s)", v["rules"]),
                }
                Ok(ExitCode::SUCCESS)
            } else {
                eprint!("{}", render(&v["diagnostics"], &src, &name));
                eprintln!("{name}: {} (HTTP {code})", v["error"].as_str().unwrap_or("rejected"));
                Ok(ExitCode::FAILURE)
            }
        }
        CtlCmd::Alerts { follow: true } => {
            let r = agent.get(&url("/v1/alerts?follow=1")).set("Authorization", &auth).call().map_err(|e| format!("{e}"))?;
            for line in BufReader::new(r.into_reader()).lines() {
                let line = line.map_err(|e| e.to_string())?;
                let d: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
                println!(
                    "{} {} {}: {} [{}]",
                    d["@timestamp"].as_str().unwrap_or(""),
                    d["log"]["level"].as_str().unwrap_or(""),
                    d["rule"]["name"].as_str().unwrap_or(""),
                    d["message"].as_str().unwrap_or(""),
                    d["event"]["action"].as_str().unwrap_or("")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        other => {
            let (code, v) = match other {
                CtlCmd::Rollback => call(agent.post(&url("/v1/policy/rollback")), Some(""))?,
                CtlCmd::Policy => call(agent.get(&url("/v1/policy")), None)?,
                CtlCmd::Stats => call(agent.get(&url("/v1/stats")), None)?,
                CtlCmd::Alerts { .. } => call(agent.get(&url("/v1/alerts")), None)?,
                CtlCmd::Tables { name: Some(n) } => call(agent.get(&url(&format!("/v1/tables/{n}"))), None)?,
                CtlCmd::Tables { name: None } => call(agent.get(&url("/v1/tables")), None)?,
                CtlCmd::Health => call(agent.get(&url("/v1/health")), None)?,
                CtlCmd::Forget { table, key } => call(agent.delete(&url(&format!("/v1/tables/{table}/{key}"))), None)?,
                CtlCmd::Bind { table, key, mac } => {
                    call(agent.put(&url(&format!("/v1/tables/{table}/{key}"))), Some(&serde_json::json!({ "mac": mac }).to_string()))?
                }
                _ => unreachable!(),
            };
            show(&v);
            Ok(if code == 200 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}
