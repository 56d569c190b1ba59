//! Ethernet II with up to two VLAN tags (802.1Q 0x8100, 802.1ad 0x88a8 / QinQ 0x9100).
use crate::error::{be16, Error, Result};

pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_ARP: u16 = 0x0806;
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
pub const ETHERTYPE_VLAN: u16 = 0x8100;
pub const ETHERTYPE_QINQ: u16 = 0x88a8;
pub const ETHERTYPE_QINQ_OLD: u16 = 0x9100;

pub const HEADER_LEN: usize = 14;

/// A MAC address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    pub const BROADCAST: Mac = Mac([0xff; 6]);
    #[inline(always)]
    pub fn from_slice(b: &[u8]) -> Mac {
        let mut m = [0; 6];
        m.copy_from_slice(&b[..6]);
        Mac(m)
    }
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }
}

impl core::fmt::Display for Mac {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let b = self.0;
        write!(f, "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", b[0], b[1], b[2], b[3], b[4], b[5])
    }
}
impl core::fmt::Debug for Mac {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(self, f)
    }
}

/// One VLAN tag: its TPID and TCI.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct VlanTag {
    pub tpid: u16,
    pub tci: u16,
}

impl VlanTag {
    pub fn id(&self) -> u16 {
        self.tci & 0x0fff
    }
    pub fn pcp(&self) -> u8 {
        (self.tci >> 13) as u8
    }
}

/// A checked view of an Ethernet frame.
#[derive(Debug, Clone, Copy)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    pub fn new_unchecked(buffer: T) -> Self {
        EthernetFrame { buffer }
    }
    pub fn new_checked(buffer: T) -> Result<Self> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(EthernetFrame { buffer })
    }
    pub fn dst(&self) -> Mac {
        Mac::from_slice(&self.buffer.as_ref()[0..6])
    }
    pub fn src(&self) -> Mac {
        Mac::from_slice(&self.buffer.as_ref()[6..12])
    }
    /// The EtherType right after the MACs (a TPID when the frame is tagged).
    pub fn ethertype(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[12], b[13]])
    }
}

/// An Ethernet header with its VLAN tags, and where the payload starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EthernetRepr {
    pub dst: Mac,
    pub src: Mac,
    /// Tags, outermost first.
    pub vlans: [VlanTag; 2],
    pub vlan_count: u8,
    /// The EtherType after the tags.
    pub ethertype: u16,
    /// Offset of the payload in the frame.
    pub payload_offset: usize,
}

impl EthernetRepr {
    #[inline(always)]
    pub fn parse(frame: &[u8]) -> Result<EthernetRepr> {
        if frame.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let mut vlans = [VlanTag::default(); 2];
        let mut count = 0u8;
        let mut et = u16::from_be_bytes([frame[12], frame[13]]);
        let mut off = 14;
        while matches!(et, ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD) {
            if count == 2 {
                return Err(Error::Malformed("more than two VLAN tags"));
            }
            vlans[count as usize] = VlanTag { tpid: et, tci: be16(frame, off)? };
            count += 1;
            et = be16(frame, off + 2)?;
            off += 4;
        }
        // The MACs come from two 8-byte loads kept in registers: built byte-wise on the stack
        // and read back wide, they cost a store-forwarding stall per frame.
        let lo = u64::from_le_bytes([frame[0], frame[1], frame[2], frame[3], frame[4], frame[5], frame[6], frame[7]]);
        let hi = u64::from_le_bytes([frame[4], frame[5], frame[6], frame[7], frame[8], frame[9], frame[10], frame[11]]);
        let (d, s) = (lo.to_le_bytes(), hi.to_le_bytes());
        // Built in one piece at the end, so the compiler keeps the parts in registers.
        Ok(EthernetRepr {
            dst: Mac([d[0], d[1], d[2], d[3], d[4], d[5]]),
            src: Mac([s[2], s[3], s[4], s[5], s[6], s[7]]),
            vlans,
            vlan_count: count,
            ethertype: et,
            payload_offset: off,
        })
    }

    /// The tags present, outermost first.
    pub fn tags(&self) -> &[VlanTag] {
        &self.vlans[..self.vlan_count as usize]
    }

    /// The outer VLAN id, if tagged.
    pub fn vlan_id(&self) -> Option<u16> {
        (self.vlan_count > 0).then(|| self.vlans[0].id())
    }

    pub fn header_len(&self) -> usize {
        HEADER_LEN + 4 * self.vlan_count as usize
    }

    /// Writes the header (with its tags) into `buf`; returns the bytes written.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let n = self.header_len();
        if buf.len() < n {
            return Err(Error::Truncated);
        }
        buf[0..6].copy_from_slice(&self.dst.0);
        buf[6..12].copy_from_slice(&self.src.0);
        let mut off = 12;
        for t in self.tags() {
            buf[off..off + 2].copy_from_slice(&t.tpid.to_be_bytes());
            buf[off + 2..off + 4].copy_from_slice(&t.tci.to_be_bytes());
            off += 4;
        }
        buf[off..off + 2].copy_from_slice(&self.ethertype.to_be_bytes());
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: [u8; 16] = [1, 2, 3, 4, 5, 6, 0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 0x08, 0x00, 0x45, 0];
    const QINQ: [u8; 22] = [1, 2, 3, 4, 5, 6, 0xa, 0xb, 0xc, 0xd, 0xe, 0xf, 0x88, 0xa8, 0x00, 0x64, 0x81, 0x00, 0x20, 0x0a, 0x86, 0xdd];

    #[test]
    fn plain() {
        let r = EthernetRepr::parse(&PLAIN).unwrap();
        assert_eq!(r.dst, Mac([1, 2, 3, 4, 5, 6]));
        assert_eq!(r.ethertype, ETHERTYPE_IPV4);
        assert_eq!(r.payload_offset, 14);
        assert_eq!(r.vlan_id(), None);
    }

    #[test]
    fn qinq_and_roundtrip() {
        let r = EthernetRepr::parse(&QINQ).unwrap();
        assert_eq!(r.vlan_count, 2);
        assert_eq!(r.vlans[0].id(), 100);
        assert_eq!(r.vlans[1].id(), 10);
        assert_eq!(r.vlans[1].pcp(), 1);
        assert_eq!(r.ethertype, ETHERTYPE_IPV6);
        assert_eq!(r.payload_offset, 22);
        let mut out = [0u8; 22];
        assert_eq!(r.emit(&mut out).unwrap(), 22);
        assert_eq!(out, QINQ);
    }

    #[test]
    fn malformed() {
        assert_eq!(EthernetRepr::parse(&PLAIN[..13]), Err(Error::Truncated));
        assert_eq!(EthernetRepr::parse(&QINQ[..19]), Err(Error::Truncated));
        let mut three = QINQ.to_vec();
        three[20..22].copy_from_slice(&[0x81, 0x00]);
        three.extend([0, 1, 0x08, 0]);
        assert!(matches!(EthernetRepr::parse(&three), Err(Error::Malformed(_))));
    }
}
