//! An alert as an Elastic Common Schema document.
use crate::time::rfc3339;
use antidote_dataplane::alert::AlertEvent;
use antidote_dataplane::policy::LoadedPolicy;
use antidote_policy::ast::Severity;
use antidote_policy::eval::read;
use antidote_policy::fields::Source;
use antidote_policy::program::Meta;
use antidote_wire::{Frame, Scratch};
use serde_json::{json, Map, Value};

/// The ECS version the documents follow.
pub const ECS_VERSION: &str = "9.0.0";

pub fn ecs_severity(s: Severity) -> u64 {
    match s {
        Severity::Low => 21,
        Severity::Medium => 47,
        Severity::High => 73,
        Severity::Critical => 99,
    }
}

fn protocol(f: &Frame<'_>) -> &'static str {
    use antidote_wire::App;
    match f.app {
        App::Nbns(_) => "nbns",
        App::Llmnr(_) => "llmnr",
        App::Mdns(_) => "mdns",
        App::Ssrp(_) => "ms-sql-browser",
        App::Http(_) => "http",
        App::Smb2(_) => "smb2",
        App::None => "",
    }
}

/// The name a frame resolves or answers, if any.
fn question_name(f: &Frame<'_>) -> Option<String> {
    antidote_wire::fields::question_name(f).map(|v| v.display())
}

/// An alert's frame as the dissectors can read it. The event keeps the frame's first
/// `FRAME_BYTES`: a longer frame (an SMB2 answer carrying an NTLM challenge) is a prefix whose IP
/// and UDP lengths say more than is there, and would read as truncated — no addresses, no ports.
/// Its lengths are set to the prefix's, so the headers and what the prefix holds of the payload
/// are read.
pub fn readable(frame: &[u8], frame_len: usize) -> std::borrow::Cow<'_, [u8]> {
    if frame_len <= frame.len() {
        return std::borrow::Cow::Borrowed(frame);
    }
    let mut b = frame.to_vec();
    let Ok(eth) = antidote_wire::ethernet::EthernetRepr::parse(&b) else { return std::borrow::Cow::Owned(b) };
    let l3 = eth.payload_offset;
    let n = b.len();
    let udp_at = match eth.ethertype {
        antidote_wire::ethernet::ETHERTYPE_IPV4 if n >= l3 + 20 => {
            b[l3 + 2..l3 + 4].copy_from_slice(&((n - l3) as u16).to_be_bytes());
            (b[l3 + 9] == 17).then(|| l3 + ((b[l3] & 0x0f) as usize) * 4)
        }
        antidote_wire::ethernet::ETHERTYPE_IPV6 if n >= l3 + 40 => {
            b[l3 + 4..l3 + 6].copy_from_slice(&((n - l3 - 40) as u16).to_be_bytes());
            (b[l3 + 6] == 17).then_some(l3 + 40)
        }
        _ => None,
    };
    if let Some(u) = udp_at.filter(|&u| n >= u + 8) {
        b[u + 4..u + 6].copy_from_slice(&((n - u) as u16).to_be_bytes());
    }
    std::borrow::Cow::Owned(b)
}

/// The ECS document of one event (`count` > 1: an aggregate of repeats seen from `first_ms` to
/// `last_ms`).
/// The profile's ports as alerts name them: each port's name and the other port of its pair.
#[derive(Clone, Debug, Default)]
pub struct PortNames {
    pub names: Vec<String>,
    pub peers: Vec<Option<usize>>,
}

impl PortNames {
    fn name(&self, i: usize) -> String {
        self.names.get(i).cloned().unwrap_or_default()
    }

    /// `observer.ingress` / `observer.egress`: the port a frame came in by, the one its pair
    /// forwards it out of, and the pair as the zone of both ("a/b", the segment side first).
    fn observer(&self, port: usize) -> (Value, Value) {
        let peer = self.peers.get(port).copied().flatten();
        let zone = peer.map(|q| if port < q { format!("{}/{}", self.name(port), self.name(q)) } else { format!("{}/{}", self.name(q), self.name(port)) });
        let mut ingress = json!({"interface": {"name": self.name(port)}});
        let mut egress = json!({});
        if let (Some(q), Some(z)) = (peer, zone) {
            ingress["zone"] = json!(z);
            egress = json!({"interface": {"name": self.name(q)}, "zone": z});
        }
        (ingress, egress)
    }
}

pub fn document(e: &AlertEvent, policy: &LoadedPolicy, ports: &PortNames, observer: &str, count: u64, first_ms: u64, last_ms: u64) -> Value {
    let mut scratch = Scratch::default();
    let bytes = readable(e.frame(), e.frame_len as usize);
    let f = Frame::parse(&bytes, &mut scratch);
    let rule = &policy.program.rules[e.rule as usize];
    let meta = Meta { port: e.port, ..Meta::default() };
    let message = policy.program.render_message(e.rule as usize, &f, &meta);
    let mut facts = Map::new();
    for fr in &rule.facts {
        if let Source::Wire(_) = fr.src {
            if let Some(v) = read(fr, &f, &meta) {
                // Typed: numbers as numbers, flags as booleans (hex fields stay text: 0x0110).
                let typed = match v {
                    antidote_wire::fields::Value::Bool(b) => Value::Bool(b),
                    antidote_wire::fields::Value::Int(n) if !antidote_wire::fields::HEX_FIELDS.contains(&fr.name) => json!(n),
                    _ => Value::String(antidote_wire::fields::display_field(fr.name, &v)),
                };
                facts.insert(fr.name.to_string(), typed);
            }
        }
    }
    let (mut source, mut destination) = (Map::new(), Map::new());
    if let Some(eth) = f.eth {
        source.insert("mac".into(), json!(eth.src.to_string().replace(':', "-").to_uppercase()));
        destination.insert("mac".into(), json!(eth.dst.to_string().replace(':', "-").to_uppercase()));
    }
    if let Some(n) = f.net {
        source.insert("ip".into(), json!(n.src.ip().to_string()));
        destination.insert("ip".into(), json!(n.dst.ip().to_string()));
    }
    if let Some((sp, dp)) = f.ports() {
        source.insert("port".into(), json!(sp));
        destination.insert("port".into(), json!(dp));
    }
    let mut network = json!({
        "transport": match f.transport { antidote_wire::frame::Transport::Udp(_) => "udp", antidote_wire::frame::Transport::Tcp(_) => "tcp", _ => "" },
        "protocol": protocol(&f),
        "type": f.net.map(|n| if n.version == 6 { "ipv6" } else { "ipv4" }).unwrap_or(""),
    });
    if let Some(v) = f.eth.and_then(|e| e.vlan_id()) {
        network["vlan"] = json!({"id": v.to_string()});
    }
    if let Some(n) = f.net {
        network["iana_number"] = json!(n.proto.to_string());
        network["community_id"] = json!(super::community_id::community_id(n.src.ip(), n.dst.ip(), n.proto, f.ports()));
    }
    let action = if e.dropped { "drop" } else { "pass" };
    let mut event = json!({
        "kind": "alert",
        "category": ["network", "intrusion_detection"],
        "type": if e.dropped { vec!["denied"] } else { vec!["info"] },
        "severity": ecs_severity(rule.severity),
        "action": action,
        "module": "antidote",
        "dataset": "antidote.alert",
        "created": rfc3339(e.unix_ms),
    });
    if count > 1 || e.storm {
        // (ECS has no count of occurrences: the product's own `antidote.count` carries it.)
        event["start"] = json!(rfc3339(first_ms));
        event["end"] = json!(rfc3339(last_ms));
    }
    let message = if e.storm {
        format!("alert storm: {count} more `{}` alerts within a second, not written one by one; the first of them: {message}", rule.name)
    } else {
        message
    };
    let (ingress, egress) = ports.observer(e.port as usize);
    let mut doc = json!({
        "@timestamp": rfc3339(if count > 1 || e.storm { last_ms } else { e.unix_ms }),
        "message": message,
        "event": event,
        "ecs": {"version": ECS_VERSION},
        "rule": {"name": rule.name, "id": rule.name, "version": policy.hash.to_string(), "description": rule.description,
                 "ruleset": format!("policy v{} {}", policy.version, policy.hash)},
        "log": {"level": rule.severity.as_str()},
        "source": source,
        "destination": destination,
        "network": network,
        "threat": {
            "framework": "MITRE ATT&CK",
            "tactic": {"id": ["TA0006", "TA0009"], "name": ["Credential Access", "Collection"]},
            "technique": {"id": ["T1557"], "name": ["Adversary-in-the-Middle"],
                "subtechnique": {"id": ["T1557.001"], "name": ["LLMNR/NBT-NS Poisoning and SMB Relay"]}},
        },
        "observer": {
            "vendor": "antidote", "product": "antidote", "type": "ips", "hostname": observer,
            "ingress": ingress, "egress": egress,
        },
        "antidote": {
            "facts": facts, "policy_version": e.policy_version, "lcore": e.lcore,
            "frame_length": e.frame_len, "injected_nbns_negative": e.injected, "mirrored": e.mirrored,
            "storm": e.storm,
        },
    });
    if count > 1 || e.storm {
        doc["antidote"]["count"] = json!(count);
    }
    if let Some(name) = question_name(&f) {
        doc["dns"] = json!({"question": {"name": name}});
        if let Some(a) =
            ["llmnr.answer.addr", "nbns.answer.addr", "mdns.answer.addr"].iter().find_map(|n| antidote_wire::fields::lookup(n).and_then(|d| (d.get)(&f)))
        {
            doc["dns"]["answers"] = json!([{"data": a.display()}]);
        }
    }
    http_fields(&f, &mut doc);
    doc
}

/// The HTTP head's facts where ECS keeps them: `http.request.method`, `http.response.status_code`,
/// `url.original` / `url.path` / `url.domain`, `user_agent.original` (what is present; bytes
/// that are not UTF-8 are replaced).
fn http_fields(f: &Frame<'_>, doc: &mut Value) {
    let Some(h) = f.http() else { return };
    let text = |b: &[u8]| (!b.is_empty()).then(|| String::from_utf8_lossy(b).into_owned());
    let mut http = Map::new();
    let mut url = Map::new();
    if h.is_request() {
        http.insert("request".into(), json!({"method": String::from_utf8_lossy(h.method)}));
        for (k, v) in [("original", h.target), ("path", h.path()), ("domain", h.host_name())] {
            if let Some(t) = text(v) {
                url.insert(k.into(), json!(t));
            }
        }
    }
    if let Some(code) = h.status {
        http.insert("response".into(), json!({"status_code": code}));
    }
    if !http.is_empty() {
        doc["http"] = Value::Object(http);
    }
    if !url.is_empty() {
        doc["url"] = Value::Object(url);
    }
    if let Some(ua) = text(h.user_agent) {
        doc["user_agent"] = json!({"original": ua});
    }
}

/// `doc` with the first `bytes` of the alert's frame in `event.original` (base64; ECS: the raw
/// event as it was before it was parsed) and how many bytes that is in
/// `antidote.packet_bytes` (a frame longer than that, or than an alert keeps, is cut: its whole
/// length is `antidote.frame_length`).
pub fn with_packet(doc: &Value, frame: &[u8], bytes: usize) -> Value {
    use base64::Engine;
    let kept = &frame[..frame.len().min(bytes)];
    let mut d = doc.clone();
    d["event"]["original"] = json!(base64::engine::general_purpose::STANDARD.encode(kept));
    d["antidote"]["packet_bytes"] = json!(kept.len());
    d
}

/// The rule name of the notices of a flood of answers over the workers' budget.
pub const ANSWER_FLOOD: &str = "answer-flood";
/// … of frames to or from a learned poisoner over the workers' follow-on budget.
pub const FOLLOW_ON_FLOOD: &str = "follow-on-flood";
/// … of frames for a canary identity over the workers' canary budget.
pub const CANARY_FLOOD: &str = "canary-flood";

/// What a worker's budget cuts short ([`antidote_dataplane::flood`]), as its notices name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flood {
    Answers,
    FollowOns,
    CanaryFrames,
}

impl Flood {
    pub const ALL: [Flood; 3] = [Flood::Answers, Flood::FollowOns, Flood::CanaryFrames];

    pub fn rule(self) -> &'static str {
        match self {
            Flood::Answers => ANSWER_FLOOD,
            Flood::FollowOns => FOLLOW_ON_FLOOD,
            Flood::CanaryFrames => CANARY_FLOOD,
        }
    }

    /// What the budget counts, as the run's closing lines say it.
    pub fn what(self) -> &'static str {
        match self {
            Flood::Answers => "answers",
            Flood::FollowOns => "frames to or from a learned poisoner",
            Flood::CanaryFrames => "frames for a canary identity",
        }
    }

    /// The frames over this budget a worker counted so far.
    pub fn over(self, c: &antidote_dataplane::stats::WorkerCounters) -> u64 {
        use std::sync::atomic::Ordering::Relaxed;
        match self {
            Flood::Answers => c.actions.over_budget.load(Relaxed),
            Flood::FollowOns => c.actions.follow_on_over_budget.load(Relaxed),
            Flood::CanaryFrames => c.actions.canary_over_budget.load(Relaxed),
        }
    }
}

/// The notice of `count` frames over the workers' budget of kind `kind` between `first_ms` and
/// `last_ms` ([`antidote_dataplane::flood`]): not one frame's alert — the frames were not judged.
pub fn flood_notice(kind: Flood, count: u64, first_ms: u64, last_ms: u64, observer: &str, floods: antidote_dataplane::flood::FloodSpec) -> Value {
    // Frames for a canary identity are consumed whatever the profile says of the others.
    let dropped = kind == Flood::CanaryFrames || floods.over_budget == antidote_dataplane::flood::OverBudget::Drop;
    let fate = if kind == Flood::CanaryFrames {
        "consumed unanswered and unjudged"
    } else if dropped {
        "dropped unjudged"
    } else {
        "passed unjudged"
    };
    let (message, description, budget) = match kind {
        Flood::Answers => (
            format!(
                "answer flood: {count} name-resolution answers over the workers' budget ({} a millisecond per worker, {} more from known senders) since the last notice, {fate}",
                floods.answers_per_ms, floods.known_answers_per_ms
            ),
            "name-resolution answers came faster than the workers' budget: a flood (forged answers from made-up sources)",
            json!({"answers_per_ms": floods.answers_per_ms, "known_answers_per_ms": floods.known_answers_per_ms}),
        ),
        Flood::FollowOns => (
            format!(
                "follow-on flood: {count} frames to or from a learned poisoner over the workers' budget ({} a millisecond per worker) since the last notice, {fate}",
                floods.follow_ons_per_ms
            ),
            "frames to or from a learned poisoner came faster than the workers' budget: a flood (forged connections to the poisoner from made-up sources)",
            json!({"follow_ons_per_ms": floods.follow_ons_per_ms}),
        ),
        Flood::CanaryFrames => (
            format!(
                "canary flood: {count} frames for a canary identity over the workers' budget ({} a millisecond per worker) since the last notice, {fate}",
                floods.canary_frames_per_ms
            ),
            "frames for a canary identity came faster than the workers' budget: a flood (forged answers to it, or requests for its address)",
            json!({"canary_frames_per_ms": floods.canary_frames_per_ms}),
        ),
    };
    let mut extra = json!({"count": count, "over_budget": count});
    if let (Some(e), Some(b)) = (extra.as_object_mut(), budget.as_object()) {
        e.extend(b.clone());
    }
    json!({
        "@timestamp": rfc3339(last_ms),
        "message": message,
        "event": {
            "kind": "alert",
            "category": ["network", "intrusion_detection"],
            "type": if dropped { vec!["denied"] } else { vec!["info"] },
            "severity": ecs_severity(Severity::High),
            "action": if dropped { "drop" } else { "pass" },
            "module": "antidote",
            "dataset": "antidote.alert",
            "created": rfc3339(last_ms),
            "start": rfc3339(first_ms),
            "end": rfc3339(last_ms),
        },
        "ecs": {"version": ECS_VERSION},
        "rule": {"name": kind.rule(), "id": kind.rule(), "description": description, "ruleset": "built-in"},
        "log": {"level": Severity::High.as_str()},
        "observer": {"vendor": "antidote", "product": "antidote", "type": "ips", "hostname": observer},
        "antidote": extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_frame_kept_in_part_still_reads_its_addresses_and_ports() {
        // An IPv4 TCP segment of 700 bytes, kept to its first 384.
        let mut f = vec![2, 0xad, 0, 0, 0, 0x10, 2, 0xad, 0, 0, 0, 0x66, 0x08, 0x00];
        let total = 700 - 14;
        f.extend([0x45, 0, (total >> 8) as u8, total as u8, 0, 0, 0x40, 0, 64, 6, 0, 0, 198, 18, 0, 66, 198, 18, 0, 10]);
        f.extend([0x01, 0xbd, 0xc3, 0x50, 0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x18, 0x10, 0, 0, 0, 0, 0]);
        f.resize(700, 0);
        let kept = &f[..384];
        let mut s = Scratch::default();
        assert!(Frame::parse(kept, &mut s).net.is_none(), "(as kept, it reads as truncated)");
        let r = readable(kept, 700);
        let fr = Frame::parse(&r, &mut s);
        assert_eq!(fr.net.map(|n| n.src.ip().to_string()), Some("198.18.0.66".to_string()));
        assert!(matches!(fr.transport, antidote_wire::frame::Transport::Tcp(t) if t.src_port == 445));
        assert_eq!(readable(&f[..100], 100).len(), 100, "a whole frame is read as it is");
    }
}
