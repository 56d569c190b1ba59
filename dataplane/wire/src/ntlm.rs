//! NTLMSSP messages (MS-NLMP): the message type, the CHALLENGE's server challenge and target
//! name, the AUTHENTICATE's user, domain and workstation. Found raw inside SMB2 security blobs
//! (SPNEGO-wrapped) or base64-decoded from HTTP NTLM/Negotiate headers.
use crate::error::{le16, le32, Error, Result};

pub const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";
pub const NEGOTIATE: u32 = 1;
pub const CHALLENGE: u32 = 2;
pub const AUTHENTICATE: u32 = 3;
const FLAG_UNICODE: u32 = 0x0000_0001;

/// A string field of an NTLM message: UTF-16LE (unicode) or OEM bytes, as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NtlmString<'a> {
    pub bytes: &'a [u8],
    pub unicode: bool,
}

impl NtlmString<'_> {
    /// The characters as ASCII bytes (non-ASCII become '?'), written into `out`; returns length.
    pub fn write_ascii(&self, out: &mut [u8]) -> usize {
        let mut n = 0;
        let mut push = |c: u32| {
            if n < out.len() {
                out[n] = if c < 0x80 { c as u8 } else { b'?' };
                n += 1;
            }
        };
        if self.unicode {
            for ch in char::decode_utf16(self.bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]]))) {
                push(ch.map(|c| c as u32).unwrap_or(0xfffd));
            }
        } else {
            self.bytes.iter().for_each(|&b| push(b as u32));
        }
        n
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// True when the ASCII form starts with `prefix` (case-insensitive).
    pub fn starts_with_ignore_case(&self, prefix: &[u8]) -> bool {
        let mut buf = [0u8; 64];
        let n = self.write_ascii(&mut buf);
        n >= prefix.len() && buf[..prefix.len()].eq_ignore_ascii_case(prefix)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NtlmMessage<'a> {
    pub msg_type: u32,
    pub flags: u32,
    /// CHALLENGE: the 8-byte server challenge.
    pub server_challenge: Option<[u8; 8]>,
    /// CHALLENGE: the target name (Responder: "WIN-" + 11 random characters, or "SMB").
    pub target: NtlmString<'a>,
    /// AUTHENTICATE: user, domain, workstation.
    pub user: NtlmString<'a>,
    pub domain: NtlmString<'a>,
    pub workstation: NtlmString<'a>,
}

fn field<'a>(m: &'a [u8], at: usize, unicode: bool) -> Result<NtlmString<'a>> {
    let len = le16(m, at)? as usize;
    let off = le32(m, at + 4)? as usize;
    if len == 0 {
        return Ok(NtlmString { bytes: &[], unicode });
    }
    let bytes = m.get(off..off.checked_add(len).ok_or(Error::Truncated)?).ok_or(Error::Truncated)?;
    Ok(NtlmString { bytes, unicode })
}

impl<'a> NtlmMessage<'a> {
    /// Parses a message that starts with the NTLMSSP signature.
    pub fn parse(m: &'a [u8]) -> Result<NtlmMessage<'a>> {
        if m.len() < 12 {
            return Err(Error::Truncated);
        }
        if &m[..8] != SIGNATURE {
            return Err(Error::Malformed("no NTLMSSP signature"));
        }
        let msg_type = le32(m, 8)?;
        let mut r = NtlmMessage { msg_type, ..Default::default() };
        match msg_type {
            NEGOTIATE => r.flags = le32(m, 12).unwrap_or(0),
            CHALLENGE => {
                r.flags = le32(m, 20)?;
                let unicode = r.flags & FLAG_UNICODE != 0;
                r.target = field(m, 12, unicode)?;
                let mut c = [0u8; 8];
                c.copy_from_slice(m.get(24..32).ok_or(Error::Truncated)?);
                r.server_challenge = Some(c);
            }
            AUTHENTICATE => {
                r.flags = le32(m, 60).unwrap_or(FLAG_UNICODE);
                let unicode = r.flags & FLAG_UNICODE != 0;
                r.domain = field(m, 28, unicode)?;
                r.user = field(m, 36, unicode)?;
                r.workstation = field(m, 44, unicode)?;
            }
            _ => return Err(Error::Malformed("unknown NTLMSSP message type")),
        }
        Ok(r)
    }

    /// Finds and parses the first NTLMSSP message inside `blob` (e.g. a SPNEGO token).
    pub fn find(blob: &'a [u8]) -> Option<Result<NtlmMessage<'a>>> {
        crate::http::find(blob, SIGNATURE).map(|i| NtlmMessage::parse(&blob[i..]))
    }

    pub fn type_name(&self) -> &'static str {
        match self.msg_type {
            NEGOTIATE => "negotiate",
            CHALLENGE => "challenge",
            AUTHENTICATE => "authenticate",
            _ => "unknown",
        }
    }
}

/// Decodes standard base64 (padding optional) into `out`; returns the decoded length, or None
/// on a character outside the alphabet or when `out` is too small. No allocation.
pub fn base64_decode(input: &[u8], out: &mut [u8]) -> Option<usize> {
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut n = 0;
    for &c in input {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        } as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            *out.get_mut(n)? = (acc >> bits) as u8;
            n += 1;
        }
    }
    Some(n)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A Responder-like CHALLENGE with target "WIN-ABCDEFGHIJK" (unicode).
    pub fn challenge() -> Vec<u8> {
        let target: Vec<u8> = "WIN-ABCDEFGHIJK".encode_utf16().flat_map(|c| c.to_le_bytes()).collect();
        let mut m = SIGNATURE.to_vec();
        m.extend(2u32.to_le_bytes());
        m.extend((target.len() as u16).to_le_bytes());
        m.extend((target.len() as u16).to_le_bytes());
        m.extend(56u32.to_le_bytes());
        m.extend(0xe2898215u32.to_le_bytes());
        m.extend([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]);
        m.extend([0u8; 8]); // reserved
        m.extend([0u8; 8]); // target info fields
        m.extend([0u8; 8]); // version
        assert_eq!(m.len(), 56);
        m.extend(target);
        m
    }

    #[test]
    fn challenge_fields() {
        let b = challenge();
        let m = NtlmMessage::parse(&b).unwrap();
        assert_eq!(m.type_name(), "challenge");
        assert_eq!(m.server_challenge, Some([0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88]));
        let mut out = [0u8; 64];
        let n = m.target.write_ascii(&mut out);
        assert_eq!(&out[..n], b"WIN-ABCDEFGHIJK");
        assert!(m.target.starts_with_ignore_case(b"win-"));
        let mut wrapped = vec![0x60, 0x48, 0x06, 0x06];
        wrapped.extend(&b);
        assert_eq!(NtlmMessage::find(&wrapped).unwrap().unwrap().msg_type, CHALLENGE);
        for n in 0..b.len() {
            assert!(NtlmMessage::parse(&b[..n]).is_err(), "prefix {n}");
        }
    }

    #[test]
    fn base64() {
        let mut out = [0u8; 16];
        let n = base64_decode(b"TlRMTVNTUAACAAAA", &mut out).unwrap();
        assert_eq!(&out[..n], b"NTLMSSP\0\x02\0\0\0");
        assert_eq!(base64_decode(b"TlRM!", &mut out), None);
        assert_eq!(base64_decode(b"TlRMTVNTUAACAAAATlRMTVNTUAACAAAA", &mut out[..4]), None);
    }
}
