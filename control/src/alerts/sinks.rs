//! Where alerts go: a JSON-lines file (ECS), syslog (RFC 5424 over UDP or TCP), an HTTP webhook
//! (POST, retry with backoff, bounded queue). Every sink counts what it sent and what it lost.
use crossbeam_channel::{bounded, Sender, TrySendError};
use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

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
    fn stats(&self) -> Arc<SinkStats>;
}

/// A sink as given on the command line: `jsonl:PATH` (or a bare path), `syslog+udp://HOST:PORT`,
/// `syslog+tcp://HOST:PORT`, `http://…` (webhook).
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
        if s.starts_with("http://") {
            return Ok(SinkSpec::Webhook(s.into()));
        }
        if s.starts_with("https://") {
            return Err(format!("{s}: https webhooks are not supported yet; use http:// (on a management network) or syslog"));
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

/// One ECS document per line, appended; flushed after every batch.
pub struct JsonLinesSink {
    path: String,
    out: std::io::BufWriter<std::fs::File>,
    stats: Arc<SinkStats>,
}

impl JsonLinesSink {
    pub fn open(path: &str) -> Result<JsonLinesSink, String> {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("cannot open alert file {path}: {e}"))?;
        Ok(JsonLinesSink { path: path.into(), out: std::io::BufWriter::new(f), stats: Arc::default() })
    }
}

impl Sink for JsonLinesSink {
    fn name(&self) -> String {
        format!("jsonl:{}", self.path)
    }
    fn send(&mut self, doc: &serde_json::Value, _: u8) {
        match writeln!(self.out, "{doc}") {
            Ok(()) => self.stats.sent.fetch_add(1, Relaxed),
            Err(_) => self.stats.failed.fetch_add(1, Relaxed),
        };
    }
    fn flush(&mut self) {
        if self.out.flush().is_err() {
            self.stats.failed.fetch_add(1, Relaxed);
        }
    }
    fn stats(&self) -> Arc<SinkStats> {
        self.stats.clone()
    }
}

/// RFC 5424 syslog, facility local0, over UDP (one datagram per message) or TCP (octet-counted
/// framing, RFC 6587; reconnects on the next message after a failure).
pub struct SyslogSink {
    addr: String,
    host: String,
    udp: Option<UdpSocket>,
    tcp: Option<TcpStream>,
    is_tcp: bool,
    stats: Arc<SinkStats>,
}

impl SyslogSink {
    pub fn udp(addr: &str, host: &str) -> Result<SyslogSink, String> {
        let target = addr.to_socket_addrs().map_err(|e| format!("syslog address {addr}: {e}"))?.next().ok_or(format!("syslog address {addr} resolves to nothing"))?;
        let bind = if target.is_ipv6() { "[::]:0" } else { "0.0.0.0:0" };
        let s = UdpSocket::bind(bind).map_err(|e| e.to_string())?;
        s.connect(target).map_err(|e| format!("syslog {addr}: {e}"))?;
        Ok(SyslogSink { addr: addr.into(), host: host.into(), udp: Some(s), tcp: None, is_tcp: false, stats: Arc::default() })
    }

    pub fn tcp(addr: &str, host: &str) -> SyslogSink {
        SyslogSink { addr: addr.into(), host: host.into(), udp: None, tcp: None, is_tcp: true, stats: Arc::default() }
    }

    /// The RFC 5424 line for a document.
    pub fn format(doc: &serde_json::Value, severity: u8, host: &str) -> String {
        let pri = 16 * 8 + severity as u32;
        let ts = doc["@timestamp"].as_str().unwrap_or("-");
        let rule = doc["rule"]["name"].as_str().unwrap_or("-");
        let sd = format!(
            "[antidote@32473 rule=\"{}\" src=\"{}\" dst=\"{}\" action=\"{}\" count=\"{}\"]",
            esc(rule),
            esc(doc["source"]["ip"].as_str().unwrap_or("")),
            esc(doc["destination"]["ip"].as_str().unwrap_or("")),
            esc(doc["event"]["action"].as_str().unwrap_or("")),
            doc["event"]["count"].as_u64().unwrap_or(1)
        );
        format!("<{pri}>1 {ts} {host} antidote - alert {sd} {} {doc}", doc["message"].as_str().unwrap_or(""))
    }
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace(']', "\\]")
}

impl Sink for SyslogSink {
    fn name(&self) -> String {
        format!("syslog+{}://{}", if self.is_tcp { "tcp" } else { "udp" }, self.addr)
    }
    fn send(&mut self, doc: &serde_json::Value, severity: u8) {
        let line = SyslogSink::format(doc, severity, &self.host);
        let ok = if let Some(u) = &self.udp {
            u.send(line.as_bytes()).is_ok()
        } else {
            if self.tcp.is_none() {
                self.tcp = self
                    .addr
                    .to_socket_addrs()
                    .ok()
                    .and_then(|mut a| a.next())
                    .and_then(|a| TcpStream::connect_timeout(&a, Duration::from_millis(500)).ok());
                if let Some(t) = &self.tcp {
                    let _ = t.set_write_timeout(Some(Duration::from_millis(500)));
                }
            }
            let framed = format!("{} {line}", line.len());
            match self.tcp.as_mut().map(|t| t.write_all(framed.as_bytes())) {
                Some(Ok(())) => true,
                _ => {
                    self.tcp = None;
                    false
                }
            }
        };
        if ok {
            self.stats.sent.fetch_add(1, Relaxed);
        } else {
            self.stats.failed.fetch_add(1, Relaxed);
        }
    }
    fn stats(&self) -> Arc<SinkStats> {
        self.stats.clone()
    }
}

/// HTTP POST of each document, from its own thread: retries with exponential backoff
/// (0.2 s, 0.4 s, 0.8 s …, 5 tries); a full queue counts the document as dropped.
pub struct WebhookSink {
    url: String,
    tx: Sender<String>,
    stats: Arc<SinkStats>,
}

impl WebhookSink {
    pub fn start(url: &str, queue: usize) -> WebhookSink {
        let (tx, rx) = bounded::<String>(queue);
        let stats: Arc<SinkStats> = Arc::default();
        let st = stats.clone();
        let u = url.to_string();
        std::thread::Builder::new()
            .name("alert-webhook".into())
            .spawn(move || {
                let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(3)).build();
                for body in rx {
                    let mut delay = Duration::from_millis(200);
                    let mut ok = false;
                    for _ in 0..5 {
                        if agent.post(&u).set("Content-Type", "application/json").send_string(&body).is_ok() {
                            ok = true;
                            break;
                        }
                        std::thread::sleep(delay);
                        delay *= 2;
                    }
                    if ok {
                        st.sent.fetch_add(1, Relaxed);
                    } else {
                        st.failed.fetch_add(1, Relaxed);
                    }
                }
            })
            .expect("spawn webhook thread");
        WebhookSink { url: url.into(), tx, stats }
    }
}

impl Sink for WebhookSink {
    fn name(&self) -> String {
        self.url.clone()
    }
    fn send(&mut self, doc: &serde_json::Value, _: u8) {
        match self.tx.try_send(doc.to_string()) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.stats.dropped.fetch_add(1, Relaxed);
            }
        }
    }
    fn stats(&self) -> Arc<SinkStats> {
        self.stats.clone()
    }
}
