//! The fields a policy can read: every field of the wire schema (`antidote_wire::fields`, with
//! its protocol and whether a frame read up to its transport holds it) plus metadata about
//! where the frame entered.
use antidote_wire::fields::{self, FieldDef, FieldType};

/// Metadata fields: where the frame came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaField {
    /// `meta.port`: index of the ingress port in the hardware profile.
    Port,
    /// `meta.from_segment`: the frame entered on a pair's `a` side (the victims' segment).
    FromSegment,
}

/// Fields the learned network answers for the frame (`crate::state::Network`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LearnedField {
    /// `learned.src_mac`: the MAC the network binds `ip.src` to on the frame's segment.
    SrcMac,
    /// `learned.dst_mac`: the MAC the network binds `ip.dst` to.
    DstMac,
    /// `learned.name_owner`: the MAC that owns the frame's question name.
    NameOwner,
    /// `learned.name_owned`: whether anyone owns the frame's question name.
    NameOwned,
    /// `learned.src_name_server`: `ip.src` is a NetBIOS name server an infrastructure DHCP
    /// server hands out.
    SrcNameServer,
    /// `canary.answered`: the frame answers one of the appliance's canary queries.
    CanaryAnswered,
    /// `learned.src_verified`: the sender left a probe unanswered in the last hour.
    SrcVerified,
}

/// Where a field's value comes from.
#[derive(Clone, Copy)]
pub enum Source {
    Wire(&'static FieldDef),
    Meta(MetaField),
    Learned(LearnedField),
}

/// A resolved field.
#[derive(Clone, Copy)]
pub struct FieldRef {
    pub name: &'static str,
    pub ty: FieldType,
    pub src: Source,
    /// The protocol the frame must have for the field to have a value (0: always).
    pub gate: u32,
    /// A frame read only up to its transport holds the field.
    pub transport: bool,
    /// For a bool field: bits a frame must also have for it to be true ([`FieldDef::true_needs`]).
    pub true_needs: u32,
    /// The bool field is true exactly when the frame has `true_needs` ([`FieldDef::is_flag`]).
    pub is_flag: bool,
}

/// Which Ethernet endpoint of a frame an address field belongs to: `ip.src` is the address of
/// the frame's Ethernet source, `ip.dst` of its destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Source,
    Destination,
}

impl FieldRef {
    /// The endpoint whose address this field is (`ip.src`, `ip.dst`), if it is one.
    pub fn endpoint(&self) -> Option<Endpoint> {
        match self.name {
            "ip.src" => Some(Endpoint::Source),
            "ip.dst" => Some(Endpoint::Destination),
            _ => None,
        }
    }

    /// The endpoint this field names a host of, by address or by MAC (`ip.src`, `eth.src`, …):
    /// what `learn` and `quarantine` check against the learned network.
    pub fn host_endpoint(&self) -> Option<Endpoint> {
        match self.name {
            "eth.src" => Some(Endpoint::Source),
            "eth.dst" => Some(Endpoint::Destination),
            _ => self.endpoint(),
        }
    }
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

pub const LEARNED_FIELDS: [(&str, FieldType, LearnedField, &str); 7] = [
    (
        "learned.src_mac",
        FieldType::Mac,
        LearnedField::SrcMac,
        "the MAC the learned network binds `ip.src` (an ARP frame: its sender's address) to on the frame's segment (from ARP, neighbour discovery and DHCP); no value while it binds it to none",
    ),
    ("learned.dst_mac", FieldType::Mac, LearnedField::DstMac, "the MAC the learned network binds `ip.dst` to on the frame's segment"),
    (
        "learned.name_owner",
        FieldType::Mac,
        LearnedField::NameOwner,
        "the MAC that owns the name the frame asks about or answers (NBT-NS, LLMNR, mDNS: one name in all three), learned from its registrations, announcements, probes, DHCP host name or confirmed answers; no value while nobody owns it",
    ),
    (
        "learned.name_owned",
        FieldType::Bool,
        LearnedField::NameOwned,
        "the name the frame asks about or answers has an owner (`learned.name_owner`); false while nobody owns it (no value for a frame without a name)",
    ),
    (
        "learned.src_name_server",
        FieldType::Bool,
        LearnedField::SrcNameServer,
        "`ip.src` is a NetBIOS name server (WINS) that a DHCP server of ten minutes' standing hands out (option 44): it answers for names other hosts own",
    ),
    (
        "canary.answered",
        FieldType::Bool,
        LearnedField::CanaryAnswered,
        "the frame is an LLMNR, NBT-NS or mDNS answer for the name of one of the appliance's canary queries or probes on its segment (sent in the last ten minutes): a poisoner's — no host owns that name",
    ),
    (
        "learned.src_verified",
        FieldType::Bool,
        LearnedField::SrcVerified,
        "the frame's sender (`ip.src` with `eth.src`) was probed in the last hour — an answer of its was held by `verify` — and left the probe unanswered, as a host that is not a poisoner does",
    ),
];

/// Resolves a field name.
pub fn resolve(name: &str) -> Option<FieldRef> {
    if let Some(d) = fields::lookup(name) {
        let o = d.origin;
        return Some(FieldRef {
            name: d.name,
            ty: d.ty,
            src: Source::Wire(d),
            gate: o.proto,
            transport: o.transport,
            true_needs: d.true_needs,
            is_flag: d.is_flag,
        });
    }
    if let Some(l) = LEARNED_FIELDS.iter().find(|l| l.0 == name) {
        // An address's binding needs the address; a name's owner needs the message, and any of
        // the three name services will do (gate it with a protocol test beside it).
        // (`learned.src_mac` reads an ARP frame's sender address too.)
        let (gate, transport) = match l.2 {
            LearnedField::NameOwner | LearnedField::NameOwned | LearnedField::CanaryAnswered => (0, false),
            LearnedField::SrcMac => (0, true),
            LearnedField::DstMac | LearnedField::SrcNameServer | LearnedField::SrcVerified => (antidote_wire::proto::IP, true),
        };
        return Some(FieldRef { name: l.0, ty: l.1, src: Source::Learned(l.2), gate, transport, true_needs: 0, is_flag: false });
    }
    META_FIELDS.iter().find(|m| m.0 == name).map(|m| FieldRef {
        name: m.0,
        ty: m.1,
        src: Source::Meta(m.2),
        gate: 0,
        transport: true,
        true_needs: 0,
        is_flag: false,
    })
}

/// Every field name, for "did you mean" and the docs.
pub fn all_names() -> impl Iterator<Item = (&'static str, FieldType, &'static str)> {
    fields::FIELDS
        .iter()
        .map(|d| (d.name, d.ty, d.doc))
        .chain(META_FIELDS.iter().map(|m| (m.0, m.1, m.3)))
        .chain(LEARNED_FIELDS.iter().map(|l| (l.0, l.1, l.3)))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The field table's metadata says what the field names always said: a field's protocol is
    /// its prefix's, and only the link, network and transport fields (and the frame's length)
    /// are held by a frame read up to its transport.
    #[test]
    fn origins_follow_the_layers() {
        use antidote_wire::proto;
        for (name, _, _) in all_names() {
            let f = resolve(name).unwrap();
            let prefix = name.split('.').next().unwrap();
            // What is learned of a frame's addresses needs them (the source's: an IP or an ARP
            // frame's).
            let prefix = match name {
                "learned.name_owner" | "learned.name_owned" | "ns.name" | "canary.answered" => "",
                "learned.src_mac" => "any",
                _ if prefix == "learned" => "ip",
                _ => prefix,
            };
            let want = proto::NAMES.iter().find(|(_, n)| *n == prefix).map_or(0, |(b, _)| *b);
            assert_eq!(f.gate, want, "{name}");
            let transport =
                name == "frame.len" || (matches!(prefix, "eth" | "vlan" | "arp" | "ip" | "udp" | "tcp" | "meta" | "any") && !name.starts_with("learned.name"));
            assert_eq!(f.transport, transport, "{name}");
        }
    }
}
