//! antidote's dataplane: where a packet goes.
//!
//! - [`profile`]: the hardware profile (ports, pairs, queues, lcores, memory).
//! - [`preflight`]: host checks before EAL starts (root, hugepages, interfaces, files).
//! - [`bridge`]: `antidote run` — EAL, ports, workers, reporting, clean shutdown.
//! - [`worker`]: the poll-mode loop on each lcore (RX burst → dissect → policy verdict → TX
//!   burst, with drops, mirror copies and injected NBT-NS negative answers).
//! - [`policy`]: the running policy behind arc-swap, its version history, the clock.
//! - [`alert`]: the fixed-size alert events and the bounded lock-free queue to the control side.
//! - [`stats`]: per-lcore counters without shared writes.
//!
//! DPDK itself is bound in `dataplane/dpdk` (the only crate with `unsafe`); the dissectors are in
//! `dataplane/wire` (pure Rust, no DPDK).
#![forbid(unsafe_code)]

pub mod alert;
pub mod bridge;
pub mod phases;
pub mod policy;
pub mod preflight;
pub mod profile;
pub mod stats;
pub mod worker;

pub use antidote_dpdk as dpdk;
