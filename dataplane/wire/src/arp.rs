//! ARP for IPv4 over Ethernet.
use crate::error::{be16, Error, Result};
use crate::ethernet::Mac;
use std::net::Ipv4Addr;

pub const LEN: usize = 28;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpRepr {
    /// 1 request, 2 reply.
    pub op: u16,
    pub sender_mac: Mac,
    pub sender_ip: Ipv4Addr,
    pub target_mac: Mac,
    pub target_ip: Ipv4Addr,
}

impl ArpRepr {
    pub fn parse(b: &[u8]) -> Result<ArpRepr> {
        if b.len() < LEN {
            return Err(Error::Truncated);
        }
        if be16(b, 0)? != 1 || be16(b, 2)? != 0x0800 || b[4] != 6 || b[5] != 4 {
            return Err(Error::Malformed("ARP is not IPv4 over Ethernet"));
        }
        Ok(ArpRepr {
            op: be16(b, 6)?,
            sender_mac: Mac::from_slice(&b[8..14]),
            sender_ip: Ipv4Addr::new(b[14], b[15], b[16], b[17]),
            target_mac: Mac::from_slice(&b[18..24]),
            target_ip: Ipv4Addr::new(b[24], b[25], b[26], b[27]),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn request() {
        let b = [0, 1, 8, 0, 6, 4, 0, 1, 2, 0, 0, 0, 0, 0x10, 198, 18, 0, 10, 0, 0, 0, 0, 0, 0, 198, 18, 0, 20];
        let r = ArpRepr::parse(&b).unwrap();
        assert_eq!(r.op, 1);
        assert_eq!(r.sender_ip, Ipv4Addr::new(198, 18, 0, 10));
        assert_eq!(r.target_ip, Ipv4Addr::new(198, 18, 0, 20));
        assert_eq!(ArpRepr::parse(&b[..27]), Err(Error::Truncated));
        let mut bad = b;
        bad[5] = 16;
        assert!(matches!(ArpRepr::parse(&bad), Err(Error::Malformed(_))));
    }
}
