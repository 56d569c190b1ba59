//! SQL Server Resolution Protocol (MC-SQLR) on UDP 1434: the client requests and SVR_RESP with
//! the first instance's server name, instance name, version and TCP port.
use crate::error::{le16, Error, Result};

pub const PORT: u16 = 1434;
pub const CLNT_BCAST_EX: u8 = 0x02;
pub const CLNT_UCAST_EX: u8 = 0x03;
pub const CLNT_UCAST_INST: u8 = 0x04;
pub const SVR_RESP: u8 = 0x05;
pub const CLNT_UCAST_DAC: u8 = 0x0f;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SsrpMessage<'a> {
    /// The first byte: one of the CLNT_* / SVR_RESP values.
    pub kind: u8,
    /// CLNT_UCAST_INST / DAC: the instance asked for. SVR_RESP: the first instance's name.
    pub instance: &'a [u8],
    /// SVR_RESP: ServerName of the first instance.
    pub server: &'a [u8],
    /// SVR_RESP: Version of the first instance ("12.00.4100.00").
    pub version: &'a [u8],
    /// SVR_RESP: the tcp port of the first instance, if given.
    pub tcp_port: Option<u16>,
    /// SVR_RESP: the whole RESP_DATA.
    pub data: &'a [u8],
}

impl<'a> SsrpMessage<'a> {
    pub fn parse(b: &'a [u8]) -> Result<SsrpMessage<'a>> {
        let kind = *b.first().ok_or(Error::Truncated)?;
        let mut m = SsrpMessage { kind, ..Default::default() };
        match kind {
            CLNT_BCAST_EX | CLNT_UCAST_EX => {}
            CLNT_UCAST_INST => m.instance = cstr(&b[1..])?,
            CLNT_UCAST_DAC => {
                if b.get(1) != Some(&1) {
                    return Err(Error::Malformed("CLNT_UCAST_DAC protocol version is not 1"));
                }
                m.instance = cstr(&b[2..])?;
            }
            SVR_RESP => {
                let size = le16(b, 1)? as usize;
                let data = b.get(3..3 + size).ok_or(Error::Truncated)?;
                m.data = data;
                let mut it = data.split(|&c| c == b';');
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    match k {
                        _ if k.eq_ignore_ascii_case(b"ServerName") && m.server.is_empty() => m.server = v,
                        _ if k.eq_ignore_ascii_case(b"InstanceName") && m.instance.is_empty() => m.instance = v,
                        _ if k.eq_ignore_ascii_case(b"Version") && m.version.is_empty() => m.version = v,
                        _ if k.eq_ignore_ascii_case(b"tcp") && m.tcp_port.is_none() => m.tcp_port = std::str::from_utf8(v).ok().and_then(|s| s.parse().ok()),
                        b"" => break, // ";;" ends the first instance
                        _ => {}
                    }
                }
            }
            _ => return Err(Error::Malformed("unknown SSRP message type")),
        }
        Ok(m)
    }

    pub fn is_response(&self) -> bool {
        self.kind == SVR_RESP
    }
}

/// A NUL-terminated instance name of at most 32 bytes (the NUL may be missing at the end).
fn cstr(b: &[u8]) -> Result<&[u8]> {
    let s = match b.iter().position(|&c| c == 0) {
        Some(i) => &b[..i],
        None => b,
    };
    if s.len() > 32 {
        return Err(Error::Malformed("SSRP instance name over 32 bytes"));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn responder_style_reply() {
        let data = b"ServerName;RSPNDR;InstanceName;MSSQLSERVER;IsClustered;No;Version;12.00.4100.00;tcp;1433;;";
        let mut b = vec![SVR_RESP];
        b.extend((data.len() as u16).to_le_bytes());
        b.extend(data);
        let m = SsrpMessage::parse(&b).unwrap();
        assert!(m.is_response());
        assert_eq!(m.server, b"RSPNDR");
        assert_eq!(m.instance, b"MSSQLSERVER");
        assert_eq!(m.version, b"12.00.4100.00");
        assert_eq!(m.tcp_port, Some(1433));
        assert_eq!(SsrpMessage::parse(&b[..b.len() - 1]), Err(Error::Truncated));
    }
    #[test]
    fn requests() {
        assert_eq!(SsrpMessage::parse(&[2]).unwrap().kind, CLNT_BCAST_EX);
        assert_eq!(SsrpMessage::parse(b"\x04SQLEXPRESS\0").unwrap().instance, b"SQLEXPRESS");
        assert_eq!(SsrpMessage::parse(b"\x0f\x01DB\0").unwrap().instance, b"DB");
        assert!(SsrpMessage::parse(b"\x0f\x02DB\0").is_err());
        assert!(SsrpMessage::parse(&[0x77]).is_err());
        assert_eq!(SsrpMessage::parse(&[]), Err(Error::Truncated));
    }
}
