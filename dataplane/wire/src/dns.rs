//! One DNS-message reader for LLMNR (RFC 4795) and mDNS (RFC 6762): header and flags, questions
//! (name, type, class, QU bit), answers (name, type, class with the cache-flush bit, TTL, A/AAAA
//! data), the authority and additional records on demand, and, for every name, whether it used
//! a compression pointer.
//!
//! (Over 500 lines with its tests: one message format's reader and emitter, and the byte-array
//! tests beside them, in smoltcp's manner; a split would put the name rules apart from the
//! records that use them.)
//!
//! Names are not copied: a [`Name`] is a validated position in the message, read on demand.
//! Validation follows every pointer once at parse time: a pointer must point strictly backwards
//! (so no loop is possible), a label is at most 63 bytes, a name at most 255.
use crate::error::{be16, be32, u8at, Error, Result};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub const HEADER_LEN: usize = 12;

pub const FLAG_QR: u16 = 0x8000;
pub const FLAG_AA_C: u16 = 0x0400;
pub const FLAG_TC: u16 = 0x0200;
pub const FLAG_RD_T: u16 = 0x0100;

pub const TYPE_A: u16 = 1;
pub const TYPE_PTR: u16 = 12;
pub const TYPE_TXT: u16 = 16;
pub const TYPE_AAAA: u16 = 28;
pub const TYPE_SRV: u16 = 33;
pub const TYPE_NSEC: u16 = 47;
pub const TYPE_ANY: u16 = 255;

/// A validated domain name inside a message.
#[derive(Debug, Clone, Copy)]
pub struct Name<'a> {
    msg: &'a [u8],
    offset: u16,
    /// Length of the dotted text form ("wpad.local" = 10).
    text_len: u8,
    /// The name used a compression pointer somewhere.
    pub compressed: bool,
}

impl<'a> Name<'a> {
    /// Validates the name at `offset`; returns it and the offset just after it in the message.
    pub fn parse(msg: &'a [u8], offset: usize) -> Result<(Name<'a>, usize)> {
        let mut pos = offset;
        let mut end = None;
        let mut text = 0usize;
        let mut compressed = false;
        // The lowest position a pointer may target: strictly below the pointer itself, and each
        // jump must go further back than the last one, so the walk always terminates.
        let mut limit = offset;
        loop {
            let len = u8at(msg, pos)?;
            match len & 0xc0 {
                0x00 => {
                    if len == 0 {
                        if end.is_none() {
                            end = Some(pos + 1);
                        }
                        break;
                    }
                    let l = len as usize;
                    if pos + 1 + l > msg.len() {
                        return Err(Error::Truncated);
                    }
                    text += l + usize::from(text > 0);
                    if text > 253 {
                        return Err(Error::NameTooLong);
                    }
                    pos += 1 + l;
                }
                0xc0 => {
                    let target = (be16(msg, pos)? & 0x3fff) as usize;
                    if end.is_none() {
                        end = Some(pos + 2);
                    }
                    if target >= limit {
                        return Err(Error::PointerLoop);
                    }
                    compressed = true;
                    limit = target;
                    pos = target;
                }
                _ => return Err(Error::Malformed("DNS label type 0x40/0x80")),
            }
        }
        let name = Name { msg, offset: offset as u16, text_len: text as u8, compressed };
        Ok((name, end.unwrap_or(pos + 1)))
    }

    /// The labels, in order, pointers followed.
    pub fn labels(&self) -> Labels<'a> {
        Labels { msg: self.msg, pos: self.offset as usize }
    }

    /// Length of the dotted text form.
    pub fn text_len(&self) -> usize {
        self.text_len as usize
    }

    /// Writes the dotted form into `out` (at least 253 bytes fit any name); returns its length.
    pub fn write_text(&self, out: &mut [u8]) -> usize {
        let mut n = 0;
        for (i, l) in self.labels().enumerate() {
            if i > 0 && n < out.len() {
                out[n] = b'.';
                n += 1;
            }
            let take = l.len().min(out.len().saturating_sub(n));
            out[n..n + take].copy_from_slice(&l[..take]);
            n += take;
        }
        n
    }

    /// ASCII case-insensitive comparison with a dotted name (a trailing dot is ignored).
    pub fn eq_ignore_case(&self, s: &[u8]) -> bool {
        let s = s.strip_suffix(b".").unwrap_or(s);
        if s.len() != self.text_len() {
            return false;
        }
        let mut i = 0;
        for (k, l) in self.labels().enumerate() {
            if k > 0 {
                if s[i] != b'.' {
                    return false;
                }
                i += 1;
            }
            if !s[i..i + l.len()].eq_ignore_ascii_case(l) {
                return false;
            }
            i += l.len();
        }
        true
    }

    /// The first label (the host part of "host.local").
    pub fn first_label(&self) -> &'a [u8] {
        self.labels().next().unwrap_or(&[])
    }
}

/// Iterator over a validated name's labels.
pub struct Labels<'a> {
    msg: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];
    fn next(&mut self) -> Option<&'a [u8]> {
        // The name was validated by Name::parse: every read here is in bounds and terminates.
        loop {
            let len = *self.msg.get(self.pos)?;
            if len == 0 {
                return None;
            }
            if len & 0xc0 == 0xc0 {
                let p = ((len as usize & 0x3f) << 8) | *self.msg.get(self.pos + 1)? as usize;
                self.pos = p;
                continue;
            }
            let l = self.msg.get(self.pos + 1..self.pos + 1 + len as usize)?;
            self.pos += 1 + len as usize;
            return Some(l);
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    pub name: Name<'a>,
    pub qtype: u16,
    /// The class without the QU bit.
    pub qclass: u16,
    /// mDNS: the top bit of the class asks for a unicast response.
    pub qu: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub name: Name<'a>,
    pub rtype: u16,
    /// The class without the cache-flush bit.
    pub rclass: u16,
    /// mDNS: the top bit of the class (unique record, flush caches).
    pub cache_flush: bool,
    pub ttl: u32,
    pub rdata: &'a [u8],
}

impl Record<'_> {
    /// The address of an A or AAAA record.
    pub fn addr(&self) -> Option<IpAddr> {
        match (self.rtype, self.rdata.len()) {
            (TYPE_A, 4) => Some(IpAddr::V4(Ipv4Addr::new(self.rdata[0], self.rdata[1], self.rdata[2], self.rdata[3]))),
            (TYPE_AAAA, 16) => {
                let mut o = [0u8; 16];
                o.copy_from_slice(self.rdata);
                Some(IpAddr::V6(Ipv6Addr::from(o)))
            }
            _ => None,
        }
    }
}

/// A parsed DNS-format message (LLMNR or mDNS). The first question and the first answer are
/// kept; [`DnsMessage::questions`] and [`DnsMessage::answers`] iterate over all of them. Every
/// question and answer was validated by [`DnsMessage::parse`]; the authority and additional
/// records (an mDNS probe's proposed records, an announcement's extra addresses) are read on
/// demand by [`DnsMessage::authorities`] and [`DnsMessage::additionals`], up to the first one
/// that does not read.
#[derive(Debug, Clone, Copy)]
pub struct DnsMessage<'a> {
    msg: &'a [u8],
    pub id: u16,
    pub flags: u16,
    pub qdcount: u16,
    pub ancount: u16,
    pub nscount: u16,
    pub arcount: u16,
    question: Option<Question<'a>>,
    answer: Option<Record<'a>>,
    /// Offset of the answer section.
    answers_at: u16,
    /// Offset of the authority section (the end of the answers).
    authority_at: u16,
}

fn read_question(msg: &[u8], pos: usize) -> Result<(Question<'_>, usize)> {
    let (name, next) = Name::parse(msg, pos)?;
    let qtype = be16(msg, next)?;
    let qclass = be16(msg, next + 2)?;
    Ok((Question { name, qtype, qclass: qclass & 0x7fff, qu: qclass & 0x8000 != 0 }, next + 4))
}

fn read_record(msg: &[u8], pos: usize) -> Result<(Record<'_>, usize)> {
    let (name, next) = Name::parse(msg, pos)?;
    let rtype = be16(msg, next)?;
    let rclass = be16(msg, next + 2)?;
    let ttl = be32(msg, next + 4)?;
    let rdlen = be16(msg, next + 8)? as usize;
    let start = next + 10;
    let rdata = msg.get(start..start + rdlen).ok_or(Error::Truncated)?;
    let r = Record { name, rtype, rclass: rclass & 0x7fff, cache_flush: rclass & 0x8000 != 0, ttl, rdata };
    Ok((r, start + rdlen))
}

/// `n` records from `pos`, each with the offset after it, up to the first that does not read.
fn records(msg: &[u8], pos: usize, n: u16) -> impl Iterator<Item = (Record<'_>, usize)> + '_ {
    let mut pos = pos;
    (0..n).map_while(move |_| {
        let (r, next) = read_record(msg, pos).ok()?;
        pos = next;
        Some((r, next))
    })
}

impl<'a> DnsMessage<'a> {
    /// Parses the header, the questions and the answer section (authority and additional
    /// records are counted here, read on demand).
    pub fn parse(msg: &'a [u8]) -> Result<DnsMessage<'a>> {
        if msg.len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let mut m = DnsMessage {
            msg,
            id: be16(msg, 0)?,
            flags: be16(msg, 2)?,
            qdcount: be16(msg, 4)?,
            ancount: be16(msg, 6)?,
            nscount: be16(msg, 8)?,
            arcount: be16(msg, 10)?,
            question: None,
            answer: None,
            answers_at: 0,
            authority_at: 0,
        };
        let mut pos = HEADER_LEN;
        for i in 0..m.qdcount {
            let (q, next) = read_question(msg, pos)?;
            if i == 0 {
                m.question = Some(q);
            }
            pos = next;
        }
        m.answers_at = pos as u16;
        for i in 0..m.ancount {
            let (r, next) = read_record(msg, pos)?;
            if i == 0 {
                m.answer = Some(r);
            }
            pos = next;
        }
        m.authority_at = pos as u16;
        Ok(m)
    }

    /// The first question.
    pub fn question(&self) -> Option<&Question<'a>> {
        self.question.as_ref()
    }

    /// The first answer.
    pub fn answer(&self) -> Option<&Record<'a>> {
        self.answer.as_ref()
    }

    /// Every question, in order.
    pub fn questions(&self) -> impl Iterator<Item = Question<'a>> + 'a {
        let msg = self.msg;
        let mut pos = HEADER_LEN;
        (0..self.qdcount).map_while(move |_| {
            let (q, next) = read_question(msg, pos).ok()?;
            pos = next;
            Some(q)
        })
    }

    /// Every answer record, in order.
    pub fn answers(&self) -> impl Iterator<Item = Record<'a>> + 'a {
        records(self.msg, self.answers_at as usize, self.ancount).map(|(r, _)| r)
    }

    /// The authority records, in order, up to the first that does not read (an mDNS probe
    /// proposes its records here, RFC 6762 §8.2).
    pub fn authorities(&self) -> impl Iterator<Item = Record<'a>> + 'a {
        records(self.msg, self.authority_at as usize, self.nscount).map(|(r, _)| r)
    }

    /// The additional records, in order, up to the first that does not read (none when an
    /// authority record does not read).
    pub fn additionals(&self) -> impl Iterator<Item = Record<'a>> + 'a {
        let (mut end, mut read) = (self.authority_at as usize, 0u16);
        for (_, next) in records(self.msg, end, self.nscount) {
            (end, read) = (next, read + 1);
        }
        records(self.msg, end, if read == self.nscount { self.arcount } else { 0 }).map(|(r, _)| r)
    }

    /// The first A or AAAA record among the answers (an announcement lists PTR, SRV and TXT
    /// records first) — its name and address.
    pub fn first_address(&self) -> Option<(Name<'a>, IpAddr)> {
        self.answers().find_map(|r| r.addr().map(|a| (r.name, a)))
    }

    /// A query that proposes records in its authority section: an mDNS probe (RFC 6762 §8.1).
    pub fn is_probe(&self) -> bool {
        !self.is_response() && self.nscount > 0 && self.authorities().next().is_some()
    }

    pub fn is_response(&self) -> bool {
        self.flags & FLAG_QR != 0
    }
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0xf) as u8
    }
    /// LLMNR's C (conflict) bit / mDNS's AA bit.
    pub fn c_or_aa(&self) -> bool {
        self.flags & FLAG_AA_C != 0
    }
    pub fn tc(&self) -> bool {
        self.flags & FLAG_TC != 0
    }
    /// LLMNR's T (tentative) bit / DNS's RD bit.
    pub fn t_or_rd(&self) -> bool {
        self.flags & FLAG_RD_T != 0
    }
    pub fn rcode(&self) -> u8 {
        (self.flags & 0xf) as u8
    }
}

/// Writes a query for `name` (dotted) with one question into `out`; returns its length.
/// LLMNR: flags 0, as Windows sends. mDNS: id 0, flags 0, QU bit as asked.
pub fn emit_query(out: &mut [u8], id: u16, flags: u16, name: &str, qtype: u16, qclass: u16) -> Result<usize> {
    let mut n = HEADER_LEN;
    if out.len() < HEADER_LEN {
        return Err(Error::Truncated);
    }
    out[..HEADER_LEN].copy_from_slice(&[0; HEADER_LEN]);
    out[0..2].copy_from_slice(&id.to_be_bytes());
    out[2..4].copy_from_slice(&flags.to_be_bytes());
    out[4..6].copy_from_slice(&1u16.to_be_bytes());
    n += emit_name(&mut out[n..], name)?;
    let tail = out.get_mut(n..n + 4).ok_or(Error::Truncated)?;
    tail[0..2].copy_from_slice(&qtype.to_be_bytes());
    tail[2..4].copy_from_slice(&qclass.to_be_bytes());
    Ok(n + 4)
}

/// Writes `name` (dotted) as uncompressed labels; returns the bytes written.
pub fn emit_name(out: &mut [u8], name: &str) -> Result<usize> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.len() > 253 {
        return Err(Error::NameTooLong);
    }
    let mut n = 0;
    for label in name.split('.').filter(|l| !l.is_empty()) {
        if label.len() > 63 {
            return Err(Error::NameTooLong);
        }
        let dst = out.get_mut(n..n + 1 + label.len()).ok_or(Error::Truncated)?;
        dst[0] = label.len() as u8;
        dst[1..].copy_from_slice(label.as_bytes());
        n += 1 + label.len();
    }
    *out.get_mut(n).ok_or(Error::Truncated)? = 0;
    Ok(n + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Responder-style LLMNR answer: question "wpad" A, answer name written in full, TTL 30.
    fn llmnr_answer(compress: bool) -> Vec<u8> {
        let mut v = vec![0xbe, 0xef, 0x80, 0x00, 0, 1, 0, 1, 0, 0, 0, 0];
        v.extend(b"\x04wpad\x00");
        v.extend([0, 1, 0, 1]);
        if compress {
            v.extend([0xc0, 0x0c]);
        } else {
            v.extend(b"\x04wpad\x00");
        }
        v.extend([0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 198, 18, 0, 66]);
        v
    }

    #[test]
    fn llmnr_answer_full_name() {
        let b = llmnr_answer(false);
        let m = DnsMessage::parse(&b).unwrap();
        assert_eq!(m.id, 0xbeef);
        assert!(m.is_response());
        assert_eq!(m.rcode(), 0);
        let q = m.question().unwrap();
        assert!(q.name.eq_ignore_case(b"WPAD"));
        assert!(!q.name.compressed);
        let a = m.answer().unwrap();
        assert!(!a.name.compressed);
        assert_eq!(a.ttl, 30);
        assert_eq!(a.addr(), Some("198.18.0.66".parse().unwrap()));
    }

    #[test]
    fn compressed_answer_name() {
        let b = llmnr_answer(true);
        let m = DnsMessage::parse(&b).unwrap();
        let a = m.answer().unwrap();
        assert!(a.name.compressed);
        assert!(a.name.eq_ignore_case(b"wpad"));
        let mut out = [0u8; 256];
        let n = a.name.write_text(&mut out);
        assert_eq!(&out[..n], b"wpad");
    }

    #[test]
    fn mdns_qu_and_cache_flush() {
        let mut v = vec![0, 0, 0x84, 0x00, 0, 1, 0, 1, 0, 0, 0, 0];
        v.extend(b"\x04host\x05local\x00");
        v.extend([0, 1, 0x80, 1]);
        v.extend([0xc0, 12, 0, 1, 0x80, 1, 0, 0, 0, 120, 0, 4, 198, 18, 0, 20]);
        let m = DnsMessage::parse(&v).unwrap();
        assert!(m.question().unwrap().qu);
        assert_eq!(m.question().unwrap().qclass, 1);
        let a = m.answer().unwrap();
        assert!(a.cache_flush);
        assert!(m.c_or_aa());
        assert_eq!(a.name.text_len(), 10);
        assert!(a.name.eq_ignore_case(b"HOST.local."));
        assert_eq!(a.name.first_label(), b"host");
        assert_eq!(m.answers().count(), 1);
        assert_eq!(m.questions().count(), 1);
    }

    #[test]
    fn pointer_loops_and_long_names_end_in_errors() {
        // pointer to itself
        let mut v = vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1];
        assert_eq!(DnsMessage::parse(&v).unwrap_err(), Error::PointerLoop);
        // forward pointer
        v[13] = 14;
        assert_eq!(DnsMessage::parse(&v).unwrap_err(), Error::PointerLoop);
        // two labels pointing at each other: 12: "\x01a" + ptr->15 ; 15: "\x01b" + ptr->12
        let v = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, b'a', 0xc0, 12, 0, 1, 0, 1];
        assert_eq!(DnsMessage::parse(&v).unwrap_err(), Error::PointerLoop);
        // name over 255
        let mut v = vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        for _ in 0..5 {
            v.push(63);
            v.extend([b'x'; 63]);
        }
        v.extend([0, 0, 1, 0, 1]);
        assert_eq!(DnsMessage::parse(&v).unwrap_err(), Error::NameTooLong);
        // reserved label type
        let v = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 1, 0, 1];
        assert!(matches!(DnsMessage::parse(&v), Err(Error::Malformed(_))));
    }

    #[test]
    fn truncated_everywhere() {
        let b = llmnr_answer(false);
        for n in 0..b.len() {
            assert!(DnsMessage::parse(&b[..n]).is_err(), "prefix of {n} bytes parsed");
        }
    }

    #[test]
    fn emit_query_roundtrip() {
        let mut out = [0u8; 64];
        let n = emit_query(&mut out, 0x1234, 0, "fileservr", TYPE_A, 1).unwrap();
        let m = DnsMessage::parse(&out[..n]).unwrap();
        assert_eq!(m.id, 0x1234);
        assert!(!m.is_response());
        assert!(m.question().unwrap().name.eq_ignore_case(b"fileservr"));
        let mut other = [0u8; 80];
        assert_eq!(emit_name(&mut other, &"a".repeat(64)), Err(Error::NameTooLong));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            if let Ok(m) = DnsMessage::parse(&data) {
                let mut out = [0u8; 256];
                for q in m.questions() { q.name.write_text(&mut out); }
                for a in m.answers() { a.name.write_text(&mut out); let _ = a.addr(); }
            }
        }
    }

    /// An mDNS probe as avahi sends it: a question for the name (ANY, QU) and, in the authority
    /// section, the A record it proposes; then an announcement whose PTR record (reverse
    /// mapping) comes before the A record, with an AAAA record in the additional section.
    #[test]
    fn probes_and_announcements_show_their_records() {
        let mut p = vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0];
        p.extend(b"\x08corpfs01\x05local\x00");
        p.extend([0, 255, 0x80, 1]);
        p.extend([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 120, 0, 4, 198, 18, 0, 20]);
        let m = DnsMessage::parse(&p).unwrap();
        assert!(m.is_probe());
        let a: Vec<_> = m.authorities().collect();
        assert_eq!(a.len(), 1);
        assert!(a[0].name.eq_ignore_case(b"corpfs01.local"));
        assert_eq!(a[0].addr(), Some("198.18.0.20".parse().unwrap()));
        assert!(m.first_address().is_none(), "a probe answers nothing");
        assert_eq!(m.additionals().count(), 0);

        let mut n = vec![0, 0, 0x84, 0, 0, 0, 0, 2, 0, 0, 0, 1];
        n.extend(b"\x0220\x010\x0218\x03198\x07in-addr\x04arpa\x00");
        n.extend([0, 12, 0x80, 1, 0, 0, 0, 120, 0, 16]);
        n.extend(b"\x08corpfs01\x05local\x00");
        let host = (n.len() - 16) as u8;
        n.extend([0xc0, host, 0, 1, 0x80, 1, 0, 0, 0, 120, 0, 4, 198, 18, 0, 20]);
        n.extend([0xc0, host, 0, 28, 0x80, 1, 0, 0, 0, 120, 0, 16]);
        n.extend([0xfd, 0, 1, 0x98, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20]);
        let m = DnsMessage::parse(&n).unwrap();
        assert!(!m.is_probe());
        assert_eq!(m.answer().unwrap().addr(), None, "the first answer is the PTR record");
        let (name, addr) = m.first_address().unwrap();
        assert!(name.eq_ignore_case(b"corpfs01.local"));
        assert_eq!(addr, "198.18.0.20".parse::<IpAddr>().unwrap());
        let extra: Vec<_> = m.additionals().map(|r| r.addr()).collect();
        assert_eq!(extra, [Some("fd00:198:18::20".parse().unwrap())]);
        // A cut additional record ends the section, the message still reads.
        let m = DnsMessage::parse(&n[..n.len() - 3]).unwrap();
        assert_eq!(m.additionals().count(), 0);
        assert!(m.first_address().is_some());
    }
}
