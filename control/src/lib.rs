//! antidote's control side: what runs beside the workers, on the main lcore.
//!
//! - [`alerts`]: the alert pipeline — events from the workers' queue, rendered as Elastic
//!   Common Schema documents, aggregated, and written to sinks (JSON lines, syslog, webhook).
#![forbid(unsafe_code)]

pub mod alerts;
pub mod time;
