//! SMB2 over NetBIOS session service / direct TCP (ports 445, 139): the header (command,
//! status, flags, session id), the NEGOTIATE response's dialect, SESSION_SETUP status, and the
//! security buffer in which NTLMSSP travels.
use crate::error::{le16, le32, Error, Result};

pub const HEADER_LEN: usize = 64;
pub const NEGOTIATE: u16 = 0;
pub const SESSION_SETUP: u16 = 1;
pub const FLAG_RESPONSE: u32 = 0x1;

pub const STATUS_SUCCESS: u32 = 0;
pub const STATUS_MORE_PROCESSING_REQUIRED: u32 = 0xc000_0016;
pub const STATUS_ACCESS_DENIED: u32 = 0xc000_0022;
pub const STATUS_LOGON_FAILURE: u32 = 0xc000_006d;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Smb2Header<'a> {
    pub command: u16,
    pub status: u32,
    pub flags: u32,
    pub message_id: u64,
    pub session_id: u64,
    /// NEGOTIATE response: the chosen dialect (0x0210 = SMB 2.1, 0x0311 = 3.1.1).
    pub dialect: Option<u16>,
    /// NEGOTIATE / SESSION_SETUP: the security buffer (SPNEGO / NTLMSSP).
    pub security_blob: &'a [u8],
}

impl<'a> Smb2Header<'a> {
    /// Parses a TCP payload that starts with a NetBIOS session header and an SMB2 header.
    pub fn parse_tcp_payload(p: &'a [u8]) -> Result<Smb2Header<'a>> {
        if p.len() < 4 {
            return Err(Error::Truncated);
        }
        if p[0] != 0 {
            return Err(Error::Malformed("not a NetBIOS session message"));
        }
        let len = u32::from_be_bytes([0, p[1], p[2], p[3]]) as usize;
        let end = (4 + len).min(p.len());
        Smb2Header::parse(&p[4..end])
    }

    /// Parses an SMB2 message (header first).
    pub fn parse(m: &'a [u8]) -> Result<Smb2Header<'a>> {
        if m.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if &m[..4] != b"\xfeSMB" {
            return Err(Error::Malformed("no SMB2 protocol id"));
        }
        if le16(m, 4)? != 64 {
            return Err(Error::Malformed("SMB2 header structure size is not 64"));
        }
        let mut h = Smb2Header {
            status: le32(m, 8)?,
            command: le16(m, 12)?,
            flags: le32(m, 16)?,
            message_id: u64::from(le32(m, 24)?) | (u64::from(le32(m, 28)?) << 32),
            session_id: u64::from(le32(m, 40)?) | (u64::from(le32(m, 44)?) << 32),
            ..Default::default()
        };
        let body = HEADER_LEN;
        let blob = |off_at: usize, len_at: usize| -> Result<&'a [u8]> {
            let off = le16(m, off_at)? as usize;
            let len = le16(m, len_at)? as usize;
            if len == 0 {
                return Ok(&[]);
            }
            // Offsets count from the start of the SMB2 header; a blob cut by the segment end is
            // kept as far as it goes.
            Ok(m.get(off..).map(|s| &s[..len.min(s.len())]).unwrap_or(&[]))
        };
        let response = h.flags & FLAG_RESPONSE != 0;
        match (h.command, response) {
            (NEGOTIATE, true) if le16(m, body).ok() == Some(65) => {
                h.dialect = Some(le16(m, body + 4)?);
                h.security_blob = blob(body + 56, body + 58)?;
            }
            (SESSION_SETUP, true) if le16(m, body).ok() == Some(9) => {
                h.security_blob = blob(body + 4, body + 6)?;
            }
            (SESSION_SETUP, false) if le16(m, body).ok() == Some(25) => {
                h.security_blob = blob(body + 12, body + 14)?;
            }
            _ => {}
        }
        Ok(h)
    }

    pub fn is_response(&self) -> bool {
        self.flags & FLAG_RESPONSE != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn header(command: u16, status: u32, response: bool) -> Vec<u8> {
        let mut h = b"\xfeSMB".to_vec();
        h.extend(64u16.to_le_bytes());
        h.extend([0, 0]);
        h.extend(status.to_le_bytes());
        h.extend(command.to_le_bytes());
        h.extend([1, 0]);
        h.extend((if response { FLAG_RESPONSE } else { 0 }).to_le_bytes());
        h.extend([0; 4]);
        h.extend(5u64.to_le_bytes());
        h.extend([0; 8]);
        h.extend(0x1122334455667788u64.to_le_bytes());
        h.extend([0; 16]);
        assert_eq!(h.len(), 64);
        h
    }

    fn nbss(m: &[u8]) -> Vec<u8> {
        let mut v = vec![0, 0, (m.len() >> 8) as u8, m.len() as u8];
        v.extend(m);
        v
    }

    #[test]
    fn negotiate_response_dialect_and_blob() {
        let mut m = header(NEGOTIATE, 0, true);
        let mut body = vec![0u8; 64];
        body[0..2].copy_from_slice(&65u16.to_le_bytes());
        body[4..6].copy_from_slice(&0x0210u16.to_le_bytes());
        body[56..58].copy_from_slice(&128u16.to_le_bytes());
        body[58..60].copy_from_slice(&4u16.to_le_bytes());
        m.extend(body);
        m.extend(b"BLOB");
        let framed = nbss(&m);
        let h = Smb2Header::parse_tcp_payload(&framed).unwrap();
        assert_eq!(h.dialect, Some(0x0210));
        assert_eq!(h.security_blob, b"BLOB");
        assert_eq!(h.session_id, 0x1122334455667788);
        assert!(h.is_response());
    }

    #[test]
    fn session_setup_denied_with_ntlm() {
        let mut m = header(SESSION_SETUP, STATUS_ACCESS_DENIED, true);
        m.extend(9u16.to_le_bytes());
        m.extend([0, 0]);
        m.extend(72u16.to_le_bytes());
        let ch = crate::ntlm::tests::challenge();
        m.extend((ch.len() as u16).to_le_bytes());
        m.extend(&ch);
        let framed = nbss(&m);
        let h = Smb2Header::parse_tcp_payload(&framed).unwrap();
        assert_eq!(h.status, STATUS_ACCESS_DENIED);
        assert_eq!(h.command, SESSION_SETUP);
        let n = crate::ntlm::NtlmMessage::find(h.security_blob).unwrap().unwrap();
        assert_eq!(n.msg_type, crate::ntlm::CHALLENGE);
    }

    #[test]
    fn malformed() {
        let m = header(NEGOTIATE, 0, false);
        for n in 0..64 {
            assert!(Smb2Header::parse(&m[..n]).is_err());
        }
        let mut bad = m.clone();
        bad[0] = 0xff;
        assert!(matches!(Smb2Header::parse(&bad), Err(Error::Malformed(_))));
        assert!(Smb2Header::parse_tcp_payload(&[0x85, 0, 0, 0]).is_err());
    }
}
