//! The fields a policy can read: every field of the wire schema (`antidote_wire::fields`) plus
//! metadata about where the frame entered. Also the protocol gate of each field.
use antidote_wire::fields::{self, FieldDef, FieldType};
use antidote_wire::Frame;

/// Protocol bits of a frame: a rule that reads `llmnr.*` can only match a frame with LLMNR.
pub mod proto {
    pub const ETH: u32 = 1 << 0;
    pub const ARP: u32 = 1 << 1;
    pub const IP: u32 = 1 << 2;
    pub const UDP: u32 = 1 << 3;
    pub const TCP: u32 = 1 << 4;
    pub const NBNS: u32 = 1 << 5;
    pub const LLMNR: u32 = 1 << 6;
    pub const MDNS: u32 = 1 << 7;
    pub const SSRP: u32 = 1 << 8;
    pub const HTTP: u32 = 1 << 9;
    pub const SMB2: u32 = 1 << 10;
    pub const NTLM: u32 = 1 << 11;
    pub const VLAN: u32 = 1 << 12;
    /// A TCP segment with SYN set (connection attempts: follow-on rules gate on it).
    pub const SYN: u32 = 1 << 13;

    pub const NAMES: [(u32, &str); 14] = [
        (ETH, "eth"),
        (ARP, "arp"),
        (IP, "ip"),
        (UDP, "udp"),
        (TCP, "tcp"),
        (NBNS, "nbns"),
        (LLMNR, "llmnr"),
        (MDNS, "mdns"),
        (SSRP, "ssrp"),
        (HTTP, "http"),
        (SMB2, "smb2"),
        (NTLM, "ntlm"),
        (VLAN, "vlan"),
        (SYN, "tcp-syn"),
    ];

    pub fn names(mask: u32) -> String {
        NAMES.iter().filter(|(b, _)| mask & b != 0).map(|(_, n)| *n).collect::<Vec<_>>().join("+")
    }
}

/// The protocols present in a frame.
#[inline]
pub fn frame_mask(f: &Frame<'_>) -> u32 {
    use antidote_wire::frame::{App, Transport};
    let mut m = 0;
    if let Some(e) = &f.eth {
        m |= proto::ETH;
        if e.vlan_count > 0 {
            m |= proto::VLAN;
        }
    }
    if f.arp.is_some() {
        m |= proto::ARP;
    }
    if f.net.is_some() {
        m |= proto::IP;
    }
    m |= match f.transport {
        Transport::Udp(_) => proto::UDP,
        Transport::Tcp(t) if t.flags & antidote_wire::tcp::SYN != 0 => proto::TCP | proto::SYN,
        Transport::Tcp(_) => proto::TCP,
        Transport::None => 0,
    };
    m |= match f.app {
        App::None => 0,
        App::Nbns(_) => proto::NBNS,
        App::Llmnr(_) => proto::LLMNR,
        App::Mdns(_) => proto::MDNS,
        App::Ssrp(_) => proto::SSRP,
        App::Http(_) => proto::HTTP,
        App::Smb2(_) => proto::SMB2,
    };
    if f.ntlm.is_some() {
        m |= proto::NTLM;
    }
    m
}

/// Metadata fields: where the frame came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaField {
    /// `meta.port`: index of the ingress port in the hardware profile.
    Port,
    /// `meta.from_segment`: the frame entered on a pair's `a` side (the victims' segment).
    FromSegment,
}

/// Where a field's value comes from.
#[derive(Clone, Copy)]
pub enum Source {
    Wire(&'static FieldDef),
    Meta(MetaField),
}

/// A resolved field.
#[derive(Clone, Copy)]
pub struct FieldRef {
    pub name: &'static str,
    pub ty: FieldType,
    pub src: Source,
    /// The protocol the frame must have for the field to have a value (0: always).
    pub gate: u32,
}

impl std::fmt::Debug for FieldRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

pub const META_FIELDS: [(&str, FieldType, MetaField, &str); 2] = [
    ("meta.port", FieldType::Int, MetaField::Port, "index of the ingress port in the hardware profile"),
    ("meta.from_segment", FieldType::Bool, MetaField::FromSegment, "the frame entered on a pair's `a` (segment) side"),
];

fn gate_of(name: &str) -> u32 {
    match name.split('.').next().unwrap_or("") {
        "eth" => proto::ETH,
        "vlan" => proto::VLAN,
        "arp" => proto::ARP,
        "ip" => proto::IP,
        "udp" => proto::UDP,
        "tcp" => proto::TCP,
        "nbns" => proto::NBNS,
        "llmnr" => proto::LLMNR,
        "mdns" => proto::MDNS,
        "ssrp" => proto::SSRP,
        "http" => proto::HTTP,
        "smb2" => proto::SMB2,
        "ntlm" => proto::NTLM,
        _ => 0,
    }
}

/// Resolves a field name.
pub fn resolve(name: &str) -> Option<FieldRef> {
    if let Some(d) = fields::lookup(name) {
        return Some(FieldRef { name: d.name, ty: d.ty, src: Source::Wire(d), gate: gate_of(d.name) });
    }
    META_FIELDS
        .iter()
        .find(|m| m.0 == name)
        .map(|m| FieldRef { name: m.0, ty: m.1, src: Source::Meta(m.2), gate: 0 })
}

/// Every field name, for "did you mean" and the docs.
pub fn all_names() -> impl Iterator<Item = (&'static str, FieldType, &'static str)> {
    fields::FIELDS.iter().map(|d| (d.name, d.ty, d.doc)).chain(META_FIELDS.iter().map(|m| (m.0, m.1, m.3)))
}

/// The closest field name to a misspelt one, if any is close.
pub fn suggest(name: &str) -> Option<&'static str> {
    let mut best: Option<(f64, &'static str)> = None;
    for (n, _, _) in all_names() {
        let s = strsim::jaro_winkler(name, n);
        if s > best.map(|b| b.0).unwrap_or(0.0) {
            best = Some((s, n));
        }
    }
    best.filter(|b| b.0 > 0.85).map(|b| b.1)
}
