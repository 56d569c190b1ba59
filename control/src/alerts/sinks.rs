//! Where alerts go: a JSON-lines file (ECS), syslog (RFC 5424 over UDP or TCP), an HTTP webhook
//! (POST, retry with backoff, bounded queue). Every sink counts what it sent and what it lost.
use crossbeam_channel::{bounded, Sender, TrySendError};
use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
        let f = std::fs::OpenOptions::new().create(true).append(true).open(path).map_err(|e| format!("cannot open alert file {path}: {e}"))?;
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
/// framing, RFC 6587). A TCP collector that cannot be reached is retried with backoff (1 s,
/// doubling to 30 s): meanwhile messages fail at once and are counted, instead of each one
/// waiting for a connect timeout on the alert thread.
pub struct SyslogSink {
    addr: String,
    host: String,
    udp: Option<UdpSocket>,
    tcp: Option<TcpStream>,
    is_tcp: bool,
    /// TCP: no connection attempt before this instant; the current backoff.
    retry_at: Option<Instant>,
    backoff: Duration,
    /// TCP connection attempts so far.
    connects: u64,
    stats: Arc<SinkStats>,
}

const SYSLOG_BACKOFF_FIRST: Duration = Duration::from_secs(1);
const SYSLOG_BACKOFF_MAX: Duration = Duration::from_secs(30);

impl SyslogSink {
    pub fn udp(addr: &str, host: &str) -> Result<SyslogSink, String> {
        let target =
            addr.to_socket_addrs().map_err(|e| format!("syslog address {addr}: {e}"))?.next().ok_or(format!("syslog address {addr} resolves to nothing"))?;
        let bind = if target.is_ipv6() { "[::]:0" } else { "0.0.0.0:0" };
        let s = UdpSocket::bind(bind).map_err(|e| e.to_string())?;
        s.connect(target).map_err(|e| format!("syslog {addr}: {e}"))?;
        Ok(SyslogSink { udp: Some(s), is_tcp: false, ..SyslogSink::tcp(addr, host) })
    }

    pub fn tcp(addr: &str, host: &str) -> SyslogSink {
        SyslogSink {
            addr: addr.into(),
            host: host.into(),
            udp: None,
            tcp: None,
            is_tcp: true,
            retry_at: None,
            backoff: SYSLOG_BACKOFF_FIRST,
            connects: 0,
            stats: Arc::default(),
        }
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
            if self.tcp.is_none() && self.retry_at.is_none_or(|t| Instant::now() >= t) {
                self.connects += 1;
                self.tcp =
                    self.addr.to_socket_addrs().ok().and_then(|mut a| a.next()).and_then(|a| TcpStream::connect_timeout(&a, Duration::from_millis(500)).ok());
                match &self.tcp {
                    Some(t) => {
                        let _ = t.set_write_timeout(Some(Duration::from_millis(500)));
                        self.retry_at = None;
                        self.backoff = SYSLOG_BACKOFF_FIRST;
                    }
                    None => {
                        self.retry_at = Some(Instant::now() + self.backoff);
                        self.backoff = (self.backoff * 2).min(SYSLOG_BACKOFF_MAX);
                    }
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

/// HTTP(S) POST of each document, from its own thread: retries with exponential backoff
/// (0.2 s, 0.4 s, 0.8 s …, 5 tries); a full queue counts the document as dropped. HTTPS checks
/// the server against the system's CA store (SSL_CERT_FILE / SSL_CERT_DIR override it).
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
                let mut builder = ureq::AgentBuilder::new().timeout(Duration::from_secs(3));
                if u.starts_with("https://") {
                    match tls_config() {
                        Ok(c) => builder = builder.tls_config(c),
                        Err(e) => {
                            eprintln!("antidote: webhook {u}: no TLS configuration ({e}); its alerts are counted as failed");
                            for _ in rx {
                                st.failed.fetch_add(1, Relaxed);
                            }
                            return;
                        }
                    }
                }
                let agent = builder.build();
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

/// The TLS client configuration of an https webhook: the system's CA store as it is when the
/// sink starts (SSL_CERT_FILE / SSL_CERT_DIR name other certificates), TLS 1.2 and 1.3.
fn tls_config() -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().unwrap_or_default());
    let config = rustls::ClientConfig::builder_with_provider(rustls::crypto::ring::default_provider().into())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    fn doc() -> serde_json::Value {
        serde_json::json!({
            "@timestamp": "2026-11-24T01:02:03.004Z", "message": "poisoned answer",
            "rule": {"name": "llmnr-poison"}, "source": {"ip": "198.18.0.66"}, "destination": {"ip": "198.18.0.10"},
            "event": {"action": "drop"},
        })
    }

    #[test]
    fn syslog_udp_is_rfc5424() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut s = SyslogSink::udp(&rx.local_addr().unwrap().to_string(), "box1").unwrap();
        s.send(&doc(), 3);
        let mut buf = [0u8; 4096];
        let n = rx.recv(&mut buf).unwrap();
        let line = String::from_utf8_lossy(&buf[..n]);
        assert!(line.starts_with("<131>1 2026-11-24T01:02:03.004Z box1 antidote - alert [antidote@32473 rule=\"llmnr-poison\" src=\"198.18.0.66\""), "{line}");
        assert!(line.contains("poisoned answer {"), "{line}");
        assert_eq!(s.stats().sent.load(Relaxed), 1);
    }

    #[test]
    fn syslog_tcp_is_octet_counted_and_counts_failures() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let mut s = SyslogSink::tcp(&addr, "box1");
        let h = std::thread::spawn(move || {
            let (c, _) = l.accept().unwrap();
            let mut r = BufReader::new(c);
            let mut len = Vec::new();
            r.read_until(b' ', &mut len).unwrap();
            let n: usize = String::from_utf8_lossy(&len).trim().parse().unwrap();
            let mut msg = vec![0; n];
            r.read_exact(&mut msg).unwrap();
            String::from_utf8(msg).unwrap()
        });
        s.send(&doc(), 2);
        let msg = h.join().unwrap();
        assert!(msg.starts_with("<130>1 "), "{msg}");
        // Nobody listening: the messages fail and are counted, and only the first one tries to
        // connect (the rest fall inside the backoff instead of each waiting for a timeout).
        let mut dead = SyslogSink::tcp("127.0.0.1:9", "box1");
        for _ in 0..5 {
            dead.send(&doc(), 2);
        }
        assert_eq!(dead.stats().failed.load(Relaxed), 5);
        assert_eq!(dead.connects, 1);
        assert_eq!(dead.backoff, SYSLOG_BACKOFF_FIRST * 2);
        // Once the backoff has passed, it tries again.
        dead.retry_at = Some(Instant::now());
        dead.send(&doc(), 2);
        assert_eq!(dead.connects, 2);
    }

    #[test]
    fn webhook_over_https_checks_the_certificate() {
        // Two CAs made with openssl, each signing a server certificate for 127.0.0.1. The client
        // trusts the first through SSL_CERT_FILE, which a webhook reads when it starts (no other
        // test uses TLS, so setting it here affects none).
        let dir = std::env::temp_dir().join(format!("antidote-webhook-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = |f: &str| dir.join(f).to_str().unwrap().to_string();
        let sh = |args: &[&str]| {
            let o = std::process::Command::new("openssl").args(args).output().expect("openssl");
            assert!(o.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&o.stderr));
        };
        std::fs::write(p("ext"), "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n").unwrap();
        let server = |ca: &str| {
            sh(&[
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                &format!("/CN=antidote test {ca}"),
                "-keyout",
                &p(&format!("{ca}.key")),
                "-out",
                &p(&format!("{ca}.pem")),
            ]);
            sh(&[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-subj",
                "/CN=127.0.0.1",
                "-keyout",
                &p(&format!("{ca}-srv.key")),
                "-out",
                &p(&format!("{ca}-srv.csr")),
            ]);
            sh(&[
                "x509",
                "-req",
                "-in",
                &p(&format!("{ca}-srv.csr")),
                "-CA",
                &p(&format!("{ca}.pem")),
                "-CAkey",
                &p(&format!("{ca}.key")),
                "-CAcreateserial",
                "-days",
                "1",
                "-extfile",
                &p("ext"),
                "-out",
                &p(&format!("{ca}-srv.pem")),
            ]);
            let cfg = tiny_http::SslConfig {
                certificate: std::fs::read(p(&format!("{ca}-srv.pem"))).unwrap(),
                private_key: std::fs::read(p(&format!("{ca}-srv.key"))).unwrap(),
            };
            let srv = tiny_http::Server::https("127.0.0.1:0", cfg).unwrap();
            let url = format!("https://127.0.0.1:{}/hook", srv.server_addr().to_ip().unwrap().port());
            let h = std::thread::spawn(move || {
                let mut req = srv.recv_timeout(Duration::from_secs(20)).unwrap()?;
                let mut body = String::new();
                req.as_reader().read_to_string(&mut body).unwrap();
                let head = format!("{} {}", req.method(), req.url());
                req.respond(tiny_http::Response::empty(200)).unwrap();
                Some((head, body))
            });
            (url, h)
        };
        let (trusted_url, trusted) = server("ca1");
        let (untrusted_url, _untrusted) = server("ca2");
        std::env::set_var("SSL_CERT_FILE", p("ca1.pem"));
        let settle = |st: &SinkStats| {
            for _ in 0..200 {
                if st.sent.load(Relaxed) + st.failed.load(Relaxed) == 1 {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            (st.sent.load(Relaxed), st.failed.load(Relaxed))
        };
        let mut w = WebhookSink::start(&trusted_url, 4);
        w.send(&doc(), 3);
        let (head, body) = trusted.join().unwrap().expect("a POST over TLS");
        assert_eq!(head, "POST /hook");
        assert!(body.contains("\"llmnr-poison\""), "{body}");
        assert_eq!(settle(&w.stats()), (1, 0));
        // A server whose certificate chains to a CA the client does not trust gets nothing.
        let mut u = WebhookSink::start(&untrusted_url, 4);
        u.send(&doc(), 3);
        assert_eq!(settle(&u.stats()), (0, 1), "a certificate from an unknown CA must not be accepted");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn webhook_posts_json_and_counts_what_it_cannot_deliver() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", l.local_addr().unwrap());
        let h = std::thread::spawn(move || {
            let (mut c, _) = l.accept().unwrap();
            let mut buf = vec![0u8; 8192];
            let mut got = Vec::new();
            while !String::from_utf8_lossy(&got).contains("poisoned answer") {
                let n = c.read(&mut buf).unwrap();
                if n == 0 {
                    break;
                }
                got.extend(&buf[..n]);
            }
            c.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
            String::from_utf8(got).unwrap()
        });
        let mut w = WebhookSink::start(&url, 4);
        w.send(&doc(), 3);
        let req = h.join().unwrap();
        assert!(req.starts_with("POST /hook HTTP/1.1") && req.contains("application/json") && req.contains("\"llmnr-poison\""), "{req}");
        let st = w.stats();
        for _ in 0..50 {
            if st.sent.load(Relaxed) == 1 {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        assert_eq!(st.sent.load(Relaxed), 1);
        // A webhook that is down: retries, then counts the failure; a full queue counts drops.
        let mut down = WebhookSink::start("http://127.0.0.1:9/hook", 1);
        for _ in 0..5 {
            down.send(&doc(), 3);
        }
        let ds = down.stats();
        assert!(ds.dropped.load(Relaxed) >= 3, "queue of 1: most are dropped and counted");
        for _ in 0..100 {
            if ds.failed.load(Relaxed) >= 1 {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        assert!(ds.failed.load(Relaxed) >= 1, "the undeliverable POST is counted as failed after its retries");
    }
}
