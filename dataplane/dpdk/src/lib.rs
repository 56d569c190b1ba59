//! antidote-dpdk: a thin, safe binding of Debian's DPDK 22.11 LTS.
//!
//! This crate is the only place in antidote where `unsafe` code is allowed. Every `unsafe`
//! block carries a `// SAFETY:` line. Everything above it (dissectors, policy engine, workers)
//! is safe Rust.
//!
//! - [`eal`]: the Environment Abstraction Layer, initialised once per process.
//! - [`mempool`]: packet-buffer pools.
//! - [`mbuf`]: owned packet buffers and fixed-size bursts of them.
//! - [`port`]: Ethernet ports: configure, queues, start/stop, link, MAC, stats, RX/TX bursts.
//! - [`queue`]: a started port's RX or TX queue, its PMD's burst function read once.
//! - [`lcore`]: launching work on EAL lcores.
//! - [`process`]: process-wide settings of the C runtime (the allocator's).
#![allow(clippy::missing_safety_doc)]

pub mod ffi;

pub mod eal;
pub mod lcore;
pub mod mbuf;
pub mod mempool;
pub mod port;
pub mod process;
pub mod queue;

pub use eal::{Eal, EalError};
pub use mbuf::{Burst, Mbuf, RxTimestamp, BURST_SIZE};
pub use mempool::Mempool;
pub use port::{LinkStatus, Port, PortConfig, PortStats};
pub use queue::{RxQueue, TxQueue};

/// The CPU's time-stamp counter (what DPDK's `rte_rdtsc` reads): cycles at the TSC's fixed
/// rate, for timing stretches of the packet path (`bench/phases.sh`). 0 off x86_64.
#[inline(always)]
pub fn tsc() -> u64 {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: rdtsc reads a counter; it has no preconditions and touches no memory.
    return unsafe { core::arch::x86_64::_rdtsc() };
    #[cfg(not(target_arch = "x86_64"))]
    0
}

/// The last DPDK error (`rte_errno`) of this thread, with DPDK's message.
pub fn last_error() -> (i32, String) {
    // SAFETY: ad_errno reads a thread-local int; no preconditions.
    let code = unsafe { ffi::ad_errno() };
    (code, strerror(code))
}

/// DPDK's text for an error number (positive errno or rte_errno value).
pub fn strerror(code: i32) -> String {
    // SAFETY: rte_strerror returns a pointer to a static or thread-local NUL-terminated string.
    let p = unsafe { ffi::rte_strerror(code.abs()) };
    if p.is_null() {
        return format!("error {code}");
    }
    // SAFETY: p is non-null and NUL-terminated (see above); we copy it out at once.
    unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned()
}
