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

const OPT_CLIENTID: u16 = 1;
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
}

impl<'a> Dhcp6Repr<'a> {
    /// Parses a DHCPv6 message (not a relay message: those wrap the client's).
    pub fn parse(b: &'a [u8]) -> Result<Dhcp6Repr<'a>> {
        let h = b.first_chunk::<4>().ok_or(Error::Truncated)?;
        if matches!(h[0], 12 | 13) {
            return Err(Error::Malformed("a relay message"));
        }
        let mut m = Dhcp6Repr { msg_type: h[0], xid: u32::from_be_bytes([0, h[1], h[2], h[3]]), duid_mac: None, fqdn_host: None };
        let mut at = 4;
        while at < b.len() {
            let (code, len) = (be16(b, at)?, be16(b, at + 2)? as usize);
            let v = b.get(at + 4..at + 4 + len).ok_or(Error::Truncated)?;
            match code {
                OPT_CLIENTID => m.duid_mac = duid_mac(v),
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
