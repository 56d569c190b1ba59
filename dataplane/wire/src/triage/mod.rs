//! The header triage: a look at the headers of every frame of a burst that sorts out the frames
//! no rule can want (plain traffic, and name-resolution messages no rule wants) from those the
//! dissector must read. It is what every frame pays for, so it is built for speed (see
//! [`triage_burst`]); it agrees with the full dissector ([`crate::frame`]) by construction of
//! [`Triage::possible`], which the tests beside it and the `triage` fuzz target check.
//!
//! - [`layout`]: the layout class of a frame from its Ethertype and IP protocol, branch-free.
//! - [`known`]: one frame of a known layout class, read at fixed offsets.
//! - [`walk`]: every other layout (tags, options, ARP, short frames), read by a general walk.
//! - [`burst`]: the two-pass triage of a whole burst.
//! - [`addr_filter`]: the flags of learned addresses that let frames between other hosts through.
//!
//! What the triage skips is the caller's to say, as data: a [`TriagePlan`] (built by the
//! policy's program, `antidote_policy::plan`) — no callback into the program.
use crate::proto;

pub mod addr_filter;
pub mod burst;
pub mod known;
pub mod layout;
pub mod walk;

pub use addr_filter::AddrFilter;
pub use burst::triage_burst;
pub use layout::{class_may_give, class_names, layout_class, LAYOUT_CLASSES};
pub use walk::walk_mask;

use known::{known_layout_in, Known};
use layout::{layout_of, OTHER};

/// What the caller says the triage may skip, for one burst: the program's rules as data.
#[derive(Clone, Copy, Debug)]
pub struct TriagePlan<'a> {
    /// Layout classes (bit c: class c, see [`layout_class`]) no rule can want any frame of: their
    /// frames are only sorted, not looked at (under the default policy, while no poisoner is
    /// known, every TCP segment).
    pub skip_classes: u32,
    /// [`plain_skips`] of [`TriagePlan::skips`]: which plain frames no rule can want.
    pub skip_plain: u32,
    /// The frames of these classes whose addresses a filter has never seen are let through.
    pub gate: Option<AddrGate<'a>>,
    /// For every protocol mask, the rules that are candidates for it (bit r: rule r); empty:
    /// every rule is a candidate for every frame.
    pub candidates: &'a [u64],
    /// The rules that can match now (bit r: rule r).
    pub live: u64,
    /// Destination MACs to point out ([`BurstTriage::watched`]), read in the first pass.
    pub watch: Option<&'a MacWatch>,
}

/// The destination MACs that can concern up to four of the appliance's own identities (its
/// canary identities): theirs, the broadcast address (ARP), their solicited-node groups
/// (neighbour solicitation), as 48-bit words. The triage's first pass points out the frames to
/// an identity's own MAC or its solicited-node group from the header it reads anyway; a
/// broadcast is pointed out only when it is an ARP request whose target can be an identity's
/// address ([`MacWatch::arp_may_concern`], asked of the ARP frames the judge reads anyway).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacWatch {
    macs: [u64; 4],
    low24: [u64; 4],
    /// For each last byte of a destination, 1 if an identity's MAC or solicited-node group ends
    /// in it: the first pass's test (one load of the frame, one of this table, one store a
    /// frame, the burst's mask made after the loop), [`MacWatch::may_concern`] the exact one
    /// after it. Not broadcast's 0xff: every host's ARP requests and every NBT-NS or DHCP
    /// broadcast would be pointed out, ~2 % of a mix, each costing the canary pass a visit
    /// (`bench/RESULTS.md`, session 28).
    last: [u8; 256],
    /// For each last byte of an IPv4 address, 1 if an identity's address (untagged or on a
    /// VLAN) ends in it.
    arp_last: [u8; 256],
}

impl MacWatch {
    /// Watches nothing.
    pub const NONE: MacWatch = MacWatch { macs: [u64::MAX; 4], low24: [u64::MAX; 4], last: [0; 256], arp_last: [0; 256] };

    /// Watches for the first four of `macs`, and ARP requests for the addresses `ipv4`.
    pub fn new(macs: &[[u8; 6]], ipv4: impl IntoIterator<Item = [u8; 4]>) -> MacWatch {
        let mut w = MacWatch::NONE;
        // An identity's own address and its solicited-node group end in its address's last
        // byte.
        for (k, m) in macs.iter().take(4).enumerate() {
            w.last[m[5] as usize] = 1;
            w.macs[k] = mac_word(m);
            w.low24[k] = w.macs[k] & 0xff_ffff;
        }
        for ip in ipv4 {
            w.arp_last[ip[3] as usize] = 1;
        }
        w
    }

    /// Whether the ARP message at offset `at` of frame `d` (`arp_at`) can be a request for an
    /// identity's address: its target address ends as one does (a superset: the canary pass
    /// makes the exact test, [`MacWatch::may_concern`] and the identity's address on the frame's
    /// VLAN). One load of the frame and one of a 256-byte table.
    #[inline(always)]
    pub fn arp_may_concern(&self, d: &[u8], at: usize) -> bool {
        d.get(at + 27).is_some_and(|&b| self.arp_last[b as usize] != 0)
    }

    /// Whether a frame to `dst` (a 48-bit word) can concern one of the identities.
    #[inline(always)]
    pub fn may_concern(&self, dst: u64) -> bool {
        if dst & 1 << 40 == 0 {
            self.macs.contains(&dst)
        } else {
            dst == 0xffff_ffff_ffff || (dst >> 24 == 0x33_33ff && self.low24.contains(&(dst & 0xff_ffff)))
        }
    }

    /// 1 if the frame whose first bytes are `h` is to point out, else 0: its destination ends in
    /// a byte that one it may concern ends in (a superset of [`MacWatch::may_concern`], which
    /// the caller asks next: on random addresses ~1 frame in 256 more per byte in the set). No
    /// branch (`bench/RESULTS.md`, sessions 26 and 27).
    #[inline(always)]
    pub fn wants(&self, h: &[u8; 60]) -> u8 {
        self.wants_last(h[5])
    }

    /// [`MacWatch::wants`] for a frame shorter than the first pass's head: true also when it is
    /// too short to have a destination.
    #[inline]
    pub fn wants_short(&self, d: &[u8]) -> bool {
        d.get(5).is_none_or(|&b| self.wants_last(b) != 0)
    }

    /// The table's byte for a destination's last byte `b`.
    #[inline(always)]
    fn wants_last(&self, b: u8) -> u8 {
        self.last[b as usize]
    }
}

/// A MAC address as a 48-bit word (what [`MacWatch`] compares).
#[inline(always)]
pub fn mac_word(m: &[u8; 6]) -> u64 {
    u64::from_be_bytes([0, 0, m[0], m[1], m[2], m[3], m[4], m[5]])
}

impl TriagePlan<'static> {
    /// A plan that skips nothing: every frame is looked at, none is let through.
    pub const NOTHING: TriagePlan<'static> = TriagePlan { skip_classes: 0, skip_plain: 0, gate: None, candidates: &[], live: u64::MAX, watch: None };
}

impl TriagePlan<'_> {
    /// Whether a frame of protocol mask `mask` can skip dissection and evaluation: no live rule
    /// is a candidate for it.
    #[inline(always)]
    pub fn skips(&self, mask: u32) -> bool {
        self.candidates.get(mask as usize).is_some_and(|&c| c & self.live == 0)
    }
}

/// The address gate of a [`TriagePlan`]: the layout classes (bit c: class c) whose frames are
/// let through when neither of their addresses is in `filter`.
#[derive(Clone, Copy)]
pub struct AddrGate<'a> {
    pub classes: u32,
    pub filter: &'a AddrFilter,
}

impl std::fmt::Debug for AddrGate<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AddrGate {{ classes: {:#x} }}", self.classes)
    }
}

/// What the triage says of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Triage {
    /// Plain traffic: no application protocol the dissectors know, and this protocol mask
    /// ([`crate::frame::frame_mask`] of the dissected frame) when its lengths are sound. The look does not
    /// check the IP and transport lengths nor IPv4's fragment fields — no rule can tell a frame
    /// by them — so a frame they make malformed, or a later fragment, gets one of the downgraded
    /// masks of [`Triage::possible`] from the dissector.
    Plain(u32),
    /// An LLMNR, NBT-NS or mDNS message on UDP (chosen by port as the dissector does): its mask
    /// when the message reads, the application bit, the response bit and NBT-NS's broadcast
    /// bit taken from its flags. When the message turns out malformed, the dissector's mask
    /// lacks those bits ([`Triage::possible`] lists every mask). A frame no rule wants under any
    /// of them needs no dissection — queries under a policy about answers.
    Named(u32),
    /// Everything else: read it whole.
    Dissect,
}

impl Triage {
    /// Every mask the dissector can give the frame (some may repeat): the look's, the mask of
    /// a malformed name-resolution message, and the downgrades of a frame whose IP datagram or
    /// transport header is malformed (Ethernet and IP only) or whose IP header is (Ethernet
    /// only). None for [`Triage::Dissect`]. A frame is skipped only if no rule wants any of them.
    #[inline]
    pub fn possible(self) -> Option<[u32; 4]> {
        let downgrades = |m: u32| [m & (proto::ETH | proto::VLAN | proto::IP), m & (proto::ETH | proto::VLAN)];
        match self {
            Triage::Plain(m) => {
                let [ip, eth] = downgrades(m);
                Some([m, m, ip, eth])
            }
            Triage::Named(m) => {
                let [ip, eth] = downgrades(m);
                Some([m, m & !NAMED_BITS, ip, eth])
            }
            Triage::Dissect => None,
        }
    }
}

/// The bits a [`Triage::Named`] mask has beyond its layout.
const NAMED_BITS: u32 = proto::LLMNR | proto::NBNS | proto::MDNS | proto::SSRP | proto::RESP | proto::BCAST;

/// The header look for one frame: plain traffic — Ethernet (≤ 2 tags) + IPv4 or IPv6 (no
/// extension header) + TCP (not SYN, not the SMB ports, payload not an HTTP head) or UDP (not a
/// name-resolution or SQL-browser port), and ARP — or a name-resolution message on UDP (one tag
/// at most, no IPv4 options or IPv6 extension headers), or neither. The full dissector gives the
/// frame one of the masks of [`Triage::possible`] (tested, with truncations and mutations, and
/// fuzzed).
///
/// This is the per-frame form of [`triage_burst`], built from the same pieces.
#[inline]
pub fn triage_frame(d: &[u8]) -> Triage {
    let c = d.first_chunk::<60>().map_or(OTHER, layout_of);
    let general = |d: &[u8]| walk_mask(d).map_or(Triage::Dissect, Triage::Plain);
    if c == OTHER {
        return general(d);
    }
    match known_layout_in(c, d) {
        Some(Known::Plain) => Triage::Plain(LAYOUT_MASKS[c & 3]),
        Some(Known::Named(bits)) => Triage::Named(LAYOUT_MASKS[c & 3] | bits),
        Some(Known::Dissect) => Triage::Dissect,
        None => general(d),
    }
}

/// The protocol mask of plain traffic when it is well formed (see [`triage_frame`] and
/// [`Triage::possible`]); None for every other frame.
#[inline]
pub fn plain_mask(d: &[u8]) -> Option<u32> {
    match triage_frame(d) {
        Triage::Plain(m) => Some(m),
        _ => None,
    }
}

/// What [`triage_burst`] found in a burst of up to 32 frames, as bitsets (bit i: frame i).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BurstTriage {
    /// Plain traffic, by protocol mask: `plain[k]` holds the frames whose mask is
    /// `LAYOUT_MASKS[k]` (IPv4 or IPv6 TCP, UDP; untagged or tagged).
    pub plain: [u32; 4],
    /// Name-resolution messages ([`Triage::Named`]), their masks in `named_mask`.
    pub named: u32,
    pub named_mask: [u16; 32],
    /// Frames to dissect: a rule may want them, or they are malformed.
    pub dissect: u32,
    /// Frames of other layouts (ARP, IPv4 options, IPv6 extension headers, two tags, short
    /// frames): [`walk_mask`] decides them one by one.
    pub other: u32,
    /// Frames of a layout class the caller said no rule can want ([`triage_burst`]):
    /// not looked at further.
    pub class_skipped: u32,
    /// What [`triage_burst`] added up.
    pub bytes: usize,
    /// With [`TriagePlan::watch`]: the frames it wants ([`MacWatch::wants`]), and the frames too
    /// short for the first pass's look. (A tagged frame is not pointed out for its tag: the
    /// caller notes the VLANs in use from what is pointed out — broadcasts among them — and
    /// from a sample.)
    pub watched: u32,
    /// With [`TriagePlan::gate`]: the frames of its classes that its address filter let on (an
    /// address it may hold: traffic to or from a learned poisoner, or the filter's false
    /// positive) — what a worker's follow-on budget counts (`antidote_dataplane::flood`).
    pub gated: u32,
}

impl BurstTriage {
    /// The named frames whose mask satisfies `keep`.
    #[inline(always)]
    fn named_where(&self, keep: impl Fn(u32) -> bool) -> u32 {
        let mut named = self.named;
        let mut out = 0;
        while named != 0 {
            let i = named.trailing_zeros() as usize;
            named &= named - 1;
            out |= (keep(self.named_mask[i] as u32) as u32) << i;
        }
        out
    }

    /// The named frames that may teach the network something ([`teaches_names`]): NBT-NS and
    /// mDNS requests (no response bit), and DHCP (a named frame with no application bit).
    #[inline]
    pub fn name_requests(&self) -> u32 {
        self.named_where(|m| {
            let app = m & (proto::NBNS | proto::MDNS | proto::LLMNR | proto::SSRP);
            app & (proto::NBNS | proto::MDNS) != 0 && m & proto::RESP == 0 || app == 0
        })
    }

    /// The named frames that are name-resolution answers: LLMNR, NBT-NS or mDNS with the
    /// response bit, and SQL browser replies (what a worker's answer budget counts,
    /// `antidote_dataplane::flood`).
    #[inline]
    pub fn answers(&self) -> u32 {
        self.named_where(|m| m & proto::RESP != 0 && m & (proto::NBNS | proto::MDNS | proto::LLMNR | proto::SSRP) != 0)
    }

    /// What the triage says of frame `i` (`d` its bytes), as [`triage_frame`] would.
    pub fn of(&self, i: usize, d: &[u8]) -> Triage {
        let bit = 1u32 << i;
        debug_assert!(self.class_skipped & bit == 0, "frame {i} was not looked at");
        if let Some(k) = (0..4).find(|&k| self.plain[k] & bit != 0) {
            Triage::Plain(LAYOUT_MASKS[k])
        } else if self.named & bit != 0 {
            Triage::Named(self.named_mask[i] as u32)
        } else if self.other & bit != 0 {
            walk_mask(d).map_or(Triage::Dissect, Triage::Plain)
        } else {
            Triage::Dissect
        }
    }

    /// The frames no rule can want under `plan` ([`TriagePlan::skips`]): those of the classes it
    /// skipped whole or let through on its address gate, plain frames of a kind
    /// [`TriagePlan::skip_plain`] names, and the others whose every possible mask
    /// ([`Triage::possible`]) skips. `frame(i)` gives frame i's bytes, for the frames of other
    /// layouts.
    #[inline(always)]
    pub fn skippable<'a>(&self, frame: impl Fn(usize) -> &'a [u8], plan: &TriagePlan<'_>) -> u32 {
        // Skipped only if no rule wants the frame under any mask of `Triage::possible` (the test
        // checks they agree).
        let all_skip = |masks: [u32; 4]| masks.into_iter().all(|m| plan.skips(m));
        let plain_skips = plan.skip_plain;
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
            if all_skip(Triage::Named(self.named_mask[i] as u32).possible().unwrap_or_default()) {
                skip |= 1 << i;
            }
        }
        let mut other = self.other;
        while other != 0 {
            let i = other.trailing_zeros() as usize;
            other &= other - 1;
            let d = frame(i);
            // Untagged ARP, most of the other layouts, decided by `skip_plain` as well.
            let skipped = if is_plain_arp(d) {
                plain_skips >> ARP_SKIP & 1 == 1
            } else {
                walk_mask(d).is_some_and(|m| all_skip(Triage::Plain(m).possible().unwrap_or_default()))
            };
            skip |= (skipped as u32) << i;
        }
        skip
    }
}

/// Whether a frame of a layout the first pass does not read (two or three tags, IPv4 options,
/// an IPv6 fragment header) carries a name-resolution answer: LLMNR, NBT-NS or mDNS over UDP
/// with the response bit, a SQL browser reply, or the first fragment of such a datagram (whatever its message's
/// first bytes read: the dissector marks it a possible answer, `ns.fragment`), read by walking
/// the tags and the IP header (no other IPv6 extension header: the dissector reads no
/// application message behind those). What a worker's answer budget charges before the frame
/// costs a dissection (`antidote_dataplane::flood`); a frame it calls an answer that the
/// dissector would find malformed (three tags) is charged all the same.
#[inline(never)]
pub fn answer_beyond_layouts(d: &[u8]) -> bool {
    let mut off = 12;
    for _ in 0..3 {
        match d.get(off..off + 2) {
            Some([0x81, 0x00] | [0x88, 0xa8] | [0x91, 0x00]) => off += 4,
            _ => break,
        }
    }
    let l3 = off + 2;
    // Where the UDP header is, and whether the datagram is cut into fragments (this is its first).
    let (l4, first_fragment) = match d.get(off..off + 2) {
        Some([0x08, 0x00]) => {
            let Some(b) = d.get(l3..l3 + 20) else { return false };
            let frag = u16::from_be_bytes([b[6], b[7]]);
            // Version 4, UDP, not a later fragment.
            if b[0] >> 4 != 4 || b[9] != 17 || frag & 0x1fff != 0 {
                return false;
            }
            (l3 + ((b[0] & 0x0f) as usize) * 4, frag & 0x2000 != 0)
        }
        Some([0x86, 0xdd]) => match d.get(l3 + 6) {
            Some(&17) => (l3 + 40, false),
            // A fragment header: UDP behind it, offset 0 (a first fragment, or an atomic one: a
            // whole datagram, read as such).
            Some(&44) => {
                let Some(f) = d.get(l3 + 40..l3 + 48) else { return false };
                if f[0] != 17 || u16::from_be_bytes([f[2], f[3]]) >> 3 != 0 {
                    return false;
                }
                (l3 + 48, f[3] & 1 != 0)
            }
            _ => return false,
        },
        _ => return false,
    };
    let Some(u) = d.get(l4..l4 + 4) else { return false };
    let app = proto::udp_app(u16::from_be_bytes([u[0], u[1]]), u16::from_be_bytes([u[2], u[3]]));
    if app & (proto::LLMNR | proto::NBNS | proto::MDNS | proto::SSRP) == 0 {
        return false;
    }
    first_fragment || if app == proto::SSRP { d.get(l4 + 8) == Some(&crate::ssrp::SVR_RESP) } else { d.get(l4 + 10).is_some_and(|b| b & 0x80 != 0) }
}

/// The bit of [`plain_skips`] for untagged ARP frames.
const ARP_SKIP: u32 = LAYOUT_MASKS.len() as u32;

/// Whether a name-resolution request or DHCP message the triage found ([`Triage::Named`]: a
/// known layout, at most one tag, no IPv4 options) may teach the network something: an NBT-NS
/// request other than a query (a registration, refresh or release), an mDNS query with
/// authority records (a probe), any DHCP message. Read at fixed offsets; such frames are rare,
/// and go to the dissector (within the worker's learning budget).
#[inline]
pub fn teaches_names(d: &[u8]) -> bool {
    let l3 = if d.get(12..14) == Some(&[0x81, 0x00]) { 18 } else { 14 };
    let l4 = l3 + if d.get(l3 - 2..l3) == Some(&[0x86, 0xdd]) { 40 } else { 20 };
    let Some(u) = d.get(l4..l4 + 8 + 12) else { return false };
    let (sport, dport) = (u16::from_be_bytes([u[0], u[1]]), u16::from_be_bytes([u[2], u[3]]));
    match proto::udp_app(sport, dport) {
        proto::NBNS => (u[10] >> 3) & 0xf != 0,
        proto::MDNS => u[16] | u[17] != 0,
        // DHCP (the named ports with no application of their own).
        0 => true,
        _ => false,
    }
}

/// Where an ARP message for IPv4 over Ethernet starts in a frame with no tag or one 802.1Q tag
/// (whole: 28 bytes after it), and the tag's VLAN id (0 untagged): what the network is learned
/// from, read at fixed offsets.
#[inline(always)]
pub fn arp_at(d: &[u8]) -> Option<(usize, u16)> {
    if is_plain_arp(d) {
        return Some((14, 0));
    }
    let tagged = d.get(12..14)? == [0x81, 0x00] && d.get(16..24)? == [0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4] && d.len() >= 18 + 28;
    tagged.then(|| (18, u16::from_be_bytes([d[14], d[15]]) & 0x0fff))
}

/// The IP source of an ordinary IPv4 or IPv6 frame (untagged or behind one 802.1Q tag) and its
/// VLAN, read at fixed offsets: what the network learns from ordinary traffic (a sample of it,
/// `antidote_policy::state::network::RecentTraffic`). None for anything else, for a multicast
/// Ethernet source, and for a source no host has (unspecified, multicast, loopback, broadcast).
#[inline]
pub fn ip_source(d: &[u8]) -> Option<(std::net::IpAddr, u16)> {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    if d.first_chunk::<12>()?[6] & 1 != 0 {
        return None;
    }
    let (at, vlan) = match d.get(12..14)? {
        [0x81, 0x00] => (18, u16::from_be_bytes([*d.get(14)?, *d.get(15)?]) & 0x0fff),
        _ => (14, 0),
    };
    let ip = match d.get(at - 2..at)? {
        [0x08, 0x00] if d.get(at)? >> 4 == 4 => IpAddr::V4(Ipv4Addr::from(*d.get(at + 12..at + 16)?.first_chunk::<4>()?)),
        [0x86, 0xdd] if d.get(at)? >> 4 == 6 => IpAddr::V6(Ipv6Addr::from(*d.get(at + 8..at + 24)?.first_chunk::<16>()?)),
        _ => return None,
    };
    let unusable = match ip {
        IpAddr::V4(a) => a.is_unspecified() || a.is_multicast() || a.is_loopback() || a.is_broadcast(),
        IpAddr::V6(a) => a.is_unspecified() || a.is_multicast() || a.is_loopback(),
    };
    (!unusable).then_some((ip, vlan))
}

/// The IP source and destination of an IPv4 or IPv6 frame, untagged or behind one 802.1Q tag,
/// read at fixed offsets (the layouts the address gate reads: [`TriagePlan::gate`]).
#[inline]
pub fn ip_addrs(d: &[u8]) -> Option<(std::net::IpAddr, std::net::IpAddr)> {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let at = if d.get(12..14)? == [0x81, 0x00] { 18 } else { 14 };
    match d.get(at - 2..at)? {
        [0x08, 0x00] if d.get(at)? >> 4 == 4 => {
            let a = d.get(at + 12..at + 20)?;
            Some((IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3])), IpAddr::V4(Ipv4Addr::new(a[4], a[5], a[6], a[7]))))
        }
        [0x86, 0xdd] if d.get(at)? >> 4 == 6 => {
            let a = d.get(at + 8..at + 40)?;
            Some((IpAddr::V6(Ipv6Addr::from(*a[..16].first_chunk::<16>()?)), IpAddr::V6(Ipv6Addr::from(*a[16..].first_chunk::<16>()?))))
        }
        _ => None,
    }
}

/// An untagged ARP frame for IPv4 over Ethernet, whole: what [`walk_mask`] gives
/// `ETH | ARP`, without its walk.
#[inline(always)]
pub fn is_plain_arp(d: &[u8]) -> bool {
    d.get(12..20).is_some_and(|h| h == [0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4]) && d.len() >= 14 + 28
}

/// Which of the plain frames of [`BurstTriage::plain`] no rule can want (bit k: those of
/// [`LAYOUT_MASKS`]`[k]`; bit 4: untagged ARP frames), when `skips(mask)` says whether a frame of that protocol mask can
/// skip evaluation.
pub fn plain_skips(skips: impl Fn(u32) -> bool) -> u32 {
    let all = |mask: u32| Triage::Plain(mask).possible().unwrap_or_default().into_iter().all(&skips);
    let layouts = LAYOUT_MASKS.iter().enumerate().fold(0, |acc, (k, &mask)| acc | (all(mask) as u32) << k);
    layouts | (all(proto::ETH | proto::ARP) as u32) << ARP_SKIP
}

/// The masks of [`BurstTriage::plain`]: TCP, UDP, tagged TCP, tagged UDP (over IPv4 or IPv6).
pub const LAYOUT_MASKS: [u32; 4] = [
    proto::ETH | proto::IP | proto::TCP,
    proto::ETH | proto::IP | proto::UDP,
    proto::ETH | proto::IP | proto::TCP | proto::VLAN,
    proto::ETH | proto::IP | proto::UDP | proto::VLAN,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_pass_points_out_what_the_watch_wants() {
        let me = [2, 0xcc, 0, 0, 0, 0xfa];
        let frame = |dst: [u8; 6], tagged: bool, len: usize| {
            let mut d = dst.to_vec();
            d.extend([2, 0xad, 0, 0, 0, 1]);
            if tagged {
                d.extend([0x81, 0x00, 0, 42]);
            }
            d.extend([0x08, 0x00, 0x45]);
            d.resize(len, 0);
            d
        };
        let burst = [
            frame(me, false, 64),                             // 0: to the identity
            frame([0xff; 6], false, 64),                      // 1: broadcast
            frame([0x33, 0x33, 0xff, 0, 0, 0xfa], false, 90), // 2: its solicited-node group
            frame([0xff; 6], true, 64),                       // 3: a tagged broadcast
            frame([2, 0xad, 0, 0, 0, 9], false, 64),          // 4: another host
            frame([1, 0, 0x5e, 0, 0, 0xfb], false, 64),       // 5: a multicast group
            frame([2, 0xad, 0, 0, 0, 9], false, 20),          // 6: too short for the look
            frame(me, false, 20),                             // 7: the same, to the identity
        ];
        let watch = MacWatch::new(&[me], [[198, 18, 1, 250]]);
        let plan = TriagePlan { watch: Some(&watch), ..TriagePlan::NOTHING };
        let t = triage_burst(burst.len(), |i| &burst[i][..], |i| burst[i].len(), &plan);
        // (Broadcasts are not: an ARP request among them is found by `arp_may_concern`. A frame
        // too short for the look is tested on its own destination.)
        assert_eq!(t.watched, 0b1000_0101);
        // A tagged frame to another host is not (its VLAN is noted from a sample).
        let other = [frame([2, 0xad, 0, 0, 0, 9], true, 64)];
        assert_eq!(triage_burst(1, |i| &other[i][..], |i| other[i].len(), &plan).watched, 0);
        // A destination that only ends as the identity's does is pointed out (the caller's exact
        // test follows); one that ends otherwise is not.
        let near = [frame([2, 0xad, 0, 0, 7, 0xfa], false, 64), frame([2, 0xad, 0, 0, 7, 0xfb], false, 64)];
        let t = triage_burst(near.len(), |i| &near[i][..], |i| near[i].len(), &plan);
        assert_eq!(t.watched, 0b01);
        let t = triage_burst(burst.len(), |i| &burst[i][..], |i| burst[i].len(), &TriagePlan::NOTHING);
        assert_eq!(t.watched, 0, "no watch: nothing pointed out");
    }

    /// The first fragment of an LLMNR answer from 198.18.0.66:5355 to 198.18.0.10, cut right
    /// after its UDP header and the message's first 8 bytes — whose flags read as a query's.
    fn llmnr_first_fragment(v6: bool) -> Vec<u8> {
        let mut d = vec![2, 0xad, 0, 0, 0, 0x10, 2, 0xad, 0, 0, 0, 0x66];
        let udp = [0x14, 0xeb, 0xc3, 0x50, 0, 80, 0, 0, /* message: */ 0xbe, 0xef, 0, 0, 0, 1, 0, 1];
        if v6 {
            d.extend([0x86, 0xdd, 0x60, 0, 0, 0, 0, 24, 44, 64]);
            d.extend([0xfd, 0, 0x01, 0x98, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x66]);
            d.extend([0xfd, 0, 0x01, 0x98, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10]);
            // Fragment header: next UDP, offset 0, M set.
            d.extend([17, 0, 0, 1, 0, 0, 0, 7]);
        } else {
            // MF set, offset 0; total length: header + 16 bytes.
            d.extend([0x08, 0x00, 0x45, 0, 0, 36, 0, 7, 0x20, 0, 64, 17, 0, 0, 198, 18, 0, 0x66, 198, 18, 0, 10]);
        }
        d.extend(udp);
        d.resize(d.len().max(60), 0);
        d
    }

    #[test]
    fn a_fragmented_name_service_datagram_is_dissected_and_marked_whatever_its_flags_read() {
        use crate::fields::lookup;
        for v6 in [false, true] {
            let d = llmnr_first_fragment(v6);
            // The triage does not trust the flags it could read: a possible answer (IPv4, a
            // known layout) or one the general walk finds (IPv6: behind a fragment header) —
            // charged to the answer budget either way, then dissected.
            let t = triage_burst(1, |_| &d[..], |_| d.len(), &TriagePlan::NOTHING);
            if v6 {
                assert_eq!(t.other & 1, 1, "v6: another layout");
                assert!(answer_beyond_layouts(&d), "v6: an answer for the budget");
            } else {
                assert_eq!(triage_frame(&d), Triage::Named(LAYOUT_MASKS[1] | proto::LLMNR | proto::RESP));
                assert_eq!(t.answers() & 1, 1, "v4: an answer for the budget");
            }
            let mut sc = crate::Scratch::default();
            let f = crate::Frame::parse(&d, &mut sc);
            let m = crate::frame::frame_mask(&f);
            assert_eq!(m & (proto::LLMNR | proto::RESP), proto::LLMNR | proto::RESP, "v6 {v6}: {m:#x}");
            assert!(f.llmnr().is_none(), "its message is not read");
            assert!(matches!(lookup("ns.fragment").and_then(|d| (d.get)(&f)), Some(crate::fields::Value::Bool(true))), "v6 {v6}");
        }
        // The same datagram whole is no fragment; a fragment of other UDP traffic is not marked.
        let mut whole = llmnr_first_fragment(false);
        whole[20] = 0;
        let mut sc = crate::Scratch::default();
        let f = crate::Frame::parse(&whole, &mut sc);
        assert!(matches!(lookup("ns.fragment").and_then(|d| (d.get)(&f)), Some(crate::fields::Value::Bool(false))));
        let mut other = llmnr_first_fragment(false);
        other[36..38].copy_from_slice(&4444u16.to_be_bytes());
        other[34..36].copy_from_slice(&4445u16.to_be_bytes());
        let f = crate::Frame::parse(&other, &mut sc);
        assert_eq!(crate::frame::frame_mask(&f) & proto::UDP_APPS, 0);
        assert!(!answer_beyond_layouts(&other));
        // A later fragment carries no UDP header: what reads as ports there is payload.
        for v6 in [false, true] {
            let mut later = llmnr_first_fragment(v6);
            if v6 {
                later[56..58].copy_from_slice(&[0, 0x11]); // offset 2 (16 bytes), M set
            } else {
                later[20..22].copy_from_slice(&[0x20, 2]);
            }
            assert!(!answer_beyond_layouts(&later), "v6 {v6}");
            assert!(matches!(triage_frame(&later), Triage::Plain(_) | Triage::Dissect), "v6 {v6}");
            let f = crate::Frame::parse(&later, &mut sc);
            assert_eq!(crate::frame::frame_mask(&f) & (proto::UDP_APPS | proto::RESP), 0, "v6 {v6}");
        }
    }

    #[test]
    fn ip_sources_are_read_untagged_and_behind_one_tag() {
        use std::net::IpAddr;
        let v4 = |src_mac0: u8, tag: Option<u16>, src: [u8; 4]| {
            let mut d = vec![2, 0, 0, 0, 0, 1, src_mac0, 0xad, 0, 0, 0, 7];
            if let Some(v) = tag {
                d.extend([0x81, 0x00]);
                d.extend(v.to_be_bytes());
            }
            d.extend([0x08, 0x00, 0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0]);
            d.extend(src);
            d.extend([198, 18, 0, 1]);
            d.resize(d.len() + 20, 0);
            d
        };
        assert_eq!(ip_source(&v4(2, None, [198, 18, 0, 7])), Some((IpAddr::from([198, 18, 0, 7]), 0)));
        assert_eq!(ip_source(&v4(2, Some(0x2000 | 42), [198, 18, 0, 7])), Some((IpAddr::from([198, 18, 0, 7]), 42)));
        assert_eq!(ip_source(&v4(3, None, [198, 18, 0, 7])), None, "a multicast Ethernet source");
        assert_eq!(ip_source(&v4(2, None, [0, 0, 0, 0])), None, "a DHCP client with no address yet");
        assert_eq!(ip_source(&v4(2, None, [224, 0, 0, 1])), None);
        let mut v6 = vec![2, 0, 0, 0, 0, 1, 2, 0xad, 0, 0, 0, 7, 0x86, 0xdd, 0x60, 0, 0, 0, 0, 8, 17, 64];
        let src: std::net::Ipv6Addr = "fe80::ad:ff:fe00:7".parse().unwrap();
        v6.extend(src.octets());
        v6.extend([0u8; 16 + 8]);
        assert_eq!(ip_source(&v6), Some((IpAddr::V6(src), 0)));
        assert_eq!(ip_source(&v6[..30]), None, "cut short");
        let mut arp = vec![0xffu8; 12];
        arp.extend([0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1]);
        arp.resize(60, 0);
        assert_eq!(ip_source(&arp), None);
    }

    #[test]
    fn arp_is_found_untagged_and_behind_one_tag() {
        let mut arp = vec![0xffu8; 12];
        arp.extend([0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1]);
        arp.resize(60, 0);
        assert_eq!(arp_at(&arp), Some((14, 0)));
        let mut tagged = arp.clone();
        tagged.splice(12..12, [0x81, 0x00, 0x20, 0x0a]);
        assert_eq!(arp_at(&tagged), Some((18, 10)), "the priority bits are not the VLAN");
        assert_eq!(walk_mask(&tagged), Some(proto::ETH | proto::ARP | proto::VLAN));
        assert_eq!(arp_at(&tagged[..45]), None);
        let mut ip = arp.clone();
        ip[13] = 0x00;
        assert_eq!(arp_at(&ip), None);
    }

    #[test]
    fn plain_arp_is_what_the_general_walk_calls_arp() {
        let mut arp = vec![0xffu8; 12];
        arp.extend([0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1]);
        arp.resize(60, 0);
        assert!(is_plain_arp(&arp));
        assert_eq!(walk_mask(&arp), Some(proto::ETH | proto::ARP));
        // Every one-byte change of the header it reads, and a cut: the walk agrees.
        for i in 12..20 {
            for v in [0u8, 1, 4, 6, 8, 0x81, 0xff] {
                let mut d = arp.clone();
                d[i] = v;
                if is_plain_arp(&d) {
                    assert_eq!(walk_mask(&d), Some(proto::ETH | proto::ARP), "byte {i} = {v}");
                }
            }
        }
        assert!(!is_plain_arp(&arp[..41]));
        assert_eq!(walk_mask(&arp[..41]), None);
    }
}
