//! IPv6: the fixed header and a walk over hop-by-hop, routing, fragment and destination-options
//! extension headers to the upper-layer protocol.
use crate::error::{be16, u8at, Error, Result};
use crate::ipv4::Fragment;
use std::net::Ipv6Addr;

pub const HEADER_LEN: usize = 40;
pub const NH_HOPBYHOP: u8 = 0;
pub const NH_ROUTING: u8 = 43;
pub const NH_FRAGMENT: u8 = 44;
pub const NH_DSTOPTS: u8 = 60;
pub const NH_NONE: u8 = 59;

/// The most extension headers walked before giving up (a defence against header chains).
pub const MAX_EXT_HEADERS: usize = 8;

/// A parsed IPv6 header with its extension chain resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Repr {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub hop_limit: u8,
    pub traffic_class: u8,
    pub flow_label: u32,
    /// The upper-layer protocol after the extension headers.
    pub next_header: u8,
    pub fragment: Fragment,
    /// Extension headers walked.
    pub ext_headers: u8,
    /// Offset of the upper-layer header within the packet.
    pub payload_offset: usize,
    /// End of the packet per the payload length (padding excluded).
    pub payload_end: usize,
}

impl Ipv6Repr {
    #[inline]
    pub fn parse(b: &[u8]) -> Result<Ipv6Repr> {
        if b.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if b[0] >> 4 != 6 {
            return Err(Error::Malformed("IPv6 version is not 6"));
        }
        let plen = be16(b, 4)? as usize;
        let end = HEADER_LEN + plen;
        if b.len() < end {
            return Err(Error::Truncated);
        }
        let mut src = [0u8; 16];
        src.copy_from_slice(&b[8..24]);
        let mut dst = [0u8; 16];
        dst.copy_from_slice(&b[24..40]);
        let mut r = Ipv6Repr {
            src: Ipv6Addr::from(src),
            dst: Ipv6Addr::from(dst),
            hop_limit: b[7],
            traffic_class: ((b[0] & 0x0f) << 4) | (b[1] >> 4),
            flow_label: u32::from_be_bytes([0, b[1] & 0x0f, b[2], b[3]]),
            next_header: b[6],
            fragment: Fragment::None,
            ext_headers: 0,
            payload_offset: HEADER_LEN,
            payload_end: end,
        };
        let pkt = &b[..end];
        loop {
            let nh = r.next_header;
            let off = r.payload_offset;
            let len = match nh {
                NH_HOPBYHOP | NH_ROUTING | NH_DSTOPTS => (u8at(pkt, off + 1)? as usize + 1) * 8,
                NH_FRAGMENT => {
                    let fo = be16(pkt, off + 2)?;
                    r.fragment = match (fo >> 3, fo & 1) {
                        (0, 0) => Fragment::None,
                        (0, _) => Fragment::First,
                        _ => Fragment::Later,
                    };
                    8
                }
                _ => return Ok(r),
            };
            if nh == NH_HOPBYHOP && r.ext_headers != 0 {
                return Err(Error::Malformed("hop-by-hop header not first"));
            }
            if r.ext_headers as usize == MAX_EXT_HEADERS {
                return Err(Error::Malformed("too many IPv6 extension headers"));
            }
            let next = u8at(pkt, off)?;
            if off + len > pkt.len() {
                return Err(Error::Truncated);
            }
            r.ext_headers += 1;
            r.next_header = next;
            r.payload_offset = off + len;
            if r.fragment == Fragment::Later {
                return Ok(r);
            }
        }
    }

    #[inline]
    /// Writes a 40-byte header (no extension headers); returns 40.
    pub fn emit(&self, buf: &mut [u8], payload_len: usize) -> Result<usize> {
        if buf.len() < HEADER_LEN || payload_len > 0xffff {
            return Err(Error::Truncated);
        }
        let vtf = (6u32 << 28) | ((self.traffic_class as u32) << 20) | (self.flow_label & 0xfffff);
        buf[0..4].copy_from_slice(&vtf.to_be_bytes());
        buf[4..6].copy_from_slice(&(payload_len as u16).to_be_bytes());
        buf[6] = self.next_header;
        buf[7] = self.hop_limit;
        buf[8..24].copy_from_slice(&self.src.octets());
        buf[24..40].copy_from_slice(&self.dst.octets());
        Ok(HEADER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(nh: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![0x60, 0, 0, 0];
        v.extend((payload.len() as u16).to_be_bytes());
        v.extend([nh, 1]);
        v.extend(Ipv6Addr::new(0xfd00, 0x198, 0x18, 0, 0, 0, 0, 0x10).octets());
        v.extend(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 3).octets());
        v.extend(payload);
        v
    }

    #[test]
    fn plain_udp() {
        let b = base(17, &[0; 8]);
        let r = Ipv6Repr::parse(&b).unwrap();
        assert_eq!(r.next_header, 17);
        assert_eq!(r.payload_offset, 40);
        assert_eq!(r.hop_limit, 1);
        assert_eq!(r.dst, "ff02::1:3".parse::<Ipv6Addr>().unwrap());
    }

    #[test]
    fn walks_extension_headers() {
        // hop-by-hop (8 bytes) -> dst opts (16 bytes) -> fragment (first) -> UDP
        let mut p = vec![NH_DSTOPTS, 0, 1, 4, 0, 0, 0, 0];
        p.extend([NH_FRAGMENT, 1, 1, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        p.extend([17, 0, 0x00, 0x01, 0, 0, 0, 9]);
        p.extend([0; 8]);
        let r = Ipv6Repr::parse(&base(NH_HOPBYHOP, &p)).unwrap();
        assert_eq!(r.next_header, 17);
        assert_eq!(r.ext_headers, 3);
        assert_eq!(r.fragment, Fragment::First);
        assert_eq!(r.payload_offset, 40 + 8 + 16 + 8);
        // a later fragment stops the walk
        let later = [17, 0, 0x00, 0x08, 0, 0, 0, 9, 1, 2];
        let r = Ipv6Repr::parse(&base(NH_FRAGMENT, &later)).unwrap();
        assert_eq!(r.fragment, Fragment::Later);
    }

    #[test]
    fn malformed() {
        let b = base(17, &[0; 8]);
        assert_eq!(Ipv6Repr::parse(&b[..39]), Err(Error::Truncated));
        assert_eq!(Ipv6Repr::parse(&b[..45]), Err(Error::Truncated));
        // an extension header whose length runs past the packet
        assert_eq!(Ipv6Repr::parse(&base(NH_DSTOPTS, &[17, 4, 0, 0, 0, 0, 0, 0])), Err(Error::Truncated));
        // a chain of destination options longer than allowed
        let mut p = Vec::new();
        for _ in 0..10 {
            p.extend([NH_DSTOPTS, 0, 1, 4, 0, 0, 0, 0]);
        }
        assert!(matches!(Ipv6Repr::parse(&base(NH_DSTOPTS, &p)), Err(Error::Malformed(_))));
        // hop-by-hop not first
        let p = [NH_HOPBYHOP, 0, 1, 4, 0, 0, 0, 0, 17, 0, 1, 4, 0, 0, 0, 0];
        assert!(matches!(Ipv6Repr::parse(&base(NH_DSTOPTS, &p)), Err(Error::Malformed(_))));
    }
}
