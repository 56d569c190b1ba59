//! The running policy, shared by the workers through arc-swap, with its version history (an old
//! program is always freed on the control thread) and its rule hits.
use crate::stats::RuleHits;
use antidote_policy::state::Network;
use antidote_policy::Program;
use arc_swap::ArcSwapOption;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::Mutex;

/// A compiled policy with what identifies it.
pub struct LoadedPolicy {
    pub program: Program,
    /// How often each of its rules matched, counted by the workers.
    pub hits: RuleHits,
    pub version: u64,
    pub source: String,
    /// Hex SHA-like fingerprint of the source (64-bit, for display and audit).
    pub hash: String,
    pub loaded_at_unix_ms: u64,
}

pub fn fingerprint(src: &str) -> String {
    let h = ahash_fixed(src.as_bytes());
    format!("{h:016x}")
}

fn ahash_fixed(b: &[u8]) -> u64 {
    // FNV-1a: stable across builds and processes (ahash's output is not promised to be).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in b {
        h ^= x as u64;
        h = h.wrapping_mul(0x1000_0000_01b3);
    }
    h
}

/// Versions kept so that an old program is always freed on the control thread (a worker's
/// guard lives one burst; a program leaves the history only after eight newer swaps).
pub const HISTORY: usize = 8;

/// The policy slot: what the workers load, and the history the control side keeps.
pub struct PolicySlot {
    pub current: ArcSwapOption<LoadedPolicy>,
    history: Mutex<VecDeque<Arc<LoadedPolicy>>>,
    /// Rows of each version's [`RuleHits`]: one per worker.
    workers: usize,
    /// Rule hits, by rule name, of the versions that have left the history (no worker can still
    /// be counting into them).
    carried: Mutex<HashMap<String, u64>>,
    /// The learned network every installed program consults (`Program::network`).
    network: Option<Arc<Network>>,
}

impl Default for PolicySlot {
    fn default() -> Self {
        PolicySlot::new(1)
    }
}

impl PolicySlot {
    /// A slot for `workers` workers (worker w counts rule hits in row w).
    pub fn new(workers: usize) -> PolicySlot {
        PolicySlot { current: ArcSwapOption::empty(), history: Mutex::new(VecDeque::new()), workers: workers.max(1), carried: Mutex::default(), network: None }
    }

    /// A slot whose programs consult `network` (what the workers learn of it).
    pub fn with_network(workers: usize, network: Arc<Network>) -> PolicySlot {
        PolicySlot { network: Some(network), ..PolicySlot::new(workers) }
    }

    /// Installs a program (control side). Returns its version.
    pub fn install(&self, mut program: Program, source: String) -> Arc<LoadedPolicy> {
        program.network = self.network.clone();
        let mut h = self.history.lock().unwrap_or_else(|e| e.into_inner());
        let version = h.back().map(|p| p.version + 1).unwrap_or(1);
        let p = Arc::new(LoadedPolicy {
            hits: RuleHits::new(program.rules.len(), self.workers),
            program,
            version,
            hash: fingerprint(&source),
            source,
            loaded_at_unix_ms: crate::clock::unix_now_ms(),
        });
        self.current.store(Some(p.clone()));
        h.push_back(p.clone());
        while h.len() > HISTORY {
            if let Some(old) = h.pop_front() {
                let mut c = self.carried.lock().unwrap_or_else(|e| e.into_inner());
                for (r, n) in old.program.rules.iter().zip(old.hits.totals()) {
                    *c.entry(r.name.clone()).or_default() += n;
                }
            }
        }
        p
    }

    /// A version still in the history (for rendering alerts raised just before a swap).
    pub fn version(&self, v: u64) -> Option<Arc<LoadedPolicy>> {
        self.history.lock().unwrap_or_else(|e| e.into_inner()).iter().find(|p| p.version == v).cloned()
    }

    pub fn get(&self) -> Option<Arc<LoadedPolicy>> {
        self.current.load_full()
    }

    /// The current policy's rules and how often each matched in this run, by rule name over
    /// every version loaded (a rule kept across a swap keeps counting; a new one starts at 0).
    pub fn rule_hits(&self) -> Vec<(String, u64)> {
        let h = self.history.lock().unwrap_or_else(|e| e.into_inner());
        let Some(cur) = h.back() else { return Vec::new() };
        let mut by_name = self.carried.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for p in h.iter() {
            for (r, n) in p.program.rules.iter().zip(p.hits.totals()) {
                *by_name.entry(r.name.clone()).or_default() += n;
            }
        }
        cur.program.rules.iter().map(|r| (r.name.clone(), by_name.get(&r.name).copied().unwrap_or(0))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program(src: &str) -> Program {
        antidote_policy::compile(src).unwrap().program
    }

    #[test]
    fn rule_hits_follow_rule_names_across_swaps() {
        let slot = PolicySlot::new(2);
        let a = slot.install(program("rule x { when tcp.syn then drop }\nrule y { when udp.dport == 53 then drop }"), "a".into());
        a.hits.bump(0, 0);
        a.hits.bump(1, 0);
        a.hits.bump(1, 1);
        a.hits.bump(7, 1); // no such worker: ignored
        assert_eq!(slot.rule_hits(), vec![("x".to_string(), 2), ("y".to_string(), 1)]);
        // The next version puts another rule first: it starts at 0; `y` keeps its count.
        let b = slot.install(program("rule z { when tcp.syn then pass }\nrule y { when udp.dport == 53 then drop }"), "b".into());
        assert_eq!(slot.rule_hits(), vec![("z".to_string(), 0), ("y".to_string(), 1)]);
        b.hits.bump(0, 1);
        assert_eq!(slot.rule_hits(), vec![("z".to_string(), 0), ("y".to_string(), 2)]);
        // Versions leaving the history hand their counts on.
        for _ in 0..2 * HISTORY {
            slot.install(program("rule y { when udp.dport == 53 then drop }\nrule x { when tcp.syn then drop }"), "c".into());
        }
        assert_eq!(slot.rule_hits(), vec![("y".to_string(), 2), ("x".to_string(), 2)]);
    }
}
