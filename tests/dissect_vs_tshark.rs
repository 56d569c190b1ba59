//! `antidote dissect` against `tshark -T json`, field by field, on the project's own capture of
//! crafted frames (scripts/gen_wire_corpus.py): every protocol, IPv6 and VLAN-tagged frames too.
//! Where both name a field, the values must agree; where tshark dissects a protocol, antidote
//! must too. (tshark has no SQL-browser (SSRP) dissector: SSRP is covered by unit tests.)
mod common;
use common::*;
use serde_json::Value as J;
use std::collections::{BTreeMap, HashMap};
use std::process::Command;
use std::time::Duration;

#[derive(Clone, Copy)]
enum Kind {
    Int,
    Text,
    Lower,
    NbName,
    NbSuffix,
    HostNoPort,
    FirstToken,
    Bool,
    ColonHex,
    LenOfAny,
}

/// (antidote field, tshark field, how to compare)
const MAP: &[(&str, &str, Kind)] = &[
    ("eth.src", "eth.src", Kind::Lower),
    ("eth.dst", "eth.dst", Kind::Lower),
    ("vlan.id", "vlan.id", Kind::Int),
    ("vlan.id", "ieee8021ad.id", Kind::Int),
    ("vlan.inner", "vlan.id", Kind::Int),
    ("arp.op", "arp.opcode", Kind::Int),
    ("arp.sender_mac", "arp.src.hw_mac", Kind::Lower),
    ("arp.sender_ip", "arp.src.proto_ipv4", Kind::Text),
    ("arp.target_ip", "arp.dst.proto_ipv4", Kind::Text),
    ("ip.src", "ip.src", Kind::Text),
    ("ip.dst", "ip.dst", Kind::Text),
    ("ip.src", "ipv6.src", Kind::Text),
    ("ip.dst", "ipv6.dst", Kind::Text),
    ("ip.ttl", "ip.ttl", Kind::Int),
    ("ip.ttl", "ipv6.hlim", Kind::Int),
    ("udp.sport", "udp.srcport", Kind::Int),
    ("udp.dport", "udp.dstport", Kind::Int),
    ("udp.len", "udp.length", Kind::Int),
    ("tcp.sport", "tcp.srcport", Kind::Int),
    ("tcp.dport", "tcp.dstport", Kind::Int),
    ("tcp.flags", "tcp.flags", Kind::Int),
    ("nbns.id", "nbns.id", Kind::Int),
    ("nbns.flags", "nbns.flags", Kind::Int),
    ("nbns.opcode", "nbns.flags.opcode", Kind::Int),
    ("nbns.rcode", "nbns.flags.rcode", Kind::Int),
    ("nbns.broadcast", "nbns.flags.broadcast", Kind::Bool),
    ("nbns.response", "nbns.flags.response", Kind::Bool),
    ("nbns.qdcount", "nbns.count.queries", Kind::Int),
    ("nbns.ancount", "nbns.count.answers", Kind::Int),
    ("nbns.arcount", "nbns.count.add_rr", Kind::Int),
    ("nbns.qname", "nbns.name", Kind::NbName),
    ("nbns.qsuffix", "nbns.name", Kind::NbSuffix),
    ("nbns.qtype", "nbns.type", Kind::Int),
    ("nbns.answer.name", "nbns.name", Kind::NbName),
    ("nbns.answer.ttl", "nbns.ttl", Kind::Int),
    ("nbns.answer.nb_flags", "nbns.nb_flags", Kind::Int),
    ("nbns.answer.addr", "nbns.addr", Kind::Text),
    ("http.method", "http.request.method", Kind::Text),
    ("http.target", "http.request.uri", Kind::Text),
    ("http.host", "http.host", Kind::HostNoPort),
    ("http.status", "http.response.code", Kind::Int),
    ("http.server", "http.server", Kind::Text),
    ("http.user_agent", "http.user_agent", Kind::Text),
    ("http.proxy_authenticate", "http.proxy_authenticate", Kind::FirstToken),
    ("http.proxy_authorization", "http.proxy_authorization", Kind::FirstToken),
    ("smb2.command", "smb2.cmd", Kind::Int),
    ("smb2.status", "smb2.nt_status", Kind::Int),
    ("smb2.flags", "smb2.flags", Kind::Int),
    ("smb2.session_id", "smb2.sesid", Kind::Int),
    ("smb2.dialect", "smb2.dialect", Kind::Int),
    ("ntlm.challenge", "ntlmssp.ntlmserverchallenge", Kind::ColonHex),
    ("ntlm.target", "ntlmssp.challenge.target_name", Kind::Text),
];

/// LLMNR and mDNS are DNS to tshark: the same mapping for both prefixes.
const DNS_MAP: &[(&str, &str, Kind)] = &[
    ("id", "dns.id", Kind::Int),
    ("flags", "dns.flags", Kind::Int),
    ("rcode", "dns.flags.rcode", Kind::Int),
    ("response", "dns.flags.response", Kind::Bool),
    ("qdcount", "dns.count.queries", Kind::Int),
    ("ancount", "dns.count.answers", Kind::Int),
    ("nscount", "dns.count.auth_rr", Kind::Int),
    ("arcount", "dns.count.add_rr", Kind::Int),
    ("qname", "dns.qry.name", Kind::Lower),
    ("qtype", "dns.qry.type", Kind::Int),
    ("qu", "dns.qry.qu", Kind::Bool),
    ("c", "dns.flags.conflict", Kind::Bool),
    ("t", "dns.flags.tentative", Kind::Bool),
    ("tc", "dns.flags.truncated", Kind::Bool),
    ("aa", "dns.flags.authoritative", Kind::Bool),
    ("answer.name", "dns.resp.name", Kind::Lower),
    ("answer.type", "dns.resp.type", Kind::Int),
    ("answer.ttl", "dns.resp.ttl", Kind::Int),
    ("answer.cache_flush", "dns.resp.cache_flush", Kind::Bool),
    ("answer.addr", "dns.a", Kind::Text),
    ("answer.addr", "dns.aaaa", Kind::Text),
    ("questions[0].class", "dns.qry.class", Kind::Int),
    ("answers[0].class", "dns.resp.class", Kind::Int),
    ("qname", "dns.qry.name.len", Kind::LenOfAny),
    // mDNS only: the first address among the answers, what a probe proposes.
    ("addr", "dns.a", Kind::Text),
    ("addr", "dns.aaaa", Kind::Text),
    ("addr_name", "dns.resp.name", Kind::Lower),
    ("authority.name", "dns.resp.name", Kind::Lower),
    ("authority.addr", "dns.a", Kind::Text),
    ("authority.addr", "dns.aaaa", Kind::Text),
];

/// tshark fields whose presence means antidote must have dissected the same layer.
const PRESENCE: &[(&str, &str)] = &[
    ("arp.opcode", "arp.op"),
    ("vlan.id", "vlan.id"),
    ("udp.srcport", "udp.sport"),
    ("tcp.srcport", "tcp.sport"),
    ("nbns.id", "nbns.id"),
    ("http.request.method", "http.method"),
    ("http.response.code", "http.status"),
    ("smb2.cmd", "smb2.command"),
    ("ntlmssp.messagetype", "ntlm.type"),
];

fn flatten(v: &J, out: &mut HashMap<String, Vec<String>>) {
    match v {
        J::Object(m) => {
            for (k, x) in m {
                match x {
                    J::String(s) => out.entry(k.clone()).or_default().push(s.clone()),
                    J::Array(a) if a.iter().all(|e| e.is_string()) => {
                        out.entry(k.clone()).or_default().extend(a.iter().map(|e| e.as_str().unwrap().to_string()))
                    }
                    _ => flatten(x, out),
                }
            }
        }
        J::Array(a) => a.iter().for_each(|x| flatten(x, out)),
        _ => {}
    }
}

fn int(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

fn ours_text(v: &J) -> String {
    match v {
        J::String(s) => s.clone(),
        J::Bool(b) => (if *b { "1" } else { "0" }).to_string(),
        other => other.to_string(),
    }
}

fn agrees(kind: Kind, ours: &J, theirs: &str) -> bool {
    let o = ours_text(ours);
    match kind {
        Kind::Int | Kind::Bool => int(&o).is_some() && int(&o) == int(theirs),
        Kind::Text => o == theirs,
        Kind::Lower => o.eq_ignore_ascii_case(theirs),
        Kind::NbName => theirs.split('<').next().map(|n| n.trim_end() == o).unwrap_or(false),
        Kind::NbSuffix => theirs.split('<').nth(1).and_then(|r| r.get(..2)).and_then(|h| u64::from_str_radix(h, 16).ok()) == int(&o),
        Kind::HostNoPort => theirs.rsplit_once(':').map(|(h, _)| h).unwrap_or(theirs) == o,
        Kind::FirstToken => theirs.split_whitespace().next() == Some(o.as_str()),
        Kind::ColonHex => theirs.replace(':', "") == o,
        Kind::LenOfAny => int(theirs) == Some(o.len() as u64),
    }
}

#[test]
fn dissect_agrees_with_tshark_field_by_field() {
    let s = Scratch::new("tshark");
    let pcap = s.path("corpus.pcap");
    let gen = run_for(Command::new("/usr/bin/python3").arg(repo().join("scripts/gen_wire_corpus.py")).arg(&pcap), Duration::from_secs(60));
    assert!(gen.status.success(), "{}", String::from_utf8_lossy(&gen.stderr));

    let ours = run_for(Command::new(bin()).arg("dissect").arg(&pcap), Duration::from_secs(30));
    assert!(ours.status.success(), "{}", String::from_utf8_lossy(&ours.stderr));
    let ours: Vec<serde_json::Map<String, J>> =
        String::from_utf8(ours.stdout).unwrap().lines().map(|l| serde_json::from_str::<J>(l).unwrap().as_object().unwrap().clone()).collect();

    let theirs = run_for(
        Command::new("tshark")
            // Frame by frame, as the dataplane sees them: no reassembly, no TCP analysis.
            .args(["-o", "tcp.analyze_sequence_numbers:FALSE", "-o", "tcp.desegment_tcp_streams:FALSE"])
            .args(["-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE"])
            .args(["-T", "json", "--no-duplicate-keys", "-r"])
            .arg(&pcap),
        Duration::from_secs(60),
    );
    assert!(theirs.status.success(), "tshark: {}", String::from_utf8_lossy(&theirs.stderr));
    let theirs: Vec<J> = serde_json::from_slice(&theirs.stdout).unwrap();
    assert_eq!(ours.len(), theirs.len(), "frame counts differ");
    assert!(ours.len() >= 30);

    let mut compared: BTreeMap<String, usize> = BTreeMap::new();
    let mut errors = Vec::new();
    for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
        let mut tf = HashMap::new();
        flatten(&t["_source"]["layers"], &mut tf);
        let mut check = |ok: &str, tk: &str, kind: Kind| {
            if let (Some(ov), Some(tv)) = (o.get(ok), tf.get(tk)) {
                *compared.entry(ok.split('.').next().unwrap().to_string()).or_default() += 1;
                if !tv.iter().any(|x| agrees(kind, ov, x)) {
                    errors.push(format!("frame {}: {ok} = {ov} but tshark {tk} = {tv:?}", i + 1));
                }
            }
        };
        for &(ok, tk, kind) in MAP {
            // An 802.1ad outer tag is ieee8021ad.id to tshark; vlan.id is then the inner one.
            if ok == "vlan.id" && tk == "vlan.id" && tf.contains_key("ieee8021ad.id") {
                continue;
            }
            check(ok, tk, kind);
        }
        for prefix in ["llmnr", "mdns"] {
            for &(suffix, tk, kind) in DNS_MAP {
                check(&format!("{prefix}.{suffix}"), tk, kind);
            }
        }
        for &(tk, ok) in PRESENCE {
            if tf.contains_key(tk) && !o.contains_key(ok) {
                errors.push(format!("frame {}: tshark has {tk} but antidote has no {ok} ({:?})", i + 1, o.get("frame.error")));
            }
        }
        let dns_in_tshark = tf.contains_key("dns.id");
        let dns_in_ours = o.contains_key("llmnr.id") || o.contains_key("mdns.id");
        if dns_in_tshark != dns_in_ours {
            errors.push(format!("frame {}: tshark dns {dns_in_tshark}, antidote llmnr/mdns {dns_in_ours}", i + 1));
        }
    }
    assert!(errors.is_empty(), "{} disagreement(s):\n{}", errors.len(), errors.join("\n"));
    for proto in ["eth", "vlan", "arp", "ip", "udp", "tcp", "nbns", "llmnr", "mdns", "http", "smb2", "ntlm"] {
        assert!(compared.get(proto).copied().unwrap_or(0) > 0, "nothing of {proto} was compared: {compared:?}");
    }
    let total: usize = compared.values().sum();
    assert!(total > 400, "only {total} fields compared: {compared:?}");
    eprintln!("compared {total} fields: {compared:?}");
}
