//! antidote's dataplane: where a packet goes.
//!
//! - [`profile`]: the hardware profile (ports, pairs, queues, lcores, memory).
//! - [`preflight`]: host checks before EAL starts (root, hugepages, interfaces, files).
//! - [`run`]: `antidote run` — EAL, ports, workers, reporting, clean shutdown.
//! - [`worker`]: the poll-mode loop on each lcore: RX burst → [`judge`] → TX bursts.
//! - [`judge`]: a burst's header triage (`antidote_wire::triage`, the program's plan as data),
//!   the slow-path mask, a second look after a frame that woke a rule, the drop mask.
//! - [`act`]: one frame of the slow path: dissect → evaluate → inject, mirror, alert, count.
//! - [`hold`]: answers held by `verify` while their sender is probed; the probes.
//! - [`shared`]: what the workers share and the tasks they are given.
//! - [`policy`]: the running policy behind arc-swap and its version history.
//! - [`alert`]: alert events, the bounded lock-free queue to the control side, the workers'
//!   folds of repeats, and what makes two alerts repeats.
//! - [`clock`]: the run's monotonic clock and wall-clock time.
//! - [`stats`]: per-lcore counters and rule hits without shared writes.
//! - [`phases`]: cycles per stretch of the packet path (feature `phase-cycles`).
//!
//! DPDK itself is bound in `dataplane/dpdk` (the only crate with `unsafe`); the dissectors are in
//! `dataplane/wire` (pure Rust, no DPDK).
#![forbid(unsafe_code)]

pub mod act;
pub mod alert;
pub mod canary;
pub mod clock;
pub mod flood;
pub mod hold;
pub mod judge;
pub mod links;
pub mod phases;
pub mod policy;
pub mod preflight;
pub mod profile;
pub mod run;
pub mod shared;
pub mod stall;
pub mod stats;
pub mod worker;

pub use antidote_dpdk as dpdk;
