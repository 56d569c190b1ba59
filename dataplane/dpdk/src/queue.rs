//! A started port's RX and TX queues as a worker polls them. `rte_eth_rx_burst` and
//! `rte_eth_tx_burst` look up the queue's burst function, its queue pointer and its callbacks
//! in ethdev's fast-path table (`rte_eth_fp_ops`) on every call: at full rate those lines have
//! been pushed out of L1 by the PMD's own copy since the last burst, and the loads stall
//! (`bench/RESULTS.md`, session 29). A queue handle reads them once, when it is made, and
//! calls the PMD's function directly.
//!
//! A handle stays valid only while its port stays started as it was: every configuration,
//! start, stop and close of a port (through [`Port`]) moves the port's epoch, and a handle made
//! in an earlier epoch goes through `rte_eth_rx_burst` / `rte_eth_tx_burst` again — which
//! serve a stopped port with ethdev's dummy functions. A queue with callbacks always goes
//! through them too (antidote installs none).
use crate::ffi;
use crate::mbuf::Burst;
use crate::port::Port;
use std::os::raw::c_void;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

const PORTS: usize = ffi::RTE_MAX_ETHPORTS as usize;

/// Per port: odd while the port is started, moved on by every change of its state (so a
/// started port's value is never the value of an earlier start).
static EPOCH: [AtomicU32; PORTS] = [const { AtomicU32::new(0) }; PORTS];

fn epoch(port: u16) -> Option<&'static AtomicU32> {
    EPOCH.get(port as usize)
}

/// The port is about to change state (configure, start, stop, close): not started.
pub(crate) fn port_changes(port: u16) {
    if let Some(e) = epoch(port) {
        let v = e.load(Relaxed);
        if v & 1 == 1 {
            e.store(v.wrapping_add(1), Relaxed);
        }
    }
}

/// The port's start returned; `ok`: it is started.
pub(crate) fn port_started(port: u16, ok: bool) {
    if let (Some(e), true) = (epoch(port), ok) {
        let v = e.load(Relaxed);
        if v & 1 == 0 {
            e.store(v.wrapping_add(1), Relaxed);
        }
    }
}

/// A queue's burst function and queue pointer, read at `epoch` of its port.
#[derive(Clone, Copy, Debug)]
struct Direct {
    f: unsafe extern "C" fn(*mut c_void, *mut *mut ffi::rte_mbuf, u16) -> u16,
    data: *mut c_void,
    /// The port's epoch cell (kept here: a static of this crate read from the dataplane's code
    /// is reached through the executable's global offset table, one more load) and its value
    /// when the handle was made.
    cell: &'static AtomicU32,
    epoch: u32,
}

impl Direct {
    fn read(port: u16, queue: u16, rx: bool) -> Option<Direct> {
        let cell = epoch(port)?;
        let epoch = cell.load(Relaxed);
        if epoch & 1 == 0 {
            return None;
        }
        let (mut f, mut data) = (None, std::ptr::null_mut());
        // SAFETY: valid out-pointers; the shim checks the ids against ethdev's bounds and
        // reads the port's entry of the fast-path table, as the burst functions do.
        let rc = unsafe { ffi::ad_queue_fn(port, queue, rx as i32, &mut f, &mut data) };
        Some(Direct { f: f.filter(|_| rc == 0)?, data, cell, epoch })
    }

    /// Still the port's started state it was read in.
    #[inline(always)]
    fn current(self: &Direct) -> bool {
        self.cell.load(Relaxed) == self.epoch
    }
}

// SAFETY: the queue pointer is ethdev's, handed to the PMD's function only; which lcore polls
// a queue is the caller's plan (one lcore per queue), as with `rte_eth_rx_burst`.
unsafe impl Send for Direct {}
// SAFETY: as above; the handle itself is never written after it is made.
unsafe impl Sync for Direct {}

/// A queue of a port, with its PMD's function when a burst can call it directly.
#[derive(Clone, Copy, Debug)]
struct Queue {
    port: Port,
    queue: u16,
    direct: Option<Direct>,
}

impl Queue {
    fn new(port: Port, queue: u16, rx: bool) -> Queue {
        Queue { port, queue, direct: Direct::read(port.id(), queue, rx) }
    }

    /// The PMD's function and queue, while the port is still started as it was.
    #[inline(always)]
    fn direct(&self) -> Option<Direct> {
        self.direct.filter(Direct::current)
    }
}

/// RX queue `queue` of a started port ([`Port::rx_queue`]).
#[derive(Clone, Copy, Debug)]
pub struct RxQueue(Queue);

/// TX queue `queue` of a started port ([`Port::tx_queue`]).
#[derive(Clone, Copy, Debug)]
pub struct TxQueue(Queue);

macro_rules! queue_handle {
    ($t:ident, $rx:expr) => {
        impl $t {
            pub(crate) fn new(port: Port, queue: u16) -> $t {
                $t(Queue::new(port, queue, $rx))
            }

            /// Whether a burst calls the PMD's function directly (the port started, as it was
            /// when the handle was made, and the queue without callbacks); else it goes
            /// through ethdev.
            pub fn is_direct(&self) -> bool {
                self.0.direct().is_some()
            }

            pub fn port(&self) -> Port {
                self.0.port
            }
        }
    };
}
queue_handle!(RxQueue, true);
queue_handle!(TxQueue, false);

impl RxQueue {
    /// Receives into the free slots of `burst`; returns how many arrived ([`Port::rx_burst`]).
    #[inline(always)]
    pub fn rx_burst(&self, burst: &mut Burst) -> usize {
        match self.0.direct() {
            Some(d) => {
                let (p, room) = burst.spare_ptr();
                // SAFETY: `d` was read from ethdev's table while the port was started, and the
                // port has not changed state since (its epoch): the function and queue are the
                // ones `rte_eth_rx_burst` would call. p points at `room` free slots of the
                // burst; the PMD writes at most `room` owned mbuf pointers there. Each (port,
                // queue) is polled by one lcore only (the dataplane's queue plan).
                let n = unsafe { (d.f)(d.data, p, room) } as usize;
                burst.filled(n);
                n
            }
            None => self.0.port.rx_burst(self.0.queue, burst),
        }
    }
}

impl TxQueue {
    /// Sends from the front of `burst`; returns how many the PMD took ([`Port::tx_burst`]).
    #[inline(always)]
    pub fn tx_burst(&self, burst: &mut Burst) -> usize {
        match self.0.direct() {
            Some(d) => {
                let (p, n) = burst.head_ptr();
                if n == 0 {
                    return 0;
                }
                // SAFETY: as in `RxQueue::rx_burst`: the function and queue `rte_eth_tx_burst`
                // would call. p points at n owned mbufs; the PMD takes ownership of the first
                // `sent`. Each (port, queue) is used by one lcore only.
                let sent = unsafe { (d.f)(d.data, p, n) } as usize;
                burst.consumed(sent);
                sent
            }
            None => self.0.port.tx_burst(self.0.queue, burst),
        }
    }
}
