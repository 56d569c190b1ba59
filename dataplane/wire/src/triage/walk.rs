//! The general walk: the plain mask of a frame of any other layout (tags, IPv4 options, IPv6,
//! ARP, short frames), or None when the dissector must read it.
use crate::http::http_first_byte;
use crate::proto::{self, named_port, smb_port};

/// [`plain_mask`] for every other layout: tags, IPv4 options, IPv6, ARP, short frames.
#[inline(never)]
pub fn walk_mask(d: &[u8]) -> Option<u32> {
    if d.len() < 14 {
        return None;
    }
    let mut m = proto::ETH | proto::IP;
    let mut off = 12;
    let mut et = u16::from_be_bytes([d[off], d[off + 1]]);
    let mut tags = 0;
    while et == 0x8100 || et == 0x88a8 || et == 0x9100 {
        tags += 1;
        if tags > 2 {
            return None;
        }
        off += 4;
        et = u16::from_be_bytes([*d.get(off)?, *d.get(off + 1)?]);
        m |= proto::VLAN;
    }
    let l3 = off + 2;
    let (l4, proto_num, end) = match et {
        0x0800 => {
            let b = d.get(l3..l3 + 20)?;
            let ihl = ((b[0] & 0x0f) as usize) * 4;
            let total = u16::from_be_bytes([b[2], b[3]]) as usize;
            // Version 4, a sane header, no fragment (MF clear, offset 0), all in the buffer.
            if b[0] >> 4 != 4 || ihl < 20 || total < ihl || d.len() < l3 + total || (u16::from_be_bytes([b[6], b[7]]) & 0x3fff) != 0 {
                return None;
            }
            (l3 + ihl, b[9], l3 + total)
        }
        0x86dd => {
            let b = d.get(l3..l3 + 40)?;
            let plen = u16::from_be_bytes([b[4], b[5]]) as usize;
            if b[0] >> 4 != 6 || d.len() < l3 + 40 + plen {
                return None;
            }
            (l3 + 40, b[6], l3 + 40 + plen)
        }
        0x0806 => {
            // ARP for IPv4 over Ethernet (what the ARP dissector accepts).
            let b = d.get(l3..l3 + 28)?;
            let ok = b[0..4] == [0, 1, 0x08, 0x00] && b[4] == 6 && b[5] == 4;
            return ok.then_some((m & !proto::IP) | proto::ARP);
        }
        _ => return None,
    };
    let seg = d.get(l4..end)?;
    let sport = u16::from_be_bytes([*seg.first()?, *seg.get(1)?]);
    let dport = u16::from_be_bytes([*seg.get(2)?, *seg.get(3)?]);
    match proto_num {
        6 => {
            let off = ((*seg.get(12)? >> 4) as usize) * 4;
            let flags = *seg.get(13)?;
            if off < 20 || seg.len() < off || flags & crate::tcp::SYN != 0 {
                return None;
            }
            if smb_port(sport) || smb_port(dport) {
                return None;
            }
            let payload = &seg[off..];
            if payload.first().is_some_and(|&b| http_first_byte(b)) && crate::http::looks_like_http(payload) {
                return None;
            }
            Some(m | proto::TCP)
        }
        17 => {
            let len = u16::from_be_bytes([*seg.get(4)?, *seg.get(5)?]) as usize;
            if len < 8 || seg.len() < len {
                return None;
            }
            if named_port(sport) || named_port(dport) {
                return None;
            }
            Some(m | proto::UDP)
        }
        _ => None,
    }
}
