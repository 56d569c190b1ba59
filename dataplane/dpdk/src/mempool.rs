//! Packet-buffer pools (`rte_pktmbuf_pool_create`).
use crate::ffi;
use std::ffi::CString;
use std::ptr::NonNull;

/// A pool of packet buffers. Freed on drop; every mbuf taken from it must be freed first.
pub struct Mempool {
    raw: NonNull<ffi::rte_mempool>,
}

// SAFETY: DPDK mempools are multi-producer/multi-consumer safe (default ring ops).
unsafe impl Send for Mempool {}
// SAFETY: as above; all operations on a shared pool go through DPDK's thread-safe ops.
unsafe impl Sync for Mempool {}

impl Mempool {
    /// Creates a pool of `n` mbufs with a per-lcore cache of `cache` and `data_room` bytes of
    /// buffer each (headroom included), on NUMA socket `socket` (-1 for any).
    pub fn new(name: &str, n: u32, cache: u32, data_room: u16, socket: i32) -> Result<Mempool, String> {
        let cname = CString::new(name).map_err(|_| "pool name has a NUL byte".to_string())?;
        // SAFETY: EAL must be running (the only way callers get here is after Eal::init); the
        // name is a valid C string for the call's duration.
        let p = unsafe { ffi::rte_pktmbuf_pool_create(cname.as_ptr(), n, cache, 0, data_room, socket) };
        NonNull::new(p).map(|raw| Mempool { raw }).ok_or_else(|| {
            let (code, msg) = crate::last_error();
            format!("cannot create mempool {name} of {n} mbufs: {msg} (rte_errno {code})")
        })
    }

    pub(crate) fn as_ptr(&self) -> *mut ffi::rte_mempool {
        self.raw.as_ptr()
    }

    /// Mbufs free in the pool (approximate while other lcores use it).
    pub fn available(&self) -> u32 {
        // SAFETY: the pool is alive (self).
        unsafe { ffi::rte_mempool_avail_count(self.raw.as_ptr()) }
    }

    /// Mbufs currently taken from the pool.
    pub fn in_use(&self) -> u32 {
        // SAFETY: the pool is alive (self).
        unsafe { ffi::rte_mempool_in_use_count(self.raw.as_ptr()) }
    }
}

impl Drop for Mempool {
    fn drop(&mut self) {
        // SAFETY: we own the pool; callers stop ports (which return their mbufs) before dropping.
        unsafe { ffi::rte_mempool_free(self.raw.as_ptr()) }
    }
}
