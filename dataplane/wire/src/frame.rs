//! The whole-frame dissector: Ethernet (VLAN tags) → ARP | IPv4 | IPv6 → UDP | TCP → the
//! application protocol chosen by port and content. It never fails: a layer that cannot be
//! read is recorded in [`Frame::error`] and the layers above it are absent.
use crate::arp::ArpRepr;
use crate::dns::DnsMessage;
use crate::error::Error;
use crate::ethernet::{EthernetRepr, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6};
use crate::http::{http_first_byte, looks_like_http, HttpHead};
use crate::ipv4::{Fragment, Ipv4Packet};
use crate::ipv6::Ipv6Repr;
use crate::nbns::NbnsMessage;
use crate::ntlm::{base64_decode, NtlmMessage};
use crate::proto::{self, smb_port};
use crate::smb2::Smb2Header;
use crate::ssrp::SsrpMessage;
use crate::tcp::TcpRepr;
use crate::udp::UdpRepr;
use std::net::IpAddr;

/// The layer a dissection error belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    Ethernet,
    Arp,
    Ipv4,
    Ipv6,
    Udp,
    Tcp,
    Nbns,
    Llmnr,
    Mdns,
    Ssrp,
    Http,
    Smb2,
    Ntlm,
}

impl Layer {
    pub fn as_str(&self) -> &'static str {
        match self {
            Layer::Ethernet => "eth",
            Layer::Arp => "arp",
            Layer::Ipv4 => "ip",
            Layer::Ipv6 => "ip6",
            Layer::Udp => "udp",
            Layer::Tcp => "tcp",
            Layer::Nbns => "nbns",
            Layer::Llmnr => "llmnr",
            Layer::Mdns => "mdns",
            Layer::Ssrp => "ssrp",
            Layer::Http => "http",
            Layer::Smb2 => "smb2",
            Layer::Ntlm => "ntlm",
        }
    }
}

/// An IPv4 or IPv6 address as one aligned integer: IPv6 as is, IPv4 mapped (::ffff:a.b.c.d).
/// Cheap to copy, compare and hash; [`Addr::ip`] gives the std form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Addr(pub u128);

impl Addr {
    #[inline(always)]
    pub fn v4(o: [u8; 4]) -> Addr {
        Addr(0xffff_0000_0000 | u32::from_be_bytes(o) as u128)
    }
    #[inline(always)]
    pub fn v6(o: [u8; 16]) -> Addr {
        Addr(u128::from_be_bytes(o))
    }
    pub fn from_ip(ip: IpAddr) -> Addr {
        match ip {
            IpAddr::V4(a) => Addr::v4(a.octets()),
            IpAddr::V6(a) => Addr::v6(a.octets()),
        }
    }
    pub fn is_v4(&self) -> bool {
        self.0 >> 32 == 0xffff
    }
    pub fn ip(&self) -> IpAddr {
        if self.is_v4() {
            IpAddr::V4(std::net::Ipv4Addr::from(self.0 as u32))
        } else {
            IpAddr::V6(std::net::Ipv6Addr::from(self.0))
        }
    }
}

/// The network layer, IPv4 or IPv6, reduced to what the policies use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    pub src: Addr,
    pub dst: Addr,
    pub version: u8,
    /// IPv4 protocol / IPv6 next header after the extension headers.
    pub proto: u8,
    /// IPv4 TTL / IPv6 hop limit.
    pub ttl: u8,
    pub fragment: Fragment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    None,
    Udp(UdpRepr),
    Tcp(TcpRepr),
}

/// The application-layer message, chosen by port (and, for HTTP, by content).
#[derive(Debug, Clone)]
pub enum App<'a> {
    None,
    Nbns(NbnsMessage<'a>),
    Llmnr(DnsMessage<'a>),
    Mdns(DnsMessage<'a>),
    Ssrp(SsrpMessage<'a>),
    Http(HttpHead<'a>),
    Smb2(Smb2Header<'a>),
}

impl App<'_> {
    /// A name-service answer (LLMNR, NBT-NS or mDNS, QR set).
    #[inline]
    pub fn is_answer(&self) -> bool {
        match self {
            App::Nbns(m) => m.is_response(),
            App::Llmnr(m) | App::Mdns(m) => m.is_response(),
            App::Ssrp(m) => m.is_response(),
            _ => false,
        }
    }
}

/// Per-worker scratch space for decoded data that is not in the frame (base64 NTLM tokens).
/// Allocated once; reused for every frame.
pub struct Scratch {
    b64: [u8; 2048],
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch { b64: [0; 2048] }
    }
}

/// Everything the dissectors read from one frame.
#[derive(Debug, Clone)]
pub struct Frame<'a> {
    pub data: &'a [u8],
    pub eth: Option<EthernetRepr>,
    pub arp: Option<ArpRepr>,
    pub net: Option<Net>,
    pub transport: Transport,
    /// The transport payload (empty when there is none); for ICMPv6, its message.
    pub payload: &'a [u8],
    pub app: App<'a>,
    /// An NTLMSSP message found in an SMB2 security blob or an HTTP auth header.
    pub ntlm: Option<NtlmMessage<'a>>,
    /// The first layer that could not be read, and why.
    pub error: Option<(Layer, Error)>,
}

impl<'a> Frame<'a> {
    /// Dissects `data`. Uses `scratch` only for HTTP NTLM tokens.
    #[inline]
    pub fn parse(data: &'a [u8], scratch: &'a mut Scratch) -> Frame<'a> {
        let mut f = Frame::parse_transport(data);
        f.dissect_app(scratch);
        f
    }

    /// Dissects `data` up to its transport header and payload; [`Frame::dissect_app`] reads the
    /// application message (together they are [`Frame::parse`]).
    #[inline]
    pub fn parse_transport(data: &'a [u8]) -> Frame<'a> {
        let mut f = Frame { data, eth: None, arp: None, net: None, transport: Transport::None, payload: &[], app: App::None, ntlm: None, error: None };
        // Built in place: the layers write into `f`, and an error stops the walk at the layer
        // it names.
        let mut layer = Layer::Ethernet;
        if let Err(e) = f.layers(&mut layer) {
            f.error = Some((layer, e));
        }
        f
    }

    /// Reads the application message of a frame read by [`Frame::parse_transport`] (nothing
    /// when that failed). Uses `scratch` only for HTTP NTLM tokens.
    #[inline]
    pub fn dissect_app(&mut self, scratch: &'a mut Scratch) {
        if self.error.is_some() {
            return;
        }
        match self.transport {
            // An application message cut by fragmentation is not dissected.
            Transport::Udp(u) if self.net.map(|n| n.fragment) == Some(Fragment::None) => self.udp_app(u),
            Transport::Tcp(t) => {
                // Most segments carry neither SMB nor an HTTP head: that is decided here, inline;
                // only candidates pay for the call (and only the ports go on: passing the repr
                // made the compiler spill it to the stack).
                let smb = smb_port(t.src_port) || smb_port(t.dst_port);
                if let Some(&first) = self.payload.first() {
                    if smb || http_first_byte(first) {
                        self.tcp_app(smb, scratch);
                    }
                }
            }
            _ => {}
        }
    }

    #[inline]
    fn layers(&mut self, layer: &mut Layer) -> Result<(), Error> {
        let data = self.data;
        let eth = EthernetRepr::parse(data)?;
        self.eth = Some(eth);
        let l3 = &data[eth.payload_offset..];
        let (l4, proto) = match eth.ethertype {
            ETHERTYPE_IPV4 => {
                *layer = Layer::Ipv4;
                let p = Ipv4Packet::new_checked(l3)?;
                self.net = Some(Net {
                    version: 4,
                    src: Addr::v4(p.src_bytes()),
                    dst: Addr::v4(p.dst_bytes()),
                    proto: p.protocol(),
                    ttl: p.ttl(),
                    fragment: p.fragment(),
                });
                (&l3[p.header_len()..p.total_len()], p.protocol())
            }
            ETHERTYPE_IPV6 => {
                *layer = Layer::Ipv6;
                let r = Ipv6Repr::parse(l3)?;
                self.net = Some(Net {
                    version: 6,
                    src: Addr::v6(r.src.octets()),
                    dst: Addr::v6(r.dst.octets()),
                    proto: r.next_header,
                    ttl: r.hop_limit,
                    fragment: r.fragment,
                });
                (&l3[r.payload_offset..r.payload_end], r.next_header)
            }
            ETHERTYPE_ARP => {
                *layer = Layer::Arp;
                self.arp = Some(ArpRepr::parse(l3)?);
                return Ok(());
            }
            _ => return Ok(()),
        };
        let fragment = self.net.map(|n| n.fragment).unwrap_or(Fragment::None);
        if fragment == Fragment::Later {
            return Ok(());
        }
        match proto {
            17 => {
                *layer = Layer::Udp;
                let u = if fragment == Fragment::First { UdpRepr::parse_first_fragment(l4) } else { UdpRepr::parse(l4) }?;
                self.transport = Transport::Udp(u);
                self.payload = u.payload(l4);
            }
            6 => {
                *layer = Layer::Tcp;
                let t = TcpRepr::parse(l4)?;
                self.transport = Transport::Tcp(t);
                self.payload = t.payload(l4);
            }
            // ICMPv6: its message is the payload (neighbour discovery, `crate::ndp`).
            58 if eth.ethertype == ETHERTYPE_IPV6 => self.payload = l4,
            _ => {}
        }
        Ok(())
    }

    fn udp_app(&mut self, u: UdpRepr) {
        let p = self.payload;
        // Each message goes straight into `self.app` (no intermediate Result<App, …>: copying a
        // message through it cost a store-forwarding stall per frame).
        let app = proto::udp_app(u.src_port, u.dst_port);
        if app == proto::LLMNR {
            match DnsMessage::parse(p) {
                Ok(m) => self.app = App::Llmnr(m),
                Err(e) => self.error = Some((Layer::Llmnr, e)),
            }
        } else if app == proto::NBNS {
            match NbnsMessage::parse(p) {
                Ok(m) => self.app = App::Nbns(m),
                Err(e) => self.error = Some((Layer::Nbns, e)),
            }
        } else if app == proto::MDNS {
            match DnsMessage::parse(p) {
                Ok(m) => self.app = App::Mdns(m),
                Err(e) => self.error = Some((Layer::Mdns, e)),
            }
        } else if app == proto::SSRP {
            match SsrpMessage::parse(p) {
                Ok(m) => self.app = App::Ssrp(m),
                Err(e) => self.error = Some((Layer::Ssrp, e)),
            }
        }
    }

    #[inline(never)]
    fn tcp_app(&mut self, smb_port: bool, scratch: &'a mut Scratch) {
        let p = self.payload;
        if smb_port && p.len() >= 8 && &p[4..8] == b"\xfeSMB" {
            match Smb2Header::parse_tcp_payload(p) {
                Ok(h) => {
                    if let Some(r) = NtlmMessage::find(h.security_blob) {
                        self.set_ntlm(r);
                    }
                    self.app = App::Smb2(h);
                }
                Err(e) => self.error = Some((Layer::Smb2, e)),
            }
        } else if looks_like_http(p) {
            match HttpHead::parse(p) {
                Ok(h) => {
                    if !h.auth_token.is_empty() {
                        match base64_decode(h.auth_token, &mut scratch.b64) {
                            Some(n) => {
                                let decoded: &'a [u8] = &scratch.b64[..n];
                                if let Some(r) = NtlmMessage::find(decoded) {
                                    self.set_ntlm(r);
                                }
                            }
                            None => self.error = Some((Layer::Ntlm, Error::Malformed("bad base64 in auth header"))),
                        }
                    }
                    self.app = App::Http(h);
                }
                Err(e) => self.error = Some((Layer::Http, e)),
            }
        }
    }

    fn set_ntlm(&mut self, r: crate::error::Result<NtlmMessage<'a>>) {
        match r {
            Ok(m) => self.ntlm = Some(m),
            Err(e) => self.error = Some((Layer::Ntlm, e)),
        }
    }

    pub fn udp(&self) -> Option<&UdpRepr> {
        match &self.transport {
            Transport::Udp(u) => Some(u),
            _ => None,
        }
    }
    pub fn tcp(&self) -> Option<&TcpRepr> {
        match &self.transport {
            Transport::Tcp(t) => Some(t),
            _ => None,
        }
    }
    pub fn nbns(&self) -> Option<&NbnsMessage<'a>> {
        match &self.app {
            App::Nbns(m) => Some(m),
            _ => None,
        }
    }
    pub fn llmnr(&self) -> Option<&DnsMessage<'a>> {
        match &self.app {
            App::Llmnr(m) => Some(m),
            _ => None,
        }
    }
    pub fn mdns(&self) -> Option<&DnsMessage<'a>> {
        match &self.app {
            App::Mdns(m) => Some(m),
            _ => None,
        }
    }
    pub fn ssrp(&self) -> Option<&SsrpMessage<'a>> {
        match &self.app {
            App::Ssrp(m) => Some(m),
            _ => None,
        }
    }
    pub fn http(&self) -> Option<&HttpHead<'a>> {
        match &self.app {
            App::Http(m) => Some(m),
            _ => None,
        }
    }
    pub fn smb2(&self) -> Option<&Smb2Header<'a>> {
        match &self.app {
            App::Smb2(m) => Some(m),
            _ => None,
        }
    }
    /// The source/destination ports of UDP or TCP.
    pub fn ports(&self) -> Option<(u16, u16)> {
        match &self.transport {
            Transport::Udp(u) => Some((u.src_port, u.dst_port)),
            Transport::Tcp(t) => Some((t.src_port, t.dst_port)),
            Transport::None => None,
        }
    }
    pub fn malformed(&self) -> bool {
        self.error.is_some()
    }
}

/// The protocols present in a dissected frame.
#[inline]
pub fn frame_mask(f: &Frame<'_>) -> u32 {
    let mut m = 0;
    if let Some(e) = &f.eth {
        m |= proto::ETH;
        if e.vlan_count > 0 {
            m |= proto::VLAN;
        }
    }
    if f.arp.is_some() {
        m |= proto::ARP;
    }
    if f.net.is_some() {
        m |= proto::IP;
    }
    m |= match f.transport {
        Transport::Udp(_) => proto::UDP,
        Transport::Tcp(t) if t.flags & crate::tcp::SYN != 0 => proto::TCP | proto::SYN,
        Transport::Tcp(_) => proto::TCP,
        Transport::None => 0,
    };
    m |= match f.app {
        App::None => 0,
        App::Nbns(n) => proto::NBNS | if n.is_response() { proto::RESP } else { 0 } | if n.broadcast() { proto::BCAST } else { 0 },
        App::Llmnr(d) => proto::LLMNR | if d.is_response() { proto::RESP } else { 0 },
        App::Mdns(d) => proto::MDNS | if d.is_response() { proto::RESP } else { 0 },
        App::Ssrp(s) => proto::SSRP | if s.is_response() { proto::RESP } else { 0 },
        App::Http(_) => proto::HTTP,
        App::Smb2(_) => proto::SMB2,
    };
    if f.ntlm.is_some() {
        m |= proto::NTLM;
    }
    m | name_fragment_bits(f)
}

/// A first fragment of a UDP datagram to or from a name-resolution or SQL-browser port (its
/// message is not read: the receiver reassembles it, the appliance does not): the service's bit
/// and, since it may be an answer, the response bit — so the rules about answers, and
/// `ns.fragment`, see it; 0 for every other frame.
#[inline]
pub fn name_fragment_bits(f: &Frame<'_>) -> u32 {
    match (f.transport, f.net) {
        (Transport::Udp(u), Some(n)) if n.fragment == Fragment::First => {
            let app = proto::udp_app(u.src_port, u.dst_port) & (proto::NBNS | proto::LLMNR | proto::MDNS | proto::SSRP);
            if app != 0 {
                app | proto::RESP
            } else {
                0
            }
        }
        _ => 0,
    }
}

#[cfg(test)]
mod size_tests {
    #[test]
    fn sizes() {
        eprintln!(
            "Frame {} App {} Dns {} Nbns {} Http {} Smb2 {} Ntlm {} Net {} Eth {}",
            std::mem::size_of::<super::Frame>(),
            std::mem::size_of::<super::App>(),
            std::mem::size_of::<crate::dns::DnsMessage>(),
            std::mem::size_of::<crate::nbns::NbnsMessage>(),
            std::mem::size_of::<crate::http::HttpHead>(),
            std::mem::size_of::<crate::smb2::Smb2Header>(),
            std::mem::size_of::<crate::ntlm::NtlmMessage>(),
            std::mem::size_of::<super::Net>(),
            std::mem::size_of::<crate::ethernet::EthernetRepr>(),
        );
    }
}
