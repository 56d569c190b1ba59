//! DHCPv6 (RFC 8415, client FQDN RFC 4704): what a client's message teaches about the network —
//! the host name it gives for itself (option 39, the first label) and, when its DUID carries
//! one (DUID-LLT, DUID-LL), its link-layer address.
use crate::error::{be16, Error, Result};

pub const PORT_CLIENT: u16 = 546;
pub const PORT_SERVER: u16 = 547;

/// Client message types that name the client: Solicit, Request, Renew, Rebind, Information-request.
pub const SOLICIT: u8 = 1;
pub const REQUEST: u8 = 3;
pub const RENEW: u8 = 5;
pub const REBIND: u8 = 6;
pub const INFORMATION_REQUEST: u8 = 11;
/// A server's Reply: what it leases.
pub const REPLY: u8 = 7;

const OPT_CLIENTID: u16 = 1;
const OPT_IA_NA: u16 = 3;
const OPT_IAADDR: u16 = 5;
const OPT_CLIENT_FQDN: u16 = 39;

/// A DHCPv6 client or server message: its type and the options antidote reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dhcp6Repr<'a> {
    pub msg_type: u8,
    pub xid: u32,
    /// The link-layer address of the client's DUID (DUID-LLT or DUID-LL over Ethernet).
    pub duid_mac: Option<[u8; 6]>,
    /// Option 39's domain name, first label.
    pub fqdn_host: Option<&'a [u8]>,
    /// The options of the first IA_NA (option 3), after its IAID and timers: where a Reply's
    /// leased addresses are ([`Dhcp6Repr::leased`]).
    ia_na: &'a [u8],
}

impl<'a> Dhcp6Repr<'a> {
    /// Parses a DHCPv6 message (not a relay message: those wrap the client's).
    pub fn parse(b: &'a [u8]) -> Result<Dhcp6Repr<'a>> {
        let h = b.first_chunk::<4>().ok_or(Error::Truncated)?;
        if matches!(h[0], 12 | 13) {
            return Err(Error::Malformed("a relay message"));
        }
        let mut m = Dhcp6Repr { msg_type: h[0], xid: u32::from_be_bytes([0, h[1], h[2], h[3]]), duid_mac: None, fqdn_host: None, ia_na: &[] };
        let mut at = 4;
        while at < b.len() {
            let (code, len) = (be16(b, at)?, be16(b, at + 2)? as usize);
            let v = b.get(at + 4..at + 4 + len).ok_or(Error::Truncated)?;
            match code {
                OPT_CLIENTID => m.duid_mac = duid_mac(v),
                OPT_IA_NA if m.ia_na.is_empty() && len >= 12 => m.ia_na = &v[12..],
                OPT_CLIENT_FQDN if len >= 2 => {
                    // Flags, then the name in DNS wire form; its first label.
                    let n = v[1] as usize;
                    m.fqdn_host = (n > 0 && n < 64).then(|| v.get(2..2 + n)).flatten();
                }
                _ => {}
            }
            at += 4 + len;
        }
        Ok(m)
    }

    /// The addresses a server's Reply leases (IAADDR options of its first IA_NA).
    pub fn leased(&self) -> impl Iterator<Item = std::net::Ipv6Addr> + 'a {
        let mut at = 0;
        let b = if self.msg_type == REPLY { self.ia_na } else { &[] };
        std::iter::from_fn(move || {
            while at + 4 <= b.len() {
                let (code, len) = (u16::from_be_bytes([b[at], b[at + 1]]), u16::from_be_bytes([b[at + 2], b[at + 3]]) as usize);
                let v = b.get(at + 4..at + 4 + len)?;
                at += 4 + len;
                if code == OPT_IAADDR && len >= 24 {
                    let a: [u8; 16] = v[..16].try_into().ok()?;
                    return Some(std::net::Ipv6Addr::from(a));
                }
            }
            None
        })
    }

    /// Whether the message is a client's that names it (Solicit, Request, Renew, Rebind,
    /// Information-request).
    pub fn from_client(&self) -> bool {
        matches!(self.msg_type, SOLICIT | REQUEST | RENEW | REBIND | INFORMATION_REQUEST)
    }
}

/// The Ethernet address of a DUID-LLT (type 1: hardware type, time, address) or DUID-LL (type 3:
/// hardware type, address), hardware type 1.
fn duid_mac(d: &[u8]) -> Option<[u8; 6]> {
    let at = match (be16(d, 0).ok()?, be16(d, 2).ok()?) {
        (1, 1) => 8,
        (3, 1) => 4,
        _ => return None,
    };
    d.get(at..at + 6)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Solicit as dhclient -6 sends it: client id DUID-LLT, client FQDN `winhost.corp.`.
    fn solicit() -> Vec<u8> {
        let mut m = vec![SOLICIT, 0x12, 0x34, 0x56];
        m.extend([0, 1, 0, 14, 0, 1, 0, 1, 0x2c, 0x11, 0x22, 0x33, 2, 0xad, 0, 0, 0, 0x30]);
        m.extend([0, 8, 0, 2, 0, 0]); // elapsed time
        let name = b"\x07winhost\x04corp\x00";
        m.extend([0, 39, 0, (1 + name.len()) as u8, 0x01]);
        m.extend(name);
        m
    }

    #[test]
    fn a_solicit_names_its_client() {
        let s = solicit();
        let m = Dhcp6Repr::parse(&s).unwrap();
        assert!(m.from_client());
        assert_eq!((m.xid, m.duid_mac, m.fqdn_host), (0x123456, Some([2, 0xad, 0, 0, 0, 0x30]), Some(&b"winhost"[..])));
    }

    #[test]
    fn a_reply_leases_addresses_to_its_client() {
        let mut m = vec![REPLY, 0x12, 0x34, 0x56];
        m.extend([0, 1, 0, 10, 0, 3, 0, 1, 2, 0xad, 0, 0, 0, 0x30]);
        let mut ia = vec![0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        ia.extend([0, 5, 0, 24]);
        ia.extend("fd00:198:18::1:30".parse::<std::net::Ipv6Addr>().unwrap().octets());
        ia.extend([0, 0, 0x0e, 0x10, 0, 0, 0x1c, 0x20]);
        m.extend([0, 3]);
        m.extend((ia.len() as u16).to_be_bytes());
        m.extend(ia);
        let r = Dhcp6Repr::parse(&m).unwrap();
        assert_eq!(r.duid_mac, Some([2, 0xad, 0, 0, 0, 0x30]));
        assert_eq!(r.leased().collect::<Vec<_>>(), ["fd00:198:18::1:30".parse::<std::net::Ipv6Addr>().unwrap()]);
        m[0] = 2; // an Advertise offers, leases nothing
        assert_eq!(Dhcp6Repr::parse(&m).unwrap().leased().count(), 0);
    }

    #[test]
    fn truncated_and_relayed_messages_are_errors_never_panics() {
        let s = solicit();
        for n in 0..s.len() {
            let _ = Dhcp6Repr::parse(&s[..n]);
        }
        assert_eq!(Dhcp6Repr::parse(&s[..s.len() - 3]), Err(Error::Truncated));
        assert!(Dhcp6Repr::parse(&[12, 0, 0, 0]).is_err());
        // A DUID-EN carries no MAC.
        let mut en = vec![INFORMATION_REQUEST, 0, 0, 1, 0, 1, 0, 8, 0, 2, 0, 0, 0x01, 0x37, 1, 2];
        en.extend([0, 39, 0, 2, 0, 0]);
        let m = Dhcp6Repr::parse(&en).unwrap();
        assert_eq!((m.duid_mac, m.fqdn_host), (None, None));
    }
}
