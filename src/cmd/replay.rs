//! `antidote replay`: the same dataplane and worker code over `net_pcap` files.
use super::run::{load_policy, AlertArgs};
use antidote_dataplane::profile::Profile;
use antidote_dataplane::run::{self, RunOptions};
use pcap_file::pcap::{PcapPacket, PcapReader, PcapWriter};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

fn read_all(p: &Path) -> Result<Vec<(Duration, Vec<u8>)>, String> {
    let f = std::fs::File::open(p).map_err(|e| format!("{}: {e}", p.display()))?;
    let mut r = PcapReader::new(std::io::BufReader::new(f)).map_err(|e| format!("{}: not a pcap ({e})", p.display()))?;
    let mut v = Vec::new();
    while let Some(pk) = r.next_packet() {
        let pk = pk.map_err(|e| format!("{}: {e}", p.display()))?;
        v.push((pk.timestamp, pk.data.into_owned()));
    }
    Ok(v)
}

pub fn replay(policy: &Path, input: &Path, out: Option<&Path>, profile: Option<&Path>, answers_per_ms: Option<u32>, alerts: &AlertArgs) -> ExitCode {
    match replay_inner(policy, input, out, profile, answers_per_ms, alerts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => crate::fail(&e),
    }
}

/// The `[[pair]]` keys that give the replay's pair the canary identities of the first pair of
/// profile `p` that has them ("" when none has), and the profile's answer budget.
fn identities_of(p: &Path) -> Result<(String, antidote_dataplane::flood::FloodSpec), String> {
    let text = std::fs::read_to_string(p).map_err(|e| format!("--profile {}: {e}", p.display()))?;
    let profile = Profile::parse(&text, &p.display().to_string()).map_err(|e| e.to_string())?;
    let floods = profile.floods;
    let Some(pair) = profile.pairs.iter().find(|x| x.canary().is_ok_and(|ids| !ids.is_empty())) else {
        return Err(format!("--profile {}: no pair has a canary identity (`canary_mac`, `canary_ipv4`); replay without --profile", p.display()));
    };
    let list = |v: Vec<&str>| format!("[{}]", v.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(", "));
    let (Some(m), Some(i)) = (&pair.canary_mac, &pair.canary_ipv4) else { return Ok((String::new(), floods)) };
    let mut keys = format!("canary_mac = {}\ncanary_ipv4 = {}\n", list(m.list()), list(i.list()));
    for v in &pair.canary_vlan {
        keys += &format!("[[pair.canary_vlan]]\nvlan = {}\nipv4 = {}\n", v.vlan, list(v.ipv4.list()));
    }
    Ok((keys, floods))
}

fn replay_inner(
    policy: &Path,
    input: &Path,
    out: Option<&Path>,
    live_profile: Option<&Path>,
    answers_per_ms: Option<u32>,
    alerts: &AlertArgs,
) -> Result<(), String> {
    let (program, src) = load_policy(policy)?;
    let (identities, mut floods) = live_profile.map(identities_of).transpose()?.unwrap_or_default();
    if let Some(n) = answers_per_ms {
        floods.answers_per_ms = n;
    }
    let input_frames = read_all(input)?.len();
    // Where the output goes is checked before the run, not after it.
    if let Some(o) = out {
        std::fs::OpenOptions::new().write(true).create(true).truncate(false).open(o).map_err(|e| format!("--out {}: {e}", o.display()))?;
    }
    let dir = std::env::temp_dir().join(format!("antidote-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let _cleanup = Cleanup(dir.clone());
    let empty = dir.join("empty.pcap");
    PcapWriter::new(std::fs::File::create(&empty).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let input_abs = std::fs::canonicalize(input).map_err(|e| format!("{}: {e}", input.display()))?;
    // Port a reads the capture (the segment side); frames it forwards leave port b; answers it
    // injects leave port a. Both outputs are merged into --out in time order.
    let profile_text = format!(
        r#"name = "replay"
worker_lcores = [1]
memory_mb = 256
mempool_mbufs = 4095
mempool_cache = 128
[[port]]
name = "in"
device = "net_pcap0,rx_pcap={},tx_pcap={}"
rx_desc = 512
tx_desc = 512
[[port]]
name = "out"
device = "net_pcap1,rx_pcap={},tx_pcap={}"
rx_desc = 512
tx_desc = 512
[[pair]]
a = "in"
b = "out"
{}"#,
        input_abs.display(),
        dir.join("injected.pcap").display(),
        empty.display(),
        dir.join("forwarded.pcap").display(),
        identities
    );
    let mut profile = Profile::parse(&profile_text, "replay profile").map_err(|e| e.to_string())?;
    profile.floods = floods;
    let profile_floods = floods;
    let mut hooks = alerts.hooks()?;
    let mut opts = RunOptions::new("replay profile");
    opts.until_idle = Some(Duration::from_millis(300));
    opts.duration = Some(Duration::from_secs(3600));
    opts.policy = Some((program, src));
    opts.inject_from = alerts.inject_from;
    opts.alert_fold = hooks.alert_fold();
    opts.quiet = true;
    opts.replay = true;
    let stop = Arc::new(AtomicBool::new(false));
    let summary = if input_frames == 0 { None } else { Some(run::run(&profile, opts, stop, &mut hooks)?) };
    if let Some(e) = hooks.error.take() {
        eprintln!("antidote: alert sink: {e}");
    }
    let forwarded = read_all(&dir.join("forwarded.pcap")).unwrap_or_default();
    let injected = read_all(&dir.join("injected.pcap")).unwrap_or_default();
    if let Some(o) = out {
        let mut all: Vec<(Duration, Vec<u8>)> = forwarded.iter().chain(injected.iter()).cloned().collect();
        all.sort_by_key(|(t, _)| *t);
        let f = std::fs::File::create(o).map_err(|e| format!("{}: {e}", o.display()))?;
        let mut w = PcapWriter::new(f).map_err(|e| e.to_string())?;
        for (t, d) in &all {
            w.write_packet(&PcapPacket::new(*t, d.len() as u32, d)).map_err(|e| e.to_string())?;
        }
    }
    let s = summary.map(|s| s.snapshot).unwrap_or_default();
    let a = s.actions;
    println!(
        "replay: {} frames in, {} forwarded, {} dropped by policy, {} negative answers injected, {} mirrored, {} malformed",
        input_frames,
        forwarded.len(),
        a.dropped,
        injected.len(),
        a.mirrored,
        a.malformed
    );
    if a.over_budget > 0 {
        println!(
            "replay: {} answers over the answer budget ({} a millisecond, {} more from known senders: --answers-per-ms, the profile's [floods]), {} unjudged",
            a.over_budget,
            profile_floods.answers_per_ms,
            profile_floods.known_answers_per_ms,
            if profile_floods.over_budget == antidote_dataplane::flood::OverBudget::Drop { "dropped" } else { "passed" }
        );
    }
    if a.follow_on_over_budget > 0 {
        println!(
            "replay: {} frames to or from a learned poisoner over the follow-on budget ({} a millisecond: the profile's [floods] follow_ons_per_ms), {} unjudged",
            a.follow_on_over_budget,
            profile_floods.follow_ons_per_ms,
            if profile_floods.over_budget == antidote_dataplane::flood::OverBudget::Drop { "dropped" } else { "passed" }
        );
    }
    if a.canary_over_budget > 0 {
        println!(
            "replay: {} frames for a canary identity over the canary budget ({} a millisecond: the profile's [floods] canary_frames_per_ms), consumed unjudged",
            a.canary_over_budget, profile_floods.canary_frames_per_ms
        );
    }
    if a.held > 0 {
        println!(
            "replay: {} answers held: replay sends no probe; the live run's probes and canaries in the capture decided: {} released, {} dropped (their sender answered one)",
            a.held, a.hold_released, a.hold_dropped
        );
    }
    if a.hold_fallback > 0 {
        let hint = if identities.is_empty() { " (give --profile, the live run's, to read its canaries and probes back from the capture)" } else { "" };
        println!("replay: {} answers to verify: replay cannot probe their senders, so each got its rule's fallback verdict{hint}", a.hold_fallback);
    }
    let alerts_raised = hooks.pipeline.as_ref().map(|p| p.stats.events.load(std::sync::atomic::Ordering::Relaxed)).unwrap_or(0);
    println!("replay: {} alerts", alerts_raised);
    for (name, hits) in &s.rule_hits {
        let hits = *hits;
        let al = hooks.pipeline.as_ref().and_then(|p| p.stats.per_rule.lock().ok().and_then(|m| m.get(name).copied())).unwrap_or(0);
        if hits > 0 || al > 0 {
            println!("replay:   {name}: {hits} matched, {al} alerts");
        }
    }
    Ok(())
}

struct Cleanup(std::path::PathBuf);
impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
