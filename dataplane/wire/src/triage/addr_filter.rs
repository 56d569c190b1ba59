//! The address filter of a learned table: the flags the burst triage tests a frame's source and
//! destination addresses against, read at the offsets of its layout class.
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering::*};

/// A superset of the addresses a learned table holds — 512 flags, one for each value of 9
/// bits of an address's last two bytes — that the workers' header look tests a frame's source
/// and destination addresses against without hashing them or touching the table: under the
/// default policy, once a poisoner is known, a TCP segment between two other hosts is let
/// through on two byte loads from a 512-byte array instead of a look at its ports, flags and
/// payload (every follow-on rule needs `ip.src` or `ip.dst` in the table,
/// `antidote_policy::plan`).
///
/// The flags tell apart every host of a /24 (IPv4), and IPv6 hosts by the last 9 bits of their
/// interface identifiers; hosts beyond that may share flags, which only costs them the full
/// look. A flag is one byte, not one bit, and its index is the last two bytes read as the
/// machine reads a `u16`, shifted down seven bits: a test is a 16-bit load, a shift and a byte
/// load. (512 flags, not more: the source PMD's copy of each burst pushes the worker's lines
/// out of L1, and the whole filter is then 8 lines to find again — with 4096 flags, up to one
/// line for each frame's address, and a frame's address loads waited on them. As bits, the
/// test took more instructions than the misses cost.) Flags are set when a key is learned
/// (before it is published) and never cleared — a key that expires or is forgotten leaves its
/// flag, so the filter can say "maybe" too often, never "no" for a key the table holds
/// (clearing would race with a concurrent insert); it starts empty again with the table (a
/// policy that redeclares it, a restart).
pub struct AddrFilter {
    flags: [AtomicU8; FILTER_FLAGS],
    /// Bumped whenever a flag is newly set: a worker that learned a key while judging a burst
    /// looks again at the frames after it that the filter let through.
    generation: AtomicU64,
}

/// Size of [`AddrFilter`]: one flag for each value of [`AddrFilter::flag_of`] (9 bits).
const FILTER_FLAGS: usize = 512;

impl Default for AddrFilter {
    fn default() -> Self {
        AddrFilter { flags: std::array::from_fn(|_| AtomicU8::new(0)), generation: AtomicU64::new(0) }
    }
}

impl AddrFilter {
    /// A key's last two bytes (an address in the form of [`crate::frame::Addr`]: IPv4
    /// as `::ffff:a.b.c.d`), as the look reads them off the wire: a native-endian `u16`.
    #[inline]
    pub fn last2_of_key(key: u128) -> u16 {
        let b = key.to_be_bytes();
        u16::from_ne_bytes([b[14], b[15]])
    }

    /// The flag of an address's last two bytes (as [`AddrFilter::last2_of_key`] reads them): the
    /// `u16` shifted down seven bits — on a little-endian machine, the last byte and the high
    /// bit of the one before, so within a /24 every host has its own flag. 9 bits: no mask, no
    /// byte swap.
    #[inline(always)]
    fn flag_of(last2: u16) -> usize {
        (last2 >> 7) as usize
    }

    /// False when no key with the same flag ([`AddrFilter::flag_of`]) was ever added.
    #[inline(always)]
    pub fn may_hold(&self, last2: u16) -> bool {
        self.flags[Self::flag_of(last2)].load(Relaxed) != 0
    }

    /// The flag of an address's last two bytes: 0 when no key with the same flag was added.
    #[inline(always)]
    pub fn flag(&self, last2: u16) -> u8 {
        self.flags[Self::flag_of(last2)].load(Relaxed)
    }

    /// Adds a key (an address: other keys only set flags no address test reads). Called by the
    /// table that owns the filter before it publishes the key.
    pub fn add(&self, key: u128) {
        let f = &self.flags[Self::flag_of(Self::last2_of_key(key))];
        if f.load(Relaxed) == 0 && f.swap(1, Release) == 0 {
            self.generation.fetch_add(1, Release);
        }
    }

    /// Bumped whenever a key sets a new flag.
    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation.load(Acquire)
    }

    /// How many of its flags are set.
    pub fn flags_set(&self) -> u32 {
        self.flags.iter().filter(|f| f.load(Relaxed) != 0).count() as u32
    }
}
