//! The Environment Abstraction Layer: initialised once per process, cleaned up on drop.
use crate::ffi;
use std::ffi::CString;
use std::os::raw::c_char;
use std::sync::{Mutex, OnceLock};

#[derive(Debug, thiserror::Error)]
pub enum EalError {
    #[error("DPDK EAL failed to start: {0}")]
    Init(String),
    #[error("DPDK EAL is already running in this process with other arguments")]
    AlreadyRunning,
}

/// Proof that EAL is running. There is at most one per process; it lives until process exit
/// unless [`Eal::cleanup`] is called, after which no DPDK object may be used.
pub struct Eal {
    args: Vec<String>,
    file_prefix: Option<String>,
    // rte_eal_init keeps pointers into argv: keep the strings alive for the process lifetime.
    _argv: Vec<CString>,
    _ptrs: Vec<*mut c_char>,
}

// SAFETY: Eal only holds strings and pointers into them that DPDK reads; nothing is mutated.
unsafe impl Send for Eal {}
// SAFETY: as above, shared access is read-only.
unsafe impl Sync for Eal {}

static EAL: OnceLock<Result<Eal, String>> = OnceLock::new();
static CLEANED: Mutex<bool> = Mutex::new(false);

impl Eal {
    /// Starts EAL with `args` (the first one is the program name). A second call in the same
    /// process returns the running EAL if the arguments are the same, an error otherwise.
    pub fn init(args: &[String]) -> Result<&'static Eal, EalError> {
        let r = EAL.get_or_init(|| {
            let argv: Vec<CString> =
                args.iter().map(|a| CString::new(a.as_str()).map_err(|_| format!("argument {a:?} has a NUL byte"))).collect::<Result<_, _>>()?;
            let mut ptrs: Vec<*mut c_char> = argv.iter().map(|c| c.as_ptr() as *mut c_char).collect();
            ptrs.push(std::ptr::null_mut());
            // SAFETY: argv/ptrs stay alive in the returned Eal (static); argc matches the
            // number of non-null pointers; EAL init runs once thanks to the OnceLock.
            let rc = unsafe { ffi::rte_eal_init(argv.len() as i32, ptrs.as_mut_ptr()) };
            if rc < 0 {
                let (code, msg) = crate::last_error();
                return Err(format!("rte_eal_init: {msg} (rte_errno {code}); arguments: {}", args.join(" ")));
            }
            let file_prefix = args.iter().find_map(|a| a.strip_prefix("--file-prefix=").map(str::to_owned));
            Ok(Eal { args: args.to_vec(), file_prefix, _argv: argv, _ptrs: ptrs })
        });
        match r {
            Ok(e) if e.args == args => Ok(e),
            Ok(_) => Err(EalError::AlreadyRunning),
            Err(m) => Err(EalError::Init(m.clone())),
        }
    }

    /// The running EAL, if any.
    pub fn get() -> Option<&'static Eal> {
        EAL.get().and_then(|r| r.as_ref().ok())
    }

    pub fn args(&self) -> &[String] {
        &self.args
    }

    /// Releases EAL's resources and removes `/var/run/dpdk/<file-prefix>` (which
    /// `rte_eal_cleanup` leaves behind). Call once, after every port and pool is gone and every
    /// worker lcore has returned. Later calls do nothing.
    pub fn cleanup(&self) {
        let mut done = CLEANED.lock().unwrap_or_else(|e| e.into_inner());
        if *done {
            return;
        }
        *done = true;
        // SAFETY: called once (guarded above), after the caller released ports, pools and lcores.
        unsafe { ffi::rte_eal_cleanup() };
        if let Some(p) = &self.file_prefix {
            let _ = std::fs::remove_dir_all(format!("/var/run/dpdk/{p}"));
        }
    }

    /// The main lcore's id.
    pub fn main_lcore(&self) -> u32 {
        // SAFETY: EAL is initialised (self exists).
        unsafe { ffi::rte_get_main_lcore() }
    }

    /// Worker lcores enabled by `-l`/`--lcores`, the main one excluded.
    pub fn worker_lcores(&self) -> Vec<u32> {
        let mut v = Vec::new();
        // SAFETY: EAL is initialised; rte_get_next_lcore iterates EAL's lcore table.
        let mut i = unsafe { ffi::rte_get_next_lcore(u32::MAX, 1, 0) };
        while i < ffi::RTE_MAX_LCORE {
            v.push(i);
            // SAFETY: as above.
            i = unsafe { ffi::rte_get_next_lcore(i, 1, 0) };
        }
        v
    }
}
