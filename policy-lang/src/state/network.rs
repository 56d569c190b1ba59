//! What the appliance has learned of the network it sits in, passively, per segment (a port
//! pair): which MAC each address belongs to ([`Network::hosts`]) and which MAC owns each name
//! ([`Network::owners`]). Shared by every worker and kept across policy swaps; written by the
//! workers as frames pass, read by everyone.
//!
//! What one frame can teach is bound to evidence it carries: an ARP frame teaches its sender's
//! address only when its Ethernet source is the sender's MAC, and an address already bound to
//! another MAC is not moved (a conflict, counted) — so a forged frame cannot make the appliance
//! believe that a server's address belongs to the forger.
use super::bindings::{evidence, BindTable, Bound};
use antidote_wire::arp::ArpRepr;
use antidote_wire::dhcp::{DhcpRepr, ACK, INFORM, REQUEST};
use antidote_wire::fields::Value;
use antidote_wire::frame::{App, Frame};
use antidote_wire::ndp::{NdpRepr, NEIGHBOR_ADVERT, NEIGHBOR_SOLICIT, ROUTER_ADVERT};
use std::net::IpAddr;
use std::net::Ipv6Addr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Bindings the hosts table holds at most (it evicts the least recently seen beyond that).
pub const HOSTS: usize = 65_536;
/// How long a binding lives after it was last seen: an hour.
pub const HOST_TTL_MS: u64 = 3_600_000;
/// How long a router must have been seen before it counts as infrastructure (never learned as a
/// poisoner nor quarantined by address): a poisoner's own router advertisement does not make it
/// one at once.
pub const INFRASTRUCTURE_AFTER_MS: u64 = 10 * 60_000;
/// Names the owners table holds at most.
pub const OWNERS: usize = 65_536;
/// Infrastructure addresses named by DHCP the infra table holds at most.
pub const INFRA: usize = 1024;
/// Canary names the table holds at most, and how long an answer to one is recognised.
pub const CANARIES: usize = 4096;
pub const CANARY_TTL_MS: u64 = 10 * 60_000;
/// Probe names the table holds at most, and how long an answer to one is recognised (a probe is
/// answered within milliseconds; a flood of held answers fills the table with short-lived ones,
/// apart from the canaries').
pub const PROBES: usize = 16_384;
pub const PROBE_TTL_MS: u64 = 60_000;
/// Addresses the traffic table holds at most (what ordinary traffic shows; least recently seen
/// evicted beyond), and how long such a binding must be seen, with no other MAC showing its
/// address, before it counts.
pub const TRAFFIC: usize = 16_384;
pub const TRAFFIC_CONFIRM_MS: u64 = 10_000;
/// How long a host must have owned a name by its own claims (registration, announcement, probe,
/// DHCP) before it counts as infrastructure: a long-standing name owner (a file server, a
/// domain controller) is alerted on, never blocked by what a policy learns.
pub const LONG_STANDING_MS: u64 = 60 * 60_000;
/// The tag of a MAC's key in [`Network::infra`] (a reserved IPv6 prefix no address has).
const INFRA_MAC_TAG: u128 = 0xfffe_494e;
/// Canary identities the network knows at most.
pub const MAX_IDENTITIES: usize = 16;
/// Marks a responder's key in [`Network::probes`] (for a SQL-browser probe: Responder's answer
/// names the instance asked for as `b'NAME'`, so its answer is known by where it is sent, not by
/// its name).
const RESPONDER_PROBE: u128 = 0x5353_5250 << 96;
/// Responders the table of verified ones holds at most, and how long one stays verified.
pub const VERIFIED: usize = 16_384;
pub const VERIFIED_TTL_MS: u64 = 3_600_000;
/// Stations (MACs that ARP, NDP or DHCP bound an address to) the stations table holds at most: a
/// host has an address or three.
pub const STATIONS: usize = 32_768;

/// The learned network. See the module.
pub struct Network {
    /// Address (as a table key, `crate::keys::ip_key`) → MAC, per segment.
    pub hosts: BindTable,
    /// Name (as a table key, `crate::keys::name_key`: one for NBT-NS, LLMNR and mDNS) → the MAC
    /// that registered, announced or probed it for its own address, per segment.
    pub owners: BindTable,
    /// Addresses an infrastructure DHCP server hands out as routers, DNS servers and NetBIOS
    /// name servers (options 3, 6, 44) → the MAC of the server that named them, per segment:
    /// infrastructure, never learned as poisoners.
    pub infra: BindTable,
    /// Address → the MAC that ordinary IP traffic shows it from, per segment: weak evidence
    /// ([`BindTable::new_weak`]: any frame can carry any source), learned from a sample of the
    /// traffic (a frame a burst, [`RecentTraffic`]) for private, shared, benchmark and
    /// link-local addresses, and used only to protect: a policy does not learn an address
    /// ordinary traffic confirms to be another MAC's ([`Network::traffic_mac`]).
    pub traffic: BindTable,
    /// Names of the appliance's own canary queries (`crate::keys::name_key`) → the canary
    /// identity's MAC, per segment, for ten minutes: an answer for one is a poisoner's.
    pub canaries: BindTable,
    /// Names of the probes the workers send to a responder whose answer they hold → the canary
    /// identity's MAC, per segment ([`evidence::PROBE`]; [`evidence::ANSWERED`] once answered).
    pub probes: BindTable,
    /// MACs (`crate::keys::mac_key`) that ARP, NDP or DHCP bound an address to → themselves, per
    /// segment: the stations of the segment, what a flood from made-up sources is not
    /// ([`Network::speaks_as`]). Bound with the hosts table (not where the address was already
    /// another MAC's).
    pub stations: BindTable,
    /// Responders (by address, `crate::keys::ip_key`) → their MAC, per segment, for an hour:
    /// held answers of theirs were released because they left the appliance's probe unanswered
    /// (`learned.src_verified`).
    pub verified: BindTable,
    /// The MACs of the appliance's canary identities (0: a free place): what is sent to one is an
    /// answer to the appliance itself.
    identities: [AtomicU64; MAX_IDENTITIES],
    /// ARP frames whose Ethernet source is not their sender's MAC: not learned from.
    pub arp_mismatched: AtomicU64,
    /// Neighbour-discovery messages whose link-layer address is not their Ethernet source, or
    /// that came from off the link (hop limit below 255): not learned from.
    pub ndp_mismatched: AtomicU64,
    /// Addresses a policy's `learn` did not learn because the network binds them to another
    /// MAC than the frame showed (a forged IP source, or a host that moved).
    pub learn_refused: AtomicU64,
}

impl Default for Network {
    fn default() -> Self {
        Network::new(HOSTS, HOST_TTL_MS)
    }
}

/// The segment a frame belongs to: its port pair and its (outer) VLAN — what is learned is
/// kept per segment.
#[inline]
pub fn segment(pair: u16, vlan: u16) -> u64 {
    pair as u64 | ((vlan & 0x0fff) as u64) << 16
}

/// What a frame taught.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Learned {
    Nothing,
    Host(Bound),
    Owner(Bound),
    /// The frame's Ethernet source is not the MAC it claims an address for.
    Mismatched,
    /// Not looked at: the worker's learning budget was spent.
    Deferred,
}

/// Whether `ip` is a private (RFC 1918, IPv6 unique-local), shared (100.64/10), benchmark
/// (198.18/15) or link-local address: what the traffic table learns.
fn local_scope(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            a.is_private() || a.is_link_local() || (o[0] == 100 && o[1] & 0xc0 == 64) || (o[0] == 198 && o[1] & 0xfe == 18)
        }
        IpAddr::V6(a) => {
            let s = a.segments()[0];
            s & 0xfe00 == 0xfc00 || s & 0xffc0 == 0xfe80
        }
    }
}

impl Network {
    pub fn new(hosts: usize, host_ttl_ms: u64) -> Network {
        Network {
            hosts: BindTable::new(hosts, host_ttl_ms),
            owners: BindTable::new(OWNERS, host_ttl_ms),
            infra: BindTable::new(INFRA, host_ttl_ms),
            traffic: BindTable::new_weak(TRAFFIC, host_ttl_ms, TRAFFIC_CONFIRM_MS),
            canaries: BindTable::new(CANARIES, CANARY_TTL_MS),
            verified: BindTable::new(VERIFIED, VERIFIED_TTL_MS),
            stations: BindTable::new(STATIONS, host_ttl_ms),
            probes: BindTable::new(PROBES, PROBE_TTL_MS),
            identities: Default::default(),
            arp_mismatched: AtomicU64::new(0),
            ndp_mismatched: AtomicU64::new(0),
            learn_refused: AtomicU64::new(0),
        }
    }

    /// Binds address `key` to `mac` on `segment` with `evidence` in the hosts table, and the MAC
    /// as a station of the segment — unless the address is another MAC's (a conflict).
    fn bind_host(&self, key: u128, segment: u64, mac: [u8; 6], evidence: u16, now: u64) -> Bound {
        let bound = self.hosts.bind(key, segment, mac, evidence, now);
        if !matches!(bound, Bound::Conflict(_)) {
            self.stations.bind(crate::keys::mac_key(&mac), segment, mac, evidence, now);
        }
        bound
    }

    /// Learns from an ARP request or reply seen on `segment` from Ethernet source `eth_src`:
    /// its sender's address bound to its sender's MAC. An ARP probe (sender 0.0.0.0) and a
    /// sender address no host can have teach nothing.
    pub fn learn_arp(&self, eth_src: [u8; 6], arp: &ArpRepr, segment: u64, now: u64) -> Learned {
        let ip = arp.sender_ip;
        if ip.is_unspecified() || ip.is_broadcast() || ip.is_multicast() || ip.is_loopback() {
            return Learned::Nothing;
        }
        if arp.sender_mac.0 != eth_src {
            self.arp_mismatched.fetch_add(1, Relaxed);
            return Learned::Mismatched;
        }
        Learned::Host(self.bind_host(crate::keys::ip_key(ip.into()), segment, eth_src, evidence::ARP, now))
    }

    /// Learns from an IPv6 neighbour-discovery message seen on `segment` from Ethernet source
    /// `eth_src` and IPv6 source `src` with hop limit `hop_limit`: a neighbour advertisement binds
    /// its target, a solicitation (not duplicate-address detection) and a router advertisement
    /// their source, to `eth_src` — only when the link-layer address the message carries, if
    /// any, is `eth_src`, and the hop limit is 255 (RFC 4861: from the link itself). A router's
    /// binding carries the router evidence.
    pub fn learn_ndp(&self, eth_src: [u8; 6], src: Ipv6Addr, hop_limit: u8, ndp: &NdpRepr, segment: u64, now: u64) -> Learned {
        if hop_limit != 255 || ndp.lladdr.is_some_and(|m| m.0 != eth_src) {
            self.ndp_mismatched.fetch_add(1, Relaxed);
            return Learned::Mismatched;
        }
        let (addr, ev) = match ndp.kind {
            NEIGHBOR_ADVERT => match ndp.target {
                Some(t) => (t, evidence::NDP),
                None => return Learned::Nothing,
            },
            NEIGHBOR_SOLICIT => (src, evidence::NDP),
            ROUTER_ADVERT => (src, evidence::NDP | evidence::ROUTER),
            _ => return Learned::Nothing,
        };
        if addr.is_unspecified() || addr.is_multicast() || addr.is_loopback() {
            return Learned::Nothing;
        }
        let key = crate::keys::ip_key(addr.into());
        let bound = self.bind_host(key, segment, eth_src, ev, now);
        if ev & evidence::ROUTER != 0 && bound == Bound::Same {
            self.note_infrastructure(key, segment, now);
        }
        Learned::Host(bound)
    }

    /// Learns name owners from a dissected name-service frame seen on `segment`: an NBT-NS
    /// registration or refresh of a name for the sender's own address, an mDNS announcement
    /// (an answer with an address record) or probe (an authority record) of a name for the
    /// sender's own address, sent to the mDNS group — each makes the frame's Ethernet source the
    /// name's owner, unless another MAC owns it already (a conflict, counted). An answer to a
    /// query teaches nothing here: a poisoner answers with its own address too.
    pub fn learn_names(&self, f: &Frame<'_>, segment: u64, now: u64) -> Learned {
        let (Some(eth), Some(net)) = (f.eth, f.net) else { return Learned::Nothing };
        let own = |a: IpAddr| a == net.src.ip();
        // mDNS announcements and probes go to the group with TTL 255 (RFC 6762 §11); a reply sent
        // to one querier has the same shape as an announcement (Responder sends exactly that:
        // no question, one A record of its own address) and teaches nothing.
        let to_group = net.ttl == 255
            && match net.dst.ip() {
                IpAddr::V4(a) => a == std::net::Ipv4Addr::new(224, 0, 0, 251),
                IpAddr::V6(a) => a == std::net::Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0xfb),
            };
        let claim = |name: Value<'_>, ev: u16| match crate::keys::name_key(&name) {
            Some(k) => {
                let bound = self.owners.bind(k, segment, eth.src.0, ev, now);
                if bound == Bound::Same {
                    self.note_standing(k, segment, eth.src.0, net.src.ip(), now);
                }
                Learned::Owner(bound)
            }
            None => Learned::Nothing,
        };
        match &f.app {
            // Registration (5) and refresh (8, 9) requests carry the name and the address; a
            // group name (the G bit: a workgroup, a domain) belongs to many hosts, not one.
            App::Nbns(m) if !m.is_response() && matches!(m.opcode(), 5 | 8 | 9) => match m.record() {
                Some(r) if r.first_entry().is_some_and(|(flags, a)| flags & 0x8000 == 0 && own(IpAddr::V4(a))) => claim(Value::NbName(r.name), evidence::NBNS),
                _ => Learned::Nothing,
            },
            // A release (6) from the name's owner: the name is free.
            App::Nbns(m) if !m.is_response() && m.opcode() == 6 => {
                if let Some(k) = m.record().and_then(|r| crate::keys::name_key(&Value::NbName(r.name))) {
                    if self.owners.get(k, segment, now).is_some_and(|b| b.mac == eth.src.0) {
                        self.owners.remove(k, segment, now);
                    }
                }
                Learned::Nothing
            }
            // A node status answer lists the responder's own names: its unique, active ones are
            // its own — when the unit ID it reports is the frame's Ethernet source.
            App::Nbns(m) if m.is_response() && m.record().is_some_and(|r| r.rtype == antidote_wire::nbns::TYPE_NBSTAT) => {
                let Some((names, unit)) = m.record().and_then(|r| r.node_status()) else { return Learned::Nothing };
                if unit != eth.src.0 {
                    return Learned::Mismatched;
                }
                let mut learned = Learned::Nothing;
                for (name, _suffix, flags) in names {
                    // Unique (G clear), active (ACT), not in conflict (CNF clear).
                    if flags & 0x8000 == 0 && flags & 0x0400 != 0 && flags & 0x0800 == 0 && !name.is_empty() && name != b"*" {
                        learned = claim(Value::Str(name), evidence::NBNS);
                    }
                }
                learned
            }
            App::Mdns(m) if to_group && m.is_response() && m.question().is_none() => match m.first_address() {
                Some((name, a)) if own(a) => claim(Value::DnsName(name), evidence::MDNS),
                _ => Learned::Nothing,
            },
            App::Mdns(m) if to_group && m.is_probe() => match m.authorities().find_map(|r| r.addr().map(|a| (r.name, a))) {
                Some((name, a)) if own(a) => claim(Value::DnsName(name), evidence::MDNS),
                _ => Learned::Nothing,
            },
            _ => Learned::Nothing,
        }
    }

    /// Learns from a DHCPv4 message seen on `segment` from Ethernet source `eth_src` and IP
    /// source `src`: a server's acknowledgement binds the address it gives to the client's MAC,
    /// and the server's own address (its source, when that is not 0.0.0.0) to its MAC as a DHCP
    /// server; a client's request or inform, sent from its own MAC, makes it the owner of the
    /// host name it gives (option 12 or 81). (What a DHCP server says is taken as a binding, as
    /// ARP is: first come, never moved, conflicts counted; a DHCP server counts as infrastructure
    /// only once it has served for a while, so a rogue one's first offer does not make it one.)
    pub fn learn_dhcp(&self, eth_src: [u8; 6], src: IpAddr, m: &DhcpRepr<'_>, segment: u64, now: u64) -> Learned {
        match (m.op, m.msg_type) {
            (2, Some(ACK)) if !m.yiaddr.is_unspecified() && !m.yiaddr.is_broadcast() => {
                if !src.is_unspecified() && IpAddr::V4(m.yiaddr) != src {
                    let server = crate::keys::ip_key(src);
                    if self.bind_host(server, segment, eth_src, evidence::DHCP_SERVER, now) == Bound::Same {
                        self.note_infrastructure(server, segment, now);
                    }
                    // A server that has served a while names the network's routers, DNS and
                    // NetBIOS name servers (a rogue server's first offers name nothing).
                    if self.hosts.get(server, segment, now).is_some_and(|b| b.mac == eth_src && b.is_infrastructure(now, INFRASTRUCTURE_AFTER_MS)) {
                        for (list, ev) in [(m.routers, evidence::ROUTER), (m.dns_servers, evidence::DNS_SERVER), (m.wins_servers, evidence::WINS_SERVER)] {
                            for a in DhcpRepr::addresses(list).filter(|a| !a.is_unspecified() && !a.is_broadcast()) {
                                self.infra.bind(crate::keys::ip_key(a.into()), segment, eth_src, ev, now);
                            }
                        }
                    }
                }
                Learned::Host(self.bind_host(crate::keys::ip_key(m.yiaddr.into()), segment, m.chaddr.0, evidence::DHCP, now))
            }
            (1, Some(REQUEST | INFORM)) if m.chaddr.0 == eth_src => match m.client_name().and_then(|n| crate::keys::name_key(&Value::Str(n))) {
                Some(k) => Learned::Owner(self.owners.bind(k, segment, eth_src, evidence::DHCP, now)),
                None => Learned::Nothing,
            },
            (1, Some(REQUEST | INFORM)) => Learned::Mismatched,
            _ => Learned::Nothing,
        }
    }

    /// Whether the address `key` is infrastructure on `segment` at `now`: a router or DHCP
    /// server that has shown itself for [`INFRASTRUCTURE_AFTER_MS`], or a router, DNS or
    /// NetBIOS name server that such a DHCP server hands out.
    #[inline]
    pub fn is_infrastructure(&self, key: u128, segment: u64, now: u64) -> bool {
        self.hosts.get(key, segment, now).is_some_and(|b| b.is_infrastructure(now, INFRASTRUCTURE_AFTER_MS))
            || self.infra.get(key, segment, now).is_some_and(|b| b.is_seen())
    }

    /// Whether the MAC `mac` is infrastructure's on `segment` at `now`: a router or DHCP server of
    /// ten minutes' standing, or a long-standing name owner ([`LONG_STANDING_MS`]) — learning its
    /// MAC would block every address it has.
    #[inline]
    pub fn is_infrastructure_mac(&self, mac: &[u8; 6], segment: u64, now: u64) -> bool {
        self.infra.get(Self::infra_mac_key(mac), segment, now).is_some_and(|b| b.is_seen() && b.mac == *mac)
    }

    /// The key in [`Network::infra`] of an infrastructure MAC (beside the addresses' keys; the
    /// tag is a reserved IPv6 prefix no address has).
    fn infra_mac_key(mac: &[u8; 6]) -> u128 {
        crate::keys::mac_key(mac) | INFRA_MAC_TAG << 96
    }

    /// The MAC an [`Network::infra`] key stands for, if it is a MAC's key (not an address's).
    pub fn infra_mac_of_key(key: u128) -> Option<[u8; 6]> {
        (key >> 96 == INFRA_MAC_TAG && key >> 48 & 0xffff_ffff_ffff == 0).then(|| {
            let b = (key as u64).to_be_bytes();
            [b[2], b[3], b[4], b[5], b[6], b[7]]
        })
    }

    /// Notes a host binding that may have made its MAC infrastructure (a router's or DHCP
    /// server's, seen long enough): its MAC enters [`Network::infra`].
    fn note_infrastructure(&self, key: u128, segment: u64, now: u64) {
        if let Some(b) = self.hosts.get(key, segment, now) {
            if b.is_infrastructure(now, INFRASTRUCTURE_AFTER_MS) {
                self.infra.bind(Self::infra_mac_key(&b.mac), segment, b.mac, b.evidence & evidence::INFRASTRUCTURE, now);
            }
        }
    }

    /// After a claim or an answer from `mac` (IP source `addr`) about name `k` refreshed its
    /// owner binding: a MAC that has owned the name by its own claims for [`LONG_STANDING_MS`]
    /// is a long-standing name owner — infrastructure: its address (bound to it by ARP, NDP or
    /// DHCP) and its MAC enter [`Network::infra`], and no policy learns either. Answers alone
    /// make no long-standing owner (a poisoner answers with its own address too).
    fn note_standing(&self, k: u128, segment: u64, mac: [u8; 6], addr: IpAddr, now: u64) {
        let Some(b) = self.owners.get(k, segment, now) else { return };
        if b.mac != mac || !b.is_seen() || b.evidence & evidence::CLAIM == 0 || now.saturating_sub(b.first_seen_ms) < LONG_STANDING_MS {
            return;
        }
        let a = crate::keys::ip_key(addr);
        if self.hosts.get(a, segment, now).is_some_and(|h| h.is_seen() && h.mac == mac) {
            let ev = b.evidence & evidence::CLAIM;
            self.infra.bind(a, segment, mac, ev, now);
            self.infra.bind(Self::infra_mac_key(&mac), segment, mac, ev, now);
        }
    }

    /// Learns from an ordinary IP frame (one a burst is sampled, [`RecentTraffic`]): its IP
    /// source `ip` seen from Ethernet source `eth_src` on `segment`, in [`Network::traffic`] —
    /// only for private (RFC 1918, ULA), shared (100.64/10), benchmark (198.18/15) and link-local
    /// addresses: the internet behind a router would fill the table with addresses that all show
    /// the router's MAC.
    pub fn learn_traffic(&self, eth_src: [u8; 6], ip: IpAddr, segment: u64, now: u64) -> Learned {
        if eth_src[0] & 1 != 0 || !local_scope(ip) || self.is_identity(&eth_src) {
            return Learned::Nothing;
        }
        Learned::Host(self.traffic.bind(crate::keys::ip_key(ip), segment, eth_src, 0, now))
    }

    /// The MAC ordinary traffic shows address `key` from on `segment`, once confirmed: seen for
    /// [`TRAFFIC_CONFIRM_MS`] with no other MAC showing it meanwhile.
    #[inline]
    pub fn traffic_mac(&self, key: u128, segment: u64, now: u64) -> Option<[u8; 6]> {
        self.traffic.get(key, segment, now).filter(|b| b.confirmed_weak(TRAFFIC_CONFIRM_MS)).map(|b| b.mac)
    }

    /// Whether the frame `d` (an answer) comes from a sender the network knows as itself: a
    /// station of its segment (its Ethernet source bound to an address by ARP, NDP or DHCP in
    /// this run), or a responder verified by a probe at its IP source — what a flood from made-up
    /// sources does not have. Read at fixed offsets (one tag at most;
    /// [`antidote_wire::triage::ip_source`]).
    #[inline]
    pub fn sender_known(&self, d: &[u8], pair: u16, now: u64) -> bool {
        let Some((ip, vlan)) = antidote_wire::triage::ip_source(d) else { return false };
        let Some(src) = d.get(6..12).and_then(|s| <[u8; 6]>::try_from(s).ok()) else { return false };
        self.speaks_as(src, ip, segment(pair, vlan), now)
    }

    /// Whether `mac` is a station of `segment` (ARP, NDP or DHCP bound an address to it in this
    /// run: a host answering from an address nobody asked it for — its global IPv6 one, say —
    /// is still itself), or `ip` a responder verified by a probe as `mac`
    /// ([`Network::sender_known`]).
    #[inline]
    pub fn speaks_as(&self, mac: [u8; 6], ip: IpAddr, segment: u64, now: u64) -> bool {
        self.stations.get(crate::keys::mac_key(&mac), segment, now).is_some_and(|b| b.is_seen() && b.mac == mac)
            || self.verified.get(crate::keys::ip_key(ip), segment, now).is_some_and(|b| b.is_seen() && b.mac == mac)
    }

    /// Whether the address `key` is a NetBIOS name server (WINS) that an infrastructure DHCP
    /// server hands out on `segment`: it answers for names other hosts own.
    #[inline]
    pub fn is_name_server(&self, key: u128, segment: u64, now: u64) -> bool {
        self.infra.get(key, segment, now).is_some_and(|b| b.is_seen() && b.evidence & evidence::WINS_SERVER != 0)
    }

    /// Learns from an answer the policy let through, seen on `segment`: an LLMNR answer, a
    /// positive NBT-NS answer or an mDNS answer giving an address for a name nobody claims,
    /// when that address and the answer's IP source are both bound to the frame's Ethernet
    /// source (the responder answers with its own address) — the responder becomes the name's
    /// owner by answer ([`evidence::ANSWER`]): an owner only once it answers again a second or
    /// more later with no other MAC answering meanwhile, and it yields to any claim
    /// (registration, announcement, probe, DHCP). A host that answers only its own name (a
    /// Windows host's LLMNR, which registers nothing) is so learned; a poisoner's first answer
    /// owns nothing.
    pub fn learn_answer(&self, f: &Frame<'_>, segment: u64, now: u64) -> Learned {
        let (Some(eth), Some(net)) = (f.eth, f.net) else { return Learned::Nothing };
        let (name, addr) = match &f.app {
            App::Llmnr(m) if m.is_response() && m.rcode() == 0 => match (m.question(), m.answers().find_map(|r| r.addr())) {
                (Some(q), Some(a)) => (Value::DnsName(q.name), a),
                _ => return Learned::Nothing,
            },
            App::Nbns(m) if m.is_positive_response() => match m.record().and_then(|r| r.first_entry().map(|(_, a)| (r.name, a))) {
                Some((name, a)) => (Value::NbName(name), IpAddr::V4(a)),
                None => return Learned::Nothing,
            },
            App::Mdns(m) if m.is_response() => match m.first_address() {
                Some((name, a)) => (Value::DnsName(name), a),
                None => return Learned::Nothing,
            },
            _ => return Learned::Nothing,
        };
        let own = |a: IpAddr| self.hosts.get(crate::keys::ip_key(a), segment, now).is_some_and(|b| b.is_seen() && b.mac == eth.src.0);
        if !own(addr) || (net.src.ip() != addr && !own(net.src.ip())) {
            return Learned::Nothing;
        }
        match crate::keys::name_key(&name) {
            Some(k) => {
                let bound = self.owners.bind(k, segment, eth.src.0, evidence::ANSWER, now);
                if bound == Bound::Same {
                    self.note_standing(k, segment, eth.src.0, addr, now);
                }
                Learned::Owner(bound)
            }
            None => Learned::Nothing,
        }
    }

    /// Adds a canary identity's MAC (at start).
    pub fn add_identity(&self, mac: [u8; 6]) {
        let w = crate::keys::mac_key(&mac) as u64 | 1 << 63;
        for s in &self.identities {
            if s.load(Relaxed) == w || s.compare_exchange(0, w, Relaxed, Relaxed).is_ok() {
                return;
            }
        }
    }

    /// Whether `mac` is one of the appliance's canary identities.
    #[inline]
    pub fn is_identity(&self, mac: &[u8; 6]) -> bool {
        let w = crate::keys::mac_key(mac) as u64 | 1 << 63;
        for s in &self.identities {
            match s.load(Relaxed) {
                0 => return false,
                x if x == w => return true,
                _ => {}
            }
        }
        false
    }

    /// Whether the frame is a SQL-browser answer sent to a canary identity: nobody but a poisoner
    /// answers the instance requests the appliance sends (for instances nobody has).
    #[inline]
    pub fn is_ssrp_answer_to_identity(&self, f: &Frame<'_>) -> bool {
        matches!(&f.app, App::Ssrp(m) if m.is_response()) && f.eth.is_some_and(|e| self.is_identity(&e.dst.0))
    }

    /// A query one of the appliance's identities sent, read back from a capture (`antidote
    /// replay`; never on the live wire, where a frame from an identity's MAC is a forgery): its
    /// name registered as when it was sent — a probe's (to one responder's MAC) in
    /// [`Network::probes`], with its responder's key; a canary's (to a group or broadcast) in
    /// [`Network::canaries`]. Returns whether it was one.
    pub fn note_own_query(&self, f: &Frame<'_>, segment: u64, now: u64) -> bool {
        let Some(eth) = f.eth else { return false };
        let query = match &f.app {
            App::Llmnr(_) => f.llmnr().is_some_and(|m| !m.is_response()),
            App::Mdns(_) => f.mdns().is_some_and(|m| !m.is_response()),
            App::Nbns(m) => m.is_name_query(),
            App::Ssrp(m) => !m.is_response(),
            _ => false,
        };
        if !query || !self.is_identity(&eth.src.0) {
            return false;
        }
        let key = antidote_wire::fields::question_name(f).and_then(|n| crate::keys::name_key(&n));
        if eth.dst.is_multicast() {
            if let Some(k) = key {
                self.canaries.bind(k, segment, eth.src.0, evidence::OPERATOR, now);
            }
        } else {
            if let Some(k) = key {
                self.probes.bind(k, segment, eth.src.0, evidence::PROBE, now);
            }
            self.probes.bind(Self::responder_probe_key(&eth.dst.0), segment, eth.src.0, evidence::PROBE, now);
        }
        true
    }

    /// The key in [`Network::probes`] of the probes of the responder with MAC `mac`: bound while
    /// one of its answers is held, marked [`evidence::ANSWERED`] when it answers any of the
    /// appliance's canaries or probes (a SQL-browser probe is known by it alone: its answer may
    /// not name the instance).
    pub fn responder_probe_key(mac: &[u8; 6]) -> u128 {
        crate::keys::mac_key(mac) | RESPONDER_PROBE
    }

    /// The key in [`Network::verified`] of a verified MAC (beside its addresses' keys; the tag
    /// is a reserved IPv6 prefix no source address has).
    fn verified_mac_key(mac: &[u8; 6]) -> u128 {
        crate::keys::mac_key(mac) | 0xfffe_5645u128 << 96
    }

    /// The owner binding of name `key` on `segment`, if live: one owning only by a released held
    /// answer ([`evidence::VERIFIED`], no claim) counts only while its MAC stays verified.
    #[inline]
    pub fn owner(&self, key: u128, segment: u64, now: u64) -> Option<super::bindings::Binding> {
        let b = self.owners.get(key, segment, now)?;
        if b.evidence & evidence::VERIFIED != 0
            && b.evidence & evidence::CLAIM == 0
            && self.verified.get(Self::verified_mac_key(&b.mac), segment, now).is_none_or(|v| v.mac != b.mac)
        {
            return Some(super::bindings::Binding { evidence: (b.evidence & !evidence::VERIFIED) | evidence::CONTESTED, ..b });
        }
        Some(b)
    }

    /// Whether name `key` on `segment` is one of the appliance's canaries or probes (no host owns
    /// it: an answer for it is a poisoner's).
    #[inline]
    pub fn is_canary(&self, key: u128, segment: u64, now: u64) -> bool {
        self.canaries.get(key, segment, now).is_some() || self.probes.get(key, segment, now).is_some()
    }

    /// Whether the frame's sender (its IP source with its Ethernet source) was verified on
    /// `segment`: it left a probe unanswered in the last hour ([`Network::verified`]).
    #[inline]
    pub fn is_verified(&self, f: &Frame<'_>, segment: u64, now: u64) -> bool {
        let (Some(eth), Some(net)) = (f.eth, f.net) else { return false };
        self.verified.get(net.src.0, segment, now).is_some_and(|b| b.mac == eth.src.0)
    }

    /// What a held answer teaches when it is released, its sender having left the probe
    /// unanswered: the sender is verified (by address and MAC), and the owner of the name it
    /// answered when nobody owned it ([`evidence::VERIFIED`]: at once, yielding to any claim).
    pub fn learn_verified(&self, f: &Frame<'_>, segment: u64, now: u64) {
        let (Some(eth), Some(net)) = (f.eth, f.net) else { return };
        self.verified.bind(net.src.0, segment, eth.src.0, evidence::VERIFIED, now);
        self.verified.bind(Self::verified_mac_key(&eth.src.0), segment, eth.src.0, evidence::VERIFIED, now);
        let Some(k) = antidote_wire::fields::question_name(f).and_then(|n| crate::keys::name_key(&n)) else { return };
        if self.owner(k, segment, now).is_none_or(|b| !b.owns()) {
            self.owners.bind(k, segment, eth.src.0, evidence::ANSWER | evidence::VERIFIED, now);
        }
    }

    /// Everything an IP frame teaches before it is judged: neighbour discovery, DHCP, and name
    /// claims (the frame's application message read for NBT-NS and mDNS). What a frame teaches
    /// after it is judged is [`Network::learn_answer`] (answers let through). ARP is learned
    /// apart, where the frames lie, within the worker's learning budget ([`RecentArp`];
    /// [`Network::learn_arp_frame`] for other readers).
    pub fn learn_frame(&self, f: &Frame<'_>, segment: u64, now: u64) {
        use antidote_wire::frame::Transport;
        use antidote_wire::proto;
        let (Some(eth), Some(net)) = (f.eth, f.net) else { return };
        if let Transport::Udp(u) = f.transport {
            let dhcp = |p: u16| p == proto::PORT_DHCP_SERVER || p == proto::PORT_DHCP_CLIENT;
            let dhcp6 = |p: u16| p == proto::PORT_DHCP6_SERVER || p == proto::PORT_DHCP6_CLIENT;
            if dhcp(u.src_port) && dhcp(u.dst_port) {
                if let Ok(d) = DhcpRepr::parse(f.payload) {
                    self.learn_dhcp(eth.src.0, net.src.ip(), &d, segment, now);
                }
            } else if dhcp6(u.src_port) && dhcp6(u.dst_port) {
                if let Ok(d) = antidote_wire::dhcp6::Dhcp6Repr::parse(f.payload) {
                    self.learn_dhcp6(eth.src.0, &d, segment, now);
                }
            }
        }
        if net.version == 6 && net.proto == 58 {
            if let (Ok(ndp), IpAddr::V6(src)) = (NdpRepr::parse(f.payload), net.src.ip()) {
                self.learn_ndp(eth.src.0, src, net.ttl, &ndp, segment, now);
            }
        }
        if matches!(f.app, App::Nbns(_) | App::Mdns(_)) {
            self.learn_names(f, segment, now);
        }
    }

    /// An answer the policy dropped, from the host that owns its name by answers alone: the
    /// ownership is withdrawn (marked contested: nobody owns the name by answers any more). A
    /// responder that answered a name nobody owns often enough to own it, then was caught (its
    /// answers dropped as a known poisoner's), owns nothing; a name's claim (registration,
    /// announcement, probe, DHCP) is never withdrawn this way.
    pub fn unlearn_answer(&self, f: &Frame<'_>, segment: u64, now: u64) {
        let Some(eth) = f.eth else { return };
        // A sender whose answer is dropped is no longer verified: the names its released answers
        // made it own are owned no more ([`Network::owner`]) — a poisoner that answered no probe
        // once does not keep a name it got that way once it is caught.
        if self.verified.remove(Self::verified_mac_key(&eth.src.0), segment, now) {
            if let Some(net) = f.net {
                if self.verified.get(net.src.0, segment, now).is_some_and(|b| b.mac == eth.src.0) {
                    self.verified.remove(net.src.0, segment, now);
                }
            }
        }
        let Some(k) = antidote_wire::fields::question_name(f).and_then(|n| crate::keys::name_key(&n)) else { return };
        if let Some(b) = self.owners.get(k, segment, now) {
            if b.mac == eth.src.0 && b.evidence & evidence::CLAIM == 0 && b.evidence & evidence::CONTESTED == 0 {
                self.owners.mark(k, segment, evidence::CONTESTED, now);
            }
        }
    }

    /// Learns from a DHCPv6 message seen on `segment` from Ethernet source `eth_src`: a server's
    /// Reply binds the addresses it leases to the client's MAC (when the client's DUID carries
    /// one); a client's Solicit, Request, Renew, Rebind or Information-request giving its host
    /// name (option 39, the first label) makes it the name's owner — when its DUID carries a
    /// link-layer address, only if that is `eth_src` (a relayed or forged message names nobody).
    pub fn learn_dhcp6(&self, eth_src: [u8; 6], m: &antidote_wire::dhcp6::Dhcp6Repr<'_>, segment: u64, now: u64) -> Learned {
        if m.msg_type == antidote_wire::dhcp6::REPLY {
            // A server's Reply: each leased address bound to the client's MAC, as its DUID gives it.
            let Some(client) = m.duid_mac else { return Learned::Nothing };
            let mut learned = Learned::Nothing;
            for a in m.leased().filter(|a| !a.is_unspecified() && !a.is_multicast()) {
                learned = Learned::Host(self.bind_host(crate::keys::ip_key(a.into()), segment, client, evidence::DHCP, now));
            }
            return learned;
        }
        if !m.from_client() {
            return Learned::Nothing;
        }
        if m.duid_mac.is_some_and(|d| d != eth_src) {
            return Learned::Mismatched;
        }
        match m.fqdn_host.and_then(|n| crate::keys::name_key(&Value::Str(n))) {
            Some(k) => Learned::Owner(self.owners.bind(k, segment, eth_src, evidence::DHCP, now)),
            None => Learned::Nothing,
        }
    }

    /// [`Network::learn_arp`] for an Ethernet frame carrying ARP at offset `at` (14, or 18
    /// past one tag: `antidote_wire::triage::arp_at`).
    #[inline]
    pub fn learn_arp_frame(&self, d: &[u8], at: usize, segment: u64, now: u64) -> Learned {
        let (Some(src), Some(arp)) = (d.get(6..12), d.get(at..).and_then(|a| ArpRepr::parse(a).ok())) else { return Learned::Nothing };
        let mut eth_src = [0u8; 6];
        eth_src.copy_from_slice(src);
        self.learn_arp(eth_src, &arp, segment, now)
    }
}

/// A worker's memory of the ARP senders it bound in the last second: a host that ARPs often
/// costs the shared table (megabytes, past the caches) one visit a second per worker, not one
/// per frame. 256 entries, direct-mapped by address and segment; only bindings that held
/// (new or the same MAC) are remembered, so conflicts and mismatches are counted every time.
#[derive(Default)]
pub struct RecentArp {
    slots: Recent,
}

/// A worker's memory of what it taught a shared table in the last second: (key, MAC, until)
/// per slot, 256 slots direct-mapped by key ([`RecentArp`], [`RecentTraffic`]).
struct Recent(Box<[(u64, u64, u64); 256]>);

impl Default for Recent {
    fn default() -> Self {
        Recent(Box::new([(u64::MAX, 0, 0); 256]))
    }
}

impl Recent {
    #[inline]
    fn slot(&mut self, key: u64) -> &mut (u64, u64, u64) {
        &mut self.0[(key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 56) as usize]
    }
}

impl RecentArp {
    /// [`Network::learn_arp_frame`], unless this worker bound the same sender to the same MAC on
    /// the same segment less than a second ago, or with `budget` (the worker's learning budget)
    /// spent: [`Learned::Deferred`]. `d` carries ARP at offset `at` (14, or 18 past
    /// one tag: `antidote_wire::triage::arp_at`); every frame of a mix pays for this check in
    /// proportion to its ARP, so it reads fixed offsets only.
    #[inline]
    pub fn learn_arp_frame(&mut self, net: &Network, d: &[u8], at: usize, segment: u64, now: u64, budget: &mut u32) -> Learned {
        let Some(h) = d.get(..at + 18) else { return Learned::Nothing };
        let word = |o: usize| u64::from_be_bytes([0, 0, h[o], h[o + 1], h[o + 2], h[o + 3], h[o + 4], h[o + 5]]);
        // The sender's MAC (8..14 into the ARP message) and address (14..18); the Ethernet
        // source (6..12).
        let sender = word(at + 8);
        let ip = at + 14;
        let key = u32::from_be_bytes([h[ip], h[ip + 1], h[ip + 2], h[ip + 3]]) as u64 | segment << 32;
        let slot = self.slots.slot(key);
        if slot.0 == key && slot.1 == sender && now < slot.2 && word(6) == sender {
            return Learned::Nothing;
        }
        // A visit to the shared table spends the worker's learning budget.
        if *budget == 0 {
            return Learned::Deferred;
        }
        *budget -= 1;
        let learned = learn_arp_cold(net, d, at, segment, now);
        if matches!(learned, Learned::Host(Bound::New | Bound::Same)) {
            *slot = (key, sender, now + 1000);
        }
        learned
    }
}

/// A worker's sample of ordinary traffic for [`Network::traffic`]: one IP frame of a burst (the
/// burst's frames taken in turn), a few bursts a millisecond, and of those only the sources this worker did not see from
/// the same MAC in the last second — so learning from traffic costs a burst a few loads, and
/// a chatty host the shared table one visit a second per worker. 256 entries, direct-mapped
/// by address and segment.
#[derive(Default)]
pub struct RecentTraffic {
    slots: Recent,
    turn: usize,
    /// Samples left for the millisecond `ms` ([`TRAFFIC_SAMPLES_PER_MS`]).
    left: u32,
    ms: u64,
}

/// Bursts a worker samples a frame of, a millisecond at most: 8,000 frames a second — a host
/// that talks is seen within moments, and a busy port pays for a few hundred samples a
/// second of every 10,000 bursts.
pub const TRAFFIC_SAMPLES_PER_MS: u32 = 8;

impl RecentTraffic {
    /// Which of a burst of `n` frames to sample at `now`, if any: frames in turn (every position
    /// gets its share), up to [`TRAFFIC_SAMPLES_PER_MS`] bursts a millisecond.
    #[inline]
    pub fn pick(&mut self, n: usize, now: u64) -> Option<usize> {
        if now != self.ms {
            (self.ms, self.left) = (now, TRAFFIC_SAMPLES_PER_MS);
        }
        if self.left == 0 || n == 0 {
            return None;
        }
        self.left -= 1;
        self.turn = self.turn.wrapping_add(1);
        Some(self.turn % n)
    }

    /// [`Network::learn_traffic`] for the frame `d` on port pair `pair`, unless this worker saw
    /// its source from the same MAC on the same segment less than a second ago, or `budget` (the
    /// worker's learning budget) is spent ([`Learned::Deferred`]).
    #[inline]
    pub fn learn_frame(&mut self, net: &Network, d: &[u8], pair: u16, now: u64, budget: &mut u32) -> Learned {
        let Some((ip, vlan)) = antidote_wire::triage::ip_source(d) else { return Learned::Nothing };
        let Some(src) = d.get(6..12) else { return Learned::Nothing };
        let mac = u64::from_be_bytes([0, 0, src[0], src[1], src[2], src[3], src[4], src[5]]);
        let seg = segment(pair, vlan);
        let key = crate::keys::ip_key(ip);
        let word = (key as u64 ^ (key >> 64) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ seg;
        let slot = self.slots.slot(word);
        if slot.0 == word && slot.1 == mac && now < slot.2 {
            return Learned::Nothing;
        }
        if *budget == 0 {
            return Learned::Deferred;
        }
        *budget -= 1;
        let eth_src = [src[0], src[1], src[2], src[3], src[4], src[5]];
        let learned = net.learn_traffic(eth_src, ip, seg, now);
        if matches!(learned, Learned::Host(Bound::New | Bound::Same) | Learned::Nothing) {
            *slot = (word, mac, now + 1000);
        }
        learned
    }
}

/// [`Network::learn_arp_frame`] out of line: the shared table is visited rarely.
#[inline(never)]
fn learn_arp_cold(net: &Network, d: &[u8], at: usize, segment: u64, now: u64) -> Learned {
    net.learn_arp_frame(d, at, segment, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arp(eth_src: [u8; 6], sender_mac: [u8; 6], sender_ip: [u8; 4]) -> Vec<u8> {
        let mut d = vec![0xff; 6];
        d.extend(eth_src);
        d.extend([0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 2]);
        d.extend(sender_mac);
        d.extend(sender_ip);
        d.extend([0; 6]);
        d.extend([198, 18, 0, 10]);
        d.resize(60, 0);
        d
    }

    const SERVER: [u8; 6] = [2, 0xad, 0, 0, 0, 0x20];
    const FORGER: [u8; 6] = [2, 0xad, 0, 0, 0, 0x66];

    #[test]
    fn a_worker_visits_the_table_once_a_second_per_host_and_still_counts_every_forgery() {
        let n = Network::default();
        let mut r = RecentArp::default();
        let good = arp(SERVER, SERVER, [198, 18, 0, 20]);
        assert_eq!(r.learn_arp_frame(&n, &good, 14, 0, 1, &mut 100), Learned::Host(Bound::New));
        assert_eq!(r.learn_arp_frame(&n, &good, 14, 0, 500, &mut 100), Learned::Nothing, "remembered");
        assert_eq!(r.learn_arp_frame(&n, &good, 14, 1, 500, &mut 100), Learned::Host(Bound::New), "another segment");
        assert_eq!(r.learn_arp_frame(&n, &good, 14, 0, 1001, &mut 100), Learned::Host(Bound::Same), "a second later: refreshed");
        // A forger's claims and mismatches reach the table every time.
        let forged = arp(FORGER, FORGER, [198, 18, 0, 20]);
        for now in 1002..1005 {
            assert_eq!(r.learn_arp_frame(&n, &forged, 14, 0, now, &mut 100), Learned::Host(Bound::Conflict(SERVER)));
        }
        assert_eq!(r.learn_arp_frame(&n, &arp(FORGER, SERVER, [198, 18, 0, 20]), 14, 0, 1006, &mut 100), Learned::Mismatched);
        let key = crate::keys::ip_key("198.18.0.20".parse().unwrap());
        assert_eq!(n.hosts.get(key, 0, 1007).unwrap().conflicts, 3);
        // With the budget spent, a new sender waits.
        let other = arp(SERVER, SERVER, [198, 18, 0, 21]);
        assert_eq!(r.learn_arp_frame(&n, &other, 14, 0, 1008, &mut 0), Learned::Deferred);
        assert!(n.hosts.get(crate::keys::ip_key("198.18.0.21".parse().unwrap()), 0, 1009).is_none());
    }

    #[test]
    fn a_forged_arp_cannot_move_a_server_address() {
        let n = Network::default();
        let ip = crate::keys::ip_key("198.18.0.20".parse().unwrap());
        assert_eq!(n.learn_arp_frame(&arp(SERVER, SERVER, [198, 18, 0, 20]), 14, 0, 1), Learned::Host(Bound::New));
        // The forger's ARP claims the server's address with the forger's MAC: a conflict, kept.
        assert_eq!(n.learn_arp_frame(&arp(FORGER, FORGER, [198, 18, 0, 20]), 14, 0, 2), Learned::Host(Bound::Conflict(SERVER)));
        // The forger puts the server's MAC in the ARP message, its own in the Ethernet header.
        assert_eq!(n.learn_arp_frame(&arp(FORGER, SERVER, [198, 18, 0, 99]), 14, 0, 3), Learned::Mismatched);
        let b = n.hosts.get(ip, 0, 4).unwrap();
        assert_eq!((b.mac, b.conflicts), (SERVER, 1));
        assert!(n.hosts.get(crate::keys::ip_key("198.18.0.99".parse().unwrap()), 0, 4).is_none());
        assert_eq!(n.arp_mismatched.load(Relaxed), 1);
        // A probe teaches nothing.
        assert_eq!(n.learn_arp_frame(&arp(SERVER, SERVER, [0, 0, 0, 0]), 14, 0, 5), Learned::Nothing);
        assert_eq!(n.learn_arp_frame(&arp(SERVER, SERVER, [198, 18, 0, 20])[..30], 14, 0, 5), Learned::Nothing);
    }

    #[test]
    fn a_station_speaks_as_itself_from_any_address_and_a_made_up_source_does_not() {
        let n = Network::default();
        let global: IpAddr = "fd00:198:18::20".parse().unwrap();
        assert!(!n.speaks_as(SERVER, global, 0, 1), "nothing learned yet");
        n.learn_arp_frame(&arp(SERVER, SERVER, [198, 18, 0, 20]), 14, 0, 1);
        // The server answers from an address no ARP or NDP bound (mDNS over IPv6 from its
        // global address): still a station of the segment.
        assert!(n.speaks_as(SERVER, global, 0, 2));
        assert!(!n.speaks_as(SERVER, global, 1, 2), "on its own segment only");
        assert!(!n.speaks_as([2, 0xf1, 0, 0, 0, 1], "198.18.0.101".parse().unwrap(), 0, 2), "a made-up source");
        // A forger claiming the server's address by ARP is not made a station by it.
        n.learn_arp_frame(&arp(FORGER, FORGER, [198, 18, 0, 20]), 14, 0, 3);
        assert!(!n.speaks_as(FORGER, "198.18.0.20".parse().unwrap(), 0, 4));
    }

    #[test]
    fn neighbour_discovery_binds_ipv6_addresses_from_the_link_only() {
        use antidote_wire::ethernet::Mac;
        let n = Network::default();
        let ll: Ipv6Addr = "fe80::ad:ff:fe00:20".parse().unwrap();
        let na = |lladdr: Option<[u8; 6]>| NdpRepr { kind: NEIGHBOR_ADVERT, target: Some(ll), lladdr: lladdr.map(Mac), flags: 0x60 };
        assert_eq!(n.learn_ndp(SERVER, ll, 255, &na(Some(SERVER)), 0, 1), Learned::Host(Bound::New));
        let b = n.hosts.get(crate::keys::ip_key(ll.into()), 0, 2).unwrap();
        assert_eq!((b.mac, b.evidence), (SERVER, evidence::NDP));
        // The forger advertises the server's address: a conflict; with the server's MAC in the
        // option but its own as the source, or from off the link: not learned from.
        assert_eq!(n.learn_ndp(FORGER, ll, 255, &na(None), 0, 3), Learned::Host(Bound::Conflict(SERVER)));
        assert_eq!(n.learn_ndp(FORGER, ll, 255, &na(Some(SERVER)), 0, 3), Learned::Mismatched);
        assert_eq!(n.learn_ndp(SERVER, ll, 64, &na(Some(SERVER)), 0, 3), Learned::Mismatched);
        assert_eq!(n.ndp_mismatched.load(Relaxed), 2);
        // Duplicate-address detection (from ::) teaches nothing; a router advertisement marks a router.
        let ns = NdpRepr { kind: NEIGHBOR_SOLICIT, target: Some(ll), lladdr: None, flags: 0 };
        assert_eq!(n.learn_ndp(SERVER, Ipv6Addr::UNSPECIFIED, 255, &ns, 0, 4), Learned::Nothing);
        let gw: Ipv6Addr = "fe80::1".parse().unwrap();
        let ra = NdpRepr { kind: ROUTER_ADVERT, target: None, lladdr: Some(Mac(FORGER)), flags: 0 };
        assert_eq!(n.learn_ndp(FORGER, gw, 255, &ra, 0, 5), Learned::Host(Bound::New));
        assert_eq!(n.hosts.get(crate::keys::ip_key(gw.into()), 0, 6).unwrap().evidence, evidence::NDP | evidence::ROUTER);
        // Ten minutes of advertisements on, the router's MAC is infrastructure's (not before).
        assert!(!n.is_infrastructure_mac(&FORGER, 0, 6));
        n.learn_ndp(FORGER, gw, 255, &ra, 0, 5 + INFRASTRUCTURE_AFTER_MS);
        assert!(n.is_infrastructure_mac(&FORGER, 0, 6 + INFRASTRUCTURE_AFTER_MS) && !n.is_infrastructure_mac(&SERVER, 0, 6 + INFRASTRUCTURE_AFTER_MS));
    }

    /// Ordinary traffic, sampled: a source a worker saw from the same MAC in the last second
    /// costs the shared table nothing; the budget bounds the visits; public addresses, multicast
    /// Ethernet sources and non-IP frames teach nothing.
    #[test]
    fn ordinary_traffic_is_sampled_and_remembered() {
        let n = Network::default();
        let mut r = RecentTraffic::default();
        let mut budget = 10;
        let frame = |mac: [u8; 6], src: &str| udp(mac, src, "198.18.0.10", 50000, b"data");
        let d = frame(SERVER, "198.18.0.20");
        assert_eq!(r.learn_frame(&n, &d, 0, 1, &mut budget), Learned::Host(Bound::New));
        assert_eq!(r.learn_frame(&n, &d, 0, 500, &mut budget), Learned::Nothing, "remembered for a second");
        assert_eq!(budget, 9);
        assert_eq!(r.learn_frame(&n, &d, 0, 1001, &mut budget), Learned::Host(Bound::Same));
        assert_eq!(r.learn_frame(&n, &frame(FORGER, "198.18.0.20"), 0, 1002, &mut budget), Learned::Host(Bound::Conflict(SERVER)));
        assert_eq!(r.learn_frame(&n, &frame(SERVER, "203.0.113.9"), 0, 1003, &mut budget), Learned::Nothing, "a public address");
        assert_eq!(r.learn_frame(&n, &frame([3, 0, 0, 0, 0, 1], "198.18.0.21"), 0, 1004, &mut budget), Learned::Nothing);
        let mut none = 0;
        assert_eq!(r.learn_frame(&n, &frame(SERVER, "198.18.0.22"), 0, 1005, &mut none), Learned::Deferred);
        // Contested: two MACs showed the address within the confirmation time.
        assert_eq!(n.traffic_mac(crate::keys::ip_key("198.18.0.20".parse().unwrap()), 0, 20_000), None);
        assert_eq!((0..6).filter_map(|_| r.pick(3, 7)).collect::<std::collections::BTreeSet<_>>().len(), 3, "every position in turn");
        assert_eq!((0..20).filter_map(|_| r.pick(3, 8)).count(), TRAFFIC_SAMPLES_PER_MS as usize, "a bounded number a millisecond");
    }

    /// A frame from `mac` / `src` to the mDNS group or NBT-NS broadcast carrying `payload`.
    fn udp(mac: [u8; 6], src: &str, dst: &str, port: u16, payload: &[u8]) -> Vec<u8> {
        use antidote_wire::ethernet::Mac;
        antidote_wire::emit::udp_datagram(Mac(mac), Mac([0xff; 6]), src.parse().unwrap(), dst.parse().unwrap(), port, port, 255, payload).unwrap()
    }

    /// An NBT-NS name registration request (opcode 5, broadcast) of `name` for `addr`.
    fn registration(name: &str, addr: [u8; 4]) -> Vec<u8> {
        let mut m = vec![0x12, 0x34, 0x29, 0x10, 0, 1, 0, 0, 0, 0, 0, 1, 0x20];
        let mut padded = name.as_bytes().to_vec();
        padded.resize(15, b' ');
        padded.push(0x20);
        for c in padded {
            m.extend([b'A' + (c >> 4), b'A' + (c & 0xf)]);
        }
        m.extend([0, 0, 0x20, 0, 1]);
        m.extend([0xc0, 0x0c, 0, 0x20, 0, 1, 0, 0, 0x0d, 0x2f, 0, 6, 0, 0]);
        m.extend(addr);
        m
    }

    /// What frame `d` (whole, well formed) teaches `n` of name owners.
    fn names_in(n: &Network, d: &[u8]) -> Learned {
        let mut s = antidote_wire::Scratch::default();
        let f = antidote_wire::Frame::parse(d, &mut s);
        assert!(f.error.is_none(), "{:?}", f.error);
        n.learn_names(&f, 0, 10)
    }

    /// A name's key.
    fn key(t: &'static str) -> u128 {
        crate::keys::name_key(&Value::StaticStr(t)).unwrap()
    }

    #[test]
    fn names_are_owned_by_who_registers_announces_or_probes_them_for_itself() {
        let n = Network::default();
        let learn = |d: &[u8]| names_in(&n, d);
        // NBT-NS: a registration of CORPFS01 for the sender's own address.
        let reg = udp(SERVER, "198.18.0.20", "198.18.0.255", 137, &registration("CORPFS01", [198, 18, 0, 20]));
        assert_eq!(learn(&reg), Learned::Owner(Bound::New));
        let o = n.owners.get(key("corpfs01"), 0, 11).unwrap();
        assert_eq!((o.mac, o.evidence), (SERVER, evidence::NBNS));
        // The same name in mDNS form is the same name; the forger claiming it is a conflict.
        assert!(n.owners.get(key("CORPFS01.local"), 0, 11).is_some());
        let forged = udp(FORGER, "198.18.0.66", "198.18.0.255", 137, &registration("CORPFS01", [198, 18, 0, 66]));
        assert_eq!(learn(&forged), Learned::Owner(Bound::Conflict(SERVER)));
        // A registration for another host's address teaches nothing.
        assert_eq!(learn(&udp(FORGER, "198.18.0.66", "198.18.0.255", 137, &registration("PRINTER", [198, 18, 0, 20]))), Learned::Nothing);
        // mDNS: avahi's announcement (a PTR record first, then the A record of its own address).
        let mut ann = vec![0, 0, 0x84, 0, 0, 0, 0, 2, 0, 0, 0, 0];
        ann.extend(b"\x0220\x010\x0218\x03198\x07in-addr\x04arpa\x00");
        ann.extend([0, 12, 0x80, 1, 0, 0, 0, 120, 0, 13]);
        ann.extend(b"\x05nas01\x05local\x00");
        let host = (ann.len() - 13) as u8;
        ann.extend([0xc0, host, 0, 1, 0x80, 1, 0, 0, 0, 120, 0, 4, 198, 18, 0, 20]);
        assert_eq!(learn(&udp(SERVER, "198.18.0.20", "224.0.0.251", 5353, &ann)), Learned::Owner(Bound::New));
        assert_eq!(n.owners.get(key("nas01"), 0, 11).unwrap().evidence, evidence::MDNS);
        // The same announcement from another address (an answer pointing elsewhere): nothing.
        assert_eq!(learn(&udp(FORGER, "198.18.0.66", "224.0.0.251", 5353, &ann)), Learned::Nothing);
        // Responder's mDNS reply: the same shape (no question, its own address), sent to the
        // querier alone: nothing.
        let mut reply = vec![0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0];
        reply.extend(b"\x05nas09\x05local\x00");
        reply.extend([0, 1, 0, 1, 0, 0, 0, 120, 0, 4, 198, 18, 0, 66]);
        assert_eq!(learn(&udp(FORGER, "198.18.0.66", "198.18.0.10", 5353, &reply)), Learned::Nothing);
        assert_eq!(learn(&udp(FORGER, "198.18.0.66", "224.0.0.251", 5353, &reply)), Learned::Owner(Bound::New), "(the same, to the group: an announcement)");
        // A probe: the name asked for, the A record proposed in the authority section.
        let mut probe = vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0];
        probe.extend(b"\x05nas02\x05local\x00");
        probe.extend([0, 255, 0x80, 1, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 120, 0, 4, 198, 18, 0, 20]);
        assert_eq!(learn(&udp(SERVER, "198.18.0.20", "224.0.0.251", 5353, &probe)), Learned::Owner(Bound::New));
        // An LLMNR or mDNS answer to a query teaches nothing: a poisoner answers from its own
        // address too.
        let mut answer = vec![0, 0, 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0];
        answer.extend(b"\x05nas03\x05local\x00");
        answer.extend([0, 1, 0, 1, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 120, 0, 4, 198, 18, 0, 66]);
        assert_eq!(learn(&udp(FORGER, "198.18.0.66", "198.18.0.10", 5353, &answer)), Learned::Nothing);
    }

    #[test]
    fn dhcp_binds_leases_and_names_the_clients_that_name_themselves() {
        let n = Network::default();
        let mut ack = vec![0u8; 240];
        ack[0..3].copy_from_slice(&[2, 1, 6]);
        ack[16..20].copy_from_slice(&[198, 18, 0, 20]);
        ack[28..34].copy_from_slice(&SERVER);
        ack[236..240].copy_from_slice(&[99, 130, 83, 99]);
        let mut req = ack.clone();
        ack.extend([53, 1, 5, 255]);
        let ack_bytes = ack.clone();
        req[0] = 1;
        req[16..20].copy_from_slice(&[0; 4]);
        req.extend([53, 1, 3, 12, 8]);
        req.extend(b"CORPFS01");
        req.push(255);
        let dhcp_server = [2, 0xad, 0, 0, 0, 1];
        let ack = DhcpRepr::parse(&ack).unwrap();
        assert_eq!(n.learn_dhcp(dhcp_server, "198.18.0.1".parse().unwrap(), &ack, 0, 1), Learned::Host(Bound::New));
        assert_eq!(n.hosts.get(crate::keys::ip_key("198.18.0.20".parse().unwrap()), 0, 2).unwrap().mac, SERVER);
        // The server itself: a DHCP server, infrastructure once it has served ten minutes.
        let srv = n.hosts.get(crate::keys::ip_key("198.18.0.1".parse().unwrap()), 0, 2).unwrap();
        assert_eq!((srv.mac, srv.evidence), (dhcp_server, evidence::DHCP_SERVER));
        assert!(!srv.is_infrastructure(2, INFRASTRUCTURE_AFTER_MS) && srv.is_infrastructure(1 + INFRASTRUCTURE_AFTER_MS, INFRASTRUCTURE_AFTER_MS));
        // Its acknowledgements name the network's DNS and WINS servers — once it has served ten
        // minutes (a rogue server's first offers name nothing).
        let mut named = ack_bytes.clone();
        named.truncate(named.len() - 1);
        named.extend([6, 4, 198, 18, 0, 53, 44, 4, 198, 18, 0, 44, 255]);
        let named = DhcpRepr::parse(&named).unwrap();
        let (dns, wins) = (crate::keys::ip_key("198.18.0.53".parse().unwrap()), crate::keys::ip_key("198.18.0.44".parse().unwrap()));
        n.learn_dhcp(dhcp_server, "198.18.0.1".parse().unwrap(), &named, 0, 3);
        assert!(!n.is_infrastructure(dns, 0, 4), "named by a server not yet infrastructure");
        let later = 2 + INFRASTRUCTURE_AFTER_MS;
        n.learn_dhcp(dhcp_server, "198.18.0.1".parse().unwrap(), &named, 0, later);
        assert!(n.is_infrastructure(dns, 0, later + 1) && n.is_infrastructure(wins, 0, later + 1));
        assert!(n.is_name_server(wins, 0, later + 1) && !n.is_name_server(dns, 0, later + 1));
        let req = DhcpRepr::parse(&req).unwrap();
        assert_eq!(n.learn_dhcp(SERVER, "0.0.0.0".parse().unwrap(), &req, 0, 3), Learned::Owner(Bound::New));
        let k = crate::keys::name_key(&Value::StaticStr("corpfs01.local")).unwrap();
        assert_eq!(n.owners.get(k, 0, 4).unwrap().evidence, evidence::DHCP);
        // A request relayed or forged from another MAC than its client's names nobody.
        assert_eq!(n.learn_dhcp(FORGER, "0.0.0.0".parse().unwrap(), &req, 0, 5), Learned::Mismatched);
    }

    #[test]
    fn a_host_answering_its_own_name_owns_it_once_confirmed_and_a_single_answer_owns_nothing() {
        let n = Network::default();
        let key = crate::keys::name_key(&Value::StaticStr("winhost")).unwrap();
        let ll = "fe80::ad:ff:fe00:30";
        let (host, other) = ([2, 0xad, 0, 0, 0, 0x30], [2, 0xad, 0, 0, 0, 0x31]);
        n.hosts.bind(crate::keys::ip_key(ll.parse().unwrap()), 0, host, evidence::NDP, 1);
        n.hosts.bind(crate::keys::ip_key("198.18.0.31".parse().unwrap()), 0, other, evidence::ARP, 1);
        // An LLMNR answer over IPv6 for `winhost`, giving the responder's own link-local address.
        let answer = |mac: [u8; 6], src: &str, addr: [u8; 16]| {
            let mut m = vec![0x12, 0x34, 0x80, 0, 0, 1, 0, 1, 0, 0, 0, 0];
            m.extend(b"\x07winhost\x00");
            m.extend([0, 28, 0, 1, 0xc0, 0x0c, 0, 28, 0, 1, 0, 0, 0, 30, 0, 16]);
            m.extend(addr);
            let dst = if src.contains(':') { "fe80::ad:ff:fe00:10" } else { "198.18.0.10" };
            udp(mac, src, dst, 5355, &m)
        };
        let learn = |d: &[u8], now| {
            let mut s = antidote_wire::Scratch::default();
            let f = antidote_wire::Frame::parse(d, &mut s);
            assert!(f.error.is_none(), "{:?}", f.error);
            n.learn_answer(&f, 0, now)
        };
        let own: Ipv6Addr = ll.parse().unwrap();
        assert_eq!(learn(&answer(host, ll, own.octets()), 10), Learned::Owner(Bound::New));
        assert!(!n.owners.get(key, 0, 11).unwrap().owns(), "one answer owns nothing");
        assert_eq!(learn(&answer(host, ll, own.octets()), 500), Learned::Owner(Bound::Same));
        assert!(!n.owners.get(key, 0, 501).unwrap().owns(), "nor its retransmission");
        learn(&answer(host, ll, own.octets()), 1200);
        assert!(n.owners.get(key, 0, 1201).unwrap().owns(), "answering again later: confirmed");
        // An answer with an address that is not the responder's own teaches nothing; a
        // responder the network knows nothing of neither.
        let other_addr: Ipv6Addr = "fd00:198:18::99".parse().unwrap();
        assert_eq!(learn(&answer(host, ll, other_addr.octets()), 1300), Learned::Nothing);
        assert_eq!(learn(&answer([2, 0, 0, 0, 0, 9], "fe80::9", "fe80::9".parse::<Ipv6Addr>().unwrap().octets()), 1300), Learned::Nothing);
        // A registration of the name by another host: answers alone always yield to a claim.
        assert_eq!(n.owners.bind(key, 0, other, evidence::NBNS, 1400), Bound::New);
        assert_eq!(n.owners.get(key, 0, 1401).unwrap().mac, other);

        // Two hosts answering for one name before either is confirmed: contested, nobody owns it.
        let key2 = crate::keys::name_key(&Value::StaticStr("printer")).unwrap();
        n.owners.bind(key2, 0, host, evidence::ANSWER, 2000);
        assert!(matches!(n.owners.bind(key2, 0, other, evidence::ANSWER, 2100), Bound::Conflict(_)));
        n.owners.bind(key2, 0, host, evidence::ANSWER, 3500);
        let b = n.owners.get(key2, 0, 3501).unwrap();
        assert!(b.evidence & evidence::CONTESTED != 0 && !b.owns(), "{b:?}");
        // Once confirmed, another MAC's answer is a conflict and changes nothing.
        let key3 = crate::keys::name_key(&Value::StaticStr("nas")).unwrap();
        n.owners.bind(key3, 0, host, evidence::ANSWER, 4000);
        n.owners.bind(key3, 0, host, evidence::ANSWER, 5000);
        assert!(matches!(n.owners.bind(key3, 0, other, evidence::ANSWER, 5100), Bound::Conflict(_)));
        assert!(n.owners.get(key3, 0, 5101).unwrap().owns());

        // A responder that came to own a name by its answers, then had an answer for it dropped
        // (caught as a poisoner): it owns it no more. A claimed name is never withdrawn so.
        let key4 = crate::keys::name_key(&Value::StaticStr("winhost")).unwrap();
        n.owners.remove(key4, 0, 6000);
        learn(&answer(host, ll, own.octets()), 6000);
        learn(&answer(host, ll, own.octets()), 7000);
        assert!(n.owners.get(key4, 0, 7001).unwrap().owns());
        let dropped = answer(host, ll, own.octets());
        let mut sc = antidote_wire::Scratch::default();
        n.unlearn_answer(&antidote_wire::Frame::parse(&dropped, &mut sc), 0, 7002);
        assert!(!n.owners.get(key4, 0, 7003).unwrap().owns(), "withdrawn");
        n.owners.bind(key4, 0, host, evidence::NBNS, 7004);
        n.unlearn_answer(&antidote_wire::Frame::parse(&dropped, &mut sc), 0, 7005);
        assert!(n.owners.get(key4, 0, 7006).unwrap().owns(), "a claim stays");

        // A responder whose held answer was released (it left the probe unanswered) owns the
        // name at once, while it stays verified; once one of its answers is dropped (caught), it
        // is verified no more and owns nothing, and the next verified responder takes the name.
        let key5 = crate::keys::name_key(&Value::StaticStr("winhost")).unwrap();
        n.owners.remove(key5, 0, 8000);
        let mut sc = antidote_wire::Scratch::default();
        let poisoner_answer = answer(other, "198.18.0.31", [0; 16]);
        n.learn_verified(&antidote_wire::Frame::parse(&poisoner_answer, &mut sc), 0, 8000);
        assert!(n.owner(key5, 0, 8001).is_some_and(|b| b.owns() && b.mac == other), "verified: owner at once");
        n.unlearn_answer(&antidote_wire::Frame::parse(&poisoner_answer, &mut sc), 0, 8002);
        assert!(n.owner(key5, 0, 8003).is_some_and(|b| !b.owns()), "caught: owns it no more");
        assert!(n.verified.get(crate::keys::ip_key("198.18.0.31".parse().unwrap()), 0, 8003).is_none(), "nor is it verified");
        n.learn_verified(&antidote_wire::Frame::parse(&answer(host, ll, own.octets()), &mut sc), 0, 8004);
        assert!(n.owner(key5, 0, 8005).is_some_and(|b| b.owns() && b.mac == host), "the next verified responder owns it");
    }

    #[test]
    fn a_dhcpv6_client_names_itself_from_its_own_mac() {
        let n = Network::default();
        let mut m = vec![1, 0x12, 0x34, 0x56];
        m.extend([0, 1, 0, 10, 0, 3, 0, 1]);
        m.extend(SERVER);
        let name = b"\x08corpfs02\x04corp\x00";
        m.extend([0, 39, 0, (1 + name.len()) as u8, 0x01]);
        m.extend(name);
        // (The helper sends from and to one port; DHCPv6 goes 546 -> 547.)
        let mut d = udp(SERVER, "fe80::ad:ff:fe00:20", "ff02::1:2", 546, &m);
        d[14 + 40 + 2..14 + 40 + 4].copy_from_slice(&547u16.to_be_bytes());
        let f = antidote_wire::Frame::parse_transport(&d);
        n.learn_frame(&f, 0, 1);
        let k = crate::keys::name_key(&Value::StaticStr("corpfs02")).unwrap();
        assert_eq!(n.owners.get(k, 0, 2).map(|b| (b.mac, b.evidence)), Some((SERVER, evidence::DHCP)));
        // From another MAC than its DUID's: names nobody.
        let m = antidote_wire::dhcp6::Dhcp6Repr::parse(f.payload).unwrap();
        assert_eq!(n.learn_dhcp6(FORGER, &m, 0, 3), Learned::Mismatched);
    }

    /// A node status answer from `mac` reporting unit ID `unit`: CORPFS01 (unique, active) and
    /// LAB (a group).
    fn node_status(mac: [u8; 6], unit: [u8; 6]) -> Vec<u8> {
        let mut m = vec![0x55, 0x55, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0x20, b'C', b'K'];
        m.extend([b'A'; 30]);
        m.extend([0, 0, 0x21, 0, 1, 0, 0, 0, 0]);
        let mut rdata = vec![2u8];
        for (name, flags) in [("CORPFS01", 0x0400u16), ("LAB", 0x8400)] {
            let mut n = name.as_bytes().to_vec();
            n.resize(15, b' ');
            rdata.extend(n);
            rdata.push(0);
            rdata.extend(flags.to_be_bytes());
        }
        rdata.extend(unit);
        rdata.extend([0; 40]);
        m.extend((rdata.len() as u16).to_be_bytes());
        m.extend(rdata);
        udp(mac, "198.18.0.20", "198.18.0.10", 137, &m)
    }

    #[test]
    fn node_status_answers_name_owners_and_releases_free_names() {
        let n = Network::default();
        let learn = |d: &[u8]| names_in(&n, d);
        // A unit ID that is not the sender: nothing; its own: its unique names, not the group.
        assert_eq!(learn(&node_status(SERVER, FORGER)), Learned::Mismatched);
        assert_eq!(learn(&node_status(SERVER, SERVER)), Learned::Owner(Bound::New));
        assert_eq!(n.owners.get(key("corpfs01"), 0, 11).map(|b| b.mac), Some(SERVER));
        assert!(n.owners.get(key("lab"), 0, 11).is_none());
        // A release from another host changes nothing; the owner's frees the name.
        let mut release = registration("CORPFS01", [198, 18, 0, 20]);
        release[2] = 0x30; // opcode 6
        assert_eq!(learn(&udp(FORGER, "198.18.0.66", "198.18.0.255", 137, &release)), Learned::Nothing);
        assert!(n.owners.get(key("corpfs01"), 0, 11).is_some());
        learn(&udp(SERVER, "198.18.0.20", "198.18.0.255", 137, &release));
        assert!(n.owners.get(key("corpfs01"), 0, 11).is_none(), "released");
    }

    #[test]
    fn a_group_name_registration_names_no_owner() {
        let n = Network::default();
        let mut reg = registration("LAB", [198, 18, 0, 20]);
        let at = reg.len() - 6;
        reg[at] = 0x80; // NB_FLAGS: the G bit
        let d = udp(SERVER, "198.18.0.20", "198.18.0.255", 137, &reg);
        let mut s = antidote_wire::Scratch::default();
        let f = antidote_wire::Frame::parse(&d, &mut s);
        assert_eq!(n.learn_names(&f, 0, 1), Learned::Nothing);
    }
}
