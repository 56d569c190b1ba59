//! The whole-frame dissector: Ethernet (VLAN tags) → ARP | IPv4 | IPv6 → UDP | TCP → the
//! application protocol chosen by port and content. It never fails: a layer that cannot be
//! read is recorded in [`Frame::error`] and the layers above it are absent.
use crate::arp::ArpRepr;
use crate::dns::DnsMessage;
use crate::error::Error;
use crate::ethernet::{EthernetRepr, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6};
use crate::http::{looks_like_http, HttpHead};
use crate::ipv4::{Fragment, Ipv4Packet};
use crate::ipv6::Ipv6Repr;
use crate::nbns::NbnsMessage;
use crate::ntlm::{base64_decode, NtlmMessage};
use crate::smb2::Smb2Header;
use crate::ssrp::SsrpMessage;
use crate::tcp::TcpRepr;
use crate::udp::UdpRepr;
use std::net::IpAddr;

pub const PORT_NBNS: u16 = 137;
pub const PORT_NBSS: u16 = 139;
pub const PORT_SMB: u16 = 445;
pub const PORT_SSRP: u16 = 1434;
pub const PORT_MDNS: u16 = 5353;
pub const PORT_LLMNR: u16 = 5355;

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

/// The network layer, IPv4 or IPv6, reduced to what the policies use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    pub version: u8,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IPv4 protocol / IPv6 next header after the extension headers.
    pub proto: u8,
    /// IPv4 TTL / IPv6 hop limit.
    pub ttl: u8,
    pub fragment: Fragment,
    /// IPv4 header checksum verified (always true for IPv6, which has none).
    pub checksum_ok: bool,
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
    /// The transport payload (empty when there is none).
    pub payload: &'a [u8],
    pub app: App<'a>,
    /// An NTLMSSP message found in an SMB2 security blob or an HTTP auth header.
    pub ntlm: Option<NtlmMessage<'a>>,
    /// The first layer that could not be read, and why.
    pub error: Option<(Layer, Error)>,
}

impl<'a> Frame<'a> {
    /// Dissects `data`. Uses `scratch` only for HTTP NTLM tokens.
    pub fn parse(data: &'a [u8], scratch: &'a mut Scratch) -> Frame<'a> {
        let mut f = Frame {
            data,
            eth: None,
            arp: None,
            net: None,
            transport: Transport::None,
            payload: &[],
            app: App::None,
            ntlm: None,
            error: None,
        };
        let eth = match EthernetRepr::parse(data) {
            Ok(e) => e,
            Err(e) => return f.fail(Layer::Ethernet, e),
        };
        f.eth = Some(eth);
        let l3 = &data[eth.payload_offset..];
        let (l4, proto) = match eth.ethertype {
            ETHERTYPE_IPV4 => match Ipv4Packet::new_checked(l3) {
                Ok(p) => {
                    f.net = Some(Net {
                        version: 4,
                        src: IpAddr::V4(p.src()),
                        dst: IpAddr::V4(p.dst()),
                        proto: p.protocol(),
                        ttl: p.ttl(),
                        fragment: p.fragment(),
                        checksum_ok: p.verify_checksum(),
                    });
                    (&l3[p.header_len()..p.total_len()], p.protocol())
                }
                Err(e) => return f.fail(Layer::Ipv4, e),
            },
            ETHERTYPE_IPV6 => match Ipv6Repr::parse(l3) {
                Ok(r) => {
                    f.net = Some(Net {
                        version: 6,
                        src: IpAddr::V6(r.src),
                        dst: IpAddr::V6(r.dst),
                        proto: r.next_header,
                        ttl: r.hop_limit,
                        fragment: r.fragment,
                        checksum_ok: true,
                    });
                    (&l3[r.payload_offset..r.payload_end], r.next_header)
                }
                Err(e) => return f.fail(Layer::Ipv6, e),
            },
            ETHERTYPE_ARP => {
                match ArpRepr::parse(l3) {
                    Ok(a) => f.arp = Some(a),
                    Err(e) => return f.fail(Layer::Arp, e),
                }
                return f;
            }
            _ => return f,
        };
        let fragment = f.net.map(|n| n.fragment).unwrap_or(Fragment::None);
        if fragment == Fragment::Later {
            return f;
        }
        match proto {
            17 => match if fragment == Fragment::First { UdpRepr::parse_first_fragment(l4) } else { UdpRepr::parse(l4) } {
                Ok(u) => {
                    f.transport = Transport::Udp(u);
                    f.payload = u.payload(l4);
                    // An application message cut by fragmentation is not dissected.
                    if fragment == Fragment::None {
                        f.udp_app(u);
                    }
                }
                Err(e) => return f.fail(Layer::Udp, e),
            },
            6 => match TcpRepr::parse(l4) {
                Ok(t) => {
                    f.transport = Transport::Tcp(t);
                    f.payload = t.payload(l4);
                    f.tcp_app(t, scratch);
                }
                Err(e) => return f.fail(Layer::Tcp, e),
            },
            _ => {}
        }
        f
    }

    fn fail(mut self, layer: Layer, e: Error) -> Frame<'a> {
        self.error = Some((layer, e));
        self
    }

    fn udp_app(&mut self, u: UdpRepr) {
        let p = self.payload;
        let has = |port: u16| u.src_port == port || u.dst_port == port;
        let r = if has(PORT_LLMNR) {
            DnsMessage::parse(p).map(App::Llmnr).map_err(|e| (Layer::Llmnr, e))
        } else if has(PORT_NBNS) {
            NbnsMessage::parse(p).map(App::Nbns).map_err(|e| (Layer::Nbns, e))
        } else if has(PORT_MDNS) {
            DnsMessage::parse(p).map(App::Mdns).map_err(|e| (Layer::Mdns, e))
        } else if has(PORT_SSRP) {
            SsrpMessage::parse(p).map(App::Ssrp).map_err(|e| (Layer::Ssrp, e))
        } else {
            return;
        };
        match r {
            Ok(app) => self.app = app,
            Err(e) => self.error = Some(e),
        }
    }

    fn tcp_app(&mut self, t: TcpRepr, scratch: &'a mut Scratch) {
        let p = self.payload;
        if p.is_empty() {
            return;
        }
        let smb_port = |port: u16| port == PORT_SMB || port == PORT_NBSS;
        if (smb_port(t.src_port) || smb_port(t.dst_port)) && p.len() >= 8 && &p[4..8] == b"\xfeSMB" {
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
