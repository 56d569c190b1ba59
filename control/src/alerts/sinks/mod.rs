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

/// A sink as given on the command line or in the configuration file: `jsonl:PATH` (or a bare
/// path), `syslog+udp://HOST:PORT`, `syslog+tcp://HOST:PORT`, `http://…` or `https://…` (webhook;
/// the server's certificate is checked against the system's CA store, or the PEM file named by
/// SSL_CERT_FILE) — followed by options of its own, `,KEY=VALUE` each ([`SinkOptions`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SinkSpec {
    pub target: SinkTarget,
    pub options: SinkOptions,
}

/// Where a sink writes.
#[derive(Debug, Clone, PartialEq)]
pub enum SinkTarget {
    JsonLines(String),
    SyslogUdp(String),
    SyslogTcp(String),
    Webhook(String),
}

/// A sink's own options.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SinkOptions {
    /// `packet=N`: the alert's frame, its first N bytes (at most the
    /// [`FRAME_BYTES`](antidote_dataplane::alert::FRAME_BYTES) an alert keeps), base64 in
    /// `event.original`; 0 (the default): none.
    pub packet: usize,
    /// `sd_id=NAME@PEN` (syslog): the structured data's ID — your organisation's IANA private
    /// enterprise number; default `antidote@32473` (32473 is the number RFC 5612 sets aside for
    /// examples).
    pub sd_id: Option<String>,
}

/// The syslog SD-ID when a sink names none.
pub const DEFAULT_SD_ID: &str = "antidote@32473";

impl SinkSpec {
    pub fn parse(s: &str) -> Result<SinkSpec, String> {
        // Options come last, `,KEY=VALUE` each; a comma that starts no known option is part of
        // the target.
        let mut target = s;
        let mut options = SinkOptions::default();
        while let Some((rest, opt)) = target.rsplit_once(',') {
            let Some((k, v)) = opt.split_once('=') else { break };
            match k {
                "packet" => {
                    options.packet = v.parse().ok().filter(|&n| n <= antidote_dataplane::alert::FRAME_BYTES).ok_or_else(|| {
                        format!(
                            "alert sink `{s}`: `packet={v}`: give the bytes of the frame to put in each alert, 0 to {}",
                            antidote_dataplane::alert::FRAME_BYTES
                        )
                    })?;
                }
                "sd_id" => {
                    sd_id_ok(v).map_err(|why| format!("alert sink `{s}`: `sd_id={v}`: {why}"))?;
                    options.sd_id = Some(v.to_string());
                }
                _ => break,
            }
            target = rest;
        }
        let t = Self::parse_target(target)?;
        if options.sd_id.is_some() && !matches!(t, SinkTarget::SyslogUdp(_) | SinkTarget::SyslogTcp(_)) {
            return Err(format!("alert sink `{s}`: `sd_id` is an option of syslog sinks"));
        }
        Ok(SinkSpec { target: t, options })
    }

    fn parse_target(s: &str) -> Result<SinkTarget, String> {
        if let Some(a) = s.strip_prefix("syslog+udp://") {
            return Ok(SinkTarget::SyslogUdp(a.into()));
        }
        if let Some(a) = s.strip_prefix("syslog+tcp://") {
            return Ok(SinkTarget::SyslogTcp(a.into()));
        }
        if s.starts_with("http://") || s.starts_with("https://") {
            return Ok(SinkTarget::Webhook(s.into()));
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
        Ok(SinkTarget::JsonLines(p.into()))
    }

    pub fn open(&self, host: &str) -> Result<Configured, String> {
        let sd_id = self.options.sd_id.as_deref().unwrap_or(DEFAULT_SD_ID);
        let sink: Box<dyn Sink> = match &self.target {
            SinkTarget::JsonLines(p) => Box::new(JsonLinesSink::open(p)?),
            SinkTarget::SyslogUdp(a) => Box::new(SyslogSink::udp(a, host)?.with_sd_id(sd_id)),
            SinkTarget::SyslogTcp(a) => Box::new(SyslogSink::tcp(a, host).with_sd_id(sd_id)),
            SinkTarget::Webhook(u) => Box::new(WebhookSink::start(u, 1024)),
        };
        Ok(Configured { sink, packet: self.options.packet })
    }
}

/// An RFC 5424 SD-ID of the form `NAME@NUMBER` (what is not registered with IANA must carry an
/// enterprise number): 1–32 printable characters, none of `= ]"` or a space.
fn sd_id_ok(id: &str) -> Result<(), &'static str> {
    let Some((name, pen)) = id.split_once('@') else { return Err("use NAME@ENTERPRISE-NUMBER (your organisation's IANA private enterprise number)") };
    if id.len() > 32 || name.is_empty() || !id.bytes().all(|b| (33..=126).contains(&b) && !b"=]\"".contains(&b)) {
        return Err("1 to 32 printable characters, none of `=`, `]`, `\"` or a space");
    }
    if pen.is_empty() || !pen.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
        return Err("the part after `@` is an enterprise number (digits)");
    }
    Ok(())
}

/// A sink and the options the pipeline applies for it.
pub struct Configured {
    pub sink: Box<dyn Sink>,
    /// Bytes of the alert's frame to give it in `event.original` (0: none).
    pub packet: usize,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sink_takes_its_options_after_commas() {
        let s = SinkSpec::parse("syslog+udp://198.18.254.2:514,packet=128,sd_id=antidote@99999").unwrap();
        assert_eq!(s.target, SinkTarget::SyslogUdp("198.18.254.2:514".into()));
        assert_eq!(s.options, SinkOptions { packet: 128, sd_id: Some("antidote@99999".into()) });
        let s = SinkSpec::parse("/var/log/antidote/alerts.jsonl,packet=384").unwrap();
        assert_eq!((s.target, s.options.packet), (SinkTarget::JsonLines("/var/log/antidote/alerts.jsonl".into()), 384));
        // A comma that starts no option is the target's own.
        let s = SinkSpec::parse("https://siem.example/hook?a=1,b").unwrap();
        assert_eq!(s.target, SinkTarget::Webhook("https://siem.example/hook?a=1,b".into()));
        assert_eq!(SinkSpec::parse("alerts.jsonl").unwrap().options, SinkOptions::default());
        let e = SinkSpec::parse("alerts.jsonl,packet=4096").unwrap_err();
        assert!(e.contains("0 to 384"), "{e}");
        let e = SinkSpec::parse("alerts.jsonl,sd_id=x@1").unwrap_err();
        assert!(e.contains("an option of syslog sinks"), "{e}");
        for bad in ["antidote", "anti dote@1", "antidote@x1", "a=b@1", "antidote@"] {
            assert!(SinkSpec::parse(&format!("syslog+tcp://h:1,sd_id={bad}")).is_err(), "{bad}");
        }
        assert!(SinkSpec::parse("syslog+tcp://h:1,sd_id=ad@1.3.6").is_ok());
    }
}
