//! Packet buffers: an owned [`Mbuf`] and a fixed-capacity [`Burst`] of them.
use crate::ffi;
use crate::mempool::Mempool;
use std::ptr::NonNull;

/// Frames handled per RX/TX call.
pub const BURST_SIZE: usize = 32;

/// Where a PMD writes each frame's RX timestamp (the mbuf's dynamic timestamp field, with its
/// flag), when a port was configured with [`crate::port::PortConfig::rx_timestamp`]: `net_pcap`
/// writes the capture's timestamp there.
#[derive(Debug, Clone, Copy)]
pub struct RxTimestamp {
    offset: usize,
    flag: u64,
}

impl RxTimestamp {
    /// The field, once a port that writes it is configured (None before, or if none does).
    pub fn lookup() -> Option<RxTimestamp> {
        let mut flag = 0u64;
        // SAFETY: flag is a valid out-pointer; the lookups only read DPDK's registry.
        let offset = unsafe { ffi::ad_rx_timestamp_field(&mut flag) };
        (offset >= 0 && flag != 0).then_some(RxTimestamp { offset: offset as usize, flag })
    }

    /// The RX timestamp of `m`, if its PMD wrote one (units are the PMD's: microseconds for
    /// `net_pcap`).
    #[inline]
    pub fn of(&self, m: &Mbuf) -> Option<u64> {
        if m.raw().ol_flags & self.flag == 0 {
            return None;
        }
        // SAFETY: DPDK registered `offset` for an 8-byte timestamp inside the mbuf's dynamic
        // field area (within the mbuf struct); the flag says the PMD wrote it; read unaligned.
        Some(unsafe { (m.0.as_ptr() as *const u8).add(self.offset).cast::<u64>().read_unaligned() })
    }
}

/// One owned packet buffer (single segment view). Freed on drop.
#[repr(transparent)]
pub struct Mbuf(NonNull<ffi::rte_mbuf>);

// SAFETY: an mbuf is owned by exactly one Mbuf value; moving it between threads is how DPDK
// hands packets between lcores.
unsafe impl Send for Mbuf {}

impl Mbuf {
    /// Allocates an empty mbuf from `pool` (None when the pool is exhausted).
    #[inline]
    pub fn alloc(pool: &Mempool) -> Option<Mbuf> {
        // SAFETY: the pool is alive for the call; a non-null result is a fresh owned mbuf.
        NonNull::new(unsafe { ffi::ad_pktmbuf_alloc(pool.as_ptr()) }).map(Mbuf)
    }

    #[inline(always)]
    fn raw(&self) -> &ffi::rte_mbuf {
        // SAFETY: self owns a live mbuf.
        unsafe { self.0.as_ref() }
    }

    /// The first segment's bytes.
    #[inline(always)]
    pub fn data(&self) -> &[u8] {
        let m = self.raw();
        // SAFETY: buf_addr+data_off points at data_len initialised bytes inside the mbuf's
        // buffer (rte_pktmbuf_mtod); the borrow of self keeps the mbuf alive and unshared.
        unsafe { std::slice::from_raw_parts((m.buf_addr as *const u8).add(m.data_off as usize), m.data_len as usize) }
    }

    /// The first segment's bytes, writable.
    #[inline(always)]
    pub fn data_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `data`; &mut self guarantees exclusive access. The mbuf is not a clone
        // sharing its buffer (this crate only makes deep copies).
        unsafe {
            let m = self.0.as_mut();
            std::slice::from_raw_parts_mut((m.buf_addr as *mut u8).add(m.data_off as usize), m.data_len as usize)
        }
    }

    /// Bytes in the first segment.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.raw().data_len as usize
    }

    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes in the whole packet (all segments).
    #[inline(always)]
    pub fn pkt_len(&self) -> usize {
        self.raw().pkt_len as usize
    }

    /// The port the packet was received on.
    #[inline(always)]
    pub fn port(&self) -> u16 {
        self.raw().port
    }

    /// Grows the packet by `n` bytes at its end and returns them (None if no tailroom).
    pub fn append(&mut self, n: u16) -> Option<&mut [u8]> {
        // SAFETY: self owns the mbuf; a non-null result points at n writable bytes inside it.
        let p = unsafe { ffi::ad_pktmbuf_append(self.0.as_ptr(), n) };
        if p.is_null() {
            return None;
        }
        // SAFETY: see above; the slice borrows self mutably.
        Some(unsafe { std::slice::from_raw_parts_mut(p as *mut u8, n as usize) })
    }

    /// Shortens the packet by `n` bytes at its end.
    pub fn trim(&mut self, n: u16) -> bool {
        // SAFETY: self owns the mbuf.
        unsafe { ffi::ad_pktmbuf_trim(self.0.as_ptr(), n) == 0 }
    }

    /// A deep copy into a new mbuf from `pool` (for mirroring); None if the pool is exhausted.
    #[inline]
    pub fn copy(&self, pool: &Mempool) -> Option<Mbuf> {
        // SAFETY: self is alive; rte_pktmbuf_copy returns a new owned mbuf or null.
        NonNull::new(unsafe { ffi::rte_pktmbuf_copy(self.0.as_ptr(), pool.as_ptr(), 0, u32::MAX) }).map(Mbuf)
    }

    fn into_raw(self) -> *mut ffi::rte_mbuf {
        let p = self.0.as_ptr();
        std::mem::forget(self);
        p
    }
}

impl Drop for Mbuf {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: we own the mbuf and drop it once.
        unsafe { ffi::ad_pktmbuf_free(self.0.as_ptr()) }
    }
}

/// Up to [`BURST_SIZE`] owned mbufs, in order. Remaining mbufs are freed on drop.
pub struct Burst {
    pkts: [*mut ffi::rte_mbuf; BURST_SIZE],
    len: usize,
}

// SAFETY: a Burst owns its mbufs like a Vec<Mbuf> would.
unsafe impl Send for Burst {}

impl Default for Burst {
    fn default() -> Self {
        Self::new()
    }
}

impl Burst {
    pub const fn new() -> Burst {
        Burst { pkts: [std::ptr::null_mut(); BURST_SIZE], len: 0 }
    }

    #[inline(always)]
    pub fn len(&self) -> usize {
        self.len
    }

    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline(always)]
    pub fn is_full(&self) -> bool {
        self.len == BURST_SIZE
    }

    /// The mbufs, borrowed.
    #[inline(always)]
    pub fn as_slice(&self) -> &[Mbuf] {
        // SAFETY: pkts[..len] are live owned non-null mbuf pointers, and Mbuf is a
        // repr(transparent) NonNull, so the layouts agree.
        unsafe { std::slice::from_raw_parts(self.pkts.as_ptr() as *const Mbuf, self.len) }
    }

    /// The mbufs, mutably borrowed.
    #[inline(always)]
    pub fn as_mut_slice(&mut self) -> &mut [Mbuf] {
        // SAFETY: as in as_slice; &mut self gives exclusive access.
        unsafe { std::slice::from_raw_parts_mut(self.pkts.as_mut_ptr() as *mut Mbuf, self.len) }
    }

    /// Adds `m` at the end; gives it back if the burst is full.
    #[inline(always)]
    pub fn push(&mut self, m: Mbuf) -> Result<(), Mbuf> {
        if self.len == BURST_SIZE {
            return Err(m);
        }
        self.pkts[self.len] = m.into_raw();
        self.len += 1;
        Ok(())
    }

    /// Moves every mbuf out, in order, leaving the burst empty.
    #[inline]
    pub fn drain(&mut self) -> Drain<'_> {
        let n = self.len;
        self.len = 0;
        Drain { burst: self, next: 0, end: n }
    }

    /// Frees every mbuf and returns how many there were.
    #[inline]
    pub fn clear(&mut self) -> usize {
        let n = self.len;
        if n > 0 {
            // SAFETY: pkts[..n] are owned live mbufs; after this they are forgotten (len = 0).
            unsafe { ffi::ad_pktmbuf_free_bulk(self.pkts.as_mut_ptr(), n as u32) };
            self.len = 0;
        }
        n
    }

    /// Free slots, for RX.
    #[inline(always)]
    pub(crate) fn spare_ptr(&mut self) -> (*mut *mut ffi::rte_mbuf, u16) {
        // SAFETY: len <= BURST_SIZE, so the pointer stays within the array.
        (unsafe { self.pkts.as_mut_ptr().add(self.len) }, (BURST_SIZE - self.len) as u16)
    }

    #[inline(always)]
    pub(crate) fn filled(&mut self, n: usize) {
        debug_assert!(self.len + n <= BURST_SIZE);
        self.len += n;
    }

    #[inline(always)]
    pub(crate) fn head_ptr(&mut self) -> (*mut *mut ffi::rte_mbuf, u16) {
        (self.pkts.as_mut_ptr(), self.len as u16)
    }

    /// Forgets the first `n` mbufs (handed to TX) and moves the rest to the front.
    #[inline(always)]
    pub(crate) fn consumed(&mut self, n: usize) {
        if n >= self.len {
            self.len = 0;
        } else {
            self.pkts.copy_within(n..self.len, 0);
            self.len -= n;
        }
    }
}

impl Drop for Burst {
    fn drop(&mut self) {
        self.clear();
    }
}

/// Iterator returned by [`Burst::drain`]; mbufs not taken are freed when it is dropped.
pub struct Drain<'a> {
    burst: &'a mut Burst,
    next: usize,
    end: usize,
}

impl Iterator for Drain<'_> {
    type Item = Mbuf;
    #[inline(always)]
    fn next(&mut self) -> Option<Mbuf> {
        if self.next == self.end {
            return None;
        }
        let p = self.burst.pkts[self.next];
        self.next += 1;
        // SAFETY: p is an owned live mbuf from pkts[..end]; ownership moves to the Mbuf.
        Some(Mbuf(unsafe { NonNull::new_unchecked(p) }))
    }
}

impl Drop for Drain<'_> {
    fn drop(&mut self) {
        for _ in self.by_ref() {}
    }
}
