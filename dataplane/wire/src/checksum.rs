//! The Internet checksum (RFC 1071) and the UDP/TCP pseudo-headers.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One's-complement sum of `data` folded into 32 bits (not yet complemented).
#[inline]
pub fn sum(data: &[u8]) -> u32 {
    let mut acc: u32 = 0;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        acc += u16::from_be_bytes([c[0], c[1]]) as u32;
    }
    if let [last] = chunks.remainder() {
        acc += (*last as u32) << 8;
    }
    acc
}

pub fn fold(mut acc: u32) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The checksum of `data` (the value to store in a header whose checksum field is zero).
#[inline]
pub fn checksum(data: &[u8]) -> u16 {
    !fold(sum(data))
}

/// Sum of the IPv4 or IPv6 pseudo-header for protocol `proto` and upper-layer length `len`.
pub fn pseudo_header(src: IpAddr, dst: IpAddr, proto: u8, len: u32) -> u32 {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => pseudo_v4(s, d, proto, len as u16),
        (IpAddr::V6(s), IpAddr::V6(d)) => pseudo_v6(s, d, proto, len),
        _ => 0,
    }
}

fn pseudo_v4(s: Ipv4Addr, d: Ipv4Addr, proto: u8, len: u16) -> u32 {
    sum(&s.octets()) + sum(&d.octets()) + proto as u32 + len as u32
}

fn pseudo_v6(s: Ipv6Addr, d: Ipv6Addr, proto: u8, len: u32) -> u32 {
    sum(&s.octets()) + sum(&d.octets()) + (len >> 16) + (len & 0xffff) + proto as u32
}

/// The UDP/TCP checksum over the pseudo-header and `segment` (whose checksum field is zero).
/// A UDP result of 0 must be sent as 0xffff.
pub fn l4_checksum(src: IpAddr, dst: IpAddr, proto: u8, segment: &[u8]) -> u16 {
    !fold(pseudo_header(src, dst, proto, segment.len() as u32) + sum(segment))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn rfc1071_example() {
        // Example from RFC 1071 section 3: sum of 0001 f203 f4f5 f6f7 = 0xddf2 (folded).
        assert_eq!(fold(sum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7])), 0xddf2);
    }
    #[test]
    fn ipv4_header() {
        let mut h = [0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7];
        let c = checksum(&h);
        assert_eq!(c, 0xb861);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        assert_eq!(checksum(&h), 0);
    }
}
