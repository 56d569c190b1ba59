//! The running policy, shared by the workers through arc-swap, and the clock they read once per
//! burst.
use antidote_policy::Program;
use arc_swap::ArcSwapOption;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A compiled policy with what identifies it.
pub struct LoadedPolicy {
    pub program: Program,
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

/// Milliseconds since the run started (≥ 1), and wall-clock time for alerts.
#[derive(Clone, Copy)]
pub struct Clock {
    start: Instant,
    start_unix_ms: u64,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

impl Clock {
    pub fn new() -> Clock {
        let unix = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0);
        Clock { start: Instant::now(), start_unix_ms: unix }
    }
    /// Monotonic milliseconds since start, from 1 (vDSO clock: no syscall).
    #[inline]
    pub fn now_ms(&self) -> u64 {
        self.start.elapsed().as_millis() as u64 + 1
    }
    pub fn unix_ms(&self, now_ms: u64) -> u64 {
        self.start_unix_ms + now_ms - 1
    }
}

/// Versions kept so that an old program is always freed on the control thread (a worker's
/// guard lives one burst; a program leaves the history only after eight newer swaps).
pub const HISTORY: usize = 8;

/// The policy slot: what the workers load, and the history the control side keeps.
pub struct PolicySlot {
    pub current: ArcSwapOption<LoadedPolicy>,
    history: Mutex<VecDeque<Arc<LoadedPolicy>>>,
}

impl Default for PolicySlot {
    fn default() -> Self {
        PolicySlot { current: ArcSwapOption::empty(), history: Mutex::new(VecDeque::new()) }
    }
}

impl PolicySlot {
    /// Installs a program (control side). Returns its version.
    pub fn install(&self, program: Program, source: String) -> Arc<LoadedPolicy> {
        let mut h = self.history.lock().unwrap_or_else(|e| e.into_inner());
        let version = h.back().map(|p| p.version + 1).unwrap_or(1);
        let p = Arc::new(LoadedPolicy {
            program,
            version,
            hash: fingerprint(&source),
            source,
            loaded_at_unix_ms: Clock::new().start_unix_ms,
        });
        self.current.store(Some(p.clone()));
        h.push_back(p.clone());
        while h.len() > HISTORY {
            h.pop_front();
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
}
