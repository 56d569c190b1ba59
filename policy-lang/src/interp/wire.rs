//! Field values read straight from a frame's bytes, for the reference interpreter: a second,
//! plain reading of the fields the property tests use, sharing no code with the dissector
//! (`antidote_wire::frame`) or the field registry (`antidote_wire::fields`) that the compiled
//! program reads through. Slow (it walks the frame again for every field) and written for
//! well-formed frames: where it cannot read a field it says the frame lacks it.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A field's value, as the reference reads it (names as text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefValue {
    Bool(bool),
    Int(u64),
    Ip(IpAddr),
    Mac([u8; 6]),
    Text(String),
}

/// The fields this reader knows: a generator of test policies draws from these.
pub const FIELDS: &[&str] = &[
    "eth.src",
    "eth.dst",
    "ip.src",
    "ip.dst",
    "ip.ttl",
    "udp.sport",
    "udp.dport",
    "tcp.sport",
    "tcp.dport",
    "tcp.syn",
    "llmnr.response",
    "llmnr.query",
    "llmnr.qname",
    "llmnr.answer.name",
    "llmnr.answer.compressed",
    "llmnr.answer.ttl",
    "llmnr.answer.addr",
    "mdns.response",
    "nbns.query",
    "nbns.positive",
    "nbns.broadcast",
    "nbns.name",
    "nbns.answer.ttl",
    "http.request",
    "http.path",
    "http.status",
    "smb2.command",
];

fn be16(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*d.get(at)?, *d.get(at + 1)?]))
}

fn be32(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([*d.get(at)?, *d.get(at + 1)?, *d.get(at + 2)?, *d.get(at + 3)?]))
}

/// The layers of a frame, as far as they read.
#[derive(Default)]
struct Layers<'a> {
    src: [u8; 6],
    dst: [u8; 6],
    ip: Option<(IpAddr, IpAddr, u8)>,
    /// Source port, destination port, payload.
    udp: Option<(u16, u16, &'a [u8])>,
    /// Source port, destination port, flags, payload.
    tcp: Option<(u16, u16, u8, &'a [u8])>,
}

fn layers(d: &[u8]) -> Option<Layers<'_>> {
    let mut l = Layers { dst: d.get(0..6)?.try_into().ok()?, src: d.get(6..12)?.try_into().ok()?, ..Layers::default() };
    let mut off = 12;
    let mut tags = 0;
    while matches!(be16(d, off)?, 0x8100 | 0x88a8 | 0x9100) {
        tags += 1;
        if tags > 2 {
            return None;
        }
        off += 4;
    }
    let et = be16(d, off)?;
    let l3 = off + 2;
    let (proto, seg) = match et {
        0x0800 => {
            let ihl = (*d.get(l3)? & 0x0f) as usize * 4;
            let total = be16(d, l3 + 2)? as usize;
            if *d.get(l3)? >> 4 != 4 || ihl < 20 || total < ihl || d.len() < l3 + total {
                return Some(l);
            }
            let src = Ipv4Addr::new(d[l3 + 12], d[l3 + 13], d[l3 + 14], d[l3 + 15]);
            let dst = Ipv4Addr::new(d[l3 + 16], d[l3 + 17], d[l3 + 18], d[l3 + 19]);
            l.ip = Some((IpAddr::V4(src), IpAddr::V4(dst), d[l3 + 8]));
            if be16(d, l3 + 6)? & 0x3fff != 0 {
                return Some(l); // a fragment: no transport read
            }
            (d[l3 + 9], &d[l3 + ihl..l3 + total])
        }
        0x86dd => {
            let h = d.get(l3..l3 + 40)?;
            let plen = be16(h, 4)? as usize;
            if h[0] >> 4 != 6 || d.len() < l3 + 40 + plen {
                return Some(l);
            }
            let a = |at: usize| Ipv6Addr::from(<[u8; 16]>::try_from(&h[at..at + 16]).unwrap());
            l.ip = Some((IpAddr::V6(a(8)), IpAddr::V6(a(24)), h[7]));
            (h[6], &d[l3 + 40..l3 + 40 + plen])
        }
        _ => return Some(l),
    };
    match proto {
        17 => {
            let len = be16(seg, 4)? as usize;
            if len >= 8 && seg.len() >= len {
                l.udp = Some((be16(seg, 0)?, be16(seg, 2)?, &seg[8..len]));
            }
        }
        6 => {
            let off = (*seg.get(12)? >> 4) as usize * 4;
            if off >= 20 && seg.len() >= off {
                l.tcp = Some((be16(seg, 0)?, be16(seg, 2)?, seg[13], &seg[off..]));
            }
        }
        _ => {}
    }
    Some(l)
}

/// A DNS name at `at` in message `m`: its text, where the name ends, and whether it used a
/// compression pointer.
fn dns_name(m: &[u8], mut at: usize) -> Option<(String, usize, bool)> {
    let mut labels: Vec<String> = Vec::new();
    let (mut end, mut jumped, mut hops) = (None, false, 0);
    loop {
        let len = *m.get(at)? as usize;
        if len == 0 {
            return Some((labels.join("."), end.unwrap_or(at + 1), jumped));
        }
        if len & 0xc0 == 0xc0 {
            hops += 1;
            if hops > 16 {
                return None;
            }
            end.get_or_insert(at + 2);
            jumped = true;
            at = (be16(m, at)? & 0x3fff) as usize;
            continue;
        }
        labels.push(String::from_utf8_lossy(m.get(at + 1..at + 1 + len)?).into_owned());
        at += 1 + len;
    }
}

/// A DNS-format message (LLMNR, mDNS): its flags, first question's name, and first answer
/// (name, compressed, type, ttl, rdata).
struct Dns {
    flags: u16,
    qname: Option<String>,
    answer: Option<(String, bool, u16, u32, Vec<u8>)>,
}

fn dns(m: &[u8]) -> Option<Dns> {
    let (flags, qd, an) = (be16(m, 2)?, be16(m, 4)?, be16(m, 6)?);
    let mut at = 12;
    let mut qname = None;
    for i in 0..qd {
        let (n, end, _) = dns_name(m, at)?;
        be16(m, end + 2)?;
        if i == 0 {
            qname = Some(n);
        }
        at = end + 4;
    }
    let mut answer = None;
    if an > 0 {
        let (n, end, c) = dns_name(m, at)?;
        let (rtype, ttl, rdlen) = (be16(m, end)?, be32(m, end + 4)?, be16(m, end + 8)? as usize);
        answer = Some((n, c, rtype, ttl, m.get(end + 10..end + 10 + rdlen)?.to_vec()));
    }
    Some(Dns { flags, qname, answer })
}

/// A NetBIOS name (first-level encoding, RFC 1001 §14.1) at `at` in `m`, pointers followed: the
/// 15 name characters without their padding, and where it ends.
fn nb_name(m: &[u8], at: usize) -> Option<(String, usize)> {
    if *m.get(at)? & 0xc0 == 0xc0 {
        let (n, _) = nb_name(m, (be16(m, at)? & 0x3fff) as usize)?;
        return Some((n, at + 2));
    }
    if *m.get(at)? != 32 {
        return None;
    }
    let enc = m.get(at + 1..at + 33)?;
    let raw: Vec<u8> = enc.chunks(2).map(|p| (p[0].wrapping_sub(b'A') << 4) | (p[1].wrapping_sub(b'A') & 0x0f)).collect();
    let name = String::from_utf8_lossy(&raw[..15]).trim_end_matches(' ').to_string();
    // The scope's labels, if any, up to the root.
    let mut end = at + 33;
    while *m.get(end)? != 0 {
        end += 1 + m[end] as usize;
    }
    Some((name, end + 1))
}

/// An NBT-NS message: flags, question (name, type), first record (name, type, ttl), and whether
/// it has an NB record among its answers.
struct Nbns {
    flags: u16,
    question: Option<(String, u16)>,
    record: Option<(String, u16, u32)>,
    has_nb: bool,
}

fn nbns(m: &[u8]) -> Option<Nbns> {
    let (flags, qd, an, ns, ar) = (be16(m, 2)?, be16(m, 4)?, be16(m, 6)?, be16(m, 8)?, be16(m, 10)?);
    let mut at = 12;
    let mut question = None;
    if qd > 0 {
        let (n, end) = nb_name(m, at)?;
        question = Some((n, be16(m, end)?));
        at = end + 4;
    }
    let (mut record, mut has_nb) = (None, false);
    for i in 0..(an as u32 + ns as u32 + ar as u32) {
        let (n, end) = nb_name(m, at)?;
        let (rtype, ttl, rdlen) = (be16(m, end)?, be32(m, end + 4)?, be16(m, end + 8)? as usize);
        if i == 0 {
            record = Some((n, rtype, ttl));
        }
        has_nb |= i < an as u32 && rtype == 0x20;
        at = end + 10 + rdlen;
    }
    Some(Nbns { flags, question, record, has_nb })
}

const METHODS: [&str; 9] = ["GET", "POST", "HEAD", "PUT", "CONNECT", "OPTIONS", "DELETE", "PATCH", "PROPFIND"];

/// An HTTP head's first line: a request's target, or a response's status.
enum Http {
    Request(String),
    Response(u16),
}

fn http(p: &[u8]) -> Option<Http> {
    let line = p.split(|&c| c == b'\n').next()?;
    let line = String::from_utf8_lossy(line.strip_suffix(b"\r").unwrap_or(line)).into_owned();
    let mut parts = line.splitn(3, ' ');
    let (a, b, c) = (parts.next()?, parts.next()?, parts.next().unwrap_or(""));
    if a.starts_with("HTTP/1.") {
        return b.parse::<u16>().ok().filter(|s| (100..1000).contains(s)).map(Http::Response);
    }
    (METHODS.contains(&a) && c.starts_with("HTTP/1.")).then(|| Http::Request(b.to_string()))
}

fn udp_app(sport: u16, dport: u16) -> Option<u16> {
    [5355, 137, 5353, 1434].into_iter().find(|&p| sport == p || dport == p)
}

/// Field `name` of frame `d`, read from its bytes (None: the frame lacks it, or the field is
/// not one this reader knows — [`FIELDS`]).
pub fn field(name: &str, d: &[u8]) -> Option<RefValue> {
    use RefValue::*;
    let l = layers(d)?;
    let udp_msg = |port: u16| l.udp.filter(|u| udp_app(u.0, u.1) == Some(port)).map(|u| u.2);
    let tcp_payload = l.tcp.map(|t| t.3);
    let smb = l.tcp.is_some_and(|t| [139, 445].contains(&t.0) || [139, 445].contains(&t.1));
    let llmnr = || udp_msg(5355).and_then(dns);
    let nb = || udp_msg(137).and_then(nbns);
    let web = || tcp_payload.filter(|p| !(smb && p.get(4..8) == Some(b"\xfeSMB"))).and_then(http);
    Some(match name {
        "eth.src" => Mac(l.src),
        "eth.dst" => Mac(l.dst),
        "ip.src" => Ip(l.ip?.0),
        "ip.dst" => Ip(l.ip?.1),
        "ip.ttl" => Int(l.ip?.2 as u64),
        "udp.sport" => Int(l.udp?.0 as u64),
        "udp.dport" => Int(l.udp?.1 as u64),
        "tcp.sport" => Int(l.tcp?.0 as u64),
        "tcp.dport" => Int(l.tcp?.1 as u64),
        "tcp.syn" => Bool(l.tcp?.2 & 0x02 != 0),
        "llmnr.response" => Bool(llmnr()?.flags & 0x8000 != 0),
        "llmnr.query" => Bool(llmnr()?.flags & 0x8000 == 0),
        "llmnr.qname" => Text(llmnr()?.qname?),
        "llmnr.answer.name" => Text(llmnr()?.answer?.0),
        "llmnr.answer.compressed" => Bool(llmnr()?.answer?.1),
        "llmnr.answer.ttl" => Int(llmnr()?.answer?.3 as u64),
        "llmnr.answer.addr" => {
            let (_, _, rtype, _, rdata) = llmnr()?.answer?;
            match (rtype, rdata.len()) {
                (1, 4) => Ip(IpAddr::V4(Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3]))),
                (28, 16) => Ip(IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(&rdata[..]).ok()?))),
                _ => return None,
            }
        }
        "mdns.response" => Bool(udp_msg(5353).and_then(dns)?.flags & 0x8000 != 0),
        "nbns.query" => {
            let m = nb()?;
            Bool(m.flags & 0x8000 == 0 && (m.flags >> 11) & 0xf == 0 && m.question.is_some_and(|q| q.1 == 0x20))
        }
        "nbns.positive" => {
            let m = nb()?;
            Bool(m.flags & 0x8000 != 0 && (m.flags >> 11) & 0xf == 0 && m.flags & 0xf == 0 && m.has_nb)
        }
        "nbns.broadcast" => Bool(nb()?.flags & 0x0010 != 0),
        "nbns.name" => {
            let m = nb()?;
            Text(m.question.map(|q| q.0).or(m.record.map(|r| r.0))?)
        }
        "nbns.answer.ttl" => Int(nb()?.record?.2 as u64),
        "http.request" => Bool(matches!(web()?, Http::Request(_))),
        "http.path" => match web()? {
            Http::Request(t) => Text(match t.find("://") {
                Some(i) => t[i + 3..].find('/').map(|j| t[i + 3 + j..].to_string()).unwrap_or_else(|| "/".into()),
                None => t,
            }),
            Http::Response(_) => return None,
        },
        "http.status" => match web()? {
            Http::Response(s) => Int(s as u64),
            Http::Request(_) => return None,
        },
        "smb2.command" => {
            // A NetBIOS session message holding a whole SMB2 header (64 bytes, structure size 64).
            let p = tcp_payload.filter(|p| smb && p.get(4..8) == Some(b"\xfeSMB"))?;
            let len = u32::from_be_bytes([0, *p.get(1)?, *p.get(2)?, *p.get(3)?]) as usize;
            let m = &p[4..(4 + len).min(p.len())];
            if p[0] != 0 || m.len() < 64 || u16::from_le_bytes([m[4], m[5]]) != 64 {
                return None;
            }
            Int(u16::from_le_bytes([m[12], m[13]]) as u64)
        }
        _ => return None,
    })
}
