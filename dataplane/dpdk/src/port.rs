//! Ethernet ports: lookup, configure, queues, start/stop, link, MAC, stats, RX/TX bursts.
use crate::ffi;
use crate::mbuf::Burst;
use crate::mempool::Mempool;
use std::ffi::CString;

/// A DPDK port id. Cheap to copy; the owner decides when to stop and close it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Port(u16);

/// How to set a port up.
#[derive(Clone, Debug)]
pub struct PortConfig {
    pub rx_queues: u16,
    pub tx_queues: u16,
    pub rx_desc: u16,
    pub tx_desc: u16,
    /// Spread RX over the queues by an IP/TCP/UDP hash (when rx_queues > 1 and the PMD can).
    pub rss: bool,
    /// Receive every frame whatever its destination MAC (a bump in the wire must).
    pub promiscuous: bool,
    /// Ask the PMD to stamp each frame with its RX time, when it can ([`crate::RxTimestamp`]:
    /// `net_pcap` gives the capture's time — what `antidote replay` judges by).
    pub rx_timestamp: bool,
    /// The IP MTU to set (jumbo frames); None leaves the driver's default (1500). The mempool's
    /// data room must hold its frames.
    pub mtu: Option<u16>,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct LinkStatus {
    pub up: bool,
    pub speed_mbps: u32,
    pub full_duplex: bool,
}

/// The PMD's own counters for a port.
#[derive(Clone, Copy, Debug, Default)]
pub struct PortStats {
    pub ipackets: u64,
    pub opackets: u64,
    pub ibytes: u64,
    pub obytes: u64,
    /// RX frames dropped by the hardware/PMD because no descriptor was free.
    pub imissed: u64,
    pub ierrors: u64,
    pub oerrors: u64,
    pub rx_nombuf: u64,
}

fn check(rc: i32, what: &str) -> Result<(), String> {
    if rc < 0 {
        Err(format!("{what}: {}", crate::strerror(rc)))
    } else {
        Ok(())
    }
}

impl Port {
    /// The port whose device name is `name` (a PCI address or the vdev name, e.g. `net_pcap0`).
    pub fn by_name(name: &str) -> Option<Port> {
        let c = CString::new(name).ok()?;
        let mut id = 0u16;
        // SAFETY: c is a valid C string; id is a valid out-pointer.
        let rc = unsafe { ffi::rte_eth_dev_get_port_by_name(c.as_ptr(), &mut id) };
        (rc == 0).then_some(Port(id))
    }

    /// Ports EAL probed, in id order.
    pub fn all() -> Vec<Port> {
        let mut v = Vec::new();
        // SAFETY: iterating the ethdev table; RTE_ETH_DEV_NO_OWNER (0) lists unowned ports.
        let mut p = unsafe { ffi::rte_eth_find_next_owned_by(0, 0) };
        while (p as u32) < ffi::RTE_MAX_ETHPORTS {
            v.push(Port(p as u16));
            // SAFETY: as above.
            p = unsafe { ffi::rte_eth_find_next_owned_by((p + 1) as u16, 0) };
        }
        v
    }

    pub fn id(self) -> u16 {
        self.0
    }

    /// The device name (PCI address or vdev name).
    pub fn name(self) -> String {
        let mut buf = [0 as std::os::raw::c_char; 64];
        // SAFETY: buf is a writable buffer of RTE_ETH_NAME_MAX_LEN (64) bytes.
        let rc = unsafe { ffi::rte_eth_dev_get_name_by_port(self.0, buf.as_mut_ptr()) };
        if rc != 0 {
            return format!("port{}", self.0);
        }
        // SAFETY: DPDK wrote a NUL-terminated string into buf.
        unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned()
    }

    /// NUMA socket of the port (-1 when unknown, e.g. vdevs).
    pub fn socket(self) -> i32 {
        // SAFETY: any port id is accepted; invalid ones return -1.
        unsafe { ffi::rte_eth_dev_socket_id(self.0) }
    }

    /// The driver's limits: (max rx queues, max tx queues, driver name).
    pub fn limits(self) -> Result<(u16, u16, String), String> {
        let info = self.info()?;
        let drv = if info.driver_name.is_null() {
            String::new()
        } else {
            // SAFETY: driver_name points at the driver's static NUL-terminated name.
            unsafe { std::ffi::CStr::from_ptr(info.driver_name) }.to_string_lossy().into_owned()
        };
        Ok((info.max_rx_queues, info.max_tx_queues, drv))
    }

    fn info(self) -> Result<ffi::rte_eth_dev_info, String> {
        let mut info = ffi::rte_eth_dev_info::default();
        // SAFETY: info is a valid out-pointer of the right type.
        check(unsafe { ffi::rte_eth_dev_info_get(self.0, &mut info) }, "rte_eth_dev_info_get")?;
        Ok(info)
    }

    /// Configures the port and its queues (mbufs from `pool`). Call before [`Port::start`].
    pub fn configure(self, cfg: &PortConfig, pool: &Mempool) -> Result<(), String> {
        crate::queue::port_changes(self.0);
        let info = self.info()?;
        if cfg.rx_queues > info.max_rx_queues || cfg.tx_queues > info.max_tx_queues {
            return Err(format!(
                "{} supports at most {} RX and {} TX queues; the profile asks for {} and {}",
                self.name(),
                info.max_rx_queues,
                info.max_tx_queues,
                cfg.rx_queues,
                cfg.tx_queues
            ));
        }
        let mut conf = ffi::rte_eth_conf::default();
        let rss_hf = ffi::RSS_IP_TCP_UDP & info.flow_type_rss_offloads;
        if cfg.rss && cfg.rx_queues > 1 && rss_hf != 0 {
            conf.rxmode.mq_mode = ffi::rte_eth_rx_mq_mode_RTE_ETH_MQ_RX_RSS;
            conf.rx_adv_conf.rss_conf.rss_hf = rss_hf;
        }
        if cfg.rx_timestamp && info.rx_offload_capa & ffi::RX_OFFLOAD_TIMESTAMP != 0 {
            conf.rxmode.offloads |= ffi::RX_OFFLOAD_TIMESTAMP;
        }
        if let Some(mtu) = cfg.mtu {
            // As ethdev checks it: the MTU within the driver's bounds, its frame (with the
            // driver's overhead, 18 bytes when it says none) within the driver's largest.
            let overhead = if info.max_mtu != u16::MAX && info.max_rx_pktlen > info.max_mtu as u32 { info.max_rx_pktlen - info.max_mtu as u32 } else { 18 };
            if mtu > info.max_mtu || mtu < info.min_mtu || mtu as u32 + overhead > info.max_rx_pktlen {
                return Err(format!(
                    "{} takes an MTU of {} to {} (frames up to {} bytes); the profile asks for {mtu}",
                    self.name(),
                    info.min_mtu,
                    info.max_mtu.min(info.max_rx_pktlen.saturating_sub(overhead).min(u16::MAX as u32) as u16),
                    info.max_rx_pktlen
                ));
            }
            conf.rxmode.mtu = mtu as u32;
        }
        // SAFETY: conf is a valid, fully initialised rte_eth_conf.
        check(unsafe { ffi::rte_eth_dev_configure(self.0, cfg.rx_queues, cfg.tx_queues, &conf) }, "rte_eth_dev_configure")?;
        let (mut nrx, mut ntx) = (cfg.rx_desc, cfg.tx_desc);
        // SAFETY: valid out-pointers; the PMD rounds the counts to what it supports.
        check(unsafe { ffi::rte_eth_dev_adjust_nb_rx_tx_desc(self.0, &mut nrx, &mut ntx) }, "rte_eth_dev_adjust_nb_rx_tx_desc")?;
        let socket = self.socket().max(0) as u32;
        for q in 0..cfg.rx_queues {
            // SAFETY: port configured above; null rxconf = driver defaults; the pool outlives
            // the port (the owner stops ports before dropping the pool).
            check(unsafe { ffi::rte_eth_rx_queue_setup(self.0, q, nrx, socket, std::ptr::null(), pool.as_ptr()) }, "rte_eth_rx_queue_setup")?;
        }
        for q in 0..cfg.tx_queues {
            // SAFETY: port configured above; null txconf = driver defaults.
            check(unsafe { ffi::rte_eth_tx_queue_setup(self.0, q, ntx, socket, std::ptr::null()) }, "rte_eth_tx_queue_setup")?;
        }
        if let Some(mtu) = cfg.mtu {
            // SAFETY: a configured port; the call takes no pointer.
            let rc = unsafe { ffi::rte_eth_dev_set_mtu(self.0, mtu) };
            // A driver with no MTU to set (net_ring, net_null, net_pcap) carries any frame that
            // fits the mbufs.
            if rc != 0 && rc != -ENOTSUP {
                return Err(format!("{}: rte_eth_dev_set_mtu({mtu}): {}", self.name(), std::io::Error::from_raw_os_error(-rc)));
            }
        }
        if cfg.promiscuous {
            // SAFETY: valid configured port. Some vdevs cannot (e.g. net_ring): not an error.
            unsafe { ffi::rte_eth_promiscuous_enable(self.0) };
            // SAFETY: as above.
            unsafe { ffi::rte_eth_allmulticast_enable(self.0) };
        }
        Ok(())
    }

    pub fn start(self) -> Result<(), String> {
        crate::queue::port_changes(self.0);
        // SAFETY: starting a configured port.
        let rc = unsafe { ffi::rte_eth_dev_start(self.0) };
        crate::queue::port_started(self.0, rc == 0);
        check(rc, "rte_eth_dev_start")
    }

    pub fn stop(self) {
        crate::queue::port_changes(self.0);
        // SAFETY: stopping a port is valid in any state; errors are ignored at shutdown.
        unsafe { ffi::rte_eth_dev_stop(self.0) };
    }

    pub fn close(self) {
        crate::queue::port_changes(self.0);
        // SAFETY: closing a stopped port releases its queues; the id is not used again.
        unsafe { ffi::rte_eth_dev_close(self.0) };
    }

    /// RX queue `queue` of this started port, with its PMD's burst function read once
    /// ([`crate::RxQueue`]).
    pub fn rx_queue(self, queue: u16) -> crate::RxQueue {
        crate::RxQueue::new(self, queue)
    }

    /// TX queue `queue` of this started port ([`crate::TxQueue`]).
    pub fn tx_queue(self, queue: u16) -> crate::TxQueue {
        crate::TxQueue::new(self, queue)
    }

    /// The port's MAC address (the dissectors' `Mac` wraps it where one is needed).
    pub fn mac(self) -> [u8; 6] {
        let mut a = ffi::rte_ether_addr::default();
        // SAFETY: a is a valid out-pointer.
        unsafe { ffi::rte_eth_macaddr_get(self.0, &mut a) };
        a.addr_bytes
    }

    pub fn link(self) -> LinkStatus {
        let mut l = ffi::rte_eth_link::default();
        // SAFETY: l is a valid out-pointer; nowait never blocks.
        unsafe { ffi::rte_eth_link_get_nowait(self.0, &mut l) };
        LinkStatus { up: l.link_status() != 0, speed_mbps: l.link_speed, full_duplex: l.link_duplex() != 0 }
    }

    /// Sets the port's link down or up (`rte_eth_dev_set_link_down` / `_up`): what the
    /// neighbours see as a cable pulled. Not every driver can (the error says which).
    pub fn set_link(self, up: bool) -> Result<(), String> {
        // SAFETY: the port id is a started port's; the calls take no pointer.
        let rc = unsafe {
            if up {
                ffi::rte_eth_dev_set_link_up(self.0)
            } else {
                ffi::rte_eth_dev_set_link_down(self.0)
            }
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(format!("rte_eth_dev_set_link_{}: {}", if up { "up" } else { "down" }, std::io::Error::from_raw_os_error(-rc)))
        }
    }

    pub fn stats(self) -> PortStats {
        let mut s = ffi::rte_eth_stats::default();
        // SAFETY: s is a valid out-pointer.
        unsafe { ffi::rte_eth_stats_get(self.0, &mut s) };
        PortStats {
            ipackets: s.ipackets,
            opackets: s.opackets,
            ibytes: s.ibytes,
            obytes: s.obytes,
            imissed: s.imissed,
            ierrors: s.ierrors,
            oerrors: s.oerrors,
            rx_nombuf: s.rx_nombuf,
        }
    }

    /// Receives into the free slots of `burst`; returns how many arrived.
    #[inline(always)]
    pub fn rx_burst(self, queue: u16, burst: &mut Burst) -> usize {
        self.rx_burst_up_to(queue, burst, u16::MAX)
    }

    /// [`Port::rx_burst`] of at most `max` frames (a replay reads a capture frame by frame, each
    /// at its own time).
    #[inline(always)]
    pub fn rx_burst_up_to(self, queue: u16, burst: &mut Burst, max: u16) -> usize {
        let (p, room) = burst.spare_ptr();
        let room = room.min(max);
        // SAFETY: p points at `room` free slots of the burst; the PMD writes at most `room`
        // owned mbuf pointers there. Each (port, queue) is polled by one lcore only (the
        // dataplane's queue plan guarantees it).
        let n = unsafe { ffi::ad_rx_burst(self.0, queue, p, room) } as usize;
        burst.filled(n);
        n
    }

    /// Sends from the front of `burst`; returns how many the PMD took. What it did not take
    /// stays in the burst (moved to the front) for the caller to retry or free.
    #[inline(always)]
    pub fn tx_burst(self, queue: u16, burst: &mut Burst) -> usize {
        let (p, n) = burst.head_ptr();
        if n == 0 {
            return 0;
        }
        // SAFETY: p points at n owned mbufs; the PMD takes ownership of the first `sent`.
        // Each (port, queue) is used by one lcore only.
        let sent = unsafe { ffi::ad_tx_burst(self.0, queue, p, n) } as usize;
        burst.consumed(sent);
        sent
    }
}

/// ENOTSUP on Linux (DPDK returns it negated).
const ENOTSUP: i32 = 95;
