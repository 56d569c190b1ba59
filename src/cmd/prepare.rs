//! `antidote prepare`: what the service needs of the host before `antidote run`, done (the
//! unit's first `ExecStartPre`): hugepages reserved for the profile's mempool (and hugetlbfs
//! mounted), each PCI port bound to vfio-pci (never a port the kernel has addresses on).
//! One line per step; exits 1 with what to do when a step cannot be done.
use antidote_dataplane::profile::{Device, Profile};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use antidote_dataplane::preflight::{pci_full, DPDK_DRIVERS};

pub fn prepare(config: Option<PathBuf>, profile: Option<PathBuf>) -> ExitCode {
    let (p, file) = match super::run::resolve_profile(config, profile) {
        Ok(x) => x,
        Err(e) => return crate::fail(&e),
    };
    if !antidote_dataplane::preflight::is_root() {
        return crate::fail("antidote prepare reserves hugepages and binds devices: run it as root (the unit does).");
    }
    let steps = [hugepages(&p, &file)].into_iter().chain((0..p.ports.len()).map(|i| bind(&p, &file, i)));
    for step in steps {
        match step {
            Ok(line) => println!("ok    {line}"),
            Err(e) => {
                println!("FAIL  {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}

fn write(path: &Path, value: &str) -> Result<(), String> {
    std::fs::write(path, value).map_err(|e| format!("cannot write {value} to {}: {e}", path.display()))
}

/// Reserves the 2 MiB (or default-size) hugepages the profile's mempool needs beyond those free,
/// and mounts hugetlbfs at /dev/hugepages when nothing is mounted.
fn hugepages(p: &Profile, file: &str) -> Result<String, String> {
    if !p.hugepages {
        return Ok(format!("hugepages: not used ({file} runs with --no-huge, {} MiB)", p.memory_mb));
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let field = |k: &str| meminfo.lines().find(|l| l.starts_with(k)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse::<u64>().ok());
    let size_kb = field("Hugepagesize:").ok_or("this kernel has no hugepages (no Hugepagesize in /proc/meminfo); set `hugepages = false` in the profile")?;
    let free = field("HugePages_Free:").unwrap_or(0);
    let need_mb = p.memory_needed_mb();
    let need_pages = (need_mb * 1024).div_ceil(size_kb);
    let mut done = format!("hugepages: {free} free of {size_kb} kB for {need_mb} MiB needed");
    if free < need_pages {
        let nr = PathBuf::from(format!("/sys/kernel/mm/hugepages/hugepages-{size_kb}kB/nr_hugepages"));
        let total: u64 = std::fs::read_to_string(&nr).ok().and_then(|t| t.trim().parse().ok()).unwrap_or(0);
        let want = total + (need_pages - free);
        write(&nr, &want.to_string())?;
        let got: u64 = std::fs::read_to_string(&nr).ok().and_then(|t| t.trim().parse().ok()).unwrap_or(0);
        if got < want {
            return Err(format!(
                "hugepages: asked the kernel for {want} pages of {size_kb} kB and got {got} (memory too fragmented): reserve them at boot (vm.nr_hugepages in /etc/sysctl.d/antidote.conf) and reboot, or lower `mempool_mbufs` in {file}"
            ));
        }
        done = format!("hugepages: reserved {} more pages of {size_kb} kB ({want} in all) for {need_mb} MiB needed", want - total);
    }
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    if !mounts.lines().any(|l| l.split_whitespace().nth(2) == Some("hugetlbfs")) {
        std::fs::create_dir_all("/dev/hugepages").map_err(|e| format!("cannot create /dev/hugepages: {e}"))?;
        let st = Command::new("mount").args(["-t", "hugetlbfs", "nodev", "/dev/hugepages"]).status().map_err(|e| format!("cannot run mount: {e}"))?;
        if !st.success() {
            return Err("hugepages: `mount -t hugetlbfs nodev /dev/hugepages` failed; mount hugetlbfs yourself".into());
        }
        done += "; hugetlbfs mounted on /dev/hugepages";
    }
    Ok(done)
}

/// Binds PCI port `i` to vfio-pci, unless it is bound to a DPDK driver already, or the kernel
/// has addresses on it (a management port named by mistake is not taken).
fn bind(p: &Profile, file: &str, i: usize) -> Result<String, String> {
    let port = &p.ports[i];
    let Device::Pci { addr, .. } = p.device(i) else {
        return Ok(format!("port `{}`: a virtual device ({}), nothing to bind", port.name, port.device));
    };
    let full = pci_full(&addr);
    let dev = Path::new("/sys/bus/pci/devices").join(&full);
    if !dev.exists() {
        return Err(format!("port `{}`: {file} names PCI device {addr}, which this machine does not have; check `lspci` and fix `device`", port.name));
    }
    let driver = std::fs::read_link(dev.join("driver")).ok().and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()));
    if let Some(d) = driver.as_deref().filter(|d| DPDK_DRIVERS.contains(d)) {
        return Ok(format!("port `{}`: PCI {full} is bound to {d}", port.name));
    }
    // The kernel's interfaces on the device: one with an address is in use.
    for entry in std::fs::read_dir(dev.join("net")).into_iter().flatten().flatten() {
        let ifname = entry.file_name().to_string_lossy().into_owned();
        let out = Command::new("ip").args(["-o", "addr", "show", "dev", &ifname]).output().map_err(|e| format!("cannot run ip: {e}"))?;
        if !String::from_utf8_lossy(&out.stdout).trim().is_empty() {
            return Err(format!(
                "port `{}`: PCI {full} is the kernel's interface {ifname}, which has addresses: not taken (is it the management port?); remove its addresses or fix `device` in {file}",
                port.name
            ));
        }
    }
    let st = Command::new("modprobe").arg("vfio-pci").status().map_err(|e| format!("cannot run modprobe: {e}"))?;
    if !st.success() {
        return Err("`modprobe vfio-pci` failed: enable the IOMMU (intel_iommu=on / amd_iommu=on) or install the vfio modules".into());
    }
    write(&dev.join("driver_override"), "vfio-pci")?;
    if driver.is_some() {
        write(&dev.join("driver/unbind"), &full)?;
    }
    write(Path::new("/sys/bus/pci/drivers_probe"), &full)?;
    let now = std::fs::read_link(dev.join("driver")).ok().and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()));
    match now.as_deref() {
        Some("vfio-pci") => Ok(format!("port `{}`: PCI {full} bound to vfio-pci (was {})", port.name, driver.as_deref().unwrap_or("unbound"))),
        other => Err(format!(
            "port `{}`: PCI {full} did not bind to vfio-pci (now {}); see `dmesg` (an IOMMU group shared with another device?)",
            port.name,
            other.unwrap_or("unbound")
        )),
    }
}
