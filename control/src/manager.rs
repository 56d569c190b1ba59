//! Policy management on the control thread: compile, swap, roll back, persist, audit.
//!
//! A push compiles against the running program (learned tables whose declaration did not change
//! keep their entries), installs it with one atomic pointer swap (arc-swap) that the workers
//! pick up at their next burst, and waits until every worker reports the new version — the
//! swap latency, kept for the stats. The old program stays in the history, so it is freed here,
//! never on a worker. The source of the last good policy is written atomically (temporary file,
//! fsync, rename, fsync of the folder) and loaded at the next start; every push is appended to
//! the audit log.
use crate::time::rfc3339;
use antidote_dataplane::policy::LoadedPolicy;
use antidote_dataplane::shared::Shared;
use antidote_dataplane::stats::WorkerCounters;
use antidote_policy::diag::to_json;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The result of a push or validation.
pub enum Outcome {
    Installed(Arc<LoadedPolicy>, Value),
    Valid(Value),
    Rejected(Value),
}

pub struct Manager {
    shared: Arc<Shared>,
    workers: Vec<Arc<WorkerCounters>>,
    state_dir: Option<PathBuf>,
    lock: Mutex<()>,
    /// Swap latencies in microseconds (most recent 10,000).
    pub swaps_us: Mutex<Vec<u64>>,
}

use antidote_dataplane::clock::unix_now_ms as now_ms;

/// Writes `data` to `path` atomically and durably.
pub fn write_atomic(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{}.tmp", path.file_name().and_then(|n| n.to_str()).unwrap_or("f")));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

impl Manager {
    pub fn new(shared: Arc<Shared>, workers: Vec<Arc<WorkerCounters>>, state_dir: Option<PathBuf>) -> Manager {
        if let Some(d) = &state_dir {
            let _ = std::fs::create_dir_all(d);
        }
        Manager { shared, workers, state_dir, lock: Mutex::new(()), swaps_us: Mutex::new(Vec::new()) }
    }

    /// The persisted last good policy in `state_dir`, if any.
    pub fn persisted(state_dir: &Path) -> Option<String> {
        std::fs::read_to_string(state_dir.join("policy.current")).ok()
    }

    /// Audits a change the API made besides a policy (a table entry bound or forgotten): who,
    /// what and the HTTP status it got.
    pub fn audit_change(&self, token: &str, action: &str, status: u16) {
        if let Some(d) = &self.state_dir {
            let line = json!({"time": rfc3339(now_ms()), "token": token, "action": action, "status": status});
            if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(d.join("audit.log")) {
                let _ = writeln!(f, "{line}");
            }
        }
    }

    fn audit(&self, token: &str, action: &str, hash: &str, result: &str, version: Option<u64>) {
        if let Some(d) = &self.state_dir {
            let line = json!({"time": rfc3339(now_ms()), "token": token, "action": action, "hash": hash, "result": result, "version": version});
            if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(d.join("audit.log")) {
                let _ = writeln!(f, "{line}");
            }
        }
    }

    /// Compiles only.
    pub fn validate(&self, src: &str) -> Outcome {
        let current = self.shared.policy.get();
        match antidote_policy::compile_with(src, current.as_ref().map(|p| &p.program)) {
            Ok(c) => Outcome::Valid(json!({"ok": true, "rules": c.program.rules.len(), "diagnostics": to_json(&c.warnings, src)})),
            Err(d) => Outcome::Rejected(json!({"error": "the policy has errors; the running policy is unchanged", "diagnostics": to_json(&d, src)})),
        }
    }

    /// Compiles and, on success, swaps it in.
    pub fn push(&self, src: &str, token: &str) -> Outcome {
        self.install(src, token, "push")
    }

    fn install(&self, src: &str, token: &str, action: &str) -> Outcome {
        let _g = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        let hash = antidote_dataplane::policy::fingerprint(src);
        let current = self.shared.policy.get();
        let compiled = antidote_policy::compile_with(src, current.as_ref().map(|p| &p.program));
        drop(current);
        match compiled {
            Err(d) => {
                self.audit(token, action, &hash, "rejected", None);
                Outcome::Rejected(json!({"error": "the policy has errors; the running policy is unchanged", "diagnostics": to_json(&d, src)}))
            }
            Ok(c) => {
                let p = self.shared.policy.install(c.program, src.to_string());
                let took = self.wait_for_workers(p.version, Duration::from_secs(2));
                if let Some(us) = took {
                    let mut s = self.swaps_us.lock().unwrap_or_else(|e| e.into_inner());
                    s.push(us);
                    if s.len() > 10_000 {
                        s.remove(0);
                    }
                }
                if let Some(d) = &self.state_dir {
                    if let Err(e) = write_atomic(&d.join("policy.current"), src.as_bytes()) {
                        eprintln!("antidote: cannot persist the policy in {}: {e}", d.display());
                    }
                }
                self.audit(token, action, &p.hash, "installed", Some(p.version));
                let body = json!({
                    "version": p.version, "hash": p.hash, "rules": p.program.rules.len(),
                    "loaded_at": rfc3339(p.loaded_at_unix_ms),
                    "swap_us": took, "diagnostics": to_json(&c.warnings, src),
                });
                Outcome::Installed(p, body)
            }
        }
    }

    /// Spins until every worker reports `version` (they publish it after each poll round).
    /// Returns the microseconds it took, or None on timeout (a stalled worker).
    fn wait_for_workers(&self, version: u64, limit: Duration) -> Option<u64> {
        let t = Instant::now();
        loop {
            if self.workers.iter().all(|w| w.policy_version.load(Relaxed) >= version) {
                return Some(t.elapsed().as_micros() as u64);
            }
            if t.elapsed() > limit {
                return None;
            }
            std::hint::spin_loop();
        }
    }

    /// Re-installs the version before the current one (as a new version).
    pub fn rollback(&self, token: &str) -> Result<Outcome, String> {
        let cur = self.shared.policy.get().ok_or("no policy is running")?;
        let prev = (1..cur.version).rev().find_map(|v| self.shared.policy.version(v)).ok_or("no earlier version is kept")?;
        Ok(self.install(&prev.source.clone(), token, &format!("rollback to v{}", prev.version)))
    }

    /// Swap latency percentiles in microseconds: (count, p50, p99, max).
    pub fn swap_stats(&self) -> (usize, u64, u64, u64) {
        let s = self.swap_summary();
        (s.0, s.1, s.2, s.3)
    }

    /// [`Manager::swap_stats`] and the sum of the latencies (µs) kept.
    pub fn swap_summary(&self) -> (usize, u64, u64, u64, u64) {
        let mut v = self.swaps_us.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if v.is_empty() {
            return (0, 0, 0, 0, 0);
        }
        v.sort_unstable();
        let pct = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
        (v.len(), pct(0.5), pct(0.99), *v.last().unwrap(), v.iter().sum())
    }
}
