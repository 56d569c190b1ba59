//! RFC 5424 syslog over UDP or TCP.
use super::{Sink, SinkStats};
use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    /// The structured data's ID (`NAME@ENTERPRISE-NUMBER`).
    sd_id: String,
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
            sd_id: super::DEFAULT_SD_ID.into(),
        }
    }

    /// The SD-ID of the messages' structured data.
    pub fn with_sd_id(self, sd_id: &str) -> SyslogSink {
        SyslogSink { sd_id: sd_id.into(), ..self }
    }

    /// The RFC 5424 line for a document.
    pub fn format(doc: &serde_json::Value, severity: u8, host: &str, sd_id: &str) -> String {
        let pri = 16 * 8 + severity as u32;
        let ts = doc["@timestamp"].as_str().unwrap_or("-");
        let rule = doc["rule"]["name"].as_str().unwrap_or("-");
        let sd = format!(
            "[{sd_id} rule=\"{}\" src=\"{}\" dst=\"{}\" action=\"{}\" count=\"{}\"]",
            esc(rule),
            esc(doc["source"]["ip"].as_str().unwrap_or("")),
            esc(doc["destination"]["ip"].as_str().unwrap_or("")),
            esc(doc["event"]["action"].as_str().unwrap_or("")),
            doc["antidote"]["count"].as_u64().unwrap_or(1)
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
        let line = SyslogSink::format(doc, severity, &self.host, &self.sd_id);
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

#[cfg(test)]
mod tests {
    use super::super::test_doc as doc;
    use super::*;
    use std::io::{BufRead, BufReader, Read};
    use std::net::TcpListener;

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
}
