//! One frame of a known layout class, read at fixed offsets: plain traffic, a name-resolution
//! message and its flag bits, or a frame for the dissector.
use crate::http::http_first_byte;
use crate::proto::{self, named_port, smb_port};

/// [`known_layout`] for a class known at run time (the per-frame look).
#[inline(always)]
pub(super) fn known_layout_in(c: usize, d: &[u8]) -> Option<Known> {
    match c {
        0 => known_layout::<false, false, false>(d),
        1 => known_layout::<false, false, true>(d),
        2 => known_layout::<true, false, false>(d),
        3 => known_layout::<true, false, true>(d),
        4 => known_layout::<false, true, false>(d),
        5 => known_layout::<false, true, true>(d),
        6 => known_layout::<true, true, false>(d),
        _ => known_layout::<true, true, true>(d),
    }
}

/// What [`known_layout`] says of a frame of a known layout class.
#[derive(Clone, Copy)]
pub(super) enum Known {
    /// Plain traffic (the class's mask).
    Plain,
    /// A name-resolution message: the class's mask and these bits ([`Triage::Named`]).
    Named(u32),
    Dissect,
}

/// One frame of a known layout class (at least 60 bytes: [`layout_of`]); `None`: the general
/// walk decides (IPv4 options, a transport header cut short).
///
/// Only what a rule could tell apart is read: the layout, the ports, TCP's SYN flag and the
/// first byte of its payload, and a name-resolution message's flags. The IP and transport
/// lengths are not, nor IPv4's fragment fields but on the name services' ports: a frame they
/// make malformed (or a later fragment) is one the dissector gives the downgraded masks of
/// [`Triage::possible`], which the caller asks about too; a fragment of a name-service datagram
/// is dissected (`ns.fragment`).
#[inline(always)]
pub(super) fn known_layout<const TAGGED: bool, const V6: bool, const UDP: bool>(d: &[u8]) -> Option<Known> {
    let l3 = if TAGGED { 18 } else { 14 };
    let l4 = l3 + if V6 { 40 } else { 20 };
    let vb = *d.get(l3)?;
    if V6 {
        if vb >> 4 != 6 {
            return Some(Known::Dissect);
        }
    } else if vb != 0x45 {
        return None;
    }
    let t = d.get(l4..)?.first_chunk::<14>()?;
    let (sport, dport) = (u16::from_be_bytes([t[0], t[1]]), u16::from_be_bytes([t[2], t[3]]));
    if UDP {
        if !(named_port(sport) | named_port(dport)) {
            return Some(Known::Plain);
        }
        // The message the dissector reads (its order of ports).
        let app = proto::udp_app(sport, dport);
        // A fragment: a later one carries no UDP header (what reads as ports is payload): plain
        // UDP, which the dissector downgrades ([`Triage::possible`]). A first fragment of a
        // name-resolution datagram is marked as a possible answer without reading its message
        // (it may be cut anywhere, even before its flags), as the dissector marks it
        // (`ns.fragment`) — and so it is charged to the worker's answer budget like any answer.
        if !V6 {
            let frag = u16::from_be_bytes([*d.get(l3 + 6)?, *d.get(l3 + 7)?]);
            if frag & 0x3fff != 0 {
                return Some(if frag & 0x1fff == 0 && app & (proto::NBNS | proto::LLMNR | proto::MDNS | proto::SSRP) != 0 {
                    Known::Named(app | proto::RESP)
                } else {
                    Known::Plain
                });
            }
        }
        if app == proto::SSRP {
            // The SQL browser: its message's first byte tells a reply (SVR_RESP), what the
            // rules about replies and the answer budget want, from a request.
            return Some(Known::Named(proto::SSRP | if t[8] == crate::ssrp::SVR_RESP { proto::RESP } else { 0 }));
        }
        if app == 0 {
            // DHCP: plain to every rule (no application bit); the judge reads it to learn from,
            // within its budget.
            return Some(Known::Named(0));
        }
        // The flags: QR / R in the message's third byte; NBT-NS's B flag in its fourth.
        let (hi, lo) = (t[10], t[11]);
        let resp = if hi & 0x80 != 0 { proto::RESP } else { 0 };
        let bcast = if app == proto::NBNS && lo & 0x10 != 0 { proto::BCAST } else { 0 };
        Some(Known::Named(app | resp | bcast))
    } else {
        if (t[13] & crate::tcp::SYN != 0) | smb_port(sport) | smb_port(dport) {
            return Some(Known::Dissect);
        }
        // A payload that cannot start an HTTP head (most) is decided by its first byte; the rare
        // candidate is read whole by the general walk.
        let hl = ((t[12] >> 4) as usize) * 4;
        match d.get(l4 + hl) {
            Some(&b) if http_first_byte(b) => None,
            _ => Some(Known::Plain),
        }
    }
}
