//! Hardware profiles: which ports, how they pair, queues, lcores, memory, EAL arguments.
//!
//! Read from TOML with `deny_unknown_fields`; [`Profile::load`] validates everything that can be
//! checked without touching the machine, so a bad profile fails before EAL starts, with one
//! sentence that names the file, the key and the fix. Documented in `hw-profiles/README.md`.
use serde::Deserialize;
use std::collections::HashSet;
use std::path::Path;

/// Most ports one profile may name.
pub const MAX_PORTS: usize = 16;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Short name, shown in the summary line.
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Back DPDK memory with 2 MiB hugepages (`--in-memory`); false runs with `--no-huge`.
    #[serde(default)]
    pub hugepages: bool,
    /// Memory in MiB for `--no-huge` (ignored with hugepages).
    #[serde(default = "default_memory_mb")]
    pub memory_mb: u32,
    /// The lcore of the control thread (stats, signals; later the HTTP API).
    #[serde(default)]
    pub main_lcore: u32,
    /// One poll-mode worker per lcore. Worker i polls RX queue i of every port.
    pub worker_lcores: Vec<u32>,
    /// The CPU each worker lcore runs on, in `worker_lcores`' order (default: the CPU of the
    /// lcore's own number). Lets lcores outnumber CPUs: on a 2-CPU machine, `worker_lcores =
    /// [1, 2]` with `worker_cpus = [1, 0]` runs two workers, the second on the main lcore's CPU
    /// (for functional tests; a worker wants a CPU of its own).
    #[serde(default)]
    pub worker_cpus: Option<Vec<u32>>,
    /// Mbufs in the packet pool (2^n - 1 is most memory-efficient for DPDK's ring).
    #[serde(default = "default_mbufs")]
    pub mempool_mbufs: u32,
    /// Per-lcore mbuf cache.
    #[serde(default = "default_cache")]
    pub mempool_cache: u32,
    /// Bytes per mbuf buffer, headroom included (2176 fits a 1518-byte frame + 128 headroom).
    /// Default: 2176, or what the largest pair `mtu` needs ([`Profile::data_room`]).
    #[serde(default)]
    pub mbuf_data_room: Option<u16>,
    /// Extra EAL arguments, appended last (e.g. `["--log-level=pmd.net.i40e:debug"]`).
    #[serde(default)]
    pub eal_args: Vec<String>,
    /// DPDK telemetry on (its socket `/var/run/dpdk/<file prefix>/dpdk_telemetry.v2`, read by
    /// `dpdk-telemetry.py -f antidote-<pid>`: ports, their counters, the mempool, EAL).
    #[serde(default = "yes")]
    pub telemetry: bool,
    /// Port name of an optional mirror port (copies of frames the policy mirrors).
    #[serde(default)]
    pub mirror: Option<String>,
    #[serde(rename = "port", default)]
    pub ports: Vec<PortSpec>,
    #[serde(rename = "pair", default)]
    pub pairs: Vec<PairSpec>,
    /// How many answers a worker judges a millisecond, and what becomes of the rest
    /// (`[floods]`, [`crate::flood`]).
    #[serde(default)]
    pub floods: crate::flood::FloodSpec,
    /// What the appliance does while a worker stalls (`[faults]`, [`crate::stall`]).
    #[serde(default)]
    pub faults: crate::stall::FaultSpec,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortSpec {
    /// The profile's own name for the port (used by pairs, mirror, stats).
    pub name: String,
    /// A PCI address (`0000:3b:00.0`) or a vdev string (`net_af_packet0,iface=ad-a`).
    pub device: String,
    #[serde(default = "one")]
    pub rx_queues: u16,
    /// TX queues; at least one per worker (each worker owns one, so TX needs no lock).
    /// Default: one per worker.
    #[serde(default)]
    pub tx_queues: Option<u16>,
    #[serde(default = "default_desc")]
    pub rx_desc: u16,
    #[serde(default = "default_desc")]
    pub tx_desc: u16,
    /// Spread RX queues by an IP/TCP/UDP hash.
    #[serde(default = "yes")]
    pub rss: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairSpec {
    /// The segment side (where victims are).
    pub a: String,
    /// The uplink side.
    pub b: String,
    /// The canary identity of the pair's segment: the MAC its canary queries come from (the
    /// appliance answers ARP and neighbour solicitation for its addresses and consumes what is
    /// sent to it). Off when absent. A list gives several identities (up to
    /// [`MAX_IDENTITIES`]): each canary and probe leaves from one of them, at random.
    #[serde(default)]
    pub canary_mac: Option<OneOrMany>,
    /// Its IPv4 address with the segment's prefix length (`198.18.0.250/24`: an unused address
    /// of the segment; NBT-NS canaries go to the prefix's broadcast address), or one per MAC.
    /// Its IPv6 address is the link-local one derived from the MAC.
    #[serde(default)]
    pub canary_ipv4: Option<OneOrMany>,
    /// The identities' IPv4 addresses on the pair's VLANs (`[[pair.canary_vlan]]`): one entry
    /// per VLAN, one address per canary MAC. On a VLAN the appliance sees that has no entry,
    /// the identities use their IPv6 link-local addresses alone.
    #[serde(default)]
    pub canary_vlan: Vec<CanaryVlanSpec>,
    /// A link lost on one side is taken down on the other, so that the switch there fails over
    /// (`crate::links`). Default: on when both ports are PCI devices (real NICs), off for
    /// virtual devices.
    #[serde(default)]
    pub link_propagation: Option<bool>,
    /// The IP MTU of both ports of the pair (jumbo frames: 9000). Default: the ports' own
    /// (1500 for DPDK's drivers). The ports are set to it; the mbufs grow to hold its frames.
    #[serde(default)]
    pub mtu: Option<u16>,
}

/// A VLAN's canary addresses (`[[pair.canary_vlan]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CanaryVlanSpec {
    /// The VLAN ID (1–4094).
    pub vlan: u16,
    /// The identities' IPv4 addresses on it, with the VLAN's prefix length: one per `canary_mac`.
    pub ipv4: OneOrMany,
}

/// A string, or a list of them.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn list(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// Canary identities a pair may have.
pub const MAX_IDENTITIES: usize = 4;

/// A pair's canary identity, read from its [`PairSpec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CanaryIdentity {
    pub mac: [u8; 6],
    pub ip4: std::net::Ipv4Addr,
    pub broadcast: std::net::Ipv4Addr,
    pub ll6: std::net::Ipv6Addr,
}

impl CanaryIdentity {
    /// Whether it has an IPv4 address where it is (on a VLAN the profile names no address for,
    /// it has its IPv6 link-local address alone).
    #[inline]
    pub fn has_ip4(&self) -> bool {
        !self.ip4.is_unspecified()
    }

    /// The IPv6 link-local address of a MAC (modified EUI-64).
    pub fn link_local(m: [u8; 6]) -> std::net::Ipv6Addr {
        let w = |a: u8, b: u8| ((a as u16) << 8) | b as u16;
        std::net::Ipv6Addr::new(0xfe80, 0, 0, 0, w(m[0] ^ 2, m[1]), w(m[2], 0xff), w(0xfe, m[3]), w(m[4], m[5]))
    }
}

impl PairSpec {
    /// The pair's canary identities (none when it has none); an error that says what to fix.
    pub fn canary(&self) -> Result<Vec<CanaryIdentity>, String> {
        let (macs, ips) = match (&self.canary_mac, &self.canary_ipv4) {
            (None, None) => return Ok(Vec::new()),
            (Some(m), Some(i)) => (m.list(), i.list()),
            _ => return Err("give both `canary_mac` and `canary_ipv4` (or neither)".into()),
        };
        if macs.len() != ips.len() || macs.is_empty() {
            return Err(format!("give one `canary_ipv4` per `canary_mac` ({} MAC(s), {} address(es))", macs.len(), ips.len()));
        }
        if macs.len() > MAX_IDENTITIES {
            return Err(format!("{} canary identities: a pair has at most {MAX_IDENTITIES}", macs.len()));
        }
        let mut out: Vec<CanaryIdentity> = Vec::new();
        for (mac, ip) in macs.into_iter().zip(ips) {
            let id = Self::identity(mac, ip)?;
            if out.iter().any(|o| o.mac == id.mac || o.ip4 == id.ip4) {
                return Err(format!("canary identity {mac} {ip} repeats another's MAC or address"));
            }
            out.push(id);
        }
        Ok(out)
    }

    /// The pair's identities on each VLAN it names (`[[pair.canary_vlan]]`): the same MACs and
    /// link-local addresses, the VLAN's IPv4 addresses.
    pub fn canary_vlans(&self) -> Result<Vec<(u16, Vec<CanaryIdentity>)>, String> {
        if self.canary_vlan.is_empty() {
            return Ok(Vec::new());
        }
        let base = self.canary()?;
        if base.is_empty() {
            return Err("`[[pair.canary_vlan]]` needs the pair's `canary_mac` and `canary_ipv4`".into());
        }
        let mut out: Vec<(u16, Vec<CanaryIdentity>)> = Vec::new();
        for v in &self.canary_vlan {
            if !(1..=4094).contains(&v.vlan) {
                return Err(format!("`canary_vlan` vlan = {}: use a VLAN ID from 1 to 4094", v.vlan));
            }
            if out.iter().any(|(id, _)| *id == v.vlan) {
                return Err(format!("`canary_vlan` vlan = {} is given twice; one entry per VLAN", v.vlan));
            }
            let ips = v.ipv4.list();
            if ips.len() != base.len() {
                return Err(format!("`canary_vlan` vlan = {}: give one `ipv4` per `canary_mac` ({} MAC(s), {} address(es))", v.vlan, base.len(), ips.len()));
            }
            let mut ids: Vec<CanaryIdentity> = Vec::new();
            for (b, ip) in base.iter().zip(ips) {
                let id = Self::identity(&antidote_wire::ethernet::Mac(b.mac).to_string(), ip)
                    .map_err(|e| format!("`canary_vlan` vlan = {}: {}", v.vlan, e.replace("`canary_ipv4`", "`ipv4`")))?;
                if ids.iter().any(|o| o.ip4 == id.ip4) {
                    return Err(format!("`canary_vlan` vlan = {}: address {ip} is given twice", v.vlan));
                }
                ids.push(id);
            }
            out.push((v.vlan, ids));
        }
        Ok(out)
    }

    fn identity(mac: &str, ip: &str) -> Result<CanaryIdentity, String> {
        let bytes: Vec<u8> = mac.split([':', '-']).filter_map(|b| (b.len() == 2).then(|| u8::from_str_radix(b, 16).ok()).flatten()).collect();
        let m: [u8; 6] = bytes.try_into().map_err(|_| format!("`canary_mac` = \"{mac}\" is not a MAC address (02:00:5e:00:00:01)"))?;
        let m = antidote_wire::ethernet::Mac(m);
        if m.0[0] & 1 != 0 || m.0 == [0; 6] {
            return Err(format!("`canary_mac` = \"{mac}\" must be a unicast address"));
        }
        let (addr, len) = ip.split_once('/').ok_or_else(|| format!("`canary_ipv4` = \"{ip}\" needs its prefix length (198.18.0.250/24)"))?;
        let (Ok(ip4), Ok(len)) = (addr.parse::<std::net::Ipv4Addr>(), len.parse::<u32>()) else {
            return Err(format!("`canary_ipv4` = \"{ip}\" is not an IPv4 address with a prefix length (198.18.0.250/24)"));
        };
        if !(8..=30).contains(&len) {
            return Err(format!("`canary_ipv4` = \"{ip}\": the prefix length must be 8 to 30"));
        }
        let host = u32::MAX >> len;
        let broadcast = std::net::Ipv4Addr::from(u32::from(ip4) | host);
        if u32::from(ip4) & host == 0 || ip4 == broadcast {
            return Err(format!("`canary_ipv4` = \"{ip}\" is the segment's network or broadcast address; use a free host address"));
        }
        Ok(CanaryIdentity { mac: m.0, ip4, broadcast, ll6: CanaryIdentity::link_local(m.0) })
    }
}

fn default_memory_mb() -> u32 {
    512
}
fn default_mbufs() -> u32 {
    8191
}
fn default_cache() -> u32 {
    256
}
/// The data room of an mbuf that holds a 1518-byte frame (1522 with a tag) after the headroom.
const DEFAULT_DATA_ROOM: u16 = 2176;
/// DPDK's mbuf headroom (`RTE_PKTMBUF_HEADROOM`, 128 in Debian's build).
const HEADROOM: u32 = 128;
/// Largest `mtu` a pair may ask for (what common 10/25/40 GbE NICs take: i40e 9710, ixgbe 9710,
/// mlx5 9978; the driver's own limit is checked when the port is configured).
pub const MAX_MTU: u16 = 9702;

/// The largest frame of an IP MTU: Ethernet header, two 802.1Q tags, no FCS (the NIC strips it).
pub fn frame_of_mtu(mtu: u16) -> u32 {
    mtu as u32 + 14 + 8
}
fn default_desc() -> u16 {
    1024
}
fn one() -> u16 {
    1
}
fn yes() -> bool {
    true
}

/// What a device string names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Device {
    /// A PCI address with optional driver arguments (`0000:3b:00.0,mprq_en=1`), passed to EAL
    /// with `-a`.
    Pci { addr: String, full: String },
    /// A virtual device, passed with `--vdev`; `name` is the part before the first comma.
    Vdev { name: String, args: Vec<(String, String)> },
}

impl Device {
    pub fn parse(s: &str) -> Option<Device> {
        let head = s.split(',').next().unwrap_or("").trim();
        if is_pci(head) {
            return Some(Device::Pci { addr: head.to_string(), full: s.trim().to_string() });
        }
        let mut parts = s.split(',');
        let name = parts.next()?.trim();
        let driver = name.trim_end_matches(|c: char| c.is_ascii_digit());
        if !name.starts_with("net_") || driver.len() <= 4 || name.contains(char::is_whitespace) {
            return None;
        }
        let mut args = Vec::new();
        for kv in parts {
            let (k, v) = kv.split_once('=')?;
            args.push((k.trim().to_string(), v.trim().to_string()));
        }
        Some(Device::Vdev { name: name.to_string(), args })
    }

    /// The name DPDK gives the port (for `rte_eth_dev_get_port_by_name`).
    pub fn port_name(&self) -> &str {
        match self {
            Device::Pci { addr, .. } => addr,
            Device::Vdev { name, .. } => name,
        }
    }

    pub fn arg(&self, key: &str) -> Option<&str> {
        match self {
            Device::Vdev { args, .. } => args.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()),
            Device::Pci { .. } => None,
        }
    }
}

fn is_pci(s: &str) -> bool {
    // [dddd:]bb:dd.f with hex digits
    let s = s.to_ascii_lowercase();
    let (dom, rest) = match s.matches(':').count() {
        2 => s.split_once(':').map(|(d, r)| (Some(d.to_string()), r.to_string())).unwrap(),
        1 => (None, s.clone()),
        _ => return false,
    };
    let hex = |t: &str, n: usize| t.len() == n && t.chars().all(|c| c.is_ascii_hexdigit());
    if let Some(d) = dom {
        if !hex(&d, 4) {
            return false;
        }
    }
    let Some((bus, devfn)) = rest.split_once(':') else { return false };
    let Some((dev, func)) = devfn.split_once('.') else { return false };
    hex(bus, 2) && hex(dev, 2) && func.len() == 1 && matches!(func.as_bytes()[0], b'0'..=b'7')
}

/// A profile error: one sentence naming the file, the key and the fix.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {msg}")]
pub struct ProfileError {
    pub file: String,
    pub msg: String,
}

impl Profile {
    /// Reads and validates a profile file.
    pub fn load(path: &Path) -> Result<Profile, ProfileError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ProfileError {
            file: file.clone(),
            msg: format!("cannot read the profile ({e}); pass an existing file, e.g. hw-profiles/lab.toml"),
        })?;
        Profile::parse(&text, &file)
    }

    /// Parses and validates profile text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Profile, ProfileError> {
        let err = |msg: String| ProfileError { file: file.to_string(), msg };
        let p: Profile = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                    format!("line {line}: ")
                })
                .unwrap_or_default();
            let m = e.message().trim_end_matches('.');
            let fix = if m.contains("unknown field") {
                "fix the key's spelling or remove it (keys are listed in hw-profiles/README.md)"
            } else if m.contains("missing field") {
                "add the key (see hw-profiles/README.md)"
            } else {
                "fix the value (see hw-profiles/README.md)"
            };
            err(format!("{at}{m}; {fix}"))
        })?;
        p.validate().map_err(err)?;
        Ok(p)
    }

    fn validate(&self) -> Result<(), String> {
        if self.ports.is_empty() {
            return Err("no [[port]] is declared; add at least two ports and a [[pair]] joining them".into());
        }
        if self.ports.len() > MAX_PORTS {
            return Err(format!("{} ports are declared; at most {MAX_PORTS} are supported", self.ports.len()));
        }
        if self.pairs.is_empty() {
            return Err("no [[pair]] is declared; add one, e.g. [[pair]] a = \"a\" b = \"b\"".into());
        }
        let workers = self.worker_lcores.len();
        if workers == 0 {
            return Err("key `worker_lcores` is empty; name at least one lcore, e.g. worker_lcores = [1]".into());
        }
        let mut seen = HashSet::new();
        if let Some(c) = &self.worker_cpus {
            if c.len() != workers {
                return Err(format!("key `worker_cpus` names {} CPU(s) for {workers} worker lcore(s); give one CPU per entry of `worker_lcores`", c.len()));
            }
        }
        for &l in &self.worker_lcores {
            if l == self.main_lcore {
                return Err(format!("key `worker_lcores` contains lcore {l}, which is `main_lcore`; give workers their own lcores"));
            }
            if !seen.insert(l) {
                return Err(format!("key `worker_lcores` names lcore {l} twice; list each lcore once"));
            }
        }
        let mut names = HashSet::new();
        let mut devices = HashSet::new();
        for (i, port) in self.ports.iter().enumerate() {
            let at = format!("port `{}` (port #{})", port.name, i + 1);
            if port.name.is_empty() || !names.insert(port.name.as_str()) {
                return Err(format!("{at}: key `name` is empty or repeated; give every port a unique name"));
            }
            let dev = Device::parse(&port.device).ok_or_else(|| {
                format!("{at}: key `device` = {:?} is neither a PCI address (0000:3b:00.0) nor a vdev (net_af_packet0,iface=eth1); fix it", port.device)
            })?;
            if !devices.insert(dev.port_name().to_string()) {
                return Err(format!(
                    "{at}: key `device` names {} again; every port needs its own device (vdevs need distinct numbers: net_pcap0, net_pcap1)",
                    dev.port_name()
                ));
            }
            if port.rx_queues == 0 {
                return Err(format!("{at}: key `rx_queues` is 0; a port needs at least 1"));
            }
            if port.rx_queues as usize > workers {
                return Err(format!(
                    "{at}: key `rx_queues` = {} but only {workers} worker lcore(s) serve queues (one per worker); lower rx_queues or add lcores to `worker_lcores`",
                    port.rx_queues
                ));
            }
            if let Some(tx) = port.tx_queues.filter(|&t| (t as usize) < workers) {
                return Err(format!(
                    "{at}: key `tx_queues` = {tx} but each of the {workers} workers needs its own TX queue; raise tx_queues to {workers} or remove it"
                ));
            }
            for (key, d) in [("rx_desc", port.rx_desc), ("tx_desc", port.tx_desc)] {
                if !(64..=16384).contains(&d) || !d.is_power_of_two() {
                    return Err(format!("{at}: key `{key}` = {d}; use a power of two from 64 to 16384"));
                }
            }
        }
        let mut paired = HashSet::new();
        for (i, pair) in self.pairs.iter().enumerate() {
            for (key, n) in [("a", &pair.a), ("b", &pair.b)] {
                if !names.contains(n.as_str()) {
                    return Err(format!("pair #{}: key `{key}` names port `{n}`, which no [[port]] declares; use one of {}", i + 1, self.port_names()));
                }
                if !paired.insert(n.as_str()) {
                    return Err(format!("pair #{}: port `{n}` is already in a pair; a port bridges to exactly one other port", i + 1));
                }
            }
            pair.canary().map_err(|e| format!("pair #{}: {e}", i + 1))?;
            pair.canary_vlans().map_err(|e| format!("pair #{}: {e}", i + 1))?;
        }
        if let Some(m) = &self.mirror {
            if !names.contains(m.as_str()) {
                return Err(format!("key `mirror` names port `{m}`, which no [[port]] declares; use one of {}", self.port_names()));
            }
            if paired.contains(m.as_str()) {
                return Err(format!("key `mirror` names port `{m}`, which is in a pair; a mirror port must be a port of its own"));
            }
        }
        for port in &self.ports {
            if !paired.contains(port.name.as_str()) && self.mirror.as_deref() != Some(port.name.as_str()) {
                return Err(format!("port `{}` is in no [[pair]] and is not the mirror; pair it or remove it", port.name));
            }
        }
        if self.mempool_mbufs < 1024 {
            return Err(format!("key `mempool_mbufs` = {}; use at least 1024", self.mempool_mbufs));
        }
        for (k, pair) in self.pairs.iter().enumerate() {
            if let Some(mtu) = pair.mtu {
                if !(576..=MAX_MTU).contains(&mtu) {
                    return Err(format!("[[pair]] {} (`{}`/`{}`): key `mtu` = {mtu}; use 576 to {MAX_MTU} (9000 for jumbo frames)", k + 1, pair.a, pair.b));
                }
            }
        }
        if let Some(room) = self.mbuf_data_room {
            let need = self.data_room_needed();
            if room < need {
                return Err(match self.largest_mtu() {
                    Some(mtu) => format!("key `mbuf_data_room` = {room} cannot hold the frames of `mtu` = {mtu} ({} bytes + {HEADROOM} headroom); use at least {need}, or leave it out (it is then sized from the MTU)", frame_of_mtu(mtu)),
                    None => format!("key `mbuf_data_room` = {room}; use at least {need} (1518-byte frames + {HEADROOM} headroom)"),
                });
            }
        }
        if !self.hugepages && self.memory_mb < 64 {
            return Err(format!("key `memory_mb` = {}; --no-huge needs at least 64", self.memory_mb));
        }
        Ok(())
    }

    fn port_names(&self) -> String {
        self.ports.iter().map(|p| format!("`{}`", p.name)).collect::<Vec<_>>().join(", ")
    }

    pub fn port_index(&self, name: &str) -> Option<usize> {
        self.ports.iter().position(|p| p.name == name)
    }

    pub fn device(&self, i: usize) -> Device {
        Device::parse(&self.ports[i].device).expect("validated")
    }

    pub fn has_pci(&self) -> bool {
        (0..self.ports.len()).any(|i| matches!(self.device(i), Device::Pci { .. }))
    }

    /// Per port: the index of the port it forwards to (None for the mirror port).
    pub fn peers(&self) -> Vec<Option<usize>> {
        let mut v = vec![None; self.ports.len()];
        for pr in &self.pairs {
            let (a, b) = (self.port_index(&pr.a).unwrap(), self.port_index(&pr.b).unwrap());
            v[a] = Some(b);
            v[b] = Some(a);
        }
        v
    }

    pub fn mirror_index(&self) -> Option<usize> {
        self.mirror.as_deref().and_then(|m| self.port_index(m))
    }

    /// The EAL command line for this profile. `file_prefix` must be unique per process.
    pub fn eal_args(&self, file_prefix: &str) -> Vec<String> {
        let mut lcores = vec![self.main_lcore];
        lcores.extend(&self.worker_lcores);
        let (lflag, lvalue) = match &self.worker_cpus {
            // `--lcores`: each lcore on its CPU (the main lcore on its own number's).
            Some(cpus) => (
                "--lcores",
                std::iter::once((self.main_lcore, self.main_lcore))
                    .chain(self.worker_lcores.iter().copied().zip(cpus.iter().copied()))
                    .map(|(l, c)| format!("{l}@{c}"))
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            None => ("-l", lcores.iter().map(u32::to_string).collect::<Vec<_>>().join(",")),
        };
        let mut a = vec![
            "antidote".to_string(),
            lflag.into(),
            lvalue,
            format!("--main-lcore={}", self.main_lcore),
            format!("--file-prefix={file_prefix}"),
            "--log-level=*:warning".into(),
        ];
        if !self.telemetry {
            a.push("--no-telemetry".into());
        }
        if self.hugepages {
            a.push("--in-memory".into());
        } else {
            a.push("--no-huge".into());
            a.push("-m".into());
            a.push(self.memory_mb.to_string());
        }
        if !self.has_pci() {
            a.push("--no-pci".into());
        }
        for p in &self.ports {
            match Device::parse(&p.device).expect("validated") {
                Device::Pci { full, .. } => {
                    a.push("-a".into());
                    a.push(full);
                }
                Device::Vdev { .. } => a.push(format!("--vdev={}", p.device)),
            }
        }
        a.extend(self.eal_args.iter().cloned());
        a
    }
}

impl Profile {
    /// Whether port `i`'s link loss is propagated to its peer (its pair's `link_propagation`).
    pub fn link_propagation(&self, i: usize) -> bool {
        let name = &self.ports[i].name;
        let Some(pair) = self.pairs.iter().find(|p| &p.a == name || &p.b == name) else { return false };
        let pci = |n: &str| self.port_index(n).is_some_and(|j| matches!(self.device(j), Device::Pci { .. }));
        pair.link_propagation.unwrap_or(pci(&pair.a) && pci(&pair.b))
    }

    /// Mbufs the ports' descriptors and the workers' caches and bursts can hold at once: the
    /// least `mempool_mbufs` that never starves a queue.
    pub fn mbufs_needed(&self) -> u32 {
        let workers = self.worker_lcores.len();
        self.ports.iter().map(|p| p.rx_queues as u32 * p.rx_desc as u32 + p.tx_queues(workers) as u32 * p.tx_desc as u32).sum::<u32>()
            + (workers as u32 + 1) * (self.mempool_cache + 4 * antidote_dpdk::BURST_SIZE as u32)
    }

    /// MiB of DPDK memory the run needs: the mempool (each mbuf its data room, its 128-byte
    /// header and the pool's 64-byte object header) and 64 MiB for DPDK's own tables and rings.
    pub fn memory_needed_mb(&self) -> u64 {
        (self.mempool_mbufs as u64 * (self.data_room() as u64 + 192)).div_ceil(1 << 20) + 64
    }

    /// The MTU port `i` is set to: its pair's `mtu`; the mirror port's is the largest (it carries
    /// copies of every pair's frames).
    pub fn mtu_of(&self, i: usize) -> Option<u16> {
        let name = self.ports.get(i)?.name.as_str();
        if self.mirror.as_deref() == Some(name) {
            return self.largest_mtu();
        }
        self.pairs.iter().find(|p| p.a == name || p.b == name).and_then(|p| p.mtu)
    }

    /// The largest `mtu` of the pairs, if any sets one.
    pub fn largest_mtu(&self) -> Option<u16> {
        self.pairs.iter().filter_map(|p| p.mtu).max()
    }

    /// The smallest data room that holds a frame of every pair after the headroom: 1664 for
    /// 1500-byte MTUs (1518-byte frames, a tag), more for jumbo frames.
    /// A `net_af_packet` port copies whole ring frames (its `framesz`, 2048 by default, less 32
    /// bytes of the ring's header) into one mbuf: the room grows to hold them.
    fn data_room_needed(&self) -> u16 {
        let frame = frame_of_mtu(self.largest_mtu().unwrap_or(1500).max(1500));
        let rings = (0..self.ports.len())
            .filter_map(|i| match self.device(i) {
                d @ Device::Vdev { .. } if matches!(&d, Device::Vdev { name, .. } if name.starts_with("net_af_packet")) => {
                    Some(d.arg("framesz").and_then(|v| v.parse::<u32>().ok()).unwrap_or(2048).saturating_sub(32))
                }
                _ => None,
            })
            .max()
            .unwrap_or(0);
        (frame.max(rings) + HEADROOM).next_multiple_of(64).clamp(1664, u16::MAX as u32 & !63) as u16
    }

    /// Bytes per mbuf buffer, headroom included: `mbuf_data_room` when set, else 2176 or what
    /// the largest `mtu` needs, whichever is more.
    pub fn data_room(&self) -> u16 {
        self.mbuf_data_room.unwrap_or_else(|| self.data_room_needed().max(DEFAULT_DATA_ROOM))
    }
}

impl PortSpec {
    /// TX queues to set up: as configured, or one per worker.
    pub fn tx_queues(&self, workers: usize) -> u16 {
        self.tx_queues.unwrap_or(workers as u16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "t"
worker_lcores = [1]
[[port]]
name = "a"
device = "net_ring0"
tx_queues = 1
[[port]]
name = "b"
device = "net_ring1"
tx_queues = 1
[[pair]]
a = "a"
b = "b"
"#;

    fn bad(text: &str) -> String {
        Profile::parse(text, "x.toml").unwrap_err().to_string()
    }

    #[test]
    fn good_profile_parses_and_builds_eal_args() {
        let p = Profile::parse(GOOD, "x.toml").unwrap();
        assert_eq!(p.peers(), vec![Some(1), Some(0)]);
        let a = p.eal_args("pfx");
        assert!(a.contains(&"--no-pci".to_string()));
        assert!(a.contains(&"--vdev=net_ring0".to_string()));
        assert!(a.contains(&"--no-huge".to_string()));
        assert!(a.contains(&"--file-prefix=pfx".to_string()));
        assert_eq!(a[2], "0,1");
        // More worker lcores than CPUs: each placed on its CPU.
        let two = Profile::parse(
            &GOOD.replace("worker_lcores = [1]", "worker_lcores = [1, 2]\nworker_cpus = [1, 0]").replace("tx_queues = 1", "tx_queues = 2"),
            "x.toml",
        )
        .unwrap();
        let a = two.eal_args("pfx");
        assert_eq!((a[1].as_str(), a[2].as_str()), ("--lcores", "0@0,1@1,2@0"));
        assert!(bad(&GOOD.replace("worker_lcores = [1]", "worker_lcores = [1, 2]\nworker_cpus = [1]")).contains("one CPU per entry"));
    }

    #[test]
    fn unknown_key_names_file_line_key_and_fix() {
        let e = bad(&GOOD.replace("tx_queues = 1\n[[port]]", "tx_queus = 1\n[[port]]"));
        assert!(e.starts_with("x.toml: line "), "{e}");
        assert!(e.contains("unknown field `tx_queus`"), "{e}");
        assert!(e.contains("fix the key"), "{e}");
    }

    #[test]
    fn a_canary_identity_is_both_keys_a_unicast_mac_and_a_host_address() {
        let with = |extra: &str| GOOD.replace("b = \"b\"\n", &format!("b = \"b\"\n{extra}\n"));
        let p = Profile::parse(&with("canary_mac = \"02:cc:00:00:00:fa\"\ncanary_ipv4 = \"198.18.0.250/24\""), "x.toml").unwrap();
        let id = p.pairs[0].canary().unwrap()[0];
        assert_eq!(
            (id.ip4.to_string(), id.broadcast.to_string(), id.ll6.to_string()),
            ("198.18.0.250".into(), "198.18.0.255".into(), "fe80::cc:ff:fe00:fa".into())
        );
        assert!(bad(&with("canary_mac = \"02:cc:00:00:00:fa\"")).contains("give both `canary_mac` and `canary_ipv4`"));
        assert!(bad(&with("canary_mac = \"03:cc:00:00:00:fa\"\ncanary_ipv4 = \"198.18.0.250/24\"")).contains("must be a unicast address"));
        assert!(bad(&with("canary_mac = \"02:cc:00:00:fa\"\ncanary_ipv4 = \"198.18.0.250/24\"")).contains("is not a MAC address"));
        assert!(bad(&with("canary_mac = \"02:cc:00:00:00:fa\"\ncanary_ipv4 = \"198.18.0.250\"")).contains("needs its prefix length"));
        assert!(bad(&with("canary_mac = \"02:cc:00:00:00:fa\"\ncanary_ipv4 = \"198.18.0.255/24\"")).contains("broadcast address"));
        // Several identities: one address per MAC, all different.
        let two = "canary_mac = [\"02:cc:00:00:00:fa\", \"02:cc:00:00:00:fb\"]\ncanary_ipv4 = [\"198.18.0.250/24\", \"198.18.0.251/24\"]";
        let ids = Profile::parse(&with(two), "x.toml").unwrap().pairs[0].canary().unwrap();
        assert_eq!(ids.iter().map(|i| i.ip4.to_string()).collect::<Vec<_>>(), ["198.18.0.250", "198.18.0.251"]);
        assert!(bad(&with("canary_mac = [\"02:cc:00:00:00:fa\", \"02:cc:00:00:00:fb\"]\ncanary_ipv4 = \"198.18.0.250/24\""))
            .contains("one `canary_ipv4` per `canary_mac`"));
        assert!(bad(&with("canary_mac = [\"02:cc:00:00:00:fa\", \"02:cc:00:00:00:fa\"]\ncanary_ipv4 = [\"198.18.0.250/24\", \"198.18.0.251/24\"]"))
            .contains("repeats"));
        // Per VLAN: one address per MAC, a VLAN ID in range, the base identity given.
        let vlans = format!("{two}\n[[pair.canary_vlan]]\nvlan = 42\nipv4 = [\"198.18.42.250/24\", \"198.18.42.251/24\"]");
        let p = Profile::parse(&with(&vlans), "x.toml").unwrap();
        let v = p.pairs[0].canary_vlans().unwrap();
        assert_eq!(v.len(), 1);
        assert_eq!((v[0].0, v[0].1[1].ip4.to_string(), v[0].1[1].broadcast.to_string()), (42, "198.18.42.251".into(), "198.18.42.255".into()));
        assert_eq!(v[0].1[1].mac, ids[1].mac);
        assert!(bad(&with(&vlans.replace("vlan = 42", "vlan = 4095"))).contains("from 1 to 4094"));
        assert!(bad(&with(&vlans.replace(", \"198.18.42.251/24\"", ""))).contains("one `ipv4` per `canary_mac`"));
        assert!(bad(&with("[[pair.canary_vlan]]\nvlan = 42\nipv4 = \"198.18.42.250/24\"")).contains("needs the pair's `canary_mac`"));
        assert!(bad(&with(&vlans.replace("198.18.42.251/24", "198.18.42.255/24"))).contains("broadcast address"));
    }

    #[test]
    fn pair_naming_missing_port() {
        let e = bad(&GOOD.replace("b = \"b\"", "b = \"c\""));
        assert!(e.contains("key `b` names port `c`, which no [[port]] declares"), "{e}");
    }

    #[test]
    fn more_queues_than_workers() {
        let e = bad(&GOOD.replace("device = \"net_ring0\"", "device = \"net_ring0\"\nrx_queues = 4"));
        assert!(e.contains("`rx_queues` = 4 but only 1 worker"), "{e}");
        let e = bad(&GOOD.replace("tx_queues = 1\n[[port]]", "tx_queues = 0\n[[port]]"));
        assert!(e.contains("needs its own TX queue"), "{e}");
    }

    #[test]
    fn other_mistakes() {
        assert!(bad(&GOOD.replace("[1]", "[0]")).contains("which is `main_lcore`"));
        assert!(bad(&GOOD.replace("[1]", "[]")).contains("`worker_lcores` is empty"));
        assert!(bad(&GOOD.replace("net_ring1", "net_ring0")).contains("names net_ring0 again"));
        assert!(bad(&GOOD.replace("net_ring1", "eth1")).contains("neither a PCI address"));
        assert!(bad(&GOOD.replace("name = \"b\"", "name = \"a\"")).contains("unique name"));
        assert!(bad(&GOOD.replace("worker_lcores = [1]", "worker_lcores = [1]\nmirror = \"a\"")).contains("which is in a pair"));
        assert!(bad(&GOOD.replace("[[port]]\nname = \"a\"", "[[port]]\nrx_desc = 1000\nname = \"a\"")).contains("power of two"));
        assert!(bad("name = 1").contains("line 1"));
    }

    #[test]
    fn pci_and_vdev_devices() {
        let d = Device::parse("0000:3b:00.0,mprq_en=1").unwrap();
        assert_eq!(d.port_name(), "0000:3b:00.0");
        assert!(matches!(d, Device::Pci { ref full, .. } if full == "0000:3b:00.0,mprq_en=1"));
        assert_eq!(Device::parse("3b:00.1").unwrap().port_name(), "3b:00.1");
        assert_eq!(Device::parse("0000:3b:00.9"), None);
        let d = Device::parse("net_af_packet0,iface=ad-a,qpairs=2").unwrap();
        assert_eq!(d.port_name(), "net_af_packet0");
        assert_eq!(d.arg("iface"), Some("ad-a"));
        assert_eq!(Device::parse("eth0"), None);
    }

    #[test]
    fn shipped_profiles_are_valid() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../hw-profiles");
        let mut n = 0;
        for e in std::fs::read_dir(dir).unwrap() {
            let path = e.unwrap().path();
            if path.extension().and_then(|x| x.to_str()) == Some("toml") {
                Profile::load(&path).unwrap_or_else(|e| panic!("{e}"));
                n += 1;
            }
        }
        assert!(n >= 8, "expected the shipped profiles, found {n}");
    }

    #[test]
    fn a_pair_mtu_sizes_the_mbufs_and_is_bounded() {
        // Default: 2176-byte buffers, no MTU set.
        let p = Profile::parse(GOOD, "x.toml").unwrap();
        assert_eq!((p.data_room(), p.largest_mtu(), p.mtu_of(0)), (2176, None, None));
        // Jumbo frames: a 9022-byte frame after the 128-byte headroom, rounded up to 64.
        let jumbo = GOOD.replace("a = \"a\"\nb = \"b\"", "a = \"a\"\nb = \"b\"\nmtu = 9000");
        let p = Profile::parse(&jumbo, "x.toml").unwrap();
        assert_eq!((p.data_room(), p.largest_mtu(), p.mtu_of(0), p.mtu_of(1)), (9152, Some(9000), Some(9000), Some(9000)));
        assert!(p.memory_needed_mb() > Profile::parse(GOOD, "x.toml").unwrap().memory_needed_mb());
        // A data room set too small for the MTU is refused with the size to use.
        let e = bad(&format!("mbuf_data_room = 2176\n{jumbo}"));
        assert!(e.contains("`mbuf_data_room` = 2176 cannot hold the frames of `mtu` = 9000") && e.contains("at least 9152"), "{e}");
        assert!(Profile::parse(&format!("mbuf_data_room = 9216\n{jumbo}"), "x.toml").is_ok());
        let e = bad(&format!("mbuf_data_room = 1500\n{GOOD}"));
        assert!(e.contains("use at least 1664"), "{e}");
        // Out of range.
        let e = bad(&GOOD.replace("b = \"b\"\n", "b = \"b\"\nmtu = 65000\n"));
        assert!(e.contains("key `mtu` = 65000; use 576 to 9702"), "{e}");
    }
}
