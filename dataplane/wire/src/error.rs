//! The one error type of the dissectors.
use core::fmt;

/// Why a layer could not be dissected. Every dissector returns one of these for truncated or
/// inconsistent input; none panics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// The buffer ends before the header or a length field says it should.
    Truncated,
    /// A field holds a value the protocol does not allow (the text says which).
    Malformed(&'static str),
    /// A name compression pointer points forward, to itself, or around a loop.
    PointerLoop,
    /// A name is longer than the protocol allows (255 bytes for DNS names).
    NameTooLong,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Truncated => f.write_str("truncated"),
            Error::Malformed(m) => write!(f, "malformed: {m}"),
            Error::PointerLoop => f.write_str("name compression pointer loop"),
            Error::NameTooLong => f.write_str("name too long"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = core::result::Result<T, Error>;

/// Big-endian reads that return `Truncated` instead of panicking.
#[inline(always)]
pub(crate) fn be16(b: &[u8], at: usize) -> Result<u16> {
    match b.get(at..at + 2) {
        Some(s) => Ok(u16::from_be_bytes([s[0], s[1]])),
        None => Err(Error::Truncated),
    }
}

#[inline(always)]
pub(crate) fn be32(b: &[u8], at: usize) -> Result<u32> {
    match b.get(at..at + 4) {
        Some(s) => Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]])),
        None => Err(Error::Truncated),
    }
}

#[inline(always)]
pub(crate) fn u8at(b: &[u8], at: usize) -> Result<u8> {
    b.get(at).copied().ok_or(Error::Truncated)
}

#[inline(always)]
pub(crate) fn le16(b: &[u8], at: usize) -> Result<u16> {
    match b.get(at..at + 2) {
        Some(s) => Ok(u16::from_le_bytes([s[0], s[1]])),
        None => Err(Error::Truncated),
    }
}

#[inline(always)]
pub(crate) fn le32(b: &[u8], at: usize) -> Result<u32> {
    match b.get(at..at + 4) {
        Some(s) => Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]])),
        None => Err(Error::Truncated),
    }
}
