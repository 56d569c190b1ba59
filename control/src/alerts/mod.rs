//! The alert pipeline: worker events → ECS documents → aggregation → sinks.
//!
//! One thread drains the workers' bounded queue, dissects each event's frame again, renders the
//! rule's message and an Elastic Common Schema document, and aggregates repeats: the first
//! alert of a kind (same rule, source, destination and name) is written at once; repeats within
//! the window are counted and written as one summary (`antidote.count`, `event.start`,
//! `event.end`) when the window closes. Sinks that fail count what they lose; nothing is lost
//! silently.
pub mod community_id;
pub mod ecs;
pub mod pipeline;
pub mod sinks;

pub use pipeline::{AlertPipeline, PipelineStats};
pub use sinks::{Configured, JsonLinesSink, Sink, SinkSpec, SyslogSink, WebhookSink};

/// This host's name (the observer of the alerts, the syslog HOSTNAME); empty when it cannot be
/// read.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_default()
}
