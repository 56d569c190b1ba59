//! One table of what rides where: the well-known ports, the protocol bits of a frame, and which
//! application messages each transport carries. The dissector (`crate::frame`, whose
//! `frame_mask` gives a dissected frame's bits), the header triage (`crate::triage`) and the
//! policy compiler all decide by these, so they cannot disagree.
pub const PORT_NBNS: u16 = 137;
pub const PORT_NBSS: u16 = 139;
pub const PORT_SMB: u16 = 445;
pub const PORT_SSRP: u16 = 1434;
pub const PORT_MDNS: u16 = 5353;
pub const PORT_LLMNR: u16 = 5355;
pub const PORT_DHCP_SERVER: u16 = crate::dhcp::PORT_SERVER;
pub const PORT_DHCP_CLIENT: u16 = crate::dhcp::PORT_CLIENT;
pub const PORT_DHCP6_CLIENT: u16 = crate::dhcp6::PORT_CLIENT;
pub const PORT_DHCP6_SERVER: u16 = crate::dhcp6::PORT_SERVER;

/// Protocol bits of a frame (`crate::frame::frame_mask`): a rule that reads `llmnr.*` can only match a
/// frame with [`LLMNR`].
pub const ETH: u32 = 1 << 0;
pub const ARP: u32 = 1 << 1;
pub const IP: u32 = 1 << 2;
pub const UDP: u32 = 1 << 3;
pub const TCP: u32 = 1 << 4;
pub const NBNS: u32 = 1 << 5;
pub const LLMNR: u32 = 1 << 6;
pub const MDNS: u32 = 1 << 7;
pub const SSRP: u32 = 1 << 8;
pub const HTTP: u32 = 1 << 9;
pub const SMB2: u32 = 1 << 10;
pub const NTLM: u32 = 1 << 11;
pub const VLAN: u32 = 1 << 12;
/// A TCP segment with SYN set (connection attempts: follow-on rules gate on it).
pub const SYN: u32 = 1 << 13;
/// A name-resolution or SQL-browser message that is a response (the NBT-NS R bit, the
/// LLMNR/mDNS QR bit, an SSRP SVR_RESP): rules about answers gate on it, so queries skip them.
pub const RESP: u32 = 1 << 14;
/// An NBT-NS message with the B (broadcast) flag: `nbns.broadcast` gates on it, and
/// `not nbns.broadcast` excludes it, so broadcast queries skip the rules about unicast ones.
pub const BCAST: u32 = 1 << 15;

/// Number of protocol bits in a frame mask.
pub const MASK_BITS: u32 = 16;

/// The bits a frame read only up to its transport (`Frame::parse_transport`) can have.
pub const TRANSPORT_BITS: [u32; 7] = [ETH, ARP, IP, UDP, TCP, VLAN, SYN];

/// What TCP carries: the messages the dissector reads from a segment.
pub const TCP_APPS: u32 = HTTP | SMB2 | NTLM;
/// What UDP carries: the name-resolution and SQL-browser messages and their flag bits.
pub const UDP_APPS: u32 = NBNS | LLMNR | MDNS | SSRP | RESP | BCAST;

/// The application bits a frame of transport-level mask `mask` may add once its message is
/// read ([`TCP_APPS`] on TCP, [`UDP_APPS`] on UDP, nothing else).
#[inline]
pub const fn carried_by(mask: u32) -> u32 {
    if mask & TCP != 0 {
        TCP_APPS
    } else if mask & UDP != 0 {
        UDP_APPS
    } else {
        0
    }
}

pub const NAMES: [(u32, &str); 16] = [
    (ETH, "eth"),
    (ARP, "arp"),
    (IP, "ip"),
    (UDP, "udp"),
    (TCP, "tcp"),
    (NBNS, "nbns"),
    (LLMNR, "llmnr"),
    (MDNS, "mdns"),
    (SSRP, "ssrp"),
    (HTTP, "http"),
    (SMB2, "smb2"),
    (NTLM, "ntlm"),
    (VLAN, "vlan"),
    (SYN, "tcp-syn"),
    (RESP, "response"),
    (BCAST, "nbns-broadcast"),
];

/// The bits of `mask` by name, joined by `+` (for `explain`).
pub fn names(mask: u32) -> String {
    NAMES.iter().filter(|(b, _)| mask & b != 0).map(|(_, n)| *n).collect::<Vec<_>>().join("+")
}

/// Whether a TCP port is SMB's (direct or over NetBIOS): segments on it are read for SMB2.
#[inline(always)]
pub fn smb_port(p: u16) -> bool {
    (p == PORT_SMB) | (p == PORT_NBSS)
}

/// The message a UDP datagram between these ports carries, in the order the dissector tries
/// them (a datagram from 5355 to 137 is LLMNR): [`LLMNR`], [`NBNS`], [`MDNS`], [`SSRP`] or 0.
#[inline(always)]
pub fn udp_app(sport: u16, dport: u16) -> u32 {
    let has = |p: u16| (sport == p) | (dport == p);
    if has(PORT_LLMNR) {
        LLMNR
    } else if has(PORT_NBNS) {
        NBNS
    } else if has(PORT_MDNS) {
        MDNS
    } else if has(PORT_SSRP) {
        SSRP
    } else {
        0
    }
}

/// Whether `p` is a port whose datagrams the dissector reads: name resolution, the SQL browser
/// (NBT-NS, SSRP, mDNS, LLMNR) and DHCP, v4 and v6 (what the network is learned from). One
/// multiply and one table load (a perfect hash of the eight), not sixteen comparisons.
#[inline(always)]
pub fn named_port(p: u16) -> bool {
    let table: &'static [u16; 8] = &NAMED_PORTS;
    table[((p as u32).wrapping_mul(NAMED_PORT_HASH) >> 29) as usize] == p
}

const NAMED_PORT_HASH: u32 = 0x64b2_d2bd;

/// [`named_port`]'s table: each port in its slot, the empty slots holding one of them again. (A
/// `const`, read through a reference: each crate that inlines the look keeps its own copy,
/// addressed directly, where a `static` of this crate is reached through the executable's
/// global offset table — a second load, on a line of its own that misses every burst.)
const NAMED_PORTS: [u16; 8] = {
    let ports = [PORT_NBNS, PORT_SSRP, PORT_MDNS, PORT_LLMNR, PORT_DHCP_SERVER, PORT_DHCP_CLIENT, PORT_DHCP6_CLIENT, PORT_DHCP6_SERVER];
    let (mut t, mut used) = ([PORT_NBNS; 8], [false; 8]);
    let mut i = 0;
    while i < ports.len() {
        let slot = ((ports[i] as u32).wrapping_mul(NAMED_PORT_HASH) >> 29) as usize;
        assert!(!used[slot], "the hash keeps the named ports apart");
        (t[slot], used[slot]) = (ports[i], true);
        i += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_port_is_true_for_the_eight_named_ports_only() {
        let named: Vec<u16> = (0..=u16::MAX).filter(|&p| named_port(p)).collect();
        let mut want = vec![PORT_DHCP_SERVER, PORT_DHCP_CLIENT, PORT_NBNS, PORT_SSRP, PORT_MDNS, PORT_LLMNR, PORT_DHCP6_CLIENT, PORT_DHCP6_SERVER];
        want.sort();
        assert_eq!(named, want);
    }

    #[test]
    fn a_udp_app_is_named_by_one_of_the_named_ports() {
        for (s, d) in [(PORT_LLMNR, PORT_NBNS), (1, PORT_SSRP), (PORT_MDNS, 9), (7, 8), (PORT_DHCP_CLIENT, PORT_DHCP_SERVER)] {
            if udp_app(s, d) != 0 {
                assert!(named_port(s) || named_port(d));
            }
        }
        assert_eq!(udp_app(PORT_DHCP_CLIENT, PORT_DHCP_SERVER), 0, "DHCP is read by the dissector's learning, not as an application");
        assert_eq!(udp_app(PORT_LLMNR, PORT_NBNS), LLMNR);
    }
}
