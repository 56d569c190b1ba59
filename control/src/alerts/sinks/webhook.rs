//! An HTTP(S) webhook: each document POSTed from the sink's own thread.
use super::{Sink, SinkStats};
use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

/// HTTP(S) POST of each document, from its own thread: retries with exponential backoff
/// (0.2 s, 0.4 s, 0.8 s …, 5 tries); a full queue counts the document as dropped. HTTPS checks
/// the server against the system's CA store (SSL_CERT_FILE / SSL_CERT_DIR override it).
pub struct WebhookSink {
    url: String,
    /// None once closed.
    tx: Option<Sender<String>>,
    /// The queue's other end, kept to count what is left undelivered at the end.
    left: Receiver<String>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Set when the run ended before the thread did: the document it was sending is counted
    /// as dropped, not later as sent or failed.
    abandoned: Arc<std::sync::atomic::AtomicBool>,
    stats: Arc<SinkStats>,
}

impl WebhookSink {
    pub fn start(url: &str, queue: usize) -> WebhookSink {
        let (tx, rx) = bounded::<String>(queue);
        let left = rx.clone();
        let stats: Arc<SinkStats> = Arc::default();
        let st = stats.clone();
        let abandoned = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let gone = abandoned.clone();
        let u = url.to_string();
        let thread = std::thread::Builder::new()
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
                    if gone.load(Relaxed) {
                        return;
                    }
                    if ok {
                        st.sent.fetch_add(1, Relaxed);
                    } else {
                        st.failed.fetch_add(1, Relaxed);
                    }
                }
            })
            .expect("spawn webhook thread");
        WebhookSink { url: url.into(), tx: Some(tx), left, thread: Some(thread), abandoned, stats }
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
        match self.tx.as_ref().map(|tx| tx.try_send(doc.to_string())) {
            Some(Ok(())) => {}
            Some(Err(TrySendError::Full(_))) | Some(Err(TrySendError::Disconnected(_))) | None => {
                self.stats.dropped.fetch_add(1, Relaxed);
            }
        }
    }
    fn close(&mut self, deadline: Duration) {
        // The thread delivers what is queued, then ends (the queue closed); what it has not
        // delivered by the deadline is counted as dropped.
        self.tx = None;
        let end = std::time::Instant::now() + deadline;
        while self.thread.as_ref().is_some_and(|t| !t.is_finished()) && std::time::Instant::now() < end {
            std::thread::sleep(Duration::from_millis(10));
        }
        let mut left = 0;
        while self.left.try_recv().is_ok() {
            left += 1;
        }
        match self.thread.take() {
            Some(t) if t.is_finished() => {
                let _ = t.join();
            }
            Some(_) => {
                // Still sending one: it is lost with the run.
                self.abandoned.store(true, Relaxed);
                left += 1;
            }
            None => {}
        }
        self.stats.dropped.fetch_add(left, Relaxed);
    }
    fn stats(&self) -> Arc<SinkStats> {
        self.stats.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_doc as doc;
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

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

    /// A server that answers every request 200 after `delay`, counting them.
    fn slow_server(delay: Duration) -> (String, Arc<std::sync::atomic::AtomicU64>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/alerts", l.local_addr().unwrap());
        let got = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let g = got.clone();
        std::thread::spawn(move || {
            for c in l.incoming() {
                let Ok(mut c) = c else { continue };
                let g = g.clone();
                std::thread::spawn(move || {
                    let mut buf = [0u8; 4096];
                    loop {
                        // (Each request arrives in one read: ureq writes it at once.)
                        match c.read(&mut buf) {
                            Ok(0) | Err(_) => return,
                            Ok(_) => {
                                std::thread::sleep(delay);
                                g.fetch_add(1, Relaxed);
                                let _ = c.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                            }
                        }
                    }
                });
            }
        });
        (url, got)
    }

    #[test]
    fn what_is_queued_at_the_end_is_delivered_or_counted() {
        // Delivered within the deadline: all of it.
        // Ten documents to a server answering after `delay`, the sink closed with `deadline`.
        let run = |delay: u64, deadline: Duration| {
            let (url, got) = slow_server(Duration::from_millis(delay));
            let mut s = WebhookSink::start(&url, 64);
            for _ in 0..10 {
                s.send(&doc(), 4);
            }
            s.close(deadline);
            (s, got)
        };
        let (s, got) = run(20, Duration::from_secs(5));
        let st = s.stats();
        assert_eq!((st.sent.load(Relaxed), st.dropped.load(Relaxed)), (10, 0));
        assert_eq!(got.load(Relaxed), 10);
        // A server too slow for the deadline: what is not delivered is counted as dropped.
        let (mut s, _) = run(400, Duration::from_millis(900));
        let st = s.stats();
        let (sent, failed, dropped) = (st.sent.load(Relaxed), st.failed.load(Relaxed), st.dropped.load(Relaxed));
        assert_eq!(sent + failed + dropped, 10, "every document accounted for: sent {sent}, failed {failed}, dropped {dropped}");
        assert!(dropped >= 7, "{dropped}");
        // After closing, a document is dropped, counted.
        s.send(&doc(), 4);
        assert_eq!(s.stats().dropped.load(Relaxed), dropped + 1);
    }
}
