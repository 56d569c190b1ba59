//! DHCPv4 (RFC 2131, options RFC 2132 and RFC 4702): what a lease teaches about the network — the
//! address a server acknowledged for a client's MAC, the host name a client gives for itself
//! (option 12, or the client FQDN of option 81), the server's identifier.
use crate::error::{be16, Error, Result};
use crate::ethernet::Mac;
use std::net::Ipv4Addr;

pub const PORT_SERVER: u16 = 67;
pub const PORT_CLIENT: u16 = 68;

/// DHCP message types (option 53).
pub const DISCOVER: u8 = 1;
pub const REQUEST: u8 = 3;
pub const ACK: u8 = 5;
pub const INFORM: u8 = 8;

const MAGIC: [u8; 4] = [99, 130, 83, 99];
const OPTIONS_AT: usize = 240;

/// A DHCPv4 message: the fixed header's addresses and the options antidote reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpRepr<'a> {
    /// 1 request (client to server), 2 reply.
    pub op: u8,
    pub xid: u32,
    pub ciaddr: Ipv4Addr,
    /// The address the server gives the client.
    pub yiaddr: Ipv4Addr,
    pub chaddr: Mac,
    /// Option 53.
    pub msg_type: Option<u8>,
    /// Option 12, as sent.
    pub host_name: Option<&'a [u8]>,
    /// Option 81's name: the first label, whether it came in DNS wire form or as text.
    pub fqdn_host: Option<&'a [u8]>,
    /// Option 54.
    pub server_id: Option<Ipv4Addr>,
    /// Option 50.
    pub requested: Option<Ipv4Addr>,
    /// Options 3 (routers), 6 (DNS servers) and 44 (NetBIOS name servers): lists of IPv4
    /// addresses, as sent.
    pub routers: &'a [u8],
    pub dns_servers: &'a [u8],
    pub wins_servers: &'a [u8],
}

fn v4(b: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
}

impl<'a> DhcpRepr<'a> {
    /// Reads a DHCPv4 message (a UDP payload between ports 67 and 68). Ethernet hardware
    /// addresses only; the options end at option 255 or the message's end.
    pub fn parse(p: &'a [u8]) -> Result<DhcpRepr<'a>> {
        if p.len() < OPTIONS_AT {
            return Err(Error::Truncated);
        }
        if !matches!(p[0], 1 | 2) || p[1] != 1 || p[2] != 6 || p[236..240] != MAGIC {
            return Err(Error::Malformed("not a DHCP message for Ethernet"));
        }
        let mut m = DhcpRepr {
            op: p[0],
            xid: (be16(p, 4)? as u32) << 16 | be16(p, 6)? as u32,
            ciaddr: v4(&p[12..16]),
            yiaddr: v4(&p[16..20]),
            chaddr: Mac::from_slice(&p[28..34]),
            msg_type: None,
            host_name: None,
            fqdn_host: None,
            server_id: None,
            requested: None,
            routers: &[],
            dns_servers: &[],
            wins_servers: &[],
        };
        let mut at = OPTIONS_AT;
        while at < p.len() {
            let code = p[at];
            if code == 0 {
                at += 1;
                continue;
            }
            if code == 255 {
                break;
            }
            let len = *p.get(at + 1).ok_or(Error::Truncated)? as usize;
            let v = p.get(at + 2..at + 2 + len).ok_or(Error::Truncated)?;
            match (code, len) {
                (53, 1) => m.msg_type = Some(v[0]),
                (12, 1..) => m.host_name = Some(v),
                (81, 4..) => m.fqdn_host = fqdn_host(v[0], &v[3..]),
                (54, 4) => m.server_id = Some(v4(v)),
                (50, 4) => m.requested = Some(v4(v)),
                (3, _) => m.routers = v,
                (6, _) => m.dns_servers = v,
                (44, _) => m.wins_servers = v,
                _ => {}
            }
            at += 2 + len;
        }
        Ok(m)
    }

    /// The addresses of a list option ([`DhcpRepr::routers`] …): whole four-byte entries.
    pub fn addresses(list: &'a [u8]) -> impl Iterator<Item = Ipv4Addr> + 'a {
        list.chunks_exact(4).map(v4)
    }

    /// The host name the message gives for its client: option 12, else option 81's first label.
    pub fn client_name(&self) -> Option<&'a [u8]> {
        self.host_name.or(self.fqdn_host).filter(|n| !n.is_empty())
    }
}

/// The first label of option 81's domain name: in DNS wire form when the E flag (0x04) is set,
/// else text up to the first dot.
fn fqdn_host(flags: u8, name: &[u8]) -> Option<&[u8]> {
    if flags & 0x04 != 0 {
        let len = *name.first()? as usize;
        (len > 0 && len < 64).then(|| name.get(1..1 + len)).flatten()
    } else {
        let host = name.split(|&c| c == b'.').next()?;
        (!host.is_empty()).then_some(host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DHCP message of `op` and `kind` with the given options after 53.
    fn message(op: u8, kind: u8, yiaddr: [u8; 4], chaddr: [u8; 6], options: &[u8]) -> Vec<u8> {
        let mut p = vec![0u8; OPTIONS_AT];
        p[0] = op;
        p[1] = 1;
        p[2] = 6;
        p[4..8].copy_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
        p[16..20].copy_from_slice(&yiaddr);
        p[28..34].copy_from_slice(&chaddr);
        p[236..240].copy_from_slice(&MAGIC);
        p.extend([53, 1, kind]);
        p.extend(options);
        p.push(255);
        p
    }

    #[test]
    fn acknowledgements_and_host_names() {
        let mac = [2, 0xad, 0, 0, 0, 0x20];
        let ack = message(2, ACK, [198, 18, 0, 20], mac, &[54, 4, 198, 18, 0, 1, 0, 0, 12, 8, b'c', b'o', b'r', b'p', b'f', b's', b'0', b'1']);
        let m = DhcpRepr::parse(&ack).unwrap();
        assert_eq!((m.op, m.msg_type, m.yiaddr, m.chaddr, m.xid), (2, Some(ACK), Ipv4Addr::new(198, 18, 0, 20), Mac(mac), 0xdeadbeef));
        assert_eq!((m.server_id, m.client_name()), (Some(Ipv4Addr::new(198, 18, 0, 1)), Some(&b"corpfs01"[..])));
        // Option 81 in wire form and as text; option 12 first when both are there.
        let wire = message(1, REQUEST, [0; 4], mac, &[81, 3 + 15, 0x05, 0, 0, 8, b'c', b'o', b'r', b'p', b'f', b's', b'0', b'2', 5, b'c', b'o', b'r', b'p', 0]);
        assert_eq!(DhcpRepr::parse(&wire).unwrap().client_name(), Some(&b"corpfs02"[..]));
        let text = message(1, REQUEST, [0; 4], mac, &[81, 3 + 13, 0, 0, 0, b'c', b'o', b'r', b'p', b'f', b's', b'0', b'3', b'.', b'l', b'a', b'n', 0]);
        assert_eq!(DhcpRepr::parse(&text).unwrap().client_name(), Some(&b"corpfs03"[..]));
    }

    #[test]
    fn bad_messages_are_errors_never_panics() {
        let good = message(1, REQUEST, [0; 4], [2, 0, 0, 0, 0, 1], &[12, 3, b'a', b'b', b'c']);
        assert!(DhcpRepr::parse(&good[..OPTIONS_AT - 1]).is_err());
        let mut cut = good.clone();
        cut.truncate(good.len() - 3); // option 12 runs past the end
        assert!(DhcpRepr::parse(&cut).is_err());
        let mut magic = good.clone();
        magic[236] = 0;
        assert!(DhcpRepr::parse(&magic).is_err());
        for i in OPTIONS_AT..good.len() {
            for v in [0u8, 1, 4, 12, 53, 81, 255] {
                let mut g = good.clone();
                g[i] = v;
                let _ = DhcpRepr::parse(&g).map(|m| m.client_name());
            }
        }
    }
}
