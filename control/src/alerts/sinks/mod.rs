//! Where alerts go: a JSON-lines file (ECS, [`jsonl`]), syslog (RFC 5424 over UDP or TCP,
//! [`syslog`]), an HTTP webhook (POST, retry with backoff, bounded queue, [`webhook`]). Every
//! sink counts what it sent and what it lost.
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

pub mod jsonl;
pub mod syslog;
pub mod webhook;

pub use jsonl::JsonLinesSink;
pub use syslog::SyslogSink;
pub use webhook::WebhookSink;

/// Counters of one sink.
#[derive(Default, Debug)]
pub struct SinkStats {
    pub sent: AtomicU64,
    pub failed: AtomicU64,
    /// Lost because the sink's queue was full.
    pub dropped: AtomicU64,
}

pub trait Sink: Send {
    fn name(&self) -> String;
    /// Takes one ECS document (and its syslog severity 0–7). Must not block for long.
    fn send(&mut self, doc: &serde_json::Value, syslog_severity: u8);
    fn flush(&mut self) {}
    /// SIGHUP: a file sink opens its file again (logrotate moved it away).
    fn reopen(&mut self) {}
    /// The run ends: deliver what is queued within `deadline`, count what is not as dropped.
    fn close(&mut self, _deadline: std::time::Duration) {
        self.flush();
    }
    fn stats(&self) -> Arc<SinkStats>;
}

/// A sink as given on the command line: `jsonl:PATH` (or a bare path), `syslog+udp://HOST:PORT`,
/// `syslog+tcp://HOST:PORT`, `http://…` or `https://…` (webhook; the server's certificate is
/// checked against the system's CA store, or the PEM file named by SSL_CERT_FILE).
#[derive(Debug, Clone, PartialEq)]
pub enum SinkSpec {
    JsonLines(String),
    SyslogUdp(String),
    SyslogTcp(String),
    Webhook(String),
}

impl SinkSpec {
    pub fn parse(s: &str) -> Result<SinkSpec, String> {
        if let Some(a) = s.strip_prefix("syslog+udp://") {
            return Ok(SinkSpec::SyslogUdp(a.into()));
        }
        if let Some(a) = s.strip_prefix("syslog+tcp://") {
            return Ok(SinkSpec::SyslogTcp(a.into()));
        }
        if s.starts_with("http://") || s.starts_with("https://") {
            return Ok(SinkSpec::Webhook(s.into()));
        }
        if let Some((scheme, _)) = s.split_once("://") {
            return Err(format!(
                "alert sink `{s}`: unknown scheme `{scheme}://`; use a file (PATH or jsonl:PATH), syslog+udp://HOST:PORT, syslog+tcp://HOST:PORT or http(s)://URL"
            ));
        }
        let p = s.strip_prefix("jsonl:").unwrap_or(s);
        if p.is_empty() {
            return Err("empty alert sink".into());
        }
        Ok(SinkSpec::JsonLines(p.into()))
    }

    pub fn open(&self, host: &str) -> Result<Box<dyn Sink>, String> {
        Ok(match self {
            SinkSpec::JsonLines(p) => Box::new(JsonLinesSink::open(p)?),
            SinkSpec::SyslogUdp(a) => Box::new(SyslogSink::udp(a, host)?),
            SinkSpec::SyslogTcp(a) => Box::new(SyslogSink::tcp(a, host)),
            SinkSpec::Webhook(u) => Box::new(WebhookSink::start(u, 1024)),
        })
    }
}

/// A document for the sinks' tests.
#[cfg(test)]
pub(crate) fn test_doc() -> serde_json::Value {
    serde_json::json!({
        "@timestamp": "2026-11-24T01:02:03.004Z", "message": "poisoned answer",
        "rule": {"name": "llmnr-poison"}, "source": {"ip": "198.18.0.66"}, "destination": {"ip": "198.18.0.10"},
        "event": {"action": "drop"},
    })
}
