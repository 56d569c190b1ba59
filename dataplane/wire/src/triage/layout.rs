//! Layout classes: a frame's layout (IPv4 or IPv6, tagged or not, TCP or UDP) from its
//! Ethertype and IP protocol fields alone, by table — what the first pass of the burst triage
//! reads for every frame.
use super::AddrFilter;
use crate::proto;

/// Layout classes 0..8 have bit 0 for UDP (else TCP), bit 1 for one 802.1Q tag, bit 2 for IPv6
/// (else IPv4); `OTHER` is every other layout.
pub(crate) const OTHER: usize = 8;

/// Whether a frame of a known layout class (at least 60 bytes: [`layout_of`]) may have its
/// source or destination address in `filter` — the addresses the dissector gives `ip.src` and
/// `ip.dst`, at fixed offsets for the class. (A frame whose IP version does not match its
/// Ethertype has neither field: the dissector finds its IP header malformed.)
#[inline(always)]
pub(super) fn addrs_may_be_in<const TAGGED: bool, const V6: bool>(h: &[u8; 60], filter: &AddrFilter) -> bool {
    let l3 = if TAGGED { 18 } else { 14 };
    // The last two bytes of the source and destination addresses (one load each).
    let low = |o: usize| u16::from_ne_bytes([h[o], h[o + 1]]);
    let (src, dst) = if V6 { (low(l3 + 22), low(l3 + 38)) } else { (low(l3 + 14), low(l3 + 18)) };
    filter.may_hold(src) | filter.may_hold(dst)
}

/// The IPv4 layout classes (bit c: class c).
pub(super) const V4_CLASSES: u32 = 0b1111;

/// [`layout_in`], and the flags of `filter` for the source and destination addresses of an
/// IPv4 frame (read as [`addrs_may_be_in`] reads them: what it gives for a frame of an IPv4
/// class, and a meaningless byte for the others).
#[inline(always)]
pub(super) fn layout_gated(h: &[u8; 60], table: &[u8; 1024], filter: &AddrFilter) -> (usize, u8) {
    let off = tag_offset(h);
    let low = |o: usize| u16::from_ne_bytes([h[(o + off).min(58)], h[(o + off).min(58) + 1]]);
    let flags = filter.flag(low(14 + 14)) | filter.flag(low(14 + 18));
    (class_at(h, table, off), flags)
}

/// The frames (bit i) whose byte in `b` is `v`: one 32-byte compare and mask extraction (AVX2),
/// else two of 16 bytes (SSE2, part of every x86-64).
#[inline(always)]
pub(super) fn byte_mask(b: &[u8; 32], v: u8) -> u32 {
    // (With AVX2, one 32-byte compare: the mask comes out whole, not in two halves the compiler
    // then assembles with vector inserts — `class_masks` makes nine.)
    #[cfg(all(target_arch = "x86_64", target_feature = "avx2"))]
    {
        use safe_arch::{cmp_eq_mask_i8_m256i as eq, m256i, move_mask_i8_m256i as bits, set_splat_i8_m256i as splat};
        bits(eq(m256i::from(*b), splat(v as i8))) as u32
    }
    #[cfg(all(target_arch = "x86_64", target_feature = "sse2", not(target_feature = "avx2")))]
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
pub(super) fn class_masks(cls: &[u8; 32]) -> [u32; 16] {
    let mut m = [0u32; 16];
    // The class numbers are splat from a register, not loaded: as constants the compiler keeps
    // each splat vector in read-only data, on lines of their own that the PMD's copy has
    // pushed out of L1 by the next burst — nine misses a burst (`bench/RESULTS.md`, session
    // 29). (`black_box` keeps the number from being known at compile time.)
    let first = std::hint::black_box(0u8);
    for (c, mask) in m.iter_mut().enumerate().take(OTHER + 1) {
        *mask = byte_mask(cls, first.wrapping_add(c as u8));
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
    // What the other transport is and carries ([`proto::carried_by`]).
    let foreign = if c & 1 == 1 { TCP | SYN | TCP_APPS } else { UDP | UDP_APPS };
    let vlan = if c & 2 == 2 { VLAN } else { 0 };
    c < OTHER && m & ETH != 0 && m & VLAN == vlan && m & (ARP | foreign) == 0
}

/// The layout class of a frame (see [`OTHER`]), from its Ethertype and IP protocol: the
/// protocol, IPv6 or IPv4, and tagged or not index [`LAYOUT_TABLE`]. Frames shorter than
/// Ethernet's minimum are [`OTHER`].
#[inline(always)]
pub(super) fn layout_of(h: &[u8; 60]) -> usize {
    layout_in(h, &LAYOUT_TABLE)
}

/// [`layout_of`] with the table's address given (hoisted out of the look's loop: a static of
/// this crate is reached through the GOT from the worker's, a load per frame). The tag's
/// offset goes into the loads' addresses; the Ethertype is branched on (most frames are IPv4,
/// so the branch is predicted: without it — flags and arithmetic, or a table of Ethertypes —
/// the look was 5–10 % slower on the bench machine).
#[inline(always)]
pub(super) fn layout_in(h: &[u8; 60], table: &[u8; 1024]) -> usize {
    class_at(h, table, tag_offset(h))
}

/// 0, or 4 past one 802.1Q tag: into every load's address, and (times 64) the table's row.
#[inline(always)]
pub(super) fn tag_offset(h: &[u8; 60]) -> usize {
    4 * (u16::from_ne_bytes([h[12], h[13]]) == u16::from_ne_bytes([0x81, 0x00])) as usize
}

/// [`layout_in`] with the tag's offset given.
#[inline(always)]
pub(super) fn class_at(h: &[u8; 60], table: &[u8; 1024], off: usize) -> usize {
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
/// IPv4). (A `const`, read through a reference: see `proto::NAMED_PORTS`.)
pub(super) const LAYOUT_TABLE: [u8; 1024] = {
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
