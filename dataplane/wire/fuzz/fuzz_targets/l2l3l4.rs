//! Ethernet/VLAN, ARP, IPv4, IPv6 extension headers, UDP, TCP, neighbour discovery, DHCP and
//! DHCPv6, each from the same bytes.
#![no_main]
use antidote_wire::{arp::ArpRepr, dhcp::DhcpRepr, dhcp6::Dhcp6Repr, ethernet::EthernetRepr, ipv4::Ipv4Packet, ipv6::Ipv6Repr, ndp::NdpRepr, tcp::TcpRepr, udp::UdpRepr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = EthernetRepr::parse(data);
    let _ = ArpRepr::parse(data);
    if let Ok(p) = Ipv4Packet::new_checked(data) {
        let _ = (p.payload().len(), p.options().len(), p.fragment(), p.verify_checksum());
    }
    let _ = Ipv6Repr::parse(data);
    if let Ok(u) = UdpRepr::parse(data) {
        let _ = u.payload(data);
    }
    if let Ok(u) = UdpRepr::parse_first_fragment(data) {
        let _ = u.payload(data);
    }
    if let Ok(t) = TcpRepr::parse(data) {
        let _ = t.payload(data);
    }
    if let Ok(d) = DhcpRepr::parse(data) {
        let _ = (d.client_name(), DhcpRepr::addresses(d.wins_servers).count());
    }
    if let Ok(d) = Dhcp6Repr::parse(data) {
        let _ = (d.from_client(), d.leased().count());
    }
    if let Ok(n) = NdpRepr::parse(data) {
        assert!(n.target.is_some() == matches!(n.kind, antidote_wire::ndp::NEIGHBOR_SOLICIT | antidote_wire::ndp::NEIGHBOR_ADVERT));
    }
});
