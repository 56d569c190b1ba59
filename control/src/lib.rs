//! antidote's control side: what runs beside the workers, on the main lcore.
//!
//! - [`alerts`]: the alert pipeline — events from the workers' queue, rendered as Elastic
//!   Common Schema documents, aggregated, and written to sinks (JSON lines, syslog, webhook).
//! - [`manager`]: policy pushes, validation, rollback, the persisted last good policy, the audit
//!   log, and swap-latency measurement.
//! - [`api`]: the HTTP API (tiny_http) on the management address: token auth, JSON errors.
//! - [`metrics`]: stats as JSON and as Prometheus text.
//! - [`hooks`]: the control side of a run, started and stopped with the dataplane: the policy
//!   file, the alert pipeline and its sinks, the API and its tokens.
//! - [`network_store`]: what was learned of the network, kept in the state directory.
#![forbid(unsafe_code)]

pub mod alerts;
pub mod api;
pub mod canary;
pub mod hooks;
pub mod manager;
pub mod metrics;
pub mod network_store;
pub mod time;
