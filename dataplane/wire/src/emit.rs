//! Whole frames built for the respond and canary features: the NBT-NS negative name-query
//! response to a captured query, and LLMNR / NBT-NS / mDNS queries over IPv4 and IPv6. Every
//! frame gets Ethernet (VLAN tags kept), IP and UDP headers with correct checksums.
use crate::dns;
use crate::error::{Error, Result};
use crate::ethernet::{EthernetRepr, Mac, VlanTag, ETHERTYPE_IPV4, ETHERTYPE_IPV6};
use crate::frame::Frame;
use crate::ipv4::Ipv4Repr;
use crate::ipv6::Ipv6Repr;
use crate::nbns;
use crate::udp::{UdpRepr, HEADER_LEN as UDP_HEADER};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Largest frame this module builds.
pub const MAX_FRAME: usize = 14 + 8 + 40 + 8 + 300;

pub const LLMNR_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 252);
pub const LLMNR_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 3);
pub const MDNS_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 251);
pub const MDNS_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0xfb);

/// The multicast MAC of an IPv4 or IPv6 group address.
pub fn multicast_mac(ip: IpAddr) -> Mac {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            Mac([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]])
        }
        IpAddr::V6(a) => {
            let o = a.octets();
            Mac([0x33, 0x33, o[12], o[13], o[14], o[15]])
        }
    }
}

/// Addressing of a frame to build: Ethernet, tags, IP and UDP ports.
#[derive(Debug, Clone, Copy)]
pub struct UdpAddressing {
    pub src_mac: Mac,
    pub dst_mac: Mac,
    pub vlans: [VlanTag; 2],
    pub vlan_count: u8,
    pub src_ip: IpAddr,
    pub dst_ip: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    /// IPv4 TTL / IPv6 hop limit.
    pub ttl: u8,
}

/// Builds Ethernet + IP + UDP around a payload that `write` puts at the given slice; returns the
/// frame length.
pub fn udp_frame(out: &mut [u8], a: &UdpAddressing, write: impl FnOnce(&mut [u8]) -> Result<usize>) -> Result<usize> {
    let v6 = match (a.src_ip, a.dst_ip) {
        (IpAddr::V4(_), IpAddr::V4(_)) => false,
        (IpAddr::V6(_), IpAddr::V6(_)) => true,
        _ => return Err(Error::Malformed("source and destination of different IP versions")),
    };
    let eth = EthernetRepr {
        dst: a.dst_mac,
        src: a.src_mac,
        vlans: a.vlans,
        vlan_count: a.vlan_count,
        ethertype: if v6 { ETHERTYPE_IPV6 } else { ETHERTYPE_IPV4 },
        payload_offset: 0,
    };
    let l2 = eth.emit(out)?;
    let l3 = if v6 { 40 } else { 20 };
    let pay_at = l2 + l3 + UDP_HEADER;
    let plen = write(out.get_mut(pay_at..).ok_or(Error::Truncated)?)?;
    let udp_len = UdpRepr::emit(a.src_port, a.dst_port, &mut out[l2 + l3..], plen, a.src_ip, a.dst_ip)?;
    match (a.src_ip, a.dst_ip) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            Ipv4Repr { src: s, dst: d, protocol: 17, ttl: a.ttl, ident: 0, payload_len: udp_len }.emit(&mut out[l2..])?;
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            Ipv6Repr {
                src: s,
                dst: d,
                hop_limit: a.ttl,
                traffic_class: 0,
                flow_label: 0,
                next_header: 17,
                fragment: crate::ipv4::Fragment::None,
                ext_headers: 0,
                payload_offset: 40,
                payload_end: 40 + udp_len,
            }
            .emit(&mut out[l2..], udp_len)?;
        }
        _ => unreachable!("checked above"),
    }
    Ok(l2 + l3 + udp_len)
}

/// An untagged UDP datagram carrying `payload`, as a new vector (allocates: for tests and tools,
/// not the packet path).
#[allow(clippy::too_many_arguments)]
pub fn udp_datagram(src_mac: Mac, dst_mac: Mac, src_ip: IpAddr, dst_ip: IpAddr, src_port: u16, dst_port: u16, ttl: u8, payload: &[u8]) -> Result<Vec<u8>> {
    let a = UdpAddressing { src_mac, dst_mac, vlans: [VlanTag::default(); 2], vlan_count: 0, src_ip, dst_ip, src_port, dst_port, ttl };
    let mut out = vec![0u8; 14 + 40 + 8 + payload.len()];
    let n = udp_frame(&mut out, &a, |b| {
        b.get_mut(..payload.len()).ok_or(Error::Truncated)?.copy_from_slice(payload);
        Ok(payload.len())
    })?;
    out.truncate(n);
    Ok(out)
}

/// The NBT-NS negative name-query response (RFC 1002 §4.2.14) to the query in `query`, sent
/// back to the querier: its MAC, IP and source port, the same VLAN tags, from `src_mac` /
/// `src_ip` (the address the answer claims to come from) and port 137.
pub fn nbns_negative_response(out: &mut [u8], query: &Frame<'_>, src_mac: Mac, src_ip: Ipv4Addr, ra: bool) -> Result<usize> {
    let m = query.nbns().ok_or(Error::Malformed("not an NBT-NS frame"))?;
    if !m.is_name_query() {
        return Err(Error::Malformed("not an NBT-NS name query"));
    }
    let eth = query.eth.ok_or(Error::Malformed("no Ethernet header"))?;
    let net = query.net.ok_or(Error::Malformed("no IP header"))?;
    let IpAddr::V4(querier) = net.src.ip() else { return Err(Error::Malformed("NBT-NS over IPv6")) };
    let udp = query.udp().ok_or(Error::Malformed("no UDP header"))?;
    let a = UdpAddressing {
        src_mac,
        dst_mac: eth.src,
        vlans: eth.vlans,
        vlan_count: eth.vlan_count,
        src_ip: IpAddr::V4(src_ip),
        dst_ip: IpAddr::V4(querier),
        src_port: nbns::PORT,
        dst_port: udp.src_port,
        ttl: 64,
    };
    udp_frame(out, &a, |p| nbns::emit_negative_response(p, m, ra))
}

/// Which name protocol a query is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    Llmnr,
    Mdns,
    /// Broadcast to the given IPv4 subnet broadcast address.
    Nbns {
        broadcast: Ipv4Addr,
    },
}

/// A query for `name` as an ordinary client sends it: LLMNR (flags 0, type A or AAAA) to
/// 224.0.0.252 / ff02::1:3 from `src_port`; mDNS (id 0, QM) to 224.0.0.251 / ff02::fb from 5353;
/// NBT-NS broadcast (flags 0x0110, suffix 0x20) from port 137.
#[allow(clippy::too_many_arguments)]
pub fn name_query(out: &mut [u8], kind: QueryKind, src_mac: Mac, src_ip: IpAddr, tags: &[VlanTag], name: &str, id: u16, src_port: u16) -> Result<usize> {
    query(out, kind, src_mac, src_ip, tags, name, id, src_port, None)
}

/// The query [`name_query`] builds, or with `to` (a responder's MAC and address) a probe of
/// that responder alone: sent to its MAC — LLMNR to its address (a poisoner bound to any address
/// answers a unicast query), NBT-NS to the subnet broadcast address, mDNS to the group: the
/// addresses a poisoner listens on — so that no other host sees it.
#[allow(clippy::too_many_arguments)]
pub fn query(
    out: &mut [u8],
    kind: QueryKind,
    src_mac: Mac,
    src_ip: IpAddr,
    tags: &[VlanTag],
    name: &str,
    id: u16,
    src_port: u16,
    to: Option<(Mac, IpAddr)>,
) -> Result<usize> {
    if tags.len() > 2 {
        return Err(Error::Malformed("more than two VLAN tags"));
    }
    let mut vlans = [VlanTag::default(); 2];
    vlans[..tags.len()].copy_from_slice(tags);
    let v6 = src_ip.is_ipv6();
    let qtype = if v6 { dns::TYPE_AAAA } else { dns::TYPE_A };
    let (dst_ip, dst_mac, sport, dport, ttl) = match kind {
        QueryKind::Llmnr => {
            let d = if v6 { IpAddr::V6(LLMNR_V6) } else { IpAddr::V4(LLMNR_V4) };
            (d, multicast_mac(d), src_port, 5355, 1)
        }
        QueryKind::Mdns => {
            let d = if v6 { IpAddr::V6(MDNS_V6) } else { IpAddr::V4(MDNS_V4) };
            (d, multicast_mac(d), 5353, 5353, 255)
        }
        QueryKind::Nbns { broadcast } => {
            if v6 {
                return Err(Error::Malformed("NBT-NS has no IPv6 transport"));
            }
            (IpAddr::V4(broadcast), Mac::BROADCAST, nbns::PORT, nbns::PORT, 64)
        }
    };
    let (dst_mac, dst_ip, ttl) = match (to, kind) {
        (None, _) => (dst_mac, dst_ip, ttl),
        (Some((m, ip)), QueryKind::Llmnr) => {
            if ip.is_ipv6() != v6 {
                return Err(Error::Malformed("source and destination of different IP versions"));
            }
            (m, ip, 64)
        }
        (Some((m, _)), _) => (m, dst_ip, ttl),
    };
    let a = UdpAddressing { src_mac, dst_mac, vlans, vlan_count: tags.len() as u8, src_ip, dst_ip, src_port: sport, dst_port: dport, ttl };
    udp_frame(out, &a, |p| match kind {
        QueryKind::Llmnr => dns::emit_query(p, id, 0, name, qtype, 1),
        QueryKind::Mdns => dns::emit_query(p, 0, 0, name, qtype, 1),
        QueryKind::Nbns { .. } => nbns::emit_query(p, id, name.as_bytes(), 0x20, true),
    })
}

/// A SQL Server Resolution Protocol CLNT_UCAST_INST request (MC-SQLR 2.2.3: 0x04, the instance
/// name, NUL) for `instance`, from `src_port` to port 1434 of `dst_ip` at `dst_mac` (a subnet
/// broadcast for a canary, a responder's address for a probe).
#[allow(clippy::too_many_arguments)]
pub fn ssrp_query(
    out: &mut [u8],
    src_mac: Mac,
    src_ip: Ipv4Addr,
    dst_mac: Mac,
    dst_ip: Ipv4Addr,
    tags: &[VlanTag],
    instance: &str,
    src_port: u16,
) -> Result<usize> {
    if tags.len() > 2 {
        return Err(Error::Malformed("more than two VLAN tags"));
    }
    if instance.is_empty() || instance.len() > 32 {
        return Err(Error::Malformed("SSRP instance names are 1 to 32 bytes"));
    }
    let mut vlans = [VlanTag::default(); 2];
    vlans[..tags.len()].copy_from_slice(tags);
    let a = UdpAddressing {
        src_mac,
        dst_mac,
        vlans,
        vlan_count: tags.len() as u8,
        src_ip: IpAddr::V4(src_ip),
        dst_ip: IpAddr::V4(dst_ip),
        src_port,
        dst_port: crate::proto::PORT_SSRP,
        ttl: 64,
    };
    udp_frame(out, &a, |p| {
        let n = instance.len();
        let b = p.get_mut(..n + 2).ok_or(Error::Truncated)?;
        b[0] = crate::ssrp::CLNT_UCAST_INST;
        b[1..n + 1].copy_from_slice(instance.as_bytes());
        b[n + 1] = 0;
        Ok(n + 2)
    })
}

/// The ARP reply of a host at `my_ip` / `my_mac` to the request `req` arriving in a frame with
/// header `eth` (its tags kept): to the requester's MAC (what a canary identity answers, so a
/// poisoner can reach it).
pub fn arp_reply(out: &mut [u8], eth: &EthernetRepr, req: &crate::arp::ArpRepr, my_mac: Mac, my_ip: Ipv4Addr) -> Result<usize> {
    if req.op != 1 || req.target_ip != my_ip {
        return Err(Error::Malformed("not an ARP request for this address"));
    }
    let e = EthernetRepr {
        dst: req.sender_mac,
        src: my_mac,
        vlans: eth.vlans,
        vlan_count: eth.vlan_count,
        ethertype: crate::ethernet::ETHERTYPE_ARP,
        payload_offset: 0,
    };
    let l2 = e.emit(out)?;
    let a = out.get_mut(l2..l2 + 28).ok_or(Error::Truncated)?;
    a[..8].copy_from_slice(&[0, 1, 0x08, 0x00, 6, 4, 0, 2]);
    a[8..14].copy_from_slice(&my_mac.0);
    a[14..18].copy_from_slice(&my_ip.octets());
    a[18..24].copy_from_slice(&req.sender_mac.0);
    a[24..28].copy_from_slice(&req.sender_ip.octets());
    // Padded to the Ethernet minimum (60 bytes before the FCS).
    let end = (l2 + 28).max(60);
    out.get_mut(l2 + 28..end).ok_or(Error::Truncated)?.fill(0);
    Ok(end)
}

/// The neighbour advertisement (RFC 4861 §4.4: solicited, override, with the target link-layer
/// address) of `my_ip` / `my_mac` to a solicitation from `src` (its MAC `src_mac`) arriving in a
/// frame with header `eth` (its tags kept); to all nodes when the solicitation came from `::`.
pub fn neighbor_advert(out: &mut [u8], eth: &EthernetRepr, src_mac: Mac, src: Ipv6Addr, my_mac: Mac, my_ip: Ipv6Addr) -> Result<usize> {
    let (dst, dst_mac, flags) = if src.is_unspecified() {
        let all = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
        (all, multicast_mac(IpAddr::V6(all)), 0x2000_0000u32)
    } else {
        (src, src_mac, 0x6000_0000u32)
    };
    let e = EthernetRepr { dst: dst_mac, src: my_mac, vlans: eth.vlans, vlan_count: eth.vlan_count, ethertype: ETHERTYPE_IPV6, payload_offset: 0 };
    let l2 = e.emit(out)?;
    let len = 32;
    let m = out.get_mut(l2 + 40..l2 + 40 + len).ok_or(Error::Truncated)?;
    m[0] = 136;
    m[1] = 0;
    m[2..4].fill(0);
    m[4..8].copy_from_slice(&flags.to_be_bytes());
    m[8..24].copy_from_slice(&my_ip.octets());
    m[24..26].copy_from_slice(&[2, 1]);
    m[26..32].copy_from_slice(&my_mac.0);
    let c = crate::checksum::l4_checksum(IpAddr::V6(my_ip), IpAddr::V6(dst), 58, m);
    m[2..4].copy_from_slice(&c.to_be_bytes());
    Ipv6Repr {
        src: my_ip,
        dst,
        hop_limit: 255,
        traffic_class: 0,
        flow_label: 0,
        next_header: 58,
        fragment: crate::ipv4::Fragment::None,
        ext_headers: 0,
        payload_offset: 40,
        payload_end: 40 + len,
    }
    .emit(&mut out[l2..], len)?;
    Ok(l2 + 40 + len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::l4_checksum;
    use crate::frame::Scratch;
    use crate::ipv4::Ipv4Packet;

    fn tagged_query() -> Vec<u8> {
        let mut out = [0u8; MAX_FRAME];
        let n = name_query(
            &mut out,
            QueryKind::Nbns { broadcast: Ipv4Addr::new(198, 18, 0, 255) },
            Mac([2, 0xad, 0, 0, 0, 0x10]),
            IpAddr::V4(Ipv4Addr::new(198, 18, 0, 10)),
            &[VlanTag { tpid: 0x8100, tci: 42 }],
            "fileservr",
            0x4242,
            137,
        )
        .unwrap();
        out[..n].to_vec()
    }

    #[test]
    fn negative_response_to_a_tagged_query() {
        let q = tagged_query();
        let mut s1 = Scratch::default();
        let qf = Frame::parse(&q, &mut s1);
        assert!(qf.nbns().unwrap().is_name_query());
        assert_eq!(qf.eth.unwrap().vlan_id(), Some(42));
        let mut out = [0u8; MAX_FRAME];
        let me = Mac([2, 0, 0, 0, 0, 0xaa]);
        let n = nbns_negative_response(&mut out, &qf, me, Ipv4Addr::new(198, 18, 0, 1), false).unwrap();
        let mut s2 = Scratch::default();
        let r = Frame::parse(&out[..n], &mut s2);
        assert!(r.error.is_none(), "{:?}", r.error);
        let eth = r.eth.unwrap();
        assert_eq!(eth.dst, Mac([2, 0xad, 0, 0, 0, 0x10]));
        assert_eq!(eth.src, me);
        assert_eq!(eth.vlan_id(), Some(42));
        let net = r.net.unwrap();
        assert_eq!(net.dst.ip(), IpAddr::V4(Ipv4Addr::new(198, 18, 0, 10)));
        assert!(Ipv4Packet::new_checked(&out[18..n]).unwrap().verify_checksum());
        let udp = r.udp().unwrap();
        assert_eq!((udp.src_port, udp.dst_port), (137, 137));
        let m = r.nbns().unwrap();
        assert_eq!(m.flags, 0x8503);
        assert_eq!(m.id, 0x4242);
        assert!(m.record().unwrap().name.eq_ignore_case(b"FILESERVR"));
        // UDP checksum verifies
        let ip = Ipv4Packet::new_checked(&out[18..n]).unwrap();
        assert_eq!(l4_checksum(net.src.ip(), net.dst.ip(), 17, ip.payload()), 0);
        // Every byte is written: built over old data (a reused mbuf), the frame is the same.
        for junk in [0x00u8, 0xa5, 0xff] {
            let mut dirty = [junk; MAX_FRAME];
            let m = nbns_negative_response(&mut dirty, &qf, me, Ipv4Addr::new(198, 18, 0, 1), false).unwrap();
            assert_eq!(&dirty[..m], &out[..n], "built over {junk:#x}");
        }
    }

    #[test]
    fn queries_v4_v6() {
        let mut out = [0u8; MAX_FRAME];
        for (kind, src) in [
            (QueryKind::Llmnr, IpAddr::V4(Ipv4Addr::new(198, 18, 0, 10))),
            (QueryKind::Llmnr, IpAddr::V6("fd00:198:18::10".parse().unwrap())),
            (QueryKind::Mdns, IpAddr::V4(Ipv4Addr::new(198, 18, 0, 10))),
            (QueryKind::Mdns, IpAddr::V6("fd00:198:18::10".parse().unwrap())),
        ] {
            let n = name_query(&mut out, kind, Mac([2, 0, 0, 0, 0, 1]), src, &[], "printer7", 9, 50000).unwrap();
            let mut s = Scratch::default();
            let f = Frame::parse(&out[..n], &mut s);
            assert!(f.error.is_none());
            let m = if kind == QueryKind::Llmnr { f.llmnr() } else { f.mdns() }.unwrap();
            assert!(m.question().unwrap().name.eq_ignore_case(b"printer7"));
            let net = f.net.unwrap();
            assert_eq!(f.eth.unwrap().dst, multicast_mac(net.dst.ip()));
            let l4 = &out[n - f.udp().unwrap().length as usize..n];
            assert_eq!(l4_checksum(net.src.ip(), net.dst.ip(), 17, l4), 0);
        }
        assert!(name_query(&mut out, QueryKind::Nbns { broadcast: Ipv4Addr::BROADCAST }, Mac::default(), IpAddr::V6(Ipv6Addr::LOCALHOST), &[], "x", 1, 137)
            .is_err());
    }

    #[test]
    fn a_canary_identity_answers_arp_and_neighbour_solicitation() {
        let me = Mac([2, 0xcc, 0, 0, 0, 1]);
        let my4 = Ipv4Addr::new(198, 18, 0, 250);
        let them = Mac([2, 0xad, 0, 0, 0, 0x66]);
        let req = crate::arp::ArpRepr { op: 1, sender_mac: them, sender_ip: Ipv4Addr::new(198, 18, 0, 66), target_mac: Mac::default(), target_ip: my4 };
        let eth = EthernetRepr {
            dst: Mac::BROADCAST,
            src: them,
            vlans: [VlanTag { tpid: 0x8100, tci: 7 }, VlanTag::default()],
            vlan_count: 1,
            ethertype: 0x0806,
            payload_offset: 18,
        };
        let mut out = [0u8; MAX_FRAME];
        let n = arp_reply(&mut out, &eth, &req, me, my4).unwrap();
        let mut sc = Scratch::default();
        let f = Frame::parse(&out[..n], &mut sc);
        let a = f.arp.unwrap();
        assert_eq!((a.op, a.sender_mac, a.sender_ip, a.target_mac, f.eth.unwrap().vlan_id()), (2, me, my4, them, Some(7)));
        assert!(arp_reply(&mut out, &eth, &crate::arp::ArpRepr { target_ip: Ipv4Addr::new(198, 18, 0, 1), ..req }, me, my4).is_err());
        // The advertisement: to the soliciting host, solicited and override, its checksum right.
        let ll: Ipv6Addr = "fe80::cc:ff:fe00:1".parse().unwrap();
        let src: Ipv6Addr = "fe80::ad:ff:fe00:66".parse().unwrap();
        let n = neighbor_advert(&mut out, &eth, them, src, me, ll).unwrap();
        let f = Frame::parse(&out[..n], &mut sc);
        assert!(f.error.is_none(), "{:?}", f.error);
        let ndp = crate::ndp::NdpRepr::parse(f.payload).unwrap();
        assert_eq!((ndp.kind, ndp.target, ndp.lladdr), (crate::ndp::NEIGHBOR_ADVERT, Some(ll), Some(me)));
        assert_eq!(l4_checksum(IpAddr::V6(ll), IpAddr::V6(src), 58, f.payload), 0);
        assert_eq!(f.net.unwrap().ttl, 255);
    }
}
