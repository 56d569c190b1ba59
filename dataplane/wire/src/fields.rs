//! The typed field schema: every field a policy can read, with its name, its type and how to
//! read it from a [`Frame`]. `antidote dissect` prints exactly these names, and the policy
//! compiler resolves field names through the same table, so the two never disagree.
use crate::dns::{DnsMessage, Name, Question, Record};
use crate::ethernet::Mac;
use crate::frame::Frame;
use crate::ipv4::Fragment;
use crate::nbns::{NbName, NbRecord};
use crate::ntlm::NtlmString;
use std::net::IpAddr;

/// The type of a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    Bool,
    Int,
    Ip,
    Mac,
    /// Text, compared case-insensitively where the protocol is (names, hosts, headers).
    Str,
    /// Raw bytes (shown as hex).
    Bytes,
}

impl FieldType {
    pub fn as_str(&self) -> &'static str {
        match self {
            FieldType::Bool => "bool",
            FieldType::Int => "int",
            FieldType::Ip => "ip",
            FieldType::Mac => "mac",
            FieldType::Str => "string",
            FieldType::Bytes => "bytes",
        }
    }
}

/// A field's value in one frame. Borrowed from the frame: no allocation.
#[derive(Debug, Clone, Copy)]
pub enum Value<'f> {
    Bool(bool),
    Int(u64),
    Ip(IpAddr),
    Mac(Mac),
    Str(&'f [u8]),
    StaticStr(&'static str),
    DnsName(Name<'f>),
    NbName(NbName<'f>),
    Ntlm(NtlmString<'f>),
    Bytes(&'f [u8]),
}

fn copy_lower(t: &[u8], buf: &mut [u8; 256]) -> usize {
    let n = t.len().min(buf.len());
    for (d, c) in buf.iter_mut().zip(&t[..n]) {
        *d = c.to_ascii_lowercase();
    }
    n
}

fn lower_in_place(buf: &mut [u8; 256], n: usize) -> usize {
    buf[..n].make_ascii_lowercase();
    n
}

impl Value<'_> {
    /// Calls `f` with the text of a string value (names decoded into a stack buffer).
    pub fn with_text<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let mut buf = [0u8; 256];
        let t: &[u8] = match self {
            Value::Str(s) => s,
            Value::StaticStr(s) => s.as_bytes(),
            Value::DnsName(n) => {
                let k = n.write_text(&mut buf);
                &buf[..k]
            }
            Value::NbName(n) => {
                let mut b15 = [0u8; 15];
                let t = n.name(&mut b15);
                buf[..t.len()].copy_from_slice(t);
                &buf[..t.len()]
            }
            Value::Ntlm(s) => {
                let k = s.write_ascii(&mut buf);
                &buf[..k]
            }
            _ => return None,
        };
        Some(f(t))
    }

    /// Calls `f` with the text of a string value lower-cased (ASCII) and cut at 256 bytes —
    /// the form policies compare and hash — decoded straight into one stack buffer.
    #[inline]
    pub fn with_lower_text<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
        let mut buf = [0u8; 256];
        let n = match self {
            Value::Str(s) => copy_lower(s, &mut buf),
            Value::StaticStr(s) => copy_lower(s.as_bytes(), &mut buf),
            Value::DnsName(n) => {
                let k = n.write_text(&mut buf);
                lower_in_place(&mut buf, k)
            }
            Value::NbName(n) => n.write_lower(&mut buf),
            Value::Ntlm(s) => {
                let k = s.write_ascii(&mut buf);
                lower_in_place(&mut buf, k)
            }
            _ => return None,
        };
        Some(f(&buf[..n]))
    }

    /// The value as text, for display (allocates: not for the packet path).
    pub fn display(&self) -> String {
        match self {
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Ip(a) => a.to_string(),
            Value::Mac(m) => m.to_string(),
            Value::Bytes(b) => b.iter().map(|x| format!("{x:02x}")).collect(),
            v => v.with_text(|t| String::from_utf8_lossy(t).into_owned()).unwrap_or_default(),
        }
    }
}

/// The name a name-resolution frame asks about or answers: NBT-NS's question (or first
/// record), LLMNR's first question, mDNS's first question (or first answer when it has none).
/// What an alert shows as `dns.question.name`, and part of what tells repeats of an alert apart.
pub fn question_name<'f>(f: &'f Frame<'_>) -> Option<Value<'f>> {
    match f.app {
        crate::App::Nbns(ref m) => m.question.map(|q| Value::NbName(q.name)).or_else(|| m.record().map(|r| Value::NbName(r.name))),
        crate::App::Llmnr(_) => q0(f.llmnr()).map(|q| Value::DnsName(q.name)),
        crate::App::Mdns(_) => q0(f.mdns()).map(|q| Value::DnsName(q.name)).or_else(|| a0(f.mdns()).map(|a| Value::DnsName(a.name))),
        // A SQL-browser request's or answer's instance name (what its canaries and probes ask).
        crate::App::Ssrp(ref m) if !m.instance.is_empty() => Some(Value::Str(m.instance)),
        _ => None,
    }
}

/// Fields whose integers are status codes or flag words: shown in hexadecimal (`0xc0000022`, not
/// `3221225506`) in alert messages and facts.
pub const HEX_FIELDS: [&str; 4] = ["smb2.status", "nbns.flags", "llmnr.flags", "mdns.flags"];

/// A field's value as an alert shows it: [`Value::display`], integers of [`HEX_FIELDS`] in hex.
pub fn display_field(name: &str, v: &Value<'_>) -> String {
    match v {
        Value::Int(i) if HEX_FIELDS.contains(&name) => format!("{i:#x}"),
        _ => v.display(),
    }
}

/// Reads one field from a frame.
pub type Getter = for<'f> fn(&'f Frame<'_>) -> Option<Value<'f>>;
/// Reads the i-th element of a repeated field.
pub type IndexedGetter = for<'f> fn(&'f Frame<'_>, usize) -> Option<Value<'f>>;

/// Where a field's value comes from: the protocol a frame must have for the field to have a
/// value ([`crate::proto`] bits, 0: any frame), and whether a frame read only up to its
/// transport (`Frame::parse_transport`) holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Origin {
    pub proto: u32,
    pub transport: bool,
}

/// The origins of the fields, one per layer.
pub mod origin {
    use super::Origin;
    use crate::proto;
    const fn t(proto: u32) -> Origin {
        Origin { proto, transport: true }
    }
    const fn app(proto: u32) -> Origin {
        Origin { proto, transport: false }
    }
    /// The frame's own length: every frame has it, read or not.
    pub const FRAME: Origin = t(0);
    /// What the whole dissection found (malformed or not): known only once every layer is read.
    pub const DISSECTION: Origin = app(0);
    pub const ETH: Origin = t(proto::ETH);
    pub const VLAN: Origin = t(proto::VLAN);
    pub const ARP: Origin = t(proto::ARP);
    pub const IP: Origin = t(proto::IP);
    pub const UDP: Origin = t(proto::UDP);
    pub const TCP: Origin = t(proto::TCP);
    pub const NBNS: Origin = app(proto::NBNS);
    pub const LLMNR: Origin = app(proto::LLMNR);
    pub const MDNS: Origin = app(proto::MDNS);
    pub const SSRP: Origin = app(proto::SSRP);
    pub const HTTP: Origin = app(proto::HTTP);
    pub const SMB2: Origin = app(proto::SMB2);
    pub const NTLM: Origin = app(proto::NTLM);
    /// Any of the name services (the rule's other tests name the protocol).
    pub const NAME: Origin = app(0);
}

#[derive(Clone, Copy)]
pub struct FieldDef {
    pub name: &'static str,
    pub ty: FieldType,
    pub get: Getter,
    pub doc: &'static str,
    pub origin: Origin,
    /// For a bool field: protocol bits a frame must also have for it to be true (the response
    /// bit for `*.response`, SYN for `tcp.syn`), so a test of it gates on them.
    pub true_needs: u32,
    /// The bool field is true exactly when the frame has [`FieldDef::true_needs`] (`tcp.syn`,
    /// `nbns.broadcast`): its negation is false on every frame with the bits.
    pub is_flag: bool,
}

/// A repeated field, printed as `prefix[i].suffix`.
#[derive(Clone, Copy)]
pub struct IndexedDef {
    pub prefix: &'static str,
    pub suffix: &'static str,
    pub ty: FieldType,
    pub get: IndexedGetter,
}

macro_rules! f {
    ($origin:ident, $name:literal, $ty:ident, $doc:literal, |$f:ident| $body:expr) => {
        f!($origin, $name, $ty, $doc, |$f| $body; true_needs 0, is_flag false)
    };
    ($origin:ident, $name:literal, $ty:ident, $doc:literal, |$f:ident| $body:expr; true_needs $needs:expr, is_flag $flag:expr) => {{
        fn get<'f>($f: &'f Frame<'_>) -> Option<Value<'f>> {
            $body
        }
        FieldDef { name: $name, ty: FieldType::$ty, get, doc: $doc, origin: origin::$origin, true_needs: $needs, is_flag: $flag }
    }};
}

macro_rules! ix {
    ($prefix:literal, $suffix:literal, $ty:ident, |$f:ident, $i:ident| $body:expr) => {{
        fn get<'f>($f: &'f Frame<'_>, $i: usize) -> Option<Value<'f>> {
            $body
        }
        IndexedDef { prefix: $prefix, suffix: $suffix, ty: FieldType::$ty, get }
    }};
}

fn b(v: bool) -> Option<Value<'static>> {
    Some(Value::Bool(v))
}
fn n(v: impl Into<u64>) -> Option<Value<'static>> {
    Some(Value::Int(v.into()))
}
fn s(v: &[u8]) -> Option<Value<'_>> {
    (!v.is_empty()).then_some(Value::Str(v))
}
fn q0<'f>(m: Option<&'f DnsMessage<'_>>) -> Option<&'f Question<'f>> {
    m?.question()
}
fn a0<'f>(m: Option<&'f DnsMessage<'_>>) -> Option<&'f Record<'f>> {
    m?.answer()
}
fn nb0<'f>(f: &'f Frame<'_>) -> Option<&'f NbRecord<'f>> {
    f.nbns()?.record()
}
fn frag(x: Fragment) -> &'static str {
    match x {
        Fragment::None => "none",
        Fragment::First => "first",
        Fragment::Later => "later",
    }
}

/// Every scalar field, in display order. `llmnr.qname` and friends read the first question or
/// answer; the `…[i]…` forms in [`INDEXED`] read them all.
pub static FIELDS: &[FieldDef] = &[
    f!(FRAME, "frame.len", Int, "frame length in bytes", |f| n(f.data.len() as u64)),
    f!(DISSECTION, "frame.malformed", Bool, "some layer could not be read", |f| b(f.malformed())),
    f!(DISSECTION, "frame.error", Str, "the layer and reason of the first dissection error", |f| f.error.map(|(l, _)| Value::StaticStr(l.as_str()))),
    f!(ETH, "eth.src", Mac, "source MAC", |f| f.eth.map(|e| Value::Mac(e.src))),
    f!(ETH, "eth.dst", Mac, "destination MAC", |f| f.eth.map(|e| Value::Mac(e.dst))),
    f!(ETH, "eth.type", Int, "EtherType after the VLAN tags", |f| f.eth.map(|e| Value::Int(e.ethertype as u64))),
    f!(VLAN, "vlan.id", Int, "outer VLAN id", |f| f.eth.and_then(|e| e.vlan_id()).map(|v| Value::Int(v as u64))),
    f!(VLAN, "vlan.inner", Int, "inner VLAN id (QinQ)", |f| f.eth.filter(|e| e.vlan_count == 2).map(|e| Value::Int(e.vlans[1].id() as u64))),
    f!(VLAN, "vlan.count", Int, "number of VLAN tags", |f| f.eth.map(|e| Value::Int(e.vlan_count as u64))),
    f!(ARP, "arp.op", Int, "1 request, 2 reply", |f| f.arp.map(|a| Value::Int(a.op as u64))),
    f!(ARP, "arp.sender_mac", Mac, "sender hardware address", |f| f.arp.map(|a| Value::Mac(a.sender_mac))),
    f!(ARP, "arp.sender_ip", Ip, "sender protocol address", |f| f.arp.map(|a| Value::Ip(IpAddr::V4(a.sender_ip)))),
    f!(ARP, "arp.target_mac", Mac, "target hardware address", |f| f.arp.map(|a| Value::Mac(a.target_mac))),
    f!(ARP, "arp.target_ip", Ip, "target protocol address", |f| f.arp.map(|a| Value::Ip(IpAddr::V4(a.target_ip)))),
    f!(IP, "ip.version", Int, "4 or 6", |f| f.net.map(|x| Value::Int(x.version as u64))),
    f!(IP, "ip.src", Ip, "source address (IPv4 or IPv6)", |f| f.net.map(|x| Value::Ip(x.src.ip()))),
    f!(IP, "ip.dst", Ip, "destination address (IPv4 or IPv6)", |f| f.net.map(|x| Value::Ip(x.dst.ip()))),
    f!(IP, "ip.proto", Int, "IPv4 protocol / IPv6 next header after extension headers", |f| f.net.map(|x| Value::Int(x.proto as u64))),
    f!(IP, "ip.ttl", Int, "IPv4 TTL / IPv6 hop limit", |f| f.net.map(|x| Value::Int(x.ttl as u64))),
    f!(IP, "ip.fragment", Str, "none, first or later", |f| f.net.map(|x| Value::StaticStr(frag(x.fragment)))),
    f!(UDP, "udp.sport", Int, "UDP source port", |f| f.udp().map(|u| Value::Int(u.src_port as u64))),
    f!(UDP, "udp.dport", Int, "UDP destination port", |f| f.udp().map(|u| Value::Int(u.dst_port as u64))),
    f!(UDP, "udp.len", Int, "UDP length field", |f| f.udp().map(|u| Value::Int(u.length as u64))),
    f!(TCP, "tcp.sport", Int, "TCP source port", |f| f.tcp().map(|t| Value::Int(t.src_port as u64))),
    f!(TCP, "tcp.dport", Int, "TCP destination port", |f| f.tcp().map(|t| Value::Int(t.dst_port as u64))),
    f!(TCP, "tcp.flags", Int, "TCP flags (FIN 1, SYN 2, RST 4, PSH 8, ACK 16)", |f| f.tcp().map(|t| Value::Int(t.flags as u64))),
    f!(TCP, "tcp.syn", Bool, "SYN set", |f| f.tcp().map(|t| Value::Bool(t.flags & crate::tcp::SYN != 0)); true_needs crate::proto::SYN, is_flag true),
    f!(TCP, "tcp.len", Int, "TCP payload bytes in this segment", |f| f.tcp().map(|_| Value::Int(f.payload.len() as u64))),
    // NBT-NS
    // Any name service
    f!(NAME, "ns.fragment", Bool, "a first fragment of a UDP datagram to or from an NBT-NS, LLMNR, mDNS or SQL-browser port: its message cannot be read before the receiver reassembles it (a poisoner's way past every rule about answers; legitimate name services do not fragment)", |f| b(crate::frame::name_fragment_bits(f) != 0); true_needs crate::proto::RESP, is_flag false),
    f!(NAME, "ns.name", Str, "the name an NBT-NS, LLMNR or mDNS message asks about or answers (an mDNS answer: its first record's; a SQL-browser request or answer: its instance name); counted, learned and compared as one name across them (`CORPFS01`, `corpfs01`, `corpfs01.local`)", |f| question_name(f)),
    f!(NBNS, "nbns.id", Int, "transaction id", |f| f.nbns().map(|m| Value::Int(m.id as u64))),
    f!(NBNS, "nbns.flags", Int, "the 16-bit flags word (opcode, NM flags, rcode)", |f| f.nbns().map(|m| Value::Int(m.flags as u64))),
    f!(NBNS, "nbns.response", Bool, "R bit", |f| f.nbns().map(|m| Value::Bool(m.is_response())); true_needs crate::proto::RESP, is_flag false),
    f!(NBNS, "nbns.opcode", Int, "0 query, 5 registration, 6 release, 7 WACK, 8/9 refresh", |f| f.nbns().map(|m| Value::Int(m.opcode() as u64))),
    f!(NBNS, "nbns.rcode", Int, "response code (3 = name error)", |f| f.nbns().map(|m| Value::Int(m.rcode() as u64))),
    f!(NBNS, "nbns.broadcast", Bool, "B flag", |f| f.nbns().map(|m| Value::Bool(m.broadcast())); true_needs crate::proto::BCAST, is_flag true),
    f!(NBNS, "nbns.query", Bool, "a name query request for an NB name", |f| f.nbns().map(|m| Value::Bool(m.is_name_query()))),
    f!(NBNS, "nbns.positive", Bool, "a positive name query response", |f| f.nbns().map(|m| Value::Bool(m.is_positive_response())); true_needs crate::proto::RESP, is_flag false),
    f!(NBNS, "nbns.negative", Bool, "a negative name query response", |f| f.nbns().map(|m| Value::Bool(m.is_negative_response())); true_needs crate::proto::RESP, is_flag false),
    f!(NBNS, "nbns.qdcount", Int, "questions", |f| f.nbns().map(|m| Value::Int(m.qdcount as u64))),
    f!(NBNS, "nbns.ancount", Int, "answers", |f| f.nbns().map(|m| Value::Int(m.ancount as u64))),
    f!(NBNS, "nbns.nscount", Int, "authority records", |f| f.nbns().map(|m| Value::Int(m.nscount as u64))),
    f!(NBNS, "nbns.arcount", Int, "additional records", |f| f.nbns().map(|m| Value::Int(m.arcount as u64))),
    f!(NBNS, "nbns.qname", Str, "queried NetBIOS name, without padding or suffix", |f| f.nbns()?.question.map(|q| Value::NbName(q.name))),
    f!(NBNS, "nbns.qsuffix", Int, "queried name's suffix byte (0x00 workstation, 0x20 server)", |f| f
        .nbns()?
        .question
        .map(|q| Value::Int(q.name.suffix() as u64))),
    f!(NBNS, "nbns.qtype", Int, "question type (0x20 NB, 0x21 NBSTAT)", |f| f.nbns()?.question.map(|q| Value::Int(q.qtype as u64))),
    f!(NBNS, "nbns.name", Str, "the name of the question, or of the first record when there is none", |f| {
        let m = f.nbns()?;
        m.question.map(|q| Value::NbName(q.name)).or_else(|| m.record().map(|r| Value::NbName(r.name)))
    }),
    f!(NBNS, "nbns.answer.name", Str, "first record's name", |f| nb0(f).map(|r| Value::NbName(r.name))),
    f!(NBNS, "nbns.answer.ttl", Int, "first record's TTL", |f| nb0(f).map(|r| Value::Int(r.ttl as u64))),
    f!(NBNS, "nbns.answer.type", Int, "first record's type", |f| nb0(f).map(|r| Value::Int(r.rtype as u64))),
    f!(NBNS, "nbns.answer.nb_flags", Int, "first address entry's NB_FLAGS (G 0x8000, ONT 0x6000)", |f| nb0(f)?.first_entry().map(|e| Value::Int(e.0 as u64))),
    f!(NBNS, "nbns.answer.addr", Ip, "first address entry's IPv4 address", |f| nb0(f)?.first_entry().map(|e| Value::Ip(IpAddr::V4(e.1)))),
    // LLMNR
    f!(LLMNR, "llmnr.id", Int, "transaction id", |f| f.llmnr().map(|m| Value::Int(m.id as u64))),
    f!(LLMNR, "llmnr.flags", Int, "the 16-bit flags word", |f| f.llmnr().map(|m| Value::Int(m.flags as u64))),
    f!(LLMNR, "llmnr.response", Bool, "QR bit", |f| f.llmnr().map(|m| Value::Bool(m.is_response())); true_needs crate::proto::RESP, is_flag false),
    f!(LLMNR, "llmnr.query", Bool, "a query (QR clear)", |f| f.llmnr().map(|m| Value::Bool(!m.is_response()))),
    f!(LLMNR, "llmnr.opcode", Int, "opcode", |f| f.llmnr().map(|m| Value::Int(m.opcode() as u64))),
    f!(LLMNR, "llmnr.c", Bool, "C (conflict) bit", |f| f.llmnr().map(|m| Value::Bool(m.c_or_aa()))),
    f!(LLMNR, "llmnr.tc", Bool, "TC bit", |f| f.llmnr().map(|m| Value::Bool(m.tc()))),
    f!(LLMNR, "llmnr.t", Bool, "T (tentative) bit", |f| f.llmnr().map(|m| Value::Bool(m.t_or_rd()))),
    f!(LLMNR, "llmnr.rcode", Int, "response code", |f| f.llmnr().map(|m| Value::Int(m.rcode() as u64))),
    f!(LLMNR, "llmnr.qdcount", Int, "questions", |f| f.llmnr().map(|m| Value::Int(m.qdcount as u64))),
    f!(LLMNR, "llmnr.ancount", Int, "answers", |f| f.llmnr().map(|m| Value::Int(m.ancount as u64))),
    f!(LLMNR, "llmnr.nscount", Int, "authority records", |f| f.llmnr().map(|m| Value::Int(m.nscount as u64))),
    f!(LLMNR, "llmnr.arcount", Int, "additional records", |f| f.llmnr().map(|m| Value::Int(m.arcount as u64))),
    f!(LLMNR, "llmnr.qname", Str, "first question's name", |f| q0(f.llmnr()).map(|q| Value::DnsName(q.name))),
    f!(LLMNR, "llmnr.qtype", Int, "first question's type", |f| q0(f.llmnr()).map(|q| Value::Int(q.qtype as u64))),
    f!(LLMNR, "llmnr.answer.name", Str, "first answer's name", |f| a0(f.llmnr()).map(|a| Value::DnsName(a.name))),
    f!(LLMNR, "llmnr.answer.compressed", Bool, "first answer's name used a compression pointer", |f| a0(f.llmnr()).map(|a| Value::Bool(a.name.compressed))),
    f!(LLMNR, "llmnr.answer.type", Int, "first answer's type", |f| a0(f.llmnr()).map(|a| Value::Int(a.rtype as u64))),
    f!(LLMNR, "llmnr.answer.ttl", Int, "first answer's TTL", |f| a0(f.llmnr()).map(|a| Value::Int(a.ttl as u64))),
    f!(LLMNR, "llmnr.answer.addr", Ip, "first answer's A/AAAA address", |f| a0(f.llmnr())?.addr().map(Value::Ip)),
    f!(LLMNR, "llmnr.answer_matches_question", Bool, "first answer's name equals the question's", |f| {
        let m = f.llmnr()?;
        let (q, a) = (m.question()?, m.answer()?);
        let mut buf = [0u8; 256];
        let k = q.name.write_text(&mut buf);
        Some(Value::Bool(a.name.eq_ignore_case(&buf[..k])))
    }),
    // mDNS
    f!(MDNS, "mdns.id", Int, "transaction id (0 in multicast responses)", |f| f.mdns().map(|m| Value::Int(m.id as u64))),
    f!(MDNS, "mdns.flags", Int, "the 16-bit flags word", |f| f.mdns().map(|m| Value::Int(m.flags as u64))),
    f!(MDNS, "mdns.response", Bool, "QR bit", |f| f.mdns().map(|m| Value::Bool(m.is_response())); true_needs crate::proto::RESP, is_flag false),
    f!(MDNS, "mdns.query", Bool, "a query (QR clear)", |f| f.mdns().map(|m| Value::Bool(!m.is_response()))),
    f!(MDNS, "mdns.aa", Bool, "AA bit", |f| f.mdns().map(|m| Value::Bool(m.c_or_aa()))),
    f!(MDNS, "mdns.tc", Bool, "TC bit", |f| f.mdns().map(|m| Value::Bool(m.tc()))),
    f!(MDNS, "mdns.rcode", Int, "response code", |f| f.mdns().map(|m| Value::Int(m.rcode() as u64))),
    f!(MDNS, "mdns.qdcount", Int, "questions", |f| f.mdns().map(|m| Value::Int(m.qdcount as u64))),
    f!(MDNS, "mdns.ancount", Int, "answers", |f| f.mdns().map(|m| Value::Int(m.ancount as u64))),
    f!(MDNS, "mdns.nscount", Int, "authority records", |f| f.mdns().map(|m| Value::Int(m.nscount as u64))),
    f!(MDNS, "mdns.arcount", Int, "additional records", |f| f.mdns().map(|m| Value::Int(m.arcount as u64))),
    f!(MDNS, "mdns.qname", Str, "first question's name", |f| q0(f.mdns()).map(|q| Value::DnsName(q.name))),
    f!(MDNS, "mdns.qtype", Int, "first question's type", |f| q0(f.mdns()).map(|q| Value::Int(q.qtype as u64))),
    f!(MDNS, "mdns.qu", Bool, "first question asks for a unicast response", |f| q0(f.mdns()).map(|q| Value::Bool(q.qu))),
    f!(MDNS, "mdns.answer.name", Str, "first answer's name", |f| a0(f.mdns()).map(|a| Value::DnsName(a.name))),
    f!(MDNS, "mdns.answer.type", Int, "first answer's type", |f| a0(f.mdns()).map(|a| Value::Int(a.rtype as u64))),
    f!(MDNS, "mdns.answer.ttl", Int, "first answer's TTL", |f| a0(f.mdns()).map(|a| Value::Int(a.ttl as u64))),
    f!(MDNS, "mdns.answer.cache_flush", Bool, "first answer's cache-flush bit", |f| a0(f.mdns()).map(|a| Value::Bool(a.cache_flush))),
    f!(MDNS, "mdns.answer.addr", Ip, "first answer's A/AAAA address", |f| a0(f.mdns())?.addr().map(Value::Ip)),
    f!(MDNS, "mdns.addr", Ip, "the first A/AAAA address among the answers (an announcement lists PTR, SRV and TXT records first)", |f| f
        .mdns()?
        .first_address()
        .map(|(_, a)| Value::Ip(a))),
    f!(MDNS, "mdns.addr_name", Str, "the name of that first A/AAAA answer", |f| f.mdns()?.first_address().map(|(n, _)| Value::DnsName(n))),
    f!(MDNS, "mdns.probe", Bool, "a query that proposes records in its authority section (a probe, RFC 6762 §8.1)", |f| f
        .mdns()
        .map(|m| Value::Bool(m.is_probe()))),
    f!(MDNS, "mdns.authority.name", Str, "first authority record's name (what a probe claims)", |f| f
        .mdns()?
        .authorities()
        .next()
        .map(|r| Value::DnsName(r.name))),
    f!(MDNS, "mdns.authority.addr", Ip, "the first A/AAAA address among the authority records (the address a probe proposes)", |f| f
        .mdns()?
        .authorities()
        .find_map(|r| r.addr())
        .map(Value::Ip)),
    // SQL Server Resolution Protocol
    f!(SSRP, "ssrp.type", Int, "2 CLNT_BCAST_EX, 3 CLNT_UCAST_EX, 4 CLNT_UCAST_INST, 5 SVR_RESP, 15 DAC", |f| f.ssrp().map(|m| Value::Int(m.kind as u64))),
    f!(SSRP, "ssrp.response", Bool, "an SVR_RESP", |f| f.ssrp().map(|m| Value::Bool(m.is_response())); true_needs crate::proto::RESP, is_flag false),
    f!(SSRP, "ssrp.server", Str, "ServerName of the first instance", |f| s(f.ssrp()?.server)),
    f!(SSRP, "ssrp.instance", Str, "instance name asked for or answered", |f| s(f.ssrp()?.instance)),
    f!(SSRP, "ssrp.version", Str, "Version of the first instance", |f| s(f.ssrp()?.version)),
    f!(SSRP, "ssrp.tcp_port", Int, "tcp port of the first instance", |f| f.ssrp()?.tcp_port.map(|p| Value::Int(p as u64))),
    // HTTP
    f!(HTTP, "http.request", Bool, "a request head", |f| f.http().map(|h| Value::Bool(h.is_request()))),
    f!(HTTP, "http.method", Str, "request method", |f| s(f.http()?.method)),
    f!(HTTP, "http.target", Str, "request target as sent", |f| s(f.http()?.target)),
    f!(HTTP, "http.path", Str, "request path (also of absolute-URI targets)", |f| s(f.http()?.path())),
    f!(HTTP, "http.host", Str, "host without port (Host header, else from the target)", |f| s(f.http()?.host_name())),
    f!(HTTP, "http.status", Int, "response status code", |f| f.http()?.status.map(|c| Value::Int(c as u64))),
    f!(HTTP, "http.server", Str, "Server header", |f| s(f.http()?.server)),
    f!(HTTP, "http.user_agent", Str, "User-Agent header", |f| s(f.http()?.user_agent)),
    f!(HTTP, "http.authorization", Str, "Authorization scheme", |f| f.http()?.authorization.map(|a| Value::StaticStr(a.as_str()))),
    f!(HTTP, "http.proxy_authorization", Str, "Proxy-Authorization scheme", |f| f.http()?.proxy_authorization.map(|a| Value::StaticStr(a.as_str()))),
    f!(HTTP, "http.www_authenticate", Str, "WWW-Authenticate scheme", |f| f.http()?.www_authenticate.map(|a| Value::StaticStr(a.as_str()))),
    f!(HTTP, "http.proxy_authenticate", Str, "Proxy-Authenticate scheme", |f| f.http()?.proxy_authenticate.map(|a| Value::StaticStr(a.as_str()))),
    // SMB2
    f!(SMB2, "smb2.command", Int, "0 NEGOTIATE, 1 SESSION_SETUP, …", |f| f.smb2().map(|h| Value::Int(h.command as u64))),
    f!(SMB2, "smb2.status", Int, "NT status (0xC0000022 access denied, 0xC000006D logon failure)", |f| f.smb2().map(|h| Value::Int(h.status as u64))),
    f!(SMB2, "smb2.flags", Int, "header flags", |f| f.smb2().map(|h| Value::Int(h.flags as u64))),
    f!(SMB2, "smb2.response", Bool, "SERVER_TO_REDIR flag", |f| f.smb2().map(|h| Value::Bool(h.is_response()))),
    f!(SMB2, "smb2.session_id", Int, "session id", |f| f.smb2().map(|h| Value::Int(h.session_id))),
    f!(SMB2, "smb2.dialect", Int, "NEGOTIATE response dialect (0x0210 = 2.1, 0x0311 = 3.1.1)", |f| f.smb2()?.dialect.map(|d| Value::Int(d as u64))),
    // NTLMSSP
    f!(NTLM, "ntlm.type", Str, "negotiate, challenge or authenticate", |f| f.ntlm.map(|m| Value::StaticStr(m.type_name()))),
    f!(NTLM, "ntlm.challenge", Bytes, "CHALLENGE's server challenge", |f| f.ntlm.as_ref()?.server_challenge.as_ref().map(|c| Value::Bytes(&c[..]))),
    f!(NTLM, "ntlm.target", Str, "CHALLENGE's target name", |f| f.ntlm.filter(|m| !m.target.is_empty()).map(|m| Value::Ntlm(m.target))),
    f!(NTLM, "ntlm.user", Str, "AUTHENTICATE's user name", |f| f.ntlm.filter(|m| !m.user.is_empty()).map(|m| Value::Ntlm(m.user))),
    f!(NTLM, "ntlm.domain", Str, "AUTHENTICATE's domain", |f| f.ntlm.filter(|m| !m.domain.is_empty()).map(|m| Value::Ntlm(m.domain))),
    f!(NTLM, "ntlm.workstation", Str, "AUTHENTICATE's workstation", |f| f.ntlm.filter(|m| !m.workstation.is_empty()).map(|m| Value::Ntlm(m.workstation))),
];

fn dq<'f>(m: Option<&'f DnsMessage<'_>>, i: usize) -> Option<Question<'f>> {
    m?.questions().nth(i)
}
fn da<'f>(m: Option<&'f DnsMessage<'_>>, i: usize) -> Option<Record<'f>> {
    m?.answers().nth(i)
}
fn nr<'f>(f: &'f Frame<'_>, i: usize) -> Option<NbRecord<'f>> {
    f.nbns()?.records().nth(i)
}

/// Every repeated field (all questions, answers and address entries). Reading element i walks
/// the message again: for display and rules over all answers, not the first-answer fast path.
pub static INDEXED: &[IndexedDef] = &[
    ix!("nbns.answers", "name", Str, |f, i| nr(f, i).map(|r| Value::NbName(r.name))),
    ix!("nbns.answers", "suffix", Int, |f, i| nr(f, i).map(|r| Value::Int(r.name.suffix() as u64))),
    ix!("nbns.answers", "type", Int, |f, i| nr(f, i).map(|r| Value::Int(r.rtype as u64))),
    ix!("nbns.answers", "ttl", Int, |f, i| nr(f, i).map(|r| Value::Int(r.ttl as u64))),
    ix!("nbns.answers", "nb_flags", Int, |f, i| nr(f, i)?.first_entry().map(|e| Value::Int(e.0 as u64))),
    ix!("nbns.answers", "addr", Ip, |f, i| nr(f, i)?.first_entry().map(|e| Value::Ip(IpAddr::V4(e.1)))),
    ix!("llmnr.questions", "name", Str, |f, i| dq(f.llmnr(), i).map(|q| Value::DnsName(q.name))),
    ix!("llmnr.questions", "type", Int, |f, i| dq(f.llmnr(), i).map(|q| Value::Int(q.qtype as u64))),
    ix!("llmnr.questions", "class", Int, |f, i| dq(f.llmnr(), i).map(|q| Value::Int(q.qclass as u64))),
    ix!("llmnr.answers", "name", Str, |f, i| da(f.llmnr(), i).map(|a| Value::DnsName(a.name))),
    ix!("llmnr.answers", "compressed", Bool, |f, i| da(f.llmnr(), i).map(|a| Value::Bool(a.name.compressed))),
    ix!("llmnr.answers", "type", Int, |f, i| da(f.llmnr(), i).map(|a| Value::Int(a.rtype as u64))),
    ix!("llmnr.answers", "class", Int, |f, i| da(f.llmnr(), i).map(|a| Value::Int(a.rclass as u64))),
    ix!("llmnr.answers", "ttl", Int, |f, i| da(f.llmnr(), i).map(|a| Value::Int(a.ttl as u64))),
    ix!("llmnr.answers", "addr", Ip, |f, i| da(f.llmnr(), i)?.addr().map(Value::Ip)),
    ix!("mdns.questions", "name", Str, |f, i| dq(f.mdns(), i).map(|q| Value::DnsName(q.name))),
    ix!("mdns.questions", "type", Int, |f, i| dq(f.mdns(), i).map(|q| Value::Int(q.qtype as u64))),
    ix!("mdns.questions", "class", Int, |f, i| dq(f.mdns(), i).map(|q| Value::Int(q.qclass as u64))),
    ix!("mdns.questions", "qu", Bool, |f, i| dq(f.mdns(), i).map(|q| Value::Bool(q.qu))),
    ix!("mdns.answers", "name", Str, |f, i| da(f.mdns(), i).map(|a| Value::DnsName(a.name))),
    ix!("mdns.answers", "compressed", Bool, |f, i| da(f.mdns(), i).map(|a| Value::Bool(a.name.compressed))),
    ix!("mdns.answers", "type", Int, |f, i| da(f.mdns(), i).map(|a| Value::Int(a.rtype as u64))),
    ix!("mdns.answers", "class", Int, |f, i| da(f.mdns(), i).map(|a| Value::Int(a.rclass as u64))),
    ix!("mdns.answers", "cache_flush", Bool, |f, i| da(f.mdns(), i).map(|a| Value::Bool(a.cache_flush))),
    ix!("mdns.answers", "ttl", Int, |f, i| da(f.mdns(), i).map(|a| Value::Int(a.ttl as u64))),
    ix!("mdns.answers", "addr", Ip, |f, i| da(f.mdns(), i)?.addr().map(Value::Ip)),
    ix!("mdns.authorities", "name", Str, |f, i| f.mdns()?.authorities().nth(i).map(|r| Value::DnsName(r.name))),
    ix!("mdns.authorities", "type", Int, |f, i| f.mdns()?.authorities().nth(i).map(|r| Value::Int(r.rtype as u64))),
    ix!("mdns.authorities", "ttl", Int, |f, i| f.mdns()?.authorities().nth(i).map(|r| Value::Int(r.ttl as u64))),
    ix!("mdns.authorities", "addr", Ip, |f, i| f.mdns()?.authorities().nth(i)?.addr().map(Value::Ip)),
    ix!("mdns.additionals", "name", Str, |f, i| f.mdns()?.additionals().nth(i).map(|r| Value::DnsName(r.name))),
    ix!("mdns.additionals", "type", Int, |f, i| f.mdns()?.additionals().nth(i).map(|r| Value::Int(r.rtype as u64))),
    ix!("mdns.additionals", "addr", Ip, |f, i| f.mdns()?.additionals().nth(i)?.addr().map(Value::Ip)),
];

/// The scalar field named `name`.
pub fn lookup(name: &str) -> Option<&'static FieldDef> {
    FIELDS.iter().find(|f| f.name == name)
}

/// Every field of `frame` that has a value, scalar and repeated, as (name, value) — the
/// output of `antidote dissect`. Allocates (names of repeated fields): not for the packet path.
pub fn all_values<'f>(frame: &'f Frame<'_>) -> Vec<(String, Value<'f>)> {
    let mut out: Vec<(String, Value<'f>)> = FIELDS.iter().filter_map(|d| (d.get)(frame).map(|v| (d.name.to_string(), v))).collect();
    for d in INDEXED {
        for i in 0.. {
            match (d.get)(frame, i) {
                Some(v) => out.push((format!("{}[{i}].{}", d.prefix, d.suffix), v)),
                None => break,
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_and_flag_words_show_in_hex() {
        assert_eq!(display_field("smb2.status", &Value::Int(3221225506)), "0xc0000022");
        assert_eq!(display_field("nbns.flags", &Value::Int(0x0110)), "0x110");
        assert_eq!(display_field("tcp.dport", &Value::Int(445)), "445");
        assert!(HEX_FIELDS.iter().all(|n| lookup(n).is_some()), "every hex field exists");
    }
}
