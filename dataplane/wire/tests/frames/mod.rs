//! Frame builders shared by the evaluation tests and benches.
#![allow(dead_code)]
use antidote_wire::emit::{udp_frame, UdpAddressing};
use antidote_wire::ethernet::{Mac, VlanTag};
use std::net::IpAddr;

pub const VICTIM: &str = "198.18.0.10";
pub const LEGIT: &str = "198.18.0.20";
pub const POISONER: &str = "198.18.0.66";

fn addr(src: &str, dst: &str, sport: u16, dport: u16) -> UdpAddressing {
    UdpAddressing {
        src_mac: Mac([2, 0xad, 0, 0, 0, 0x66]),
        dst_mac: Mac([2, 0xad, 0, 0, 0, 0x10]),
        vlans: [VlanTag::default(); 2],
        vlan_count: 0,
        src_ip: src.parse::<IpAddr>().unwrap(),
        dst_ip: dst.parse::<IpAddr>().unwrap(),
        src_port: sport,
        dst_port: dport,
        ttl: 64,
    }
}

fn dns_name(n: &str) -> Vec<u8> {
    let mut v = Vec::new();
    for l in n.split('.') {
        v.push(l.len() as u8);
        v.extend(l.as_bytes());
    }
    v.push(0);
    v
}

pub fn udp(src: &str, dst: &str, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; 2048];
    let n = udp_frame(&mut out, &addr(src, dst, sport, dport), |p| {
        p[..payload.len()].copy_from_slice(payload);
        Ok(payload.len())
    })
    .unwrap();
    out.truncate(n);
    out
}

/// An LLMNR answer for `name` pointing at `answer`; the answer name in full (Responder-style)
/// or as a pointer.
pub fn llmnr_answer(src: &str, dst: &str, name: &str, answer: &str, ttl: u32, compressed: bool) -> Vec<u8> {
    let v6 = answer.contains(':');
    let mut m = vec![0x12, 0x34, 0x80, 0x00, 0, 1, 0, 1, 0, 0, 0, 0];
    m.extend(dns_name(name));
    m.extend([0, if v6 { 28 } else { 1 }, 0, 1]);
    if compressed {
        m.extend([0xc0, 12]);
    } else {
        m.extend(dns_name(name));
    }
    m.extend([0, if v6 { 28 } else { 1 }, 0, 1]);
    m.extend(ttl.to_be_bytes());
    match answer.parse::<IpAddr>().unwrap() {
        IpAddr::V4(a) => {
            m.extend([0, 4]);
            m.extend(a.octets());
        }
        IpAddr::V6(a) => {
            m.extend([0, 16]);
            m.extend(a.octets());
        }
    }
    udp(src, dst, 5355, 50000, &m)
}

pub fn llmnr_query(src: &str, name: &str) -> Vec<u8> {
    let mut m = vec![0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    m.extend(dns_name(name));
    m.extend([0, 1, 0, 1]);
    let dst = if src.contains(':') { "ff02::1:3" } else { "224.0.0.252" };
    udp(src, dst, 50000, 5355, &m)
}

fn nb_encode(name: &str, suffix: u8) -> Vec<u8> {
    let mut out = [0u8; 34];
    antidote_wire::nbns::encode_name(&mut out, name.as_bytes(), suffix).unwrap();
    out.to_vec()
}

pub fn nbns_query(src: &str, name: &str, broadcast: bool) -> Vec<u8> {
    let mut m = vec![0x81, 0x2a, 0x01, if broadcast { 0x10 } else { 0x00 }, 0, 1, 0, 0, 0, 0, 0, 0];
    m.extend(nb_encode(name, 0));
    m.extend([0, 0x20, 0, 1]);
    let dst = if broadcast { "198.18.0.255" } else { LEGIT };
    udp(src, dst, 137, 137, &m)
}

pub fn nbns_positive(src: &str, dst: &str, name: &str, answer: &str, ttl: u32) -> Vec<u8> {
    let mut m = vec![0x81, 0x2a, 0x85, 0x00, 0, 0, 0, 1, 0, 0, 0, 0];
    m.extend(nb_encode(name, 0));
    m.extend([0, 0x20, 0, 1]);
    m.extend(ttl.to_be_bytes());
    m.extend([0, 6, 0, 0]);
    m.extend(answer.parse::<std::net::Ipv4Addr>().unwrap().octets());
    udp(src, dst, 137, 137, &m)
}

/// An Ethernet/IPv4/TCP frame with flags and payload (checksums not computed).
pub fn tcp(src: &str, dst: &str, sport: u16, dport: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    let (s, d): (std::net::Ipv4Addr, std::net::Ipv4Addr) = (src.parse().unwrap(), dst.parse().unwrap());
    let mut f = vec![2, 0xad, 0, 0, 0, 0x66, 2, 0xad, 0, 0, 0, 0x10, 0x08, 0x00];
    let tot = 40 + payload.len();
    f.extend([0x45, 0, (tot >> 8) as u8, tot as u8, 0, 1, 0x40, 0, 64, 6, 0, 0]);
    f.extend(s.octets());
    f.extend(d.octets());
    tcp_segment(f, sport, dport, flags, payload)
}

/// An Ethernet/IPv6/TCP frame with flags and payload (checksums not computed).
pub fn tcp6(src: &str, dst: &str, sport: u16, dport: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    let (s, d): (std::net::Ipv6Addr, std::net::Ipv6Addr) = (src.parse().unwrap(), dst.parse().unwrap());
    let mut f = vec![2, 0xad, 0, 0, 0, 0x66, 2, 0xad, 0, 0, 0, 0x10, 0x86, 0xdd];
    let plen = 20 + payload.len();
    f.extend([0x60, 0, 0, 0, (plen >> 8) as u8, plen as u8, 6, 64]);
    f.extend(s.octets());
    f.extend(d.octets());
    tcp_segment(f, sport, dport, flags, payload)
}

/// `f` (up to its IP header) followed by a 20-byte TCP header and the payload.
fn tcp_segment(mut f: Vec<u8>, sport: u16, dport: u16, flags: u8, payload: &[u8]) -> Vec<u8> {
    f.extend(sport.to_be_bytes());
    f.extend(dport.to_be_bytes());
    f.extend([0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0x20, 0, 0, 0, 0, 0]);
    f.extend(payload);
    f
}

/// `f` with one 802.1Q tag (VLAN `vid`) after its MAC addresses.
pub fn tagged(f: &[u8], vid: u16) -> Vec<u8> {
    let mut g = f[..12].to_vec();
    g.extend([0x81, 0x00]);
    g.extend(vid.to_be_bytes());
    g.extend(&f[12..]);
    g
}
