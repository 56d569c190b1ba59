//! Host checks made before EAL starts, so that a mistake gets one sentence that says what to do
//! instead of a page of EAL log.
use crate::profile::{Device, Profile};
use std::path::Path;

/// Runs every check; the first failure is returned as one sentence.
pub fn check(profile: &Profile, profile_file: &str) -> Result<(), String> {
    if !is_root() {
        return Err("antidote must run as root (DPDK needs raw packet access and memory locking): run it with sudo.".into());
    }
    if profile.hugepages {
        hugepages_ready().map_err(|m| format!("{m} (profile {profile_file} sets hugepages = true)"))?;
    }
    let cpus = online_cpus();
    match &profile.worker_cpus {
        None => {
            for &l in std::iter::once(&profile.main_lcore).chain(&profile.worker_lcores) {
                if l as usize >= cpus {
                    return Err(format!("{profile_file}: lcore {l} does not exist on this machine ({cpus} CPUs); change `main_lcore`/`worker_lcores`."));
                }
            }
        }
        Some(list) => {
            for &c in std::iter::once(&profile.main_lcore).chain(list) {
                if c as usize >= cpus {
                    return Err(format!("{profile_file}: CPU {c} does not exist on this machine ({cpus} CPUs); change `main_lcore`/`worker_cpus`."));
                }
            }
        }
    }
    for (i, port) in profile.ports.iter().enumerate() {
        let at = format!("{profile_file}: port `{}`", port.name);
        match profile.device(i) {
            Device::Pci { addr, .. } => {
                let full = if addr.matches(':').count() == 1 { format!("0000:{addr}") } else { addr.clone() };
                if !Path::new(&format!("/sys/bus/pci/devices/{}", full.to_ascii_lowercase())).exists() {
                    return Err(format!("{at} names PCI device {addr}, which this machine does not have; check `lspci` and fix `device`."));
                }
            }
            dev @ Device::Vdev { .. } => {
                for key in ["iface", "rx_iface", "tx_iface", "rx_iface_in"] {
                    if let Some(ifname) = dev.arg(key) {
                        if !Path::new(&format!("/sys/class/net/{ifname}")).exists() {
                            let hint = if ifname.starts_with("ad-") { "bring the lab up with `scripts/lab.sh up`" } else { "create it or fix `device`" };
                            return Err(format!("{at}: network interface {ifname} does not exist; {hint}."));
                        }
                    }
                }
                if let Some(f) = dev.arg("rx_pcap") {
                    if !Path::new(f).is_file() {
                        return Err(format!("{at}: capture file {f} (rx_pcap) does not exist; fix `device` or create the file."));
                    }
                }
                if let Some(f) = dev.arg("tx_pcap") {
                    let parent = Path::new(f).parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
                    if !parent.is_dir() {
                        return Err(format!("{at}: the folder of {f} (tx_pcap) does not exist; create it or fix `device`."));
                    }
                }
            }
        }
    }
    Ok(())
}

/// True when the effective user id is 0 (read from /proc, no unsafe needed).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0")))
        .unwrap_or(false)
}

fn online_cpus() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// Free 2 MiB hugepages and a hugetlbfs mount.
pub fn hugepages_ready() -> Result<(), String> {
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    hugepages_ready_in(&mounts, &meminfo)
}

/// [`hugepages_ready`] on the texts of /proc/mounts and /proc/meminfo.
fn hugepages_ready_in(mounts: &str, meminfo: &str) -> Result<(), String> {
    if !mounts.lines().any(|l| l.split_whitespace().nth(2) == Some("hugetlbfs")) {
        return Err("no hugetlbfs is mounted: run `sudo scripts/setup.sh` (or mount -t hugetlbfs nodev /dev/hugepages)".into());
    }
    let free =
        meminfo.lines().find(|l| l.starts_with("HugePages_Free:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    if free == 0 {
        return Err(
            "no free hugepages are reserved: run `sudo scripts/setup.sh` (or echo 1024 > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages)".into()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::hugepages_ready_in;

    const MOUNTED: &str = "proc /proc proc rw 0 0\nhugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n";
    const FREE: &str = "MemTotal: 24000000 kB\nHugePages_Total:    1024\nHugePages_Free:     1000\n";

    #[test]
    fn hugepages_missing_mount_or_pages_get_one_sentence_with_the_fix() {
        assert_eq!(hugepages_ready_in(MOUNTED, FREE), Ok(()));
        let no_mount = hugepages_ready_in("proc /proc proc rw 0 0\n", FREE).unwrap_err();
        assert!(no_mount.starts_with("no hugetlbfs is mounted: run `sudo scripts/setup.sh`"), "{no_mount}");
        let none_free = hugepages_ready_in(MOUNTED, "HugePages_Total:    1024\nHugePages_Free:        0\n").unwrap_err();
        assert!(none_free.starts_with("no free hugepages are reserved: run `sudo scripts/setup.sh`"), "{none_free}");
        // A kernel without hugepage support has no such line at all: the same sentence.
        assert_eq!(hugepages_ready_in(MOUNTED, "MemTotal: 1 kB\n").unwrap_err(), none_free);
        for msg in [no_mount, none_free] {
            assert_eq!(msg.lines().count(), 1, "one sentence: {msg}");
        }
    }
}
