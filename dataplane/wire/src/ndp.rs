//! IPv6 neighbour discovery (RFC 4861): router advertisements, neighbour solicitations and
//! advertisements, with their link-layer address options — the messages that bind an IPv6
//! address to a MAC, as ARP does for IPv4. Read from an ICMPv6 message (`Frame::payload` of an
//! IPv6 frame whose next header is 58).
use crate::error::{Error, Result};
use crate::ethernet::Mac;
use std::net::Ipv6Addr;

pub const ROUTER_SOLICIT: u8 = 133;
pub const ROUTER_ADVERT: u8 = 134;
pub const NEIGHBOR_SOLICIT: u8 = 135;
pub const NEIGHBOR_ADVERT: u8 = 136;

/// Option types carrying a link-layer address.
const OPT_SOURCE_LL: u8 = 1;
const OPT_TARGET_LL: u8 = 2;

/// A neighbour-discovery message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NdpRepr {
    /// [`ROUTER_SOLICIT`], [`ROUTER_ADVERT`], [`NEIGHBOR_SOLICIT`] or [`NEIGHBOR_ADVERT`].
    pub kind: u8,
    /// The target address of a neighbour solicitation or advertisement.
    pub target: Option<Ipv6Addr>,
    /// The link-layer address the message carries: the source's (solicitations, router
    /// advertisements) or the target's (neighbour advertisements).
    pub lladdr: Option<Mac>,
    /// A neighbour advertisement's R (router), S (solicited) and O (override) bits, as the top
    /// three bits of this byte.
    pub flags: u8,
}

impl NdpRepr {
    /// Reads an ICMPv6 message; anything but the four messages above, a code other than 0, or an
    /// option of length 0 is an error.
    pub fn parse(m: &[u8]) -> Result<NdpRepr> {
        let (&kind, &code) = (m.first().ok_or(Error::Truncated)?, m.get(1).ok_or(Error::Truncated)?);
        if code != 0 {
            return Err(Error::Malformed("neighbour discovery with a code other than 0"));
        }
        let (opts_at, want) = match kind {
            ROUTER_SOLICIT => (8, OPT_SOURCE_LL),
            ROUTER_ADVERT => (16, OPT_SOURCE_LL),
            NEIGHBOR_SOLICIT => (24, OPT_SOURCE_LL),
            NEIGHBOR_ADVERT => (24, OPT_TARGET_LL),
            _ => return Err(Error::Malformed("not a neighbour-discovery message")),
        };
        if m.len() < opts_at {
            return Err(Error::Truncated);
        }
        let target = matches!(kind, NEIGHBOR_SOLICIT | NEIGHBOR_ADVERT).then(|| {
            let mut a = [0u8; 16];
            a.copy_from_slice(&m[8..24]);
            Ipv6Addr::from(a)
        });
        let mut lladdr = None;
        let mut at = opts_at;
        while at < m.len() {
            let (t, len) = (m[at], *m.get(at + 1).ok_or(Error::Truncated)? as usize * 8);
            if len == 0 {
                return Err(Error::Malformed("neighbour-discovery option of length 0"));
            }
            let opt = m.get(at..at + len).ok_or(Error::Truncated)?;
            if t == want && len >= 8 && lladdr.is_none() {
                lladdr = Some(Mac::from_slice(&opt[2..8]));
            }
            at += len;
        }
        let flags = if kind == NEIGHBOR_ADVERT { m[4] & 0xe0 } else { 0 };
        Ok(NdpRepr { kind, target, lladdr, flags })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn na(target: &str, tll: Option<[u8; 6]>) -> Vec<u8> {
        let mut m = vec![NEIGHBOR_ADVERT, 0, 0, 0, 0x60, 0, 0, 0];
        m.extend(target.parse::<Ipv6Addr>().unwrap().octets());
        if let Some(mac) = tll {
            m.extend([OPT_TARGET_LL, 1]);
            m.extend(mac);
        }
        m
    }

    #[test]
    fn advertisements_and_solicitations() {
        let mac = [2, 0xad, 0, 0, 0, 0x20];
        let n = NdpRepr::parse(&na("fe80::ad:ff:fe00:20", Some(mac))).unwrap();
        assert_eq!((n.kind, n.target, n.lladdr, n.flags), (NEIGHBOR_ADVERT, Some("fe80::ad:ff:fe00:20".parse().unwrap()), Some(Mac(mac)), 0x60));
        assert_eq!(NdpRepr::parse(&na("fd00:198:18::20", None)).unwrap().lladdr, None);
        // A solicitation's option is the source's address; a target option is not taken for it.
        let mut ns = vec![NEIGHBOR_SOLICIT, 0, 0, 0, 0, 0, 0, 0];
        ns.extend("fd00:198:18::20".parse::<Ipv6Addr>().unwrap().octets());
        ns.extend([OPT_TARGET_LL, 1, 9, 9, 9, 9, 9, 9, OPT_SOURCE_LL, 1]);
        ns.extend(mac);
        assert_eq!(NdpRepr::parse(&ns).unwrap().lladdr, Some(Mac(mac)));
        let mut ra = vec![ROUTER_ADVERT, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, OPT_SOURCE_LL, 1];
        ra.extend(mac);
        assert_eq!(NdpRepr::parse(&ra).unwrap().lladdr, Some(Mac(mac)));
    }

    #[test]
    fn bad_messages_are_errors_never_panics() {
        let good = na("fe80::1", Some([2, 0, 0, 0, 0, 1]));
        for cut in 0..good.len() {
            if cut < 24 || (cut > 24 && cut < good.len()) {
                assert!(NdpRepr::parse(&good[..cut]).is_err(), "cut at {cut}");
            }
        }
        let mut zero = good.clone();
        zero[25] = 0;
        assert!(NdpRepr::parse(&zero).is_err(), "an option of length 0 would loop");
        let mut echo = good.clone();
        echo[0] = 128;
        assert!(NdpRepr::parse(&echo).is_err());
        let mut code = good;
        code[1] = 1;
        assert!(NdpRepr::parse(&code).is_err());
        for b in 0..=255u8 {
            let _ = NdpRepr::parse(&[NEIGHBOR_ADVERT, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, b, b]);
        }
    }
}
