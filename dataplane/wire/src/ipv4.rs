//! IPv4: header, options, fragments (the first fragment is parsed; later ones are marked).
use crate::checksum;
use crate::error::{be16, Error, Result};
use std::net::Ipv4Addr;

pub const MIN_HEADER_LEN: usize = 20;

/// A checked view of an IPv4 packet.
#[derive(Debug, Clone, Copy)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Checks version, header length and total length against the buffer.
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Self> {
        let b = buffer.as_ref();
        if b.len() < MIN_HEADER_LEN {
            return Err(Error::Truncated);
        }
        if b[0] >> 4 != 4 {
            return Err(Error::Malformed("IPv4 version is not 4"));
        }
        let ihl = ((b[0] & 0x0f) as usize) * 4;
        if ihl < MIN_HEADER_LEN {
            return Err(Error::Malformed("IPv4 header length below 20"));
        }
        let total = be16(b, 2)? as usize;
        if total < ihl {
            return Err(Error::Malformed("IPv4 total length below header length"));
        }
        if b.len() < total || b.len() < ihl {
            return Err(Error::Truncated);
        }
        Ok(Ipv4Packet { buffer })
    }
    #[inline]
    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    #[inline]
    pub fn header_len(&self) -> usize {
        ((self.b()[0] & 0x0f) as usize) * 4
    }
    #[inline]
    pub fn dscp_ecn(&self) -> u8 {
        self.b()[1]
    }
    #[inline]
    pub fn total_len(&self) -> usize {
        u16::from_be_bytes([self.b()[2], self.b()[3]]) as usize
    }
    #[inline]
    pub fn ident(&self) -> u16 {
        u16::from_be_bytes([self.b()[4], self.b()[5]])
    }
    #[inline]
    pub fn dont_frag(&self) -> bool {
        self.b()[6] & 0x40 != 0
    }
    #[inline]
    pub fn more_frags(&self) -> bool {
        self.b()[6] & 0x20 != 0
    }
    #[inline]
    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> usize {
        (u16::from_be_bytes([self.b()[6], self.b()[7]]) & 0x1fff) as usize * 8
    }
    #[inline]
    pub fn ttl(&self) -> u8 {
        self.b()[8]
    }
    #[inline]
    pub fn protocol(&self) -> u8 {
        self.b()[9]
    }
    #[inline]
    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.b()[10], self.b()[11]])
    }
    #[inline]
    pub fn src_bytes(&self) -> [u8; 4] {
        let b = self.b();
        [b[12], b[13], b[14], b[15]]
    }
    #[inline]
    pub fn dst_bytes(&self) -> [u8; 4] {
        let b = self.b();
        [b[16], b[17], b[18], b[19]]
    }
    #[inline]
    pub fn src(&self) -> Ipv4Addr {
        let b = self.b();
        Ipv4Addr::new(b[12], b[13], b[14], b[15])
    }
    #[inline]
    pub fn dst(&self) -> Ipv4Addr {
        let b = self.b();
        Ipv4Addr::new(b[16], b[17], b[18], b[19])
    }
    #[inline]
    pub fn options(&self) -> &[u8] {
        &self.b()[MIN_HEADER_LEN..self.header_len()]
    }
    #[inline]
    pub fn verify_checksum(&self) -> bool {
        checksum::checksum(&self.b()[..self.header_len()]) == 0
    }
    #[inline]
    /// The payload as the total length gives it (Ethernet padding excluded).
    pub fn payload(&self) -> &[u8] {
        &self.b()[self.header_len()..self.total_len()]
    }
}

/// What a packet's fragment fields say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fragment {
    /// Not fragmented.
    None,
    /// The first fragment: the transport header is here.
    First,
    /// A later fragment: no transport header.
    Later,
}

/// An IPv4 header to emit (options are not emitted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Repr {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub protocol: u8,
    pub ttl: u8,
    pub ident: u16,
    pub payload_len: usize,
}

impl Ipv4Repr {
    #[inline]
    /// Writes a 20-byte header with a correct checksum; returns 20.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let total = MIN_HEADER_LEN + self.payload_len;
        if buf.len() < MIN_HEADER_LEN || total > 0xffff {
            return Err(Error::Truncated);
        }
        let h = &mut buf[..MIN_HEADER_LEN];
        h[0] = 0x45;
        h[1] = 0;
        h[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        h[4..6].copy_from_slice(&self.ident.to_be_bytes());
        h[6..8].copy_from_slice(&[0, 0]);
        h[8] = self.ttl;
        h[9] = self.protocol;
        h[10..12].copy_from_slice(&[0, 0]);
        h[12..16].copy_from_slice(&self.src.octets());
        h[16..20].copy_from_slice(&self.dst.octets());
        let c = checksum::checksum(h);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        Ok(MIN_HEADER_LEN)
    }
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    #[inline]
    pub fn fragment(&self) -> Fragment {
        match (self.frag_offset(), self.more_frags()) {
            (0, false) => Fragment::None,
            (0, true) => Fragment::First,
            _ => Fragment::Later,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // 198.18.0.10 -> 224.0.0.252, UDP, TTL 1, 8 bytes of payload, valid checksum.
    fn pkt() -> Vec<u8> {
        let mut v = vec![0x45, 0, 0, 28, 0x12, 0x34, 0, 0, 1, 17, 0, 0, 198, 18, 0, 10, 224, 0, 0, 252];
        let c = checksum::checksum(&v);
        v[10..12].copy_from_slice(&c.to_be_bytes());
        v.extend([1, 2, 3, 4, 5, 6, 7, 8]);
        v
    }

    #[test]
    fn parse() {
        let b = pkt();
        let p = Ipv4Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.src(), Ipv4Addr::new(198, 18, 0, 10));
        assert_eq!(p.dst(), Ipv4Addr::new(224, 0, 0, 252));
        assert_eq!(p.ttl(), 1);
        assert_eq!(p.protocol(), 17);
        assert!(p.verify_checksum());
        assert_eq!(p.payload(), &[1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(p.fragment(), Fragment::None);
    }

    #[test]
    fn fragments_and_options() {
        let mut b = pkt();
        b[6] = 0x20; // MF, offset 0
        assert_eq!(Ipv4Packet::new_checked(&b[..]).unwrap().fragment(), Fragment::First);
        b[6] = 0x00;
        b[7] = 0x03; // offset 24
        assert_eq!(Ipv4Packet::new_checked(&b[..]).unwrap().fragment(), Fragment::Later);
        let mut o = pkt();
        o[0] = 0x46;
        o[3] = 32;
        o.splice(20..20, [1, 1, 1, 0]); // NOP NOP NOP EOL
        let p = Ipv4Packet::new_checked(&o[..]).unwrap();
        assert_eq!(p.options(), &[1, 1, 1, 0]);
        assert_eq!(p.payload().len(), 8);
    }

    #[test]
    fn malformed() {
        let b = pkt();
        assert_eq!(Ipv4Packet::new_checked(&b[..19]).err(), Some(Error::Truncated));
        assert_eq!(Ipv4Packet::new_checked(&b[..27]).err(), Some(Error::Truncated));
        let mut v = b.clone();
        v[0] = 0x65;
        assert!(matches!(Ipv4Packet::new_checked(&v[..]), Err(Error::Malformed(_))));
        let mut v = b.clone();
        v[0] = 0x44;
        assert!(matches!(Ipv4Packet::new_checked(&v[..]), Err(Error::Malformed(_))));
        let mut v = b;
        v[3] = 10;
        assert!(matches!(Ipv4Packet::new_checked(&v[..]), Err(Error::Malformed(_))));
    }

    #[test]
    fn emit_roundtrip() {
        let r = Ipv4Repr { src: Ipv4Addr::new(198, 18, 0, 1), dst: Ipv4Addr::new(198, 18, 0, 2), protocol: 17, ttl: 64, ident: 7, payload_len: 8 };
        let mut buf = [0u8; 28];
        r.emit(&mut buf).unwrap();
        let p = Ipv4Packet::new_checked(&buf[..]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!(p.total_len(), 28);
        assert_eq!(p.src(), r.src);
    }
}
