//! Launching closures on EAL worker lcores.
use crate::ffi;
use std::os::raw::c_void;

type Job = Box<dyn FnOnce() -> i32 + Send + 'static>;

extern "C" fn trampoline(arg: *mut c_void) -> i32 {
    // SAFETY: arg is the Box<Job> leaked by `launch` below, handed to exactly one lcore.
    let job: Box<Job> = unsafe { Box::from_raw(arg as *mut Job) };
    // A panic must not unwind into DPDK's C frames: the lcore reports -1 (the panic hook has
    // printed why).
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(job)).unwrap_or(-1)
}

/// Runs `f` on worker lcore `lcore`. Fails if the lcore is not a waiting worker.
pub fn launch<F: FnOnce() -> i32 + Send + 'static>(lcore: u32, f: F) -> Result<(), String> {
    let job: Box<Job> = Box::new(Box::new(f));
    let arg = Box::into_raw(job) as *mut c_void;
    // SAFETY: trampoline matches lcore_function_t; arg ownership passes to the lcore on success.
    let rc = unsafe { ffi::rte_eal_remote_launch(Some(trampoline), arg, lcore) };
    if rc != 0 {
        // SAFETY: the launch failed, so the lcore never took arg: reclaim and drop it here.
        drop(unsafe { Box::from_raw(arg as *mut Job) });
        return Err(format!("lcore {lcore} cannot take work: {}", crate::strerror(rc)));
    }
    Ok(())
}

/// Waits for the job on `lcore` to return and gives its return value.
pub fn wait(lcore: u32) -> i32 {
    // SAFETY: waiting on an lcore id is safe for any id; EAL returns 0 for idle lcores.
    unsafe { ffi::rte_eal_wait_lcore(lcore) }
}

/// The EAL lcore id of the calling thread (u32::MAX outside EAL threads).
pub fn current() -> u32 {
    // SAFETY: reads a thread-local; no preconditions.
    unsafe { ffi::ad_lcore_id() }
}
