//! The HTTP API, on the management address only (never a data port). Every request needs a
//! bearer token (compared in constant time, never logged); bodies are limited to 1 MiB; errors
//! are JSON: `{"error": "...", "diagnostics": [...]}`.
//!
//! | method | path | |
//! |---|---|---|
//! | PUT | /v1/policy | compile, swap in atomically; 422 with diagnostics on failure |
//! | POST | /v1/policy/validate | compile only |
//! | GET | /v1/policy | source, version, hash, loaded-at |
//! | POST | /v1/policy/rollback | back to the previous version |
//! | GET | /v1/stats | per port, per lcore, per rule counters with rates; swap latency |
//! | GET | /metrics | the same as Prometheus text |
//! | GET | /v1/alerts?since=…&limit=…[&follow=1] | recent alerts; `follow` streams JSON lines |
//! | GET | /v1/tables, /v1/tables/NAME | learned entries with age and TTL; `hosts`, `owners`, `infra` and `traffic`: the addresses and names learned from the wire, their MACs, the infrastructure (routers, DHCP, DNS and WINS servers, long-standing name owners) and the addresses ordinary traffic shows |
//! | DELETE | /v1/tables/NAME/KEY | forget an entry |
//! | GET | /v1/health | ports up, workers polling (stalled > 100 ms: unhealthy) |
//!
//! (A little over 500 lines: the endpoints are one match on method and path, so that every
//! path's method, authentication and error statuses read together; the learned network's
//! tables are its only helpers of any size.)
use crate::alerts::sinks::SinkStats;
use crate::alerts::PipelineStats;
use crate::manager::{Manager, Outcome};
use crate::metrics::{self, Extra, Rates};
use crate::time::rfc3339;
use antidote_dataplane::run::RunContext;
use antidote_wire::fields::FieldType;
use antidote_wire::frame::Addr;
use serde_json::{json, Value};
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tiny_http::{Header, Method, Request, Response, Server, StatusCode};

/// Largest request body.
pub const MAX_BODY: usize = 1 << 20;
/// How long the API waits on a silent client (headers or body) and on a client that does not
/// read its answer: set on the listening socket, inherited by every accepted connection.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(5);

/// Binds the control API's listening socket on `addr` (IP:PORT).
pub fn listener(addr: &str) -> Result<std::net::TcpListener, String> {
    use socket2::{Domain, Socket, Type};
    let sa: std::net::SocketAddr = addr.parse().map_err(|_| format!("control address {addr} is not IP:PORT"))?;
    let s = Socket::new(Domain::for_address(sa), Type::STREAM, None).map_err(|e| e.to_string())?;
    s.set_reuse_address(true).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(BODY_TIMEOUT)).map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(BODY_TIMEOUT)).map_err(|e| e.to_string())?;
    s.bind(&sa.into()).map_err(|e| format!("control API cannot listen on {addr}: {e}"))?;
    s.listen(128).map_err(|e| e.to_string())?;
    Ok(s.into())
}
/// Requests waiting for a handler at most; beyond, a 503 "retry" (the health check excepted).
pub const MAX_IN_FLIGHT: usize = 32;
/// Threads that handle requests: a fixed pool (a thread per request made the allocator spread
/// over an arena per thread, and resident memory crept up after every burst of clients); a
/// client that sends its body slowly holds one for at most the body timeout.
pub const HANDLERS: usize = 8;

/// A named token (`name:token` lines in the token file; a bare line is named `default`).
#[derive(Clone)]
pub struct Token {
    pub name: String,
    secret: Vec<u8>,
    /// May change things (push, roll back, edit tables); else reads only.
    pub admin: bool,
}

/// Reads tokens from a file: one per line, `NAME:TOKEN[:ROLE]` or `TOKEN`; ROLE is `admin` (the
/// default: pushes, rollbacks, table changes, and every read) or `read` (GET endpoints, metrics
/// and validation only); `#` comments.
pub fn read_tokens(text: &str) -> Vec<Token> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut parts = l.splitn(3, ':').map(str::trim);
            match (parts.next(), parts.next(), parts.next()) {
                (Some(n), Some(t), role) => Token { name: n.to_string(), secret: t.as_bytes().to_vec(), admin: role != Some("read") },
                _ => Token { name: "default".into(), secret: l.as_bytes().to_vec(), admin: true },
            }
        })
        .filter(|t| t.secret.len() >= 16)
        .collect()
}

/// Where the API listens and how it is secured.
pub struct ApiConfig {
    pub addr: String,
    /// The listening socket, bound before the dataplane starts (an address that cannot be
    /// bound is an error then); bound at start when absent.
    pub listener: Option<std::net::TcpListener>,
    pub tokens: Vec<Token>,
    /// PEM certificate and key for HTTPS (rustls).
    pub tls: Option<(Vec<u8>, Vec<u8>)>,
}

pub struct ApiState {
    pub ctx: RunContext,
    pub manager: Arc<Manager>,
    pub rates: Rates,
    pub alerts: Option<Arc<PipelineStats>>,
    pub sinks: Vec<(String, Arc<SinkStats>)>,
    pub tokens: Vec<Token>,
}

pub struct Api {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
    pub addr: String,
}

type Resp = Response<std::io::Cursor<Vec<u8>>>;

fn json_resp(code: u16, v: &Value) -> Resp {
    Response::from_string(v.to_string()).with_status_code(StatusCode(code)).with_header(Header::from_bytes("Content-Type", "application/json").unwrap())
}

fn err(code: u16, msg: &str) -> Resp {
    json_resp(code, &json!({"error": msg, "diagnostics": []}))
}

impl Api {
    pub fn start(cfg: ApiConfig, state: ApiState) -> Result<Api, String> {
        let tls = cfg.tls.clone();
        let ssl = move || tls.as_ref().map(|(cert, key)| tiny_http::SslConfig { certificate: cert.clone(), private_key: key.clone() });
        // The listening socket stays ours: tiny_http's accept thread ends when accept() times out
        // (the read timeout that accepted connections inherit, so that a body that stops
        // arriving is cut off, also bounds accept: after BODY_TIMEOUT without a connection),
        // and a new server is started on a duplicate of the same socket — it never closes, so
        // no connection is refused meanwhile.
        let listener = match cfg.listener {
            Some(l) => l,
            None => listener(&cfg.addr)?,
        };
        let serve = {
            let addr = cfg.addr.clone();
            move |l: &std::net::TcpListener| {
                let dup = l.try_clone().map_err(|e| format!("control API on {addr}: {e}"))?;
                Server::from_listener(dup, ssl()).map_err(|e| format!("control API on {addr}: {e}"))
            }
        };
        let mut server = serve(&listener)?;
        let addr = server.server_addr().to_ip().map(|a| a.to_string()).unwrap_or(cfg.addr.clone());
        let stop = Arc::new(AtomicBool::new(false));
        let state = Arc::new(state);
        let st = stop.clone();
        let (queue, requests) = crossbeam_channel::bounded::<Request>(MAX_IN_FLIGHT);
        let mut handlers = Vec::new();
        for i in 0..HANDLERS {
            let (state, st2, requests) = (state.clone(), st.clone(), requests.clone());
            let h = std::thread::Builder::new()
                .name(format!("api-{i}"))
                .spawn(move || {
                    for req in requests.iter() {
                        handle(&state, req, &st2);
                    }
                })
                .map_err(|e| e.to_string())?;
            handlers.push(h);
        }
        let handle = std::thread::Builder::new()
            .name("api".into())
            .spawn(move || {
                while !st.load(Relaxed) {
                    match server.recv_timeout(Duration::from_millis(200)) {
                        Ok(Some(req)) => {
                            if let Err(crossbeam_channel::TrySendError::Full(req) | crossbeam_channel::TrySendError::Disconnected(req)) = queue.try_send(req) {
                                // The health check is answered even then, here (it reads a
                                // few counters): monitoring sees the appliance, not the crowd.
                                if req.url().trim_end_matches('/') == "/v1/health" {
                                    handle(&state, req, &st);
                                } else {
                                    let _ = req.respond(err(503, "too many requests in flight; retry"));
                                }
                            }
                        }
                        Ok(None) => {}
                        // The accept thread ended (accept timed out, or failed): serve on.
                        Err(_) => match serve(&listener) {
                            Ok(s) => server = s,
                            Err(e) => {
                                eprintln!("antidote: {e}: the control API stops");
                                break;
                            }
                        },
                    }
                }
                // The handlers finish what they hold, then see the queue closed.
                drop(queue);
                for h in handlers {
                    let _ = h.join();
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(Api { stop, handle: Some(handle), addr })
    }

    pub fn stop(&mut self) {
        self.stop.store(true, Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The token (its name, whether it is an admin's) when the request carries a valid bearer token.
fn authenticate(req: &Request, tokens: &[Token]) -> Result<(String, bool), Resp> {
    let h = req.headers().iter().find(|h| h.field.equiv("Authorization")).map(|h| h.value.as_str().to_string());
    let Some(h) = h else { return Err(err(401, "missing bearer token (Authorization: Bearer TOKEN)")) };
    let Some(given) = h.strip_prefix("Bearer ") else { return Err(err(401, "the Authorization header must be `Bearer TOKEN`")) };
    let given = given.trim().as_bytes();
    let mut found: Option<(String, bool)> = None;
    for t in tokens {
        // Constant time in the token's content (the length is not secret).
        let eq = t.secret.len() == given.len() && bool::from(subtle::ConstantTimeEq::ct_eq(&t.secret[..], given));
        if eq && found.is_none() {
            found = Some((t.name.clone(), t.admin));
        }
    }
    found.ok_or_else(|| err(401, "invalid token"))
}

fn read_body(req: &mut Request) -> Result<String, Resp> {
    if req.body_length().map(|n| n > MAX_BODY).unwrap_or(false) {
        return Err(err(413, "request body over 1 MiB"));
    }
    let mut buf = Vec::new();
    // The socket's read timeout (BODY_TIMEOUT) ends a body that stops arriving.
    if let Err(e) = req.as_reader().take(MAX_BODY as u64 + 1).read_to_end(&mut buf) {
        return Err(if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) {
            err(408, "the request body did not arrive in time")
        } else {
            err(400, "could not read the request body")
        });
    }
    if buf.len() > MAX_BODY {
        return Err(err(413, "request body over 1 MiB"));
    }
    String::from_utf8(buf).map_err(|_| err(400, "the body is not UTF-8"))
}

/// The policy source of a push: the raw body, or `{"source": "..."}` with a JSON content type.
fn policy_source(req: &Request, body: String) -> Result<String, Resp> {
    let json = req.headers().iter().any(|h| h.field.equiv("Content-Type") && h.value.as_str().starts_with("application/json"));
    if !json {
        return Ok(body);
    }
    let v: Value = serde_json::from_str(&body).map_err(|e| err(400, &format!("invalid JSON: {e}")))?;
    v.get("source").and_then(Value::as_str).map(str::to_string).ok_or_else(|| err(400, "JSON body needs a string field `source`"))
}

fn outcome(o: Outcome) -> Resp {
    match o {
        Outcome::Installed(_, v) | Outcome::Valid(v) => json_resp(200, &v),
        Outcome::Rejected(v) => json_resp(422, &v),
    }
}

fn query(url: &str) -> Vec<(String, String)> {
    url.split_once('?')
        .map(|(_, q)| q.split('&').filter_map(|kv| kv.split_once('=').map(|(k, v)| (k.to_string(), v.to_string()))).collect())
        .unwrap_or_default()
}

fn parse_since(s: &str) -> Option<u64> {
    s.parse::<u64>().ok()
}

/// The tables of what the workers learned of the network (`antidote_policy::state::Network`):
/// addresses and their MACs, names and the MACs that own them — shown beside the policy's
/// tables (a policy table of the same name is shown instead).
const HOSTS: &str = "hosts";
const OWNERS: &str = "owners";
const INFRA: &str = "infra";
const TRAFFIC: &str = "traffic";
const INFRA_TYPE: &str =
    "ip or mac -> mac: named by an infrastructure DHCP server, a router or DHCP server of ten minutes' standing, a long-standing name owner";
const TRAFFIC_TYPE: &str = "ip -> mac, as ordinary traffic shows it (weak: counts once confirmed)";

fn network_table(state: &ApiState, name: &str, now: u64) -> Resp {
    let net = &state.ctx.shared.network;
    let (table, ty) = match name {
        OWNERS => (&net.owners, "name -> mac"),
        INFRA => (&net.infra, INFRA_TYPE),
        TRAFFIC => (&net.traffic, TRAFFIC_TYPE),
        _ => (&net.hosts, "ip -> mac"),
    };
    let key = |k: u128| match name {
        OWNERS => antidote_policy::keys::name_of_key(k).unwrap_or_else(|| format!("hash:{k:032x}")),
        INFRA => match antidote_policy::state::Network::infra_mac_of_key(k) {
            Some(m) => format!("mac {}", key_text(FieldType::Mac, antidote_policy::keys::mac_key(&m))),
            None => key_text(FieldType::Ip, k),
        },
        _ => key_text(FieldType::Ip, k),
    };
    let mut entries = table.entries(now);
    entries.sort_by_key(|(k, seg, _)| (*seg, *k));
    let entries: Vec<Value> = entries
        .iter()
        .map(|(k, seg, b)| {
            json!({
                "key": key(*k),
                "mac": key_text(FieldType::Mac, antidote_policy::keys::mac_key(&b.mac)),
                "segment": seg,
                "evidence": if name == TRAFFIC {
                    if b.evidence & antidote_policy::state::bindings::evidence::CONTESTED != 0 { "traffic+contested".to_string() } else { "traffic".to_string() }
                } else {
                    antidote_policy::state::bindings::evidence::names(b.evidence)
                },
                "confirmed": name != TRAFFIC || b.confirmed_weak(antidote_policy::state::network::TRAFFIC_CONFIRM_MS),
                "age_ms": now.saturating_sub(b.first_seen_ms),
                "idle_ms": now.saturating_sub(b.last_seen_ms),
                "ttl_left_ms": b.expires_at_ms.saturating_sub(now),
                "conflicts": b.conflicts,
            })
        })
        .collect();
    json_resp(
        200,
        &json!({"name": name, "type": ty, "ttl_ms": table.ttl_ms, "max": table.max, "learned": table.learned(), "conflicts": table.conflicts(), "evictions": table.evictions(), "entries": entries}),
    )
}

fn key_text(ty: FieldType, k: u128) -> String {
    match ty {
        FieldType::Ip => Addr(k).ip().to_string(),
        FieldType::Mac => {
            let b = (k as u64).to_be_bytes();
            format!("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[2], b[3], b[4], b[5], b[6], b[7])
        }
        FieldType::Int => (k as u64).to_string(),
        _ => format!("hash:{k:032x}"),
    }
}

fn parse_key(ty: FieldType, s: &str) -> Option<u128> {
    let s = s.replace("%3A", ":").replace("%3a", ":");
    match ty {
        FieldType::Ip => s.parse::<std::net::IpAddr>().ok().map(antidote_policy::keys::ip_key),
        FieldType::Mac => match antidote_policy::lexer::classify_literal(&s) {
            Some(antidote_policy::ast::Lit::Mac(m)) => Some(antidote_policy::keys::mac_key(&m)),
            _ => None,
        },
        FieldType::Int => s.parse::<u64>().ok().map(|v| v as u128),
        _ => s.strip_prefix("hash:").and_then(|h| u128::from_str_radix(h, 16).ok()),
    }
}

fn extra(state: &ApiState) -> Extra<'_> {
    let p = state.ctx.shared.policy.get();
    Extra {
        policy_version: p.as_ref().map(|p| p.version).unwrap_or(0),
        swap: state.manager.swap_stats(),
        swap_sum_us: state.manager.swap_summary().4,
        alerts: state.alerts.as_deref(),
        sinks: &state.sinks,
    }
}

fn handle(state: &Arc<ApiState>, mut req: Request, stop: &Arc<AtomicBool>) {
    let url = req.url().to_string();
    let path = url.split('?').next().unwrap_or("").trim_end_matches('/').to_string();
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let method = req.method().clone();
    let known = matches!(
        segs.as_slice(),
        ["v1", "policy"]
            | ["v1", "policy", "validate"]
            | ["v1", "policy", "rollback"]
            | ["v1", "stats"]
            | ["metrics"]
            | ["v1", "alerts"]
            | ["v1", "tables"]
            | ["v1", "tables", _]
            | ["v1", "tables", _, _]
            | ["v1", "health"]
    );
    if !known {
        let _ = req.respond(err(404, &format!("no such endpoint: {path}")));
        return;
    }
    let (token, admin) = match authenticate(&req, &state.tokens) {
        Ok(t) => t,
        Err(r) => {
            let _ = req.respond(r);
            return;
        }
    };
    // A read-only token reads (and validates); changes need an admin's.
    let changes = matches!(method, Method::Put | Method::Delete) || (method == Method::Post && segs.as_slice() != ["v1", "policy", "validate"]);
    if changes && !admin {
        let _ = req.respond(err(
            403,
            &format!(
                "token `{token}` is read-only; pushes, rollbacks and table changes need an admin token (NAME:TOKEN or NAME:TOKEN:admin in the token file)"
            ),
        ));
        return;
    }
    let resp = match (&method, segs.as_slice()) {
        (Method::Put, ["v1", "policy"]) => match read_body(&mut req).and_then(|b| policy_source(&req, b)) {
            Ok(src) => outcome(state.manager.push(&src, &token)),
            Err(r) => r,
        },
        (Method::Post, ["v1", "policy", "validate"]) => match read_body(&mut req).and_then(|b| policy_source(&req, b)) {
            Ok(src) => outcome(state.manager.validate(&src)),
            Err(r) => r,
        },
        (Method::Get, ["v1", "policy"]) => match state.ctx.shared.policy.get() {
            Some(p) => json_resp(
                200,
                &json!({"version": p.version, "hash": p.hash, "loaded_at": rfc3339(p.loaded_at_unix_ms), "rules": p.program.rules.len(), "source": p.source}),
            ),
            None => err(404, "no policy is running (antidote bridges only); PUT one to /v1/policy"),
        },
        (Method::Post, ["v1", "policy", "rollback"]) => match state.manager.rollback(&token) {
            Ok(o) => outcome(o),
            Err(e) => err(409, &e),
        },
        (Method::Get, ["v1", "stats"]) => json_resp(200, &metrics::stats_json(&state.ctx, &state.rates, &extra(state))),
        (Method::Get, ["metrics"]) => Response::from_string(metrics::prometheus(&state.ctx, &extra(state)))
            .with_header(Header::from_bytes("Content-Type", "text/plain; version=0.0.4").unwrap()),
        (Method::Get, ["v1", "alerts"]) => {
            let q = query(&url);
            let get = |k: &str| q.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
            let since = match get("since") {
                Some(s) => match parse_since(s) {
                    Some(v) => v,
                    None => {
                        let _ = req.respond(err(400, "`since` is a sequence number from an earlier answer (its `next`)"));
                        return;
                    }
                },
                None => 0,
            };
            let limit = match get("limit").map(|l| l.parse::<usize>()) {
                None => 100,
                Some(Ok(n)) if (1..=1024).contains(&n) => n,
                Some(_) => {
                    let _ = req.respond(err(400, "`limit` is a number of alerts from 1 to 1024"));
                    return;
                }
            };
            let Some(stats) = state.alerts.clone() else {
                let _ = req.respond(err(404, "alerts are off: no policy pipeline"));
                return;
            };
            if get("follow").map(|v| v == "1" || v == "true").unwrap_or(false) {
                let st = stop.clone();
                std::thread::spawn(move || {
                    let reader = Follow { stats, next: since, buf: Vec::new(), pos: 0, stop: st };
                    let r = Response::new(StatusCode(200), vec![Header::from_bytes("Content-Type", "application/x-ndjson").unwrap()], reader, None, None);
                    let _ = req.respond(r);
                });
                return;
            }
            let recent = stats.recent.lock().unwrap_or_else(|e| e.into_inner());
            let docs: Vec<Value> = recent.iter().filter(|(s, _)| *s > since).take(limit).filter_map(|(_, d)| serde_json::from_str(d).ok()).collect();
            let next = recent.iter().filter(|(s, _)| *s > since).take(limit).map(|(s, _)| *s).last().unwrap_or(since);
            json_resp(200, &json!({"alerts": docs, "next": next}))
        }
        (Method::Get, ["v1", "tables"]) => {
            let now = state.ctx.shared.clock.now_ms();
            let v: Vec<Value> = state
                .ctx
                .shared
                .policy
                .get()
                .map(|p| {
                    p.program
                        .tables
                        .iter()
                        .map(|t| {
                            json!({"name": t.name, "type": t.key_ty.as_str(), "ttl_ms": t.ttl_ms, "max": t.max, "entries": t.state.len(now),
                                   "evictions": t.state.evictions(), "refused": t.state.refusals()})
                        })
                        .collect()
                })
                .unwrap_or_default();
            let mut v = v;
            let owners = &state.ctx.shared.network.owners;
            v.push(json!({
                "name": OWNERS, "type": "name -> mac", "ttl_ms": owners.ttl_ms, "max": owners.max, "entries": owners.entries(now).len(),
                "learned": owners.learned(), "conflicts": owners.conflicts(), "evictions": owners.evictions(),
            }));
            let infra = &state.ctx.shared.network.infra;
            v.push(json!({
                "name": INFRA, "type": INFRA_TYPE, "ttl_ms": infra.ttl_ms, "max": infra.max,
                "entries": infra.entries(now).len(), "learned": infra.learned(), "conflicts": infra.conflicts(), "evictions": infra.evictions(),
            }));
            let traffic = &state.ctx.shared.network.traffic;
            v.push(json!({
                "name": TRAFFIC, "type": TRAFFIC_TYPE, "ttl_ms": traffic.ttl_ms, "max": traffic.max,
                "entries": traffic.entries(now).len(), "learned": traffic.learned(), "conflicts": traffic.conflicts(), "evictions": traffic.evictions(),
            }));
            let hosts = &state.ctx.shared.network.hosts;
            v.push(json!({
                "name": HOSTS, "type": "ip -> mac", "ttl_ms": hosts.ttl_ms, "max": hosts.max, "entries": hosts.entries(now).len(),
                "learned": hosts.learned(), "conflicts": hosts.conflicts(), "evictions": hosts.evictions(),
                "arp_mismatched": state.ctx.shared.network.arp_mismatched.load(std::sync::atomic::Ordering::Relaxed),
                "ndp_mismatched": state.ctx.shared.network.ndp_mismatched.load(std::sync::atomic::Ordering::Relaxed),
                "learn_refused": state.ctx.shared.network.learn_refused.load(std::sync::atomic::Ordering::Relaxed),
            }));
            json_resp(200, &json!({"tables": v}))
        }
        (Method::Get, ["v1", "tables", name]) => {
            let now = state.ctx.shared.clock.now_ms();
            let p = state.ctx.shared.policy.get();
            match p.as_ref().and_then(|p| p.program.tables.iter().find(|t| t.name == *name)) {
                None if *name == HOSTS || *name == OWNERS || *name == INFRA || *name == TRAFFIC => network_table(state, name, now),
                None => err(404, &format!("no table named {name}")),
                Some(t) => {
                    let entries: Vec<Value> = t
                        .state
                        .entries(now)
                        .iter()
                        .map(|e| json!({"key": key_text(t.key_ty, e.key), "age_ms": now.saturating_sub(e.learned_at_ms), "ttl_left_ms": e.expires_at_ms.saturating_sub(now), "idle_ms": now.saturating_sub(e.last_used_ms)}))
                        .collect();
                    json_resp(200, &json!({"name": t.name, "type": t.key_ty.as_str(), "ttl_ms": t.ttl_ms, "max": t.max, "entries": entries}))
                }
            }
        }
        // The operator binds an address to a MAC, or names a name's owner: evidence `operator`,
        // replacing what was learned (a claim: the wire does not move it).
        (Method::Put, ["v1", "tables", name, key]) if *name == HOSTS || *name == OWNERS => 'put: {
            let body = match read_body(&mut req) {
                Ok(b) => b,
                Err(r) => break 'put r,
            };
            let v: Value = match serde_json::from_str(&body) {
                Ok(v) => v,
                Err(e) => break 'put err(400, &format!("the body is not JSON ({e}); send {{\"mac\": \"02:00:5e:00:00:01\", \"segment\": 0}}")),
            };
            let Some(mk) = v["mac"].as_str().and_then(|m| parse_key(FieldType::Mac, m)) else {
                break 'put err(400, "`mac` must be a MAC address (02:00:5e:00:00:01)");
            };
            let b = mk.to_be_bytes();
            let mac = [b[10], b[11], b[12], b[13], b[14], b[15]];
            let segment = v["segment"].as_u64().unwrap_or(0);
            let k = if *name == OWNERS {
                antidote_policy::keys::name_key(&antidote_wire::fields::Value::Str(key.as_bytes()))
            } else {
                parse_key(FieldType::Ip, key)
            };
            let Some(k) = k.filter(|_| !key.is_empty()) else { break 'put err(400, &format!("`{key}` is not a key of table {name}")) };
            let net = &state.ctx.shared.network;
            let table = if *name == OWNERS { &net.owners } else { &net.hosts };
            let now = state.ctx.shared.clock.now_ms();
            table.remove(k, segment, now);
            table.bind(k, segment, mac, antidote_policy::state::bindings::evidence::OPERATOR, now);
            json_resp(200, &json!({"bound": key, "mac": key_text(FieldType::Mac, mk), "segment": segment}))
        }
        (Method::Delete, ["v1", "tables", name, key]) => {
            let now = state.ctx.shared.clock.now_ms();
            let p = state.ctx.shared.policy.get();
            match p.as_ref().and_then(|p| p.program.tables.iter().find(|t| t.name == *name)) {
                None if *name == OWNERS => {
                    let owners = &state.ctx.shared.network.owners;
                    let k = antidote_policy::keys::name_key(&antidote_wire::fields::Value::Str(key.as_bytes()));
                    let gone = owners.entries(now).iter().filter(|(ek, seg, _)| Some(*ek) == k && owners.remove(*ek, *seg, now)).count();
                    if gone > 0 {
                        json_resp(200, &json!({"forgotten": key}))
                    } else {
                        err(404, &format!("{key} is not in table {name}"))
                    }
                }
                None if *name == HOSTS || *name == INFRA || *name == TRAFFIC => match parse_key(FieldType::Ip, key) {
                    None => err(400, &format!("`{key}` is not an ip key")),
                    Some(k) => {
                        let net = &state.ctx.shared.network;
                        let hosts = match *name {
                            INFRA => &net.infra,
                            TRAFFIC => &net.traffic,
                            _ => &net.hosts,
                        };
                        let gone = hosts.entries(now).iter().filter(|(ek, seg, _)| *ek == k && hosts.remove(k, *seg, now)).count();
                        if gone > 0 {
                            json_resp(200, &json!({"forgotten": key}))
                        } else {
                            err(404, &format!("{key} is not in table {name}"))
                        }
                    }
                },
                None => err(404, &format!("no table named {name}")),
                Some(t) => match parse_key(t.key_ty, key) {
                    None => err(400, &format!("`{key}` is not a {} key", t.key_ty.as_str())),
                    Some(k) if t.state.remove(k, now) => json_resp(200, &json!({"forgotten": key})),
                    Some(_) => err(404, &format!("{key} is not in table {name}")),
                },
            }
        }
        (Method::Get, ["v1", "health"]) => {
            let now = state.ctx.shared.clock.now_ms();
            let mut reasons = Vec::new();
            for (i, p) in state.ctx.ports.iter().enumerate() {
                if !p.link().up {
                    reasons.push(format!("port {} link is down", state.ctx.port_names[i]));
                }
            }
            for (w, c) in state.ctx.counters.iter().enumerate() {
                let ago = now.saturating_sub(c.last_poll_ms.load(Relaxed));
                if ago > 100 {
                    let lcore = state.ctx.lcores.get(w).copied().unwrap_or_default();
                    let doing = if c.lease.load(Relaxed) == antidote_dataplane::stall::TAKEN {
                        ": its queues are forwarded without inspection (on_stall = \"open\")"
                    } else if ago >= state.ctx.faults.stall_ms && state.ctx.faults.on_stall == antidote_dataplane::stall::OnStall::Closed {
                        ": the pairs' links are down (on_stall = \"closed\")"
                    } else {
                        ""
                    };
                    reasons.push(format!("worker {w} (lcore {lcore}) has not polled for {ago} ms{doing}"));
                }
            }
            if reasons.is_empty() {
                json_resp(200, &json!({"status": "ok"}))
            } else {
                json_resp(503, &json!({"status": "unhealthy", "reasons": reasons}))
            }
        }
        _ => err(405, &format!("{} is not allowed on {path}", method.as_str())),
    };
    // Table changes are audited with the policy's (manager.rs: audit.log).
    if let (Method::Put | Method::Delete, ["v1", "tables", name, key]) = (&method, segs.as_slice()) {
        state.manager.audit_change(&token, &format!("{} table {name} {key}", method.as_str()), resp.status_code().0);
    }
    let _ = req.respond(resp);
}

/// The body of `GET /v1/alerts?follow=1`: JSON lines as alerts are written, until the client
/// goes away or antidote stops.
struct Follow {
    stats: Arc<PipelineStats>,
    next: u64,
    buf: Vec<u8>,
    pos: usize,
    stop: Arc<AtomicBool>,
}

impl Read for Follow {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        loop {
            if self.pos < self.buf.len() {
                let n = out.len().min(self.buf.len() - self.pos);
                out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
                self.pos += n;
                return Ok(n);
            }
            if self.stop.load(Relaxed) {
                return Ok(0);
            }
            self.buf.clear();
            self.pos = 0;
            {
                let recent = self.stats.recent.lock().unwrap_or_else(|e| e.into_inner());
                let from = self.next;
                for (s, d) in recent.iter().filter(|(s, _)| *s > from) {
                    self.buf.extend(d.as_bytes());
                    self.buf.push(b'\n');
                    self.next = *s;
                }
            }
            if self.buf.is_empty() {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lines_name_a_token_and_its_role() {
        let t = read_tokens(
            "# comment\nops:0123456789abcdef0123\nwatch:fedcba9876543210fedc:read\nroot:aaaaaaaaaaaaaaaaaaaa:admin\nbbbbbbbbbbbbbbbbbbbbbbbb\nshort:abc\n",
        );
        let got: Vec<(&str, &[u8], bool)> = t.iter().map(|t| (t.name.as_str(), &t.secret[..], t.admin)).collect();
        assert_eq!(
            got,
            vec![
                ("ops", &b"0123456789abcdef0123"[..], true),
                ("watch", &b"fedcba9876543210fedc"[..], false),
                ("root", &b"aaaaaaaaaaaaaaaaaaaa"[..], true),
                ("default", &b"bbbbbbbbbbbbbbbbbbbbbbbb"[..], true),
            ],
            "a token shorter than 16 characters is refused"
        );
    }
}
