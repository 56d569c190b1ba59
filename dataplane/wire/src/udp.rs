//! UDP.
use crate::checksum;
use crate::error::{be16, Error, Result};
use std::net::IpAddr;

pub const HEADER_LEN: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpRepr {
    pub src_port: u16,
    pub dst_port: u16,
    /// The length field (header included).
    pub length: u16,
    pub checksum: u16,
}

impl UdpRepr {
    /// Parses the header; the payload is `b[8..length]`.
    #[inline]
    pub fn parse(b: &[u8]) -> Result<UdpRepr> {
        let r = UdpRepr { src_port: be16(b, 0)?, dst_port: be16(b, 2)?, length: be16(b, 4)?, checksum: be16(b, 6)? };
        if (r.length as usize) < HEADER_LEN {
            return Err(Error::Malformed("UDP length below 8"));
        }
        if b.len() < r.length as usize {
            return Err(Error::Truncated);
        }
        Ok(r)
    }

    #[inline]
    /// Parses the header of a first fragment: the length covers the whole datagram, so only
    /// the header must be present; the payload is what this fragment carries.
    pub fn parse_first_fragment(b: &[u8]) -> Result<UdpRepr> {
        let r = UdpRepr { src_port: be16(b, 0)?, dst_port: be16(b, 2)?, length: be16(b, 4)?, checksum: be16(b, 6)? };
        if (r.length as usize) < HEADER_LEN {
            return Err(Error::Malformed("UDP length below 8"));
        }
        Ok(r)
    }

    #[inline]
    /// The payload within `b` (as far as `b` goes, for a first fragment).
    pub fn payload<'a>(&self, b: &'a [u8]) -> &'a [u8] {
        &b[HEADER_LEN.min(b.len())..(self.length as usize).min(b.len())]
    }

    #[inline]
    /// Writes header + payload (already at `buf[8..8+payload_len]`) with a correct checksum.
    pub fn emit(src_port: u16, dst_port: u16, buf: &mut [u8], payload_len: usize, src: IpAddr, dst: IpAddr) -> Result<usize> {
        let len = HEADER_LEN + payload_len;
        if buf.len() < len || len > 0xffff {
            return Err(Error::Truncated);
        }
        buf[0..2].copy_from_slice(&src_port.to_be_bytes());
        buf[2..4].copy_from_slice(&dst_port.to_be_bytes());
        buf[4..6].copy_from_slice(&(len as u16).to_be_bytes());
        buf[6..8].copy_from_slice(&[0, 0]);
        let mut c = checksum::l4_checksum(src, dst, 17, &buf[..len]);
        if c == 0 {
            c = 0xffff;
        }
        buf[6..8].copy_from_slice(&c.to_be_bytes());
        Ok(len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parse_and_emit() {
        let src: IpAddr = "198.18.0.10".parse().unwrap();
        let dst: IpAddr = "198.18.0.20".parse().unwrap();
        let mut buf = [0u8; 12];
        buf[8..].copy_from_slice(b"ping");
        UdpRepr::emit(137, 137, &mut buf, 4, src, dst).unwrap();
        let r = UdpRepr::parse(&buf).unwrap();
        assert_eq!((r.src_port, r.dst_port, r.length), (137, 137, 12));
        assert_eq!(r.payload(&buf), b"ping");
        // verifying: checksum over pseudo-header + segment with the stored checksum is 0
        assert_eq!(checksum::l4_checksum(src, dst, 17, &buf), 0);
        assert_eq!(UdpRepr::parse(&buf[..7]), Err(Error::Truncated));
        assert_eq!(UdpRepr::parse(&buf[..11]), Err(Error::Truncated));
        let mut bad = buf;
        bad[5] = 4;
        assert!(matches!(UdpRepr::parse(&bad), Err(Error::Malformed(_))));
    }
}
