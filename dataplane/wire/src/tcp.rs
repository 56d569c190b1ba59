//! TCP: ports, flags, where the payload starts.
use crate::error::{be16, be32, u8at, Error, Result};

pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;
pub const ACK: u8 = 0x10;
pub const URG: u8 = 0x20;

/// 16 bytes (the header length fits a byte), so it travels in two registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpRepr {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub window: u16,
    /// The low 8 flag bits (FIN … CWR).
    pub flags: u8,
    /// Header length in bytes (data offset, 20 to 60).
    pub header_len: u8,
}

impl TcpRepr {
    #[inline]
    pub fn parse(b: &[u8]) -> Result<TcpRepr> {
        let off = (u8at(b, 12)? >> 4) as usize * 4;
        if off < 20 {
            return Err(Error::Malformed("TCP data offset below 20"));
        }
        if b.len() < off {
            return Err(Error::Truncated);
        }
        Ok(TcpRepr {
            src_port: be16(b, 0)?,
            dst_port: be16(b, 2)?,
            seq: be32(b, 4)?,
            ack: be32(b, 8)?,
            flags: b[13],
            window: be16(b, 14)?,
            header_len: off as u8,
        })
    }

    #[inline]
    pub fn payload<'a>(&self, b: &'a [u8]) -> &'a [u8] {
        &b[self.header_len as usize..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn parse() {
        let mut b = vec![0x04, 0x00, 0x01, 0xbd, 0, 0, 0, 1, 0, 0, 0, 2, 0x60, 0x18, 0x10, 0x00, 0, 0, 0, 0];
        b.extend([2, 4, 5, 0xb4]); // MSS option
        b.extend(b"SMB");
        let r = TcpRepr::parse(&b).unwrap();
        assert_eq!((r.src_port, r.dst_port), (1024, 445));
        assert_eq!(r.flags, PSH | ACK);
        assert_eq!(r.header_len, 24);
        assert_eq!(r.payload(&b), b"SMB");
        assert_eq!(TcpRepr::parse(&b[..22]), Err(Error::Truncated));
        let mut bad = b.clone();
        bad[12] = 0x40;
        assert!(matches!(TcpRepr::parse(&bad), Err(Error::Malformed(_))));
    }
}
