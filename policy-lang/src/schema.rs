//! The fields a policy can read: every field of the wire schema (`antidote_wire::fields`) plus
//! metadata about where the frame entered. Also the protocol gate of each field.
use antidote_wire::fields::{self, FieldDef, FieldType};
use antidote_wire::frame::{PORT_LLMNR, PORT_MDNS, PORT_NBNS, PORT_NBSS, PORT_SMB, PORT_SSRP};
use antidote_wire::http::http_first_byte;
use antidote_wire::Frame;

use crate::state::AddrFilter;

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
    /// A name-resolution or SQL-browser message that is a response (the NBT-NS R bit, the
    /// LLMNR/mDNS QR bit, an SSRP SVR_RESP): rules about answers gate on it, so queries skip them.
    pub const RESP: u32 = 1 << 14;
    /// An NBT-NS message with the B (broadcast) flag: `nbns.broadcast` gates on it, and
    /// `not nbns.broadcast` excludes it, so broadcast queries skip the rules about unicast ones.
    pub const BCAST: u32 = 1 << 15;

    /// Bool fields that are true only for responses: a test of one gates on [`RESP`].
    pub const RESPONSE_FIELDS: [&str; 6] = ["nbns.response", "nbns.positive", "nbns.negative", "llmnr.response", "mdns.response", "ssrp.response"];

    /// Bool fields that are true exactly when the frame's mask has the bit: a test of one gates
    /// on the bit, its negation on the bit's absence.
    pub const FLAG_FIELDS: [(&str, u32); 2] = [("tcp.syn", SYN), ("nbns.broadcast", BCAST)];

    pub const NAMES: [(u32, &str); 16] = [
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
        (RESP, "response"),
        (BCAST, "nbns-broadcast"),
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
        App::Nbns(n) => proto::NBNS | if n.is_response() { proto::RESP } else { 0 } | if n.broadcast() { proto::BCAST } else { 0 },
        App::Llmnr(d) => proto::LLMNR | if d.is_response() { proto::RESP } else { 0 },
        App::Mdns(d) => proto::MDNS | if d.is_response() { proto::RESP } else { 0 },
        App::Ssrp(s) => proto::SSRP | if s.is_response() { proto::RESP } else { 0 },
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
    META_FIELDS.iter().find(|m| m.0 == name).map(|m| FieldRef { name: m.0, ty: m.1, src: Source::Meta(m.2), gate: 0 })
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

/// What the header look says of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// Plain traffic: no application protocol the dissectors know, and this protocol mask
    /// ([`frame_mask`] of the dissected frame) when its lengths are sound. The look does not
    /// check the IP and transport lengths nor IPv4's fragment fields — no rule can tell a frame
    /// by them — so a frame they make malformed, or a later fragment, gets one of the downgraded
    /// masks of [`Seen::possible`] from the dissector.
    Plain(u32),
    /// An LLMNR, NBT-NS or mDNS message on UDP (chosen by port as the dissector does): its mask
    /// when the message reads, the application bit, the response bit and NBT-NS's broadcast
    /// bit taken from its flags. When the message turns out malformed, the dissector's mask
    /// lacks those bits ([`Seen::possible`] lists every mask). A frame no rule wants under any
    /// of them needs no dissection — queries under a policy about answers.
    Named(u32),
    /// Everything else: read it whole.
    Dissect,
}

impl Seen {
    /// Every mask the dissector can give the frame (some may repeat): the look's, the mask of
    /// a malformed name-resolution message, and the downgrades of a frame whose IP datagram or
    /// transport header is malformed (Ethernet and IP only) or whose IP header is (Ethernet
    /// only). None for [`Seen::Dissect`]. A frame is skipped only if no rule wants any of them.
    #[inline]
    pub fn possible(self) -> Option<[u32; 4]> {
        let downgrades = |m: u32| [m & (proto::ETH | proto::VLAN | proto::IP), m & (proto::ETH | proto::VLAN)];
        match self {
            Seen::Plain(m) => {
                let [ip, eth] = downgrades(m);
                Some([m, m, ip, eth])
            }
            Seen::Named(m) => {
                let [ip, eth] = downgrades(m);
                Some([m, m & !NAMED_BITS, ip, eth])
            }
            Seen::Dissect => None,
        }
    }
}

/// The bits a [`Seen::Named`] mask has beyond its layout.
const NAMED_BITS: u32 = proto::LLMNR | proto::NBNS | proto::MDNS | proto::RESP | proto::BCAST;

/// The header look for one frame: plain traffic — Ethernet (≤ 2 tags) + IPv4 or IPv6 (no
/// extension header) + TCP (not SYN, not the SMB ports, payload not an HTTP head) or UDP (not a
/// name-resolution or SQL-browser port), and ARP — or a name-resolution message on UDP (one tag
/// at most, no IPv4 options or IPv6 extension headers), or neither. The full dissector gives the
/// frame one of the masks of [`Seen::possible`] (tested, with truncations and mutations, and
/// fuzzed).
///
/// This is the per-frame form of [`look_burst`], built from the same pieces.
#[inline]
pub fn look(d: &[u8]) -> Seen {
    let c = d.first_chunk::<60>().map_or(OTHER, layout_of);
    let general = |d: &[u8]| quick_mask_general(d).map_or(Seen::Dissect, Seen::Plain);
    if c == OTHER {
        return general(d);
    }
    match plain_in(c, d) {
        Some(At::Plain) => Seen::Plain(LAYOUT_MASKS[c & 3]),
        Some(At::Named(bits)) => Seen::Named(LAYOUT_MASKS[c & 3] | bits),
        Some(At::Dissect) => Seen::Dissect,
        None => general(d),
    }
}

/// The protocol mask of plain traffic when it is well formed (see [`look`] and
/// [`Seen::possible`]); None for every other frame.
#[inline]
pub fn quick_mask(d: &[u8]) -> Option<u32> {
    match look(d) {
        Seen::Plain(m) => Some(m),
        _ => None,
    }
}

/// What [`look_burst`] found in a burst of up to 32 frames, as bitsets (bit i: frame i).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BurstLook {
    /// Plain traffic, by protocol mask: `plain[k]` holds the frames whose mask is
    /// `LAYOUT_MASKS[k]` (IPv4 or IPv6 TCP, UDP; untagged or tagged).
    pub plain: [u32; 4],
    /// Name-resolution messages ([`Seen::Named`]), their masks in `named_mask`.
    pub named: u32,
    pub named_mask: [u16; 32],
    /// Frames to dissect: a rule may want them, or they are malformed.
    pub dissect: u32,
    /// Frames of other layouts (ARP, IPv4 options, IPv6 extension headers, two tags, short
    /// frames): [`quick_mask_general`] decides them one by one.
    pub other: u32,
    /// Frames of a layout class the caller said no rule can want ([`look_burst_skipping`]):
    /// not looked at further.
    pub class_skipped: u32,
    /// What [`look_burst_with`] added up.
    pub bytes: usize,
}

impl BurstLook {
    /// What the look says of frame `i` (`d` its bytes), as [`look`] would.
    pub fn seen(&self, i: usize, d: &[u8]) -> Seen {
        let bit = 1u32 << i;
        debug_assert!(self.class_skipped & bit == 0, "frame {i} was not looked at");
        if let Some(k) = (0..4).find(|&k| self.plain[k] & bit != 0) {
            Seen::Plain(LAYOUT_MASKS[k])
        } else if self.named & bit != 0 {
            Seen::Named(self.named_mask[i] as u32)
        } else if self.other & bit != 0 {
            quick_mask_general(d).map_or(Seen::Dissect, Seen::Plain)
        } else {
            Seen::Dissect
        }
    }

    /// The frames no rule can want: `skips(mask)` says whether a frame of that protocol mask
    /// can skip evaluation (a program's [`crate::program::Program::skips`]); `frame(i)` gives
    /// frame i's bytes, for the frames of other layouts.
    #[inline(always)]
    pub fn skippable<'a>(&self, frame: impl Fn(usize) -> &'a [u8], skips: impl Fn(u32) -> bool) -> u32 {
        self.skippable_with(frame, plain_skips(&skips), skips)
    }

    /// [`BurstLook::skippable`] with [`plain_skips`] of the same `skips` given: it changes only
    /// with the program and its live rules, and the worker keeps it from burst to burst.
    #[inline(always)]
    pub fn skippable_with<'a>(&self, frame: impl Fn(usize) -> &'a [u8], plain_skips: u32, skips: impl Fn(u32) -> bool) -> u32 {
        // Skipped only if no rule wants the frame under any mask of `Seen::possible` (the test
        // checks they agree).
        let all_skip = |masks: [u32; 4]| masks.into_iter().all(&skips);
        let mut skip = self.class_skipped;
        for (k, bits) in self.plain.into_iter().enumerate() {
            if plain_skips >> k & 1 == 1 {
                skip |= bits;
            }
        }
        let mut named = self.named;
        while named != 0 {
            let i = named.trailing_zeros() as usize;
            named &= named - 1;
            if all_skip(Seen::Named(self.named_mask[i] as u32).possible().unwrap_or_default()) {
                skip |= 1 << i;
            }
        }
        let mut other = self.other;
        while other != 0 {
            let i = other.trailing_zeros() as usize;
            other &= other - 1;
            let d = frame(i);
            // Untagged ARP, most of the other layouts, decided by `plain_skips` as well.
            let skipped = if is_plain_arp(d) {
                plain_skips >> ARP_SKIP & 1 == 1
            } else {
                quick_mask_general(d).is_some_and(|m| all_skip(Seen::Plain(m).possible().unwrap_or_default()))
            };
            skip |= (skipped as u32) << i;
        }
        skip
    }
}

/// The bit of [`plain_skips`] for untagged ARP frames.
const ARP_SKIP: u32 = LAYOUT_MASKS.len() as u32;

/// An untagged ARP frame for IPv4 over Ethernet, whole: what [`quick_mask_general`] gives
/// `ETH | ARP`, without its walk.
#[inline(always)]
fn is_plain_arp(d: &[u8]) -> bool {
    d.get(12..20).is_some_and(|h| h == [0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4]) && d.len() >= 14 + 28
}

/// Which of the plain frames of [`BurstLook::plain`] no rule can want (bit k: those of
/// [`LAYOUT_MASKS`]`[k]`; bit 4: untagged ARP frames), when `skips(mask)` says whether a frame of that protocol mask can
/// skip evaluation.
pub fn plain_skips(skips: impl Fn(u32) -> bool) -> u32 {
    let all = |mask: u32| Seen::Plain(mask).possible().unwrap_or_default().into_iter().all(&skips);
    let layouts = LAYOUT_MASKS.iter().enumerate().fold(0, |acc, (k, &mask)| acc | (all(mask) as u32) << k);
    layouts | (all(proto::ETH | proto::ARP) as u32) << ARP_SKIP
}

/// The masks of [`BurstLook::plain`]: TCP, UDP, tagged TCP, tagged UDP (over IPv4 or IPv6).
pub const LAYOUT_MASKS: [u32; 4] = [
    proto::ETH | proto::IP | proto::TCP,
    proto::ETH | proto::IP | proto::UDP,
    proto::ETH | proto::IP | proto::TCP | proto::VLAN,
    proto::ETH | proto::IP | proto::UDP | proto::VLAN,
];

/// Layout classes 0..8 have bit 0 for UDP (else TCP), bit 1 for one 802.1Q tag, bit 2 for IPv6
/// (else IPv4); `OTHER` is every other layout.
const OTHER: usize = 8;

/// The header look over a whole burst. Every frame pays for it, so it is counted in
/// instructions and in mispredicted branches: on a realistic mix the layouts (tagged or not,
/// IPv4 or IPv6, TCP or UDP) alternate at random, and a look that branches on them per frame
/// mispredicts often — the bench mix in its own order against sorted by layout costs ~5 ns
/// more per frame, as much as the look itself. So the burst is looked at in two passes: the
/// first sorts the frames into layout classes without a branch on their contents; the second
/// checks each class with code made for its layout (fixed offsets, branches that go the same
/// way frame after frame). (A look with no branch at all was slower: it keeps every field of
/// every layout live at once, and spills.)
#[inline(always)]
pub fn look_burst<'a>(n: usize, frame: impl Fn(usize) -> &'a [u8]) -> BurstLook {
    look_burst_skipping(n, frame, 0)
}

/// [`look_burst`], except that the frames of the layout classes in `skip_classes` (bit c:
/// class c, see [`layout_class`]) are only sorted, not looked at: the caller knows no rule can
/// want any frame of them ([`class_may_give`] lists the masks the dissector can give one) —
/// under the default policy, while no poisoner is known, every TCP segment. They come back in
/// [`BurstLook::class_skipped`], and [`BurstLook::skippable`] counts them in.
#[inline(always)]
pub fn look_burst_skipping<'a>(n: usize, frame: impl Fn(usize) -> &'a [u8], skip_classes: u32) -> BurstLook {
    look_burst_gated(n, frame, skip_classes, None)
}

/// The address gate of [`look_burst_gated`] ([`crate::program::Program::addr_gate`]): the
/// layout classes (bit c: class c) whose frames are let through when neither of their
/// addresses is in `filter`.
#[derive(Clone, Copy)]
pub struct AddrGate<'a> {
    pub classes: u32,
    pub filter: &'a AddrFilter,
    /// The learned table the filter belongs to (an index into the program's tables).
    pub table: u32,
}

/// [`look_burst_skipping`], and the frames of the classes of `gate` whose source and
/// destination addresses its filter has never seen are only checked for that, not looked at
/// further: they come back in [`BurstLook::class_skipped`] too.
#[inline(always)]
pub fn look_burst_gated<'a>(n: usize, frame: impl Fn(usize) -> &'a [u8], skip_classes: u32, gate: Option<AddrGate<'_>>) -> BurstLook {
    look_burst_with(n, frame, |_| 0, skip_classes, gate)
}

/// [`look_burst_gated`], adding up `bytes(i)` over the frames in its first pass (the worker's
/// byte count, read from the frames' descriptors while the look reads them anyway) into
/// [`BurstLook::bytes`].
#[inline(always)]
pub fn look_burst_with<'a>(
    n: usize,
    frame: impl Fn(usize) -> &'a [u8],
    bytes: impl Fn(usize) -> usize,
    skip_classes: u32,
    gate: Option<AddrGate<'_>>,
) -> BurstLook {
    debug_assert!(n <= 32);
    let mut total = 0;
    // Each frame's class, and its first 60 bytes for the address gate (read from here, not
    // from the frame's buffer descriptor again).
    let mut heads: [&[u8; 60]; 32] = [&[0; 60]; 32];
    let mut cls = [0x0fu8; 32];
    // (Indexed, not zipped: the iterator form costs ~2.5 instructions a frame more.)
    let table = &LAYOUT_TABLE;
    // With the IPv4 classes gated, their gate is read in the same pass, from the same
    // registers (the head and the tag's offset), for every frame: a byte of flags each.
    let gate4 = gate.filter(|g| g.classes & V4_CLASSES != 0);
    let mut seen = [0u8; 32];
    if let Some(g) = gate4 {
        #[allow(clippy::needless_range_loop)]
        for i in 0..n.min(32) {
            total += bytes(i);
            cls[i] = match frame(i).first_chunk::<60>() {
                Some(h) => {
                    heads[i] = h;
                    let (c, flags) = layout_gated(h, table, g.filter);
                    seen[i] = flags;
                    c as u8
                }
                None => OTHER as u8,
            };
        }
    } else {
        #[allow(clippy::needless_range_loop)]
        for i in 0..n.min(32) {
            total += bytes(i);
            cls[i] = match frame(i).first_chunk::<60>() {
                Some(h) => {
                    heads[i] = h;
                    layout_in(h, table) as u8
                }
                None => OTHER as u8,
            };
        }
    }
    let mut classes = class_masks(&cls);
    // Frames with a flag of the filter set for their source or destination address (as the
    // IPv4 classes place them).
    let seen4 = !byte_mask(&seen, 0);
    let mut look = BurstLook { other: classes[OTHER], bytes: total, ..BurstLook::default() };
    if skip_classes != 0 {
        for (c, bits) in classes.iter_mut().take(OTHER).enumerate() {
            if skip_classes >> c & 1 == 1 {
                look.class_skipped |= *bits;
                *bits = 0;
            }
        }
    }
    // The gated classes' frames whose addresses the filter has never seen: let through.
    if let Some(g) = gate {
        macro_rules! gate {
            ($c:expr, $tagged:expr, $v6:expr) => {
                if g.classes >> $c & 1 == 1 {
                    let (mut bits, mut unseen) = (classes[$c], 0u32);
                    while bits != 0 {
                        let i = bits.trailing_zeros() as usize;
                        bits &= bits - 1;
                        unseen |= (!addrs_may_be_in::<$tagged, $v6>(heads[i & 31], g.filter) as u32) << i;
                    }
                    classes[$c] &= !unseen;
                    look.class_skipped |= unseen;
                }
            };
        }
        for c in [0, 1, 2, 3] {
            if g.classes >> c & 1 == 1 {
                look.class_skipped |= classes[c] & !seen4;
                classes[c] &= seen4;
            }
        }
        gate!(4, false, true);
        gate!(5, false, true);
        gate!(6, true, true);
        gate!(7, true, true);
    }
    macro_rules! class {
        ($c:expr, $tagged:expr, $v6:expr, $udp:expr) => {
            let mut bits = classes[$c];
            while bits != 0 {
                let i = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                // IPv4 UDP is read from the head kept by the first pass (all `plain_at` reads
                // of it lie in the first 60 bytes); the others from the frame.
                let d: &[u8] = if $udp && !$v6 { &heads[i & 31][..] } else { frame(i) };
                match plain_at::<$tagged, $v6, $udp>(d) {
                    Some(At::Plain) => look.plain[$c & 3] |= 1 << i,
                    Some(At::Named(bits)) => {
                        look.named |= 1 << i;
                        look.named_mask[i] = (LAYOUT_MASKS[$c & 3] | bits) as u16;
                    }
                    Some(At::Dissect) => look.dissect |= 1 << i,
                    None => look.other |= 1 << i,
                }
            }
        };
    }
    class!(0, false, false, false);
    class!(1, false, false, true);
    class!(2, true, false, false);
    class!(3, true, false, true);
    class!(4, false, true, false);
    class!(5, false, true, true);
    class!(6, true, true, false);
    class!(7, true, true, true);
    look
}

/// Whether a frame of a known layout class (at least 60 bytes: [`layout_of`]) may have its
/// source or destination address in `filter` — the addresses the dissector gives `ip.src` and
/// `ip.dst`, at fixed offsets for the class. (A frame whose IP version does not match its
/// Ethertype has neither field: the dissector finds its IP header malformed.)
#[inline(always)]
fn addrs_may_be_in<const TAGGED: bool, const V6: bool>(h: &[u8; 60], filter: &AddrFilter) -> bool {
    let l3 = if TAGGED { 18 } else { 14 };
    // The last two bytes of the source and destination addresses (one load each).
    let low = |o: usize| u16::from_ne_bytes([h[o], h[o + 1]]);
    let (src, dst) = if V6 { (low(l3 + 22), low(l3 + 38)) } else { (low(l3 + 14), low(l3 + 18)) };
    filter.may_hold(src) | filter.may_hold(dst)
}

/// The IPv4 layout classes (bit c: class c).
const V4_CLASSES: u32 = 0b1111;

/// [`layout_in`], and the flags of `filter` for the source and destination addresses of an
/// IPv4 frame (read as [`addrs_may_be_in`] reads them: what it gives for a frame of an IPv4
/// class, and a meaningless byte for the others).
#[inline(always)]
fn layout_gated(h: &[u8; 60], table: &[u8; 1024], filter: &AddrFilter) -> (usize, u8) {
    let off = tag_offset(h);
    let low = |o: usize| u16::from_ne_bytes([h[(o + off).min(58)], h[(o + off).min(58) + 1]]);
    let flags = filter.flag(low(14 + 14)) | filter.flag(low(14 + 18));
    (class_at(h, table, off), flags)
}

/// The frames (bit i) whose byte in `b` is `v`: two 16-byte compares and mask extractions
/// (SSE2, part of every x86-64).
#[inline(always)]
fn byte_mask(b: &[u8; 32], v: u8) -> u32 {
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
    {
        use safe_arch::{cmp_eq_mask_i8_m128i as eq, load_unaligned_m128i as load, move_mask_i8_m128i as bits, set_splat_i8_m128i as splat};
        let (lo, hi) = (load(b[..16].try_into().expect("16 bytes")), load(b[16..].try_into().expect("16 bytes")));
        let s = splat(v as i8);
        bits(eq(lo, s)) as u32 | (bits(eq(hi, s)) as u32) << 16
    }
    #[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
    b.iter().enumerate().fold(0, |m, (i, &k)| m | ((k == v) as u32) << i)
}

/// Bit masks of the frames of each class (bit i of `m[c]`: frame i is of class c; the masks of
/// classes 0..=[`OTHER`]) from the frames' class bytes (unused slots: 0x0f). Built after the first
/// pass, not in it: an `or` into the mask of the frame's class would chain each frame to the
/// last one of its class (a store forwarded to the next load; most frames are of one class).
#[inline(always)]
fn class_masks(cls: &[u8; 32]) -> [u32; 16] {
    let mut m = [0u32; 16];
    for (c, mask) in m.iter_mut().enumerate().take(OTHER + 1) {
        *mask = byte_mask(cls, c as u8);
    }
    m
}

/// Number of layout classes ([`layout_class`]).
pub const LAYOUT_CLASSES: usize = OTHER;

/// The layout class of a frame: bit 0 set for UDP (else TCP), bit 1 for one 802.1Q tag, bit 2
/// for IPv6 (else IPv4) — read from its Ethertype and IP protocol fields only — or None for
/// every other layout (and frames shorter than Ethernet's minimum).
pub fn layout_class(d: &[u8]) -> Option<usize> {
    d.first_chunk::<60>().map(layout_of).filter(|&c| c != OTHER)
}

/// The layout classes of `classes` (bit c: class c) by name: "IPv4 TCP", "tagged IPv6 UDP", ….
pub fn class_names(classes: u32) -> Vec<String> {
    (0..OTHER)
        .filter(|c| classes >> c & 1 == 1)
        .map(|c| format!("{}IPv{} {}", if c & 2 != 0 { "tagged " } else { "" }, if c & 4 != 0 { 6 } else { 4 }, if c & 1 != 0 { "UDP" } else { "TCP" }))
        .collect()
}

/// Whether the dissector can give a frame of layout class `c` the protocol mask `m`: Ethernet,
/// tagged as the class says, not ARP, and only the bits of the class's transport — IP and the
/// transport may be missing (a malformed or fragmented datagram), the application may be
/// anything its transport carries. A superset of what can happen (tested against the dissector
/// and fuzzed): a class none of whose masks a rule wants is skipped whole.
pub fn class_may_give(c: usize, m: u32) -> bool {
    use proto::*;
    let foreign = if c & 1 == 1 { TCP | SYN | HTTP | SMB2 | NTLM } else { UDP | NBNS | LLMNR | MDNS | BCAST };
    let vlan = if c & 2 == 2 { VLAN } else { 0 };
    c < OTHER && m & ETH != 0 && m & VLAN == vlan && m & (ARP | foreign) == 0
}

/// The layout class of a frame (see [`OTHER`]), from its Ethertype and IP protocol: the
/// protocol, IPv6 or IPv4, and tagged or not index [`LAYOUT_TABLE`]. Frames shorter than
/// Ethernet's minimum are [`OTHER`].
#[inline(always)]
fn layout_of(h: &[u8; 60]) -> usize {
    layout_in(h, &LAYOUT_TABLE)
}

/// [`layout_of`] with the table's address given (hoisted out of the look's loop: a static of
/// this crate is reached through the GOT from the worker's, a load per frame). The tag's
/// offset goes into the loads' addresses; the Ethertype is branched on (most frames are IPv4,
/// so the branch is predicted: without it — flags and arithmetic, or a table of Ethertypes —
/// the look was 5–10 % slower on the bench machine).
#[inline(always)]
fn layout_in(h: &[u8; 60], table: &[u8; 1024]) -> usize {
    class_at(h, table, tag_offset(h))
}

/// 0, or 4 past one 802.1Q tag: into every load's address, and (times 64) the table's row.
#[inline(always)]
fn tag_offset(h: &[u8; 60]) -> usize {
    4 * (u16::from_ne_bytes([h[12], h[13]]) == u16::from_ne_bytes([0x81, 0x00])) as usize
}

/// [`layout_in`] with the tag's offset given.
#[inline(always)]
fn class_at(h: &[u8; 60], table: &[u8; 1024], off: usize) -> usize {
    let ne = |a: u8, b: u8| u16::from_ne_bytes([a, b]);
    let at = |o: usize| h[(o + off).min(59)];
    let et = ne(at(12), at(13));
    let (half, p) = if et == ne(0x08, 0x00) {
        (&table[..512], at(23))
    } else if et == ne(0x86, 0xdd) {
        (&table[512..], at(20))
    } else {
        return OTHER;
    };
    half[(off << 6 | p as usize) & 511] as usize
}

/// The layout class by IP protocol (bits 0–7), one 802.1Q tag (bit 8) and IPv6 (bit 9, else
/// IPv4).
static LAYOUT_TABLE: [u8; 1024] = {
    let mut t = [OTHER as u8; 1024];
    let mut i = 0;
    while i < 1024 {
        let (p, tagged, v6) = (i & 0xff, (i >> 8) & 1, (i >> 9) & 1);
        if p == 6 || p == 17 {
            t[i] = ((p == 17) as usize | tagged << 1 | v6 << 2) as u8;
        }
        i += 1;
    }
    t
};

/// [`plain_at`] for a class known at run time (the per-frame look).
#[inline(always)]
fn plain_in(c: usize, d: &[u8]) -> Option<At> {
    match c {
        0 => plain_at::<false, false, false>(d),
        1 => plain_at::<false, false, true>(d),
        2 => plain_at::<true, false, false>(d),
        3 => plain_at::<true, false, true>(d),
        4 => plain_at::<false, true, false>(d),
        5 => plain_at::<false, true, true>(d),
        6 => plain_at::<true, true, false>(d),
        _ => plain_at::<true, true, true>(d),
    }
}

/// What [`plain_at`] says of a frame of a known layout class.
#[derive(Clone, Copy)]
enum At {
    /// Plain traffic (the class's mask).
    Plain,
    /// A name-resolution message: the class's mask and these bits ([`Seen::Named`]).
    Named(u32),
    Dissect,
}

/// One frame of a known layout class (at least 60 bytes: [`layout_of`]); `None`: the general
/// walk decides (IPv4 options, a transport header cut short).
///
/// Only what a rule could tell apart is read: the layout, the ports, TCP's SYN flag and the
/// first byte of its payload, and a name-resolution message's flags. The IP and transport
/// lengths and IPv4's fragment fields are not: a frame they make malformed (or a later
/// fragment) is one the dissector gives the downgraded masks of [`Seen::possible`], which the
/// caller asks about too.
#[inline(always)]
fn plain_at<const TAGGED: bool, const V6: bool, const UDP: bool>(d: &[u8]) -> Option<At> {
    let l3 = if TAGGED { 18 } else { 14 };
    let l4 = l3 + if V6 { 40 } else { 20 };
    let vb = *d.get(l3)?;
    if V6 {
        if vb >> 4 != 6 {
            return Some(At::Dissect);
        }
    } else if vb != 0x45 {
        return None;
    }
    let t = d.get(l4..)?.first_chunk::<14>()?;
    let (sport, dport) = (u16::from_be_bytes([t[0], t[1]]), u16::from_be_bytes([t[2], t[3]]));
    if UDP {
        let has = |p: u16| (sport == p) | (dport == p);
        if !(named_port(sport) | named_port(dport)) {
            return Some(At::Plain);
        }
        // The message the dissector reads (its order of ports), and its QR / R bit.
        let app = if has(PORT_LLMNR) {
            proto::LLMNR
        } else if has(PORT_NBNS) {
            proto::NBNS
        } else if has(PORT_MDNS) {
            proto::MDNS
        } else {
            return Some(At::Dissect); // SQL browser: rare, read whole
        };
        // The flags: QR / R in the message's third byte; NBT-NS's B flag in its fourth.
        let (hi, lo) = (t[10], t[11]);
        let resp = if hi & 0x80 != 0 { proto::RESP } else { 0 };
        let bcast = if app == proto::NBNS && lo & 0x10 != 0 { proto::BCAST } else { 0 };
        Some(At::Named(app | resp | bcast))
    } else {
        let smb = |p: u16| (p == PORT_SMB) | (p == PORT_NBSS);
        if (t[13] & antidote_wire::tcp::SYN != 0) | smb(sport) | smb(dport) {
            return Some(At::Dissect);
        }
        // A payload that cannot start an HTTP head (most) is decided by its first byte; the rare
        // candidate is read whole by the general walk.
        let hl = ((t[12] >> 4) as usize) * 4;
        match d.get(l4 + hl) {
            Some(&b) if http_first_byte(b) => None,
            _ => Some(At::Plain),
        }
    }
}

/// Whether `p` is a port of name resolution or the SQL browser (NBT-NS, SSRP, mDNS, LLMNR):
/// one multiply and one table load (a perfect hash of the four), not eight comparisons.
#[inline(always)]
fn named_port(p: u16) -> bool {
    NAMED_PORTS[((p as u32).wrapping_mul(NAMED_PORT_HASH) >> 29) as usize] == p
}

const NAMED_PORT_HASH: u32 = 0x9e37_f425;

/// [`named_port`]'s table: each port in its slot, the empty slots holding one of them again.
static NAMED_PORTS: [u16; 8] = {
    let ports = [PORT_NBNS, PORT_SSRP, PORT_MDNS, PORT_LLMNR];
    let (mut t, mut used) = ([PORT_NBNS; 8], [false; 8]);
    let mut i = 0;
    while i < ports.len() {
        let slot = ((ports[i] as u32).wrapping_mul(NAMED_PORT_HASH) >> 29) as usize;
        assert!(!used[slot], "the hash keeps the named ports apart");
        (t[slot], used[slot]) = (ports[i], true);
        i += 1;
    }
    t
};

/// [`quick_mask`] for every other layout: tags, IPv4 options, IPv6, ARP, short frames.
#[inline(never)]
pub fn quick_mask_general(d: &[u8]) -> Option<u32> {
    if d.len() < 14 {
        return None;
    }
    let mut m = proto::ETH | proto::IP;
    let mut off = 12;
    let mut et = u16::from_be_bytes([d[off], d[off + 1]]);
    let mut tags = 0;
    while et == 0x8100 || et == 0x88a8 || et == 0x9100 {
        tags += 1;
        if tags > 2 {
            return None;
        }
        off += 4;
        et = u16::from_be_bytes([*d.get(off)?, *d.get(off + 1)?]);
        m |= proto::VLAN;
    }
    let l3 = off + 2;
    let (l4, proto_num, end) = match et {
        0x0800 => {
            let b = d.get(l3..l3 + 20)?;
            let ihl = ((b[0] & 0x0f) as usize) * 4;
            let total = u16::from_be_bytes([b[2], b[3]]) as usize;
            // Version 4, a sane header, no fragment (MF clear, offset 0), all in the buffer.
            if b[0] >> 4 != 4 || ihl < 20 || total < ihl || d.len() < l3 + total || (u16::from_be_bytes([b[6], b[7]]) & 0x3fff) != 0 {
                return None;
            }
            (l3 + ihl, b[9], l3 + total)
        }
        0x86dd => {
            let b = d.get(l3..l3 + 40)?;
            let plen = u16::from_be_bytes([b[4], b[5]]) as usize;
            if b[0] >> 4 != 6 || d.len() < l3 + 40 + plen {
                return None;
            }
            (l3 + 40, b[6], l3 + 40 + plen)
        }
        0x0806 => {
            // ARP for IPv4 over Ethernet (what the ARP dissector accepts).
            let b = d.get(l3..l3 + 28)?;
            let ok = b[0..4] == [0, 1, 0x08, 0x00] && b[4] == 6 && b[5] == 4;
            return ok.then_some((m & !proto::IP) | proto::ARP);
        }
        _ => return None,
    };
    let seg = d.get(l4..end)?;
    let sport = u16::from_be_bytes([*seg.first()?, *seg.get(1)?]);
    let dport = u16::from_be_bytes([*seg.get(2)?, *seg.get(3)?]);
    match proto_num {
        6 => {
            let off = ((*seg.get(12)? >> 4) as usize) * 4;
            let flags = *seg.get(13)?;
            if off < 20 || seg.len() < off || flags & antidote_wire::tcp::SYN != 0 {
                return None;
            }
            let smb = |p: u16| p == PORT_SMB || p == PORT_NBSS;
            if smb(sport) || smb(dport) {
                return None;
            }
            let payload = &seg[off..];
            if payload.first().is_some_and(|&b| http_first_byte(b)) && antidote_wire::http::looks_like_http(payload) {
                return None;
            }
            Some(m | proto::TCP)
        }
        17 => {
            let len = u16::from_be_bytes([*seg.get(4)?, *seg.get(5)?]) as usize;
            if len < 8 || seg.len() < len {
                return None;
            }
            let special = |p: u16| matches!(p, PORT_NBNS | PORT_SSRP | PORT_MDNS | PORT_LLMNR);
            if special(sport) || special(dport) {
                return None;
            }
            Some(m | proto::UDP)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_port_is_true_for_the_four_named_ports_only() {
        let named: Vec<u16> = (0..=u16::MAX).filter(|&p| named_port(p)).collect();
        let mut want = vec![PORT_NBNS, PORT_SSRP, PORT_MDNS, PORT_LLMNR];
        want.sort();
        assert_eq!(named, want);
    }

    #[test]
    fn plain_arp_is_what_the_general_walk_calls_arp() {
        let mut arp = vec![0xffu8; 12];
        arp.extend([0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1]);
        arp.resize(60, 0);
        assert!(is_plain_arp(&arp));
        assert_eq!(quick_mask_general(&arp), Some(proto::ETH | proto::ARP));
        // Every one-byte change of the header it reads, and a cut: the walk agrees.
        for i in 12..20 {
            for v in [0u8, 1, 4, 6, 8, 0x81, 0xff] {
                let mut d = arp.clone();
                d[i] = v;
                if is_plain_arp(&d) {
                    assert_eq!(quick_mask_general(&d), Some(proto::ETH | proto::ARP), "byte {i} = {v}");
                }
            }
        }
        assert!(!is_plain_arp(&arp[..41]));
        assert_eq!(quick_mask_general(&arp[..41]), None);
    }
}
