//! Process-wide settings of the C runtime a long-running appliance needs.

/// Keeps the allocator's footprint steady over days: a fixed threshold above which blocks are
/// mapped (and unmapped when freed) — glibc raises it by itself after a large block is freed,
/// after which every compiled policy's tables (a megabyte or so each) stayed in the heap once
/// freed — and at most four arenas (the control API's handler threads would each grow one).
/// Measured by `scripts/soak.sh` (2 minutes, a policy push every second): without it resident
/// memory crept from 157 to 185 MiB; with it, flat (157 MiB, and 163 after 100 API clients).
/// Call first thing in `main`.
pub fn steady_allocator() {
    // SAFETY: mallopt only sets allocator parameters; it is called before other threads exist.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
        libc::mallopt(libc::M_ARENA_MAX, 4);
    }
}

/// Sets kernel interface `name` up or down (its `IFF_UP` flag, `SIOCSIFFLAGS`): how a port over
/// `net_af_packet`, whose driver cannot set its link down, shows a pulled cable to the other
/// end of its veth or wire.
pub fn set_interface_up(name: &str, up: bool) -> Result<(), String> {
    if name.is_empty() || name.len() >= libc::IFNAMSIZ {
        return Err(format!("interface name `{name}`: 1 to {} bytes", libc::IFNAMSIZ - 1));
    }
    // SAFETY: a datagram socket only to carry the ioctl; closed below.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(format!("socket: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: ifreq is plain data, zero is a valid value for every field.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(name.bytes()) {
        *d = s as libc::c_char;
    }
    // SAFETY: fd is open; req names the interface (NUL-terminated: zeroed beyond the name) and
    // is a valid ifreq for SIOCGIFFLAGS / SIOCSIFFLAGS, which read and write its flags field.
    let r = unsafe {
        if libc::ioctl(fd, libc::SIOCGIFFLAGS, &mut req) < 0 {
            Err(std::io::Error::last_os_error())
        } else {
            let flags = req.ifr_ifru.ifru_flags;
            req.ifr_ifru.ifru_flags = if up { flags | libc::IFF_UP as libc::c_short } else { flags & !(libc::IFF_UP as libc::c_short) };
            if libc::ioctl(fd, libc::SIOCSIFFLAGS, &req) < 0 {
                Err(std::io::Error::last_os_error())
            } else {
                Ok(())
            }
        }
    };
    // SAFETY: fd was opened above and is not used after.
    unsafe { libc::close(fd) };
    r.map_err(|e| format!("interface {name}: {e}"))
}
