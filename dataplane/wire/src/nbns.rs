//! NBT-NS, the NetBIOS name service (RFC 1001/1002), on UDP 137: header and flags, the
//! first-level-encoded NetBIOS name (15 characters + suffix, scope), questions (NB, NBSTAT),
//! resource records (TTL, NB_FLAGS + address entries), positive and negative responses, and
//! the registration / release / refresh opcodes. [`emit_negative_response`] builds the negative
//! name-query response of RFC 1002 §4.2.14; [`emit_query`] a name query.
use crate::error::{be16, be32, u8at, Error, Result};
use std::net::Ipv4Addr;

pub const HEADER_LEN: usize = 12;
pub const PORT: u16 = 137;

pub const FLAG_RESPONSE: u16 = 0x8000;
pub const FLAG_AA: u16 = 0x0400;
pub const FLAG_TC: u16 = 0x0200;
pub const FLAG_RD: u16 = 0x0100;
pub const FLAG_RA: u16 = 0x0080;
pub const FLAG_B: u16 = 0x0010;

pub const OPCODE_QUERY: u8 = 0;
pub const OPCODE_REGISTRATION: u8 = 5;
pub const OPCODE_RELEASE: u8 = 6;
pub const OPCODE_WACK: u8 = 7;
pub const OPCODE_REFRESH: u8 = 8;
pub const OPCODE_REFRESH_ALT: u8 = 9;
pub const OPCODE_MULTIHOMED: u8 = 15;

pub const TYPE_NB: u16 = 0x0020;
pub const TYPE_NBSTAT: u16 = 0x0021;
pub const TYPE_NULL: u16 = 0x000a;
pub const CLASS_IN: u16 = 0x0001;

pub const RCODE_NAM_ERR: u8 = 3;

/// A validated NetBIOS name in a message: 15 characters (space-padded) + a suffix byte in the
/// first-level encoding, and the scope labels. Decoded on demand: no copy is made.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct NbName<'a> {
    /// The encoded name: 0x20, 32 characters 'A'..'P', scope labels, 0.
    encoded: &'a [u8],
    /// The name was a compression pointer to an earlier name.
    pub compressed: bool,
}

impl core::fmt::Debug for NbName<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let mut b = [0u8; 15];
        write!(f, "{}<{:02X}>", String::from_utf8_lossy(self.name(&mut b)), self.suffix())
    }
}

impl<'a> NbName<'a> {
    #[inline(always)]
    fn byte(&self, i: usize) -> u8 {
        // Validated at parse time: every pair is two characters in 'A'..='P'.
        ((self.encoded[1 + 2 * i] - b'A') << 4) | (self.encoded[2 + 2 * i] - b'A')
    }

    /// Length of the name without its padding (trailing spaces, or NULs some stacks send).
    #[inline]
    pub fn len(&self) -> usize {
        let mut n = 15;
        while n > 0 && matches!(self.byte(n - 1), b' ' | 0) {
            n -= 1;
        }
        n
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Decodes the name without padding into `buf` ("WPAD").
    pub fn name<'b>(&self, buf: &'b mut [u8; 15]) -> &'b [u8] {
        let n = self.len();
        for (i, b) in buf.iter_mut().enumerate().take(n) {
            *b = self.byte(i);
        }
        &buf[..n]
    }

    /// Decodes the name without padding, lower-cased, into the start of `out`; returns its
    /// length.
    pub fn write_lower(&self, out: &mut [u8]) -> usize {
        let n = self.len().min(out.len());
        for (i, b) in out.iter_mut().enumerate().take(n) {
            *b = self.byte(i).to_ascii_lowercase();
        }
        n
    }

    /// The suffix byte (0x00 workstation, 0x20 file server, 0x1c domain controllers …).
    #[inline]
    pub fn suffix(&self) -> u8 {
        self.byte(15)
    }

    /// ASCII case-insensitive comparison with the name (suffix not compared).
    #[inline]
    pub fn eq_ignore_case(&self, s: &[u8]) -> bool {
        s.len() == self.len() && s.iter().enumerate().all(|(i, c)| self.byte(i).eq_ignore_ascii_case(c))
    }

    /// The scope labels (wire form, empty when there is no scope).
    pub fn scope(&self) -> &'a [u8] {
        &self.encoded[33..self.encoded.len() - 1]
    }

    /// The encoded name as it appeared on the wire (0x20 + 32 bytes + scope labels + 0).
    pub fn encoded(&self) -> &'a [u8] {
        self.encoded
    }

    /// Parses a name at `offset`; returns it and the offset after it.
    pub fn parse(msg: &'a [u8], offset: usize) -> Result<(NbName<'a>, usize)> {
        let first = u8at(msg, offset)?;
        if first & 0xc0 == 0xc0 {
            let target = (be16(msg, offset)? & 0x3fff) as usize;
            if target >= offset {
                return Err(Error::PointerLoop);
            }
            let (mut n, _) = NbName::parse_plain(msg, target)?;
            n.compressed = true;
            return Ok((n, offset + 2));
        }
        NbName::parse_plain(msg, offset)
    }

    fn parse_plain(msg: &'a [u8], offset: usize) -> Result<(NbName<'a>, usize)> {
        let len = u8at(msg, offset)?;
        if len != 32 {
            return Err(Error::Malformed("NetBIOS name length is not 32"));
        }
        let enc = msg.get(offset + 1..offset + 33).ok_or(Error::Truncated)?;
        if enc.iter().any(|c| !(b'A'..=b'P').contains(c)) {
            return Err(Error::Malformed("NetBIOS name character outside A-P"));
        }
        // Scope: labels until a zero byte (bounded by the name limit of 255 bytes).
        let mut pos = offset + 33;
        loop {
            let l = u8at(msg, pos)? as usize;
            if l == 0 {
                break;
            }
            if l & 0xc0 != 0 {
                return Err(Error::Malformed("pointer inside a NetBIOS scope"));
            }
            pos += 1 + l;
            if pos - offset > 255 {
                return Err(Error::NameTooLong);
            }
        }
        Ok((NbName { encoded: &msg[offset..pos + 1], compressed: false }, pos + 1))
    }
}

/// Writes the first-level encoding of `name` (≤ 15 characters, upper-cased, space-padded) with
/// `suffix` and no scope: 34 bytes.
pub fn encode_name(out: &mut [u8], name: &[u8], suffix: u8) -> Result<usize> {
    if name.len() > 15 {
        return Err(Error::NameTooLong);
    }
    let out = out.get_mut(..34).ok_or(Error::Truncated)?;
    out[0] = 32;
    for i in 0..16 {
        let c = if i == 15 { suffix } else { name.get(i).map(|c| c.to_ascii_uppercase()).unwrap_or(b' ') };
        out[1 + 2 * i] = b'A' + (c >> 4);
        out[2 + 2 * i] = b'A' + (c & 0xf);
    }
    out[33] = 0;
    Ok(34)
}

#[derive(Debug, Clone, Copy)]
pub struct NbQuestion<'a> {
    pub name: NbName<'a>,
    pub qtype: u16,
    pub qclass: u16,
}

#[derive(Debug, Clone, Copy)]
pub struct NbRecord<'a> {
    pub name: NbName<'a>,
    pub rtype: u16,
    pub rclass: u16,
    pub ttl: u32,
    pub rdata: &'a [u8],
}

impl NbRecord<'_> {
    /// NB records: the (NB_FLAGS, address) entries.
    pub fn entries(&self) -> impl Iterator<Item = (u16, Ipv4Addr)> + '_ {
        let n = if self.rtype == TYPE_NB { self.rdata.len() / 6 } else { 0 };
        self.rdata.chunks_exact(6).take(n).map(|e| (u16::from_be_bytes([e[0], e[1]]), Ipv4Addr::new(e[2], e[3], e[4], e[5])))
    }

    /// The first (NB_FLAGS, address) entry.
    pub fn first_entry(&self) -> Option<(u16, Ipv4Addr)> {
        self.entries().next()
    }

    /// An NBSTAT record (a node status answer, RFC 1002 §4.2.18): the responder's own names as
    /// (name without padding, suffix, NAME_FLAGS), and the unit ID its statistics start with
    /// (the responder's MAC, as it reports it).
    pub fn node_status(&self) -> Option<(impl Iterator<Item = (&[u8], u8, u16)> + '_, [u8; 6])> {
        if self.rtype != TYPE_NBSTAT {
            return None;
        }
        let n = *self.rdata.first()? as usize;
        let names = self.rdata.get(1..1 + 18 * n)?;
        let unit: [u8; 6] = self.rdata.get(1 + 18 * n..1 + 18 * n + 6)?.try_into().ok()?;
        let it = names.chunks_exact(18).map(|e| {
            let name = &e[..15];
            let end = name.iter().rposition(|&c| c != b' ' && c != 0).map_or(0, |p| p + 1);
            (&name[..end], e[15], u16::from_be_bytes([e[16], e[17]]))
        });
        Some((it, unit))
    }
}

/// A parsed NBT-NS message: the question, the first resource record (answer section, or the
/// additional section of registrations), and [`NbnsMessage::records`] for all of them.
#[derive(Debug, Clone, Copy)]
pub struct NbnsMessage<'a> {
    msg: &'a [u8],
    pub id: u16,
    pub flags: u16,
    pub qdcount: u16,
    pub ancount: u16,
    pub nscount: u16,
    pub arcount: u16,
    pub question: Option<NbQuestion<'a>>,
    record: Option<NbRecord<'a>>,
    records_at: u16,
    /// One of the records is of type NB (read once, in `parse`: rules ask it several times).
    has_nb: bool,
}

/// Records read per message at most (a defence against inflated counts).
pub const MAX_RECORDS: usize = 16;

fn read_record(msg: &[u8], pos: usize) -> Result<(NbRecord<'_>, usize)> {
    let (name, next) = NbName::parse(msg, pos)?;
    let rtype = be16(msg, next)?;
    let rclass = be16(msg, next + 2)?;
    let ttl = be32(msg, next + 4)?;
    let rdlen = be16(msg, next + 8)? as usize;
    let start = next + 10;
    let rdata = msg.get(start..start + rdlen).ok_or(Error::Truncated)?;
    if rtype == TYPE_NB && !rdlen.is_multiple_of(6) {
        return Err(Error::Malformed("NB RDLENGTH is not a multiple of 6"));
    }
    Ok((NbRecord { name, rtype, rclass, ttl, rdata }, start + rdlen))
}

impl<'a> NbnsMessage<'a> {
    pub fn parse(msg: &'a [u8]) -> Result<NbnsMessage<'a>> {
        if msg.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let mut m = NbnsMessage {
            msg,
            id: be16(msg, 0)?,
            flags: be16(msg, 2)?,
            qdcount: be16(msg, 4)?,
            ancount: be16(msg, 6)?,
            nscount: be16(msg, 8)?,
            arcount: be16(msg, 10)?,
            question: None,
            record: None,
            records_at: 0,
            has_nb: false,
        };
        if m.qdcount > 1 {
            return Err(Error::Malformed("NBT-NS QDCOUNT above 1"));
        }
        let mut pos = HEADER_LEN;
        if m.qdcount == 1 {
            let (name, next) = NbName::parse(msg, pos)?;
            m.question = Some(NbQuestion { name, qtype: be16(msg, next)?, qclass: be16(msg, next + 2)? });
            pos = next + 4;
        }
        m.records_at = pos as u16;
        for i in 0..m.record_count() {
            let (r, next) = read_record(msg, pos)?;
            if i == 0 {
                m.record = Some(r);
            }
            m.has_nb |= r.rtype == TYPE_NB;
            pos = next;
        }
        Ok(m)
    }

    fn record_count(&self) -> usize {
        (self.ancount as usize + self.nscount as usize + self.arcount as usize).min(MAX_RECORDS)
    }

    /// The first resource record.
    pub fn record(&self) -> Option<&NbRecord<'a>> {
        self.record.as_ref()
    }

    /// Every resource record, in order.
    pub fn records(&self) -> impl Iterator<Item = NbRecord<'a>> + 'a {
        let msg = self.msg;
        let mut pos = self.records_at as usize;
        (0..self.record_count()).map_while(move |_| {
            let (r, next) = read_record(msg, pos).ok()?;
            pos = next;
            Some(r)
        })
    }

    pub fn is_response(&self) -> bool {
        self.flags & FLAG_RESPONSE != 0
    }
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0xf) as u8
    }
    pub fn rcode(&self) -> u8 {
        (self.flags & 0xf) as u8
    }
    pub fn broadcast(&self) -> bool {
        self.flags & FLAG_B != 0
    }
    /// A name query request (opcode 0, not a response) for an NB name.
    pub fn is_name_query(&self) -> bool {
        !self.is_response() && self.opcode() == OPCODE_QUERY && self.question.map(|q| q.qtype == TYPE_NB).unwrap_or(false)
    }
    /// A positive name-query response: RCODE 0 and at least one NB record.
    pub fn is_positive_response(&self) -> bool {
        self.is_response() && self.opcode() == OPCODE_QUERY && self.rcode() == 0 && self.has_nb
    }
    pub fn is_negative_response(&self) -> bool {
        self.is_response() && self.opcode() == OPCODE_QUERY && self.rcode() != 0
    }
}

/// Writes the negative name-query response to `query` (RFC 1002 §4.2.14, as Samba sends it):
/// the query's transaction id, flags 0x8503 (0x8583 with `ra`), QDCOUNT 0, ANCOUNT 1, the RR
/// name copied from the question, type NULL, class IN, TTL 0, RDLENGTH 0. Returns its length.
pub fn emit_negative_response(out: &mut [u8], query: &NbnsMessage<'_>, ra: bool) -> Result<usize> {
    let q = query.question.as_ref().ok_or(Error::Malformed("the query has no question"))?;
    let name = q.name.encoded();
    let len = HEADER_LEN + name.len() + 10;
    let out = out.get_mut(..len).ok_or(Error::Truncated)?;
    let flags: u16 = FLAG_RESPONSE | FLAG_AA | FLAG_RD | RCODE_NAM_ERR as u16 | if ra { FLAG_RA } else { 0 };
    out[0..2].copy_from_slice(&query.id.to_be_bytes());
    out[2..4].copy_from_slice(&flags.to_be_bytes());
    out[4..12].copy_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0]);
    out[12..12 + name.len()].copy_from_slice(name);
    let t = &mut out[12 + name.len()..];
    t[0..2].copy_from_slice(&TYPE_NULL.to_be_bytes());
    t[2..4].copy_from_slice(&CLASS_IN.to_be_bytes());
    t[4..10].copy_from_slice(&[0; 6]); // TTL 0, RDLENGTH 0
    Ok(len)
}

/// Writes a name query for `name<suffix>`; `broadcast` gives flags 0x0110 (as Windows
/// broadcasts), otherwise 0x0100.
pub fn emit_query(out: &mut [u8], id: u16, name: &[u8], suffix: u8, broadcast: bool) -> Result<usize> {
    let out = out.get_mut(..HEADER_LEN + 34 + 4).ok_or(Error::Truncated)?;
    let flags: u16 = FLAG_RD | if broadcast { FLAG_B } else { 0 };
    out[0..2].copy_from_slice(&id.to_be_bytes());
    out[2..4].copy_from_slice(&flags.to_be_bytes());
    out[4..12].copy_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    encode_name(&mut out[12..], name, suffix)?;
    out[46..48].copy_from_slice(&TYPE_NB.to_be_bytes());
    out[48..50].copy_from_slice(&CLASS_IN.to_be_bytes());
    Ok(50)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WPAD_ENC: &[u8] = b"FHFAEBEECACACACACACACACACACACAAA";

    fn query() -> Vec<u8> {
        let mut v = vec![0x81, 0x2a, 0x01, 0x10, 0, 1, 0, 0, 0, 0, 0, 0, 0x20];
        v.extend(WPAD_ENC);
        v.extend([0, 0, 0x20, 0, 1]);
        v
    }

    /// Responder's answer: flags 0x8500, QD 0, AN 1, NB_FLAGS 0, TTL 165.
    fn poisoned() -> Vec<u8> {
        let mut v = vec![0x81, 0x2a, 0x85, 0x00, 0, 0, 0, 1, 0, 0, 0, 0, 0x20];
        v.extend(WPAD_ENC);
        v.extend([0, 0, 0x20, 0, 1, 0, 0, 0, 165, 0, 6, 0, 0, 198, 18, 0, 66]);
        v
    }

    #[test]
    fn encoded_name_matches_the_known_wpad_form() {
        let mut out = [0u8; 34];
        encode_name(&mut out, b"wpad", 0).unwrap();
        assert_eq!(&out[1..33], WPAD_ENC);
    }

    #[test]
    fn names_as_policies_compare_them() {
        let b = query();
        let m = NbnsMessage::parse(&b).unwrap();
        let n = m.question.as_ref().unwrap().name;
        let mut out = [0xffu8; 20];
        assert_eq!(n.write_lower(&mut out), 4);
        assert_eq!(&out[..4], b"wpad");
        let v = crate::fields::Value::NbName(n);
        assert_eq!(v.with_lower_text(|t| t.to_vec()), Some(b"wpad".to_vec()));
        assert_eq!(v.with_text(|t| t.to_vec()), Some(b"WPAD".to_vec()));
        let long = [b'A'; 300];
        assert_eq!(crate::fields::Value::Str(&long).with_lower_text(|t| t.to_vec()), Some(vec![b'a'; 256]));
        assert_eq!(crate::fields::Value::Int(1).with_lower_text(|t| t.len()), None);
    }

    #[test]
    fn broadcast_query() {
        let b = query();
        let m = NbnsMessage::parse(&b).unwrap();
        assert_eq!(m.id, 0x812a);
        assert!(m.broadcast() && !m.is_response() && m.is_name_query());
        let q = m.question.unwrap();
        assert!(q.name.eq_ignore_case(b"wpad"));
        assert_eq!(q.name.suffix(), 0);
        assert_eq!(q.qtype, TYPE_NB);
        assert_eq!(format!("{:?}", q.name), "WPAD<00>");
    }

    #[test]
    fn poisoned_positive_response() {
        let b = poisoned();
        let m = NbnsMessage::parse(&b).unwrap();
        assert!(m.is_positive_response());
        let r = m.record().unwrap();
        assert_eq!(r.ttl, 165);
        assert_eq!(r.first_entry(), Some((0, Ipv4Addr::new(198, 18, 0, 66))));
        assert!(r.name.eq_ignore_case(b"WPAD"));
    }

    #[test]
    fn negative_response_per_rfc1002() {
        let qb = query();
        let q = NbnsMessage::parse(&qb).unwrap();
        let mut out = [0u8; 128];
        let n = emit_negative_response(&mut out, &q, false).unwrap();
        let r = NbnsMessage::parse(&out[..n]).unwrap();
        assert_eq!(r.id, q.id);
        assert_eq!(r.flags, 0x8503);
        assert_eq!((r.qdcount, r.ancount), (0, 1));
        assert!(r.is_negative_response());
        let rr = r.record().unwrap();
        assert_eq!(rr.rtype, TYPE_NULL);
        assert_eq!(rr.ttl, 0);
        assert!(rr.rdata.is_empty());
        assert!(rr.name.eq_ignore_case(b"WPAD"));
        let mut out2 = [0u8; 128];
        let n = emit_negative_response(&mut out2, &q, true).unwrap();
        assert_eq!(NbnsMessage::parse(&out2[..n]).unwrap().flags, 0x8583);
    }

    #[test]
    fn query_emit_roundtrip_and_registration() {
        let mut out = [0u8; 64];
        let n = emit_query(&mut out, 7, b"fileservr", 0x20, true).unwrap();
        let m = NbnsMessage::parse(&out[..n]).unwrap();
        assert_eq!(m.flags, 0x0110);
        assert!(m.question.unwrap().name.eq_ignore_case(b"FILESERVR"));
        assert_eq!(m.question.unwrap().name.suffix(), 0x20);
        // Registration: opcode 5, question + additional record pointing at the question name.
        let mut r = vec![0, 9, 0x29, 0x10, 0, 1, 0, 0, 0, 0, 0, 1, 0x20];
        r.extend(WPAD_ENC);
        r.extend([0, 0, 0x20, 0, 1, 0xc0, 12, 0, 0x20, 0, 1, 0, 3, 0xf4, 0x80, 0, 6, 0x60, 0, 198, 18, 0, 20]);
        let m = NbnsMessage::parse(&r).unwrap();
        assert_eq!(m.opcode(), OPCODE_REGISTRATION);
        let r = m.record().unwrap();
        assert!(r.name.compressed);
        assert_eq!(r.first_entry(), Some((0x6000, Ipv4Addr::new(198, 18, 0, 20))));
        assert_eq!(m.records().count(), 1);
    }

    #[test]
    fn malformed() {
        let b = poisoned();
        for n in 0..b.len() {
            assert!(NbnsMessage::parse(&b[..n]).is_err(), "prefix {n}");
        }
        let mut bad = query();
        bad[13] = b'Z';
        assert!(matches!(NbnsMessage::parse(&bad), Err(Error::Malformed(_))));
        let mut bad = poisoned();
        let l = bad.len();
        bad[l - 7] = 5; // RDLENGTH 5
        assert!(NbnsMessage::parse(&bad[..l - 1]).is_err());
        let mut ptr = vec![0, 0, 0x85, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0xc0, 12];
        ptr.extend([0; 10]);
        assert_eq!(NbnsMessage::parse(&ptr).unwrap_err(), Error::PointerLoop);
    }
}
