//! Host checks made before EAL starts, so that a mistake gets one sentence that says what to do
//! instead of a page of EAL log.
use crate::profile::{Device, Profile};
use std::path::Path;

/// One host check: what was checked, and what was found (`Ok`) or what to do (`Err`, one
/// sentence); `warn` marks a finding that does not stop a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub what: &'static str,
    pub outcome: Result<String, String>,
    pub warn: bool,
}

impl Check {
    fn ok(what: &'static str, found: String) -> Check {
        Check { what, outcome: Ok(found), warn: false }
    }
    fn fail(what: &'static str, todo: String) -> Check {
        Check { what, outcome: Err(todo), warn: false }
    }
    fn warn(what: &'static str, found: String) -> Check {
        Check { what, outcome: Ok(found), warn: true }
    }

    /// `ok    what: found`, `warn  what: found`, `FAIL  what: todo`.
    pub fn line(&self) -> String {
        match (&self.outcome, self.warn) {
            (Ok(f), false) => format!("ok    {}: {f}", self.what),
            (Ok(f), true) => format!("warn  {}: {f}", self.what),
            (Err(e), _) => format!("FAIL  {}: {e}", self.what),
        }
    }
}

/// What a policy asks of the hardware (read by [`checks`]).
#[derive(Debug, Clone, Default)]
pub struct PolicyNeeds {
    /// The rules that mirror frames.
    pub mirror_rules: Vec<String>,
}

/// Drivers a PCI port can be bound to for DPDK (the NVIDIA ones are bifurcated: DPDK drives
/// the port beside the kernel's driver).
pub const DPDK_DRIVERS: [&str; 5] = ["vfio-pci", "uio_pci_generic", "igb_uio", "mlx5_core", "mlx4_core"];

/// Every host check, in order, up to and including the first failure: root, lcores and CPUs,
/// each port's device, the mempool against the queues and descriptors, memory (hugepages or
/// `--no-huge`), the policy's mirror port; then, as warnings, worker CPUs not isolated and
/// memif ports.
pub fn checks(profile: &Profile, profile_file: &str, policy: Option<&PolicyNeeds>) -> Vec<Check> {
    let mut out = Vec::new();
    let host = Host::read();
    for c in std::iter::once(root_check())
        .chain(std::iter::once(lcores_check(profile, profile_file, host.cpus)))
        .chain((0..profile.ports.len()).map(|i| port_check(profile, profile_file, i)))
        .chain(std::iter::once(mtu_check(profile, profile_file)))
        .chain(std::iter::once(mempool_check(profile, profile_file)))
        .chain(std::iter::once(memory_check(profile, profile_file, &host)))
        .chain(policy.map(|p| mirror_check(profile, profile_file, p)))
        .chain(isolation_check(profile, &host))
        .chain(memif_check(profile))
    {
        let failed = c.outcome.is_err();
        out.push(c);
        if failed {
            break;
        }
    }
    out
}

/// Runs every check; the first failure is returned as one sentence.
pub fn check(profile: &Profile, profile_file: &str) -> Result<(), String> {
    match checks(profile, profile_file, None).into_iter().find_map(|c| c.outcome.err()) {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// What the checks read of the machine.
struct Host {
    cpus: usize,
    mounts: String,
    meminfo: String,
    isolated: String,
}

impl Host {
    fn read() -> Host {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        Host { cpus: online_cpus(), mounts: read("/proc/mounts"), meminfo: read("/proc/meminfo"), isolated: read("/sys/devices/system/cpu/isolated") }
    }
}

fn root_check() -> Check {
    if is_root() {
        Check::ok("root", "running as root".into())
    } else {
        Check::fail("root", "antidote must run as root (DPDK needs raw packet access and memory locking): run it with sudo.".into())
    }
}

fn lcores_check(profile: &Profile, profile_file: &str, cpus: usize) -> Check {
    let what = "lcores";
    let (keys, list) = match &profile.worker_cpus {
        None => ("`main_lcore`/`worker_lcores`", &profile.worker_lcores),
        Some(list) => ("`main_lcore`/`worker_cpus`", list),
    };
    for &c in std::iter::once(&profile.main_lcore).chain(list) {
        if c as usize >= cpus {
            let unit = if profile.worker_cpus.is_some() { "CPU" } else { "lcore" };
            return Check::fail(what, format!("{profile_file}: {unit} {c} does not exist on this machine ({cpus} CPUs); change {keys}."));
        }
    }
    if profile.worker_lcores.contains(&profile.main_lcore) {
        return Check::fail(what, format!("{profile_file}: lcore {} is both the main lcore and a worker; give the workers other lcores.", profile.main_lcore));
    }
    let workers: Vec<String> = profile.worker_lcores.iter().map(|l| l.to_string()).collect();
    Check::ok(what, format!("main {}, workers {} ({cpus} CPUs)", profile.main_lcore, workers.join(" ")))
}

fn port_check(profile: &Profile, profile_file: &str, i: usize) -> Check {
    let what = "port";
    let port = &profile.ports[i];
    let at = format!("{profile_file}: port `{}`", port.name);
    match profile.device(i) {
        Device::Pci { addr, .. } => {
            let full = pci_full(&addr);
            let dev = Path::new("/sys/bus/pci/devices").join(&full);
            if !dev.exists() {
                return Check::fail(what, format!("{at} names PCI device {addr}, which this machine does not have; check `lspci` and fix `device`."));
            }
            let driver = std::fs::read_link(dev.join("driver")).ok().and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()));
            match driver {
                Some(d) if DPDK_DRIVERS.contains(&d.as_str()) => Check::ok(what, format!("`{}`: PCI {full} bound to {d}", port.name)),
                Some(d) => Check::fail(
                    what,
                    format!("{at}: PCI {full} is bound to the kernel's {d}, not to a DPDK driver; run `dpdk-devbind.py -b vfio-pci {full}` (the unit's ExecStartPre does)."),
                ),
                None => Check::fail(what, format!("{at}: PCI {full} is bound to no driver; run `modprobe vfio-pci && dpdk-devbind.py -b vfio-pci {full}`.")),
            }
        }
        dev @ Device::Vdev { .. } => {
            for key in ["iface", "rx_iface", "tx_iface", "rx_iface_in"] {
                if let Some(ifname) = dev.arg(key) {
                    if !Path::new(&format!("/sys/class/net/{ifname}")).exists() {
                        let hint = if ifname.starts_with("ad-") { "bring the lab up with `scripts/lab.sh up`" } else { "create it or fix `device`" };
                        return Check::fail(what, format!("{at}: network interface {ifname} does not exist; {hint}."));
                    }
                }
            }
            if let Some(f) = dev.arg("rx_pcap") {
                if !Path::new(f).is_file() {
                    return Check::fail(what, format!("{at}: capture file {f} (rx_pcap) does not exist; fix `device` or create the file."));
                }
            }
            if let Some(f) = dev.arg("tx_pcap") {
                let parent = Path::new(f).parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
                if !parent.is_dir() {
                    return Check::fail(what, format!("{at}: the folder of {f} (tx_pcap) does not exist; create it or fix `device`."));
                }
            }
            Check::ok(what, format!("`{}`: {}", port.name, port.device))
        }
    }
}

/// The frames of each pair's MTU fit the mbufs (the profile's own validation) and the rings of a
/// driver over a kernel interface (`net_af_packet`'s `framesz`, 2048 by default); a PCI driver's
/// own limit is checked when the port is configured.
fn mtu_check(profile: &Profile, profile_file: &str) -> Check {
    let Some(largest) = profile.largest_mtu() else {
        return Check::ok("mtu", "1500 (the drivers' default; a pair's `mtu` sets jumbo frames)".into());
    };
    for i in 0..profile.ports.len() {
        let (Some(mtu), dev @ Device::Vdev { .. }) = (profile.mtu_of(i), profile.device(i)) else { continue };
        if !matches!(&dev, Device::Vdev { name, .. } if name.starts_with("net_af_packet")) {
            continue;
        }
        // The ring's frames hold the packet after a 52-byte header (TPACKET2_HDRLEN).
        let framesz: u32 = dev.arg("framesz").and_then(|v| v.parse().ok()).unwrap_or(2048);
        let need = crate::profile::frame_of_mtu(mtu) + 52;
        if framesz < need {
            // A multiple of 2048, so that two ring frames fill a block of whole pages.
            let fix = need.next_multiple_of(2048);
            return Check::fail(
                "mtu",
                format!(
                    "{profile_file}: port `{}`: net_af_packet's ring frames ({framesz} bytes) cannot hold the frames of `mtu` = {mtu}; add `framesz={fix},blocksz={}` to its `device`.",
                    profile.ports[i].name,
                    2 * fix
                ),
            );
        }
    }
    let pairs: Vec<String> = profile.pairs.iter().map(|p| format!("{}/{} {}", p.a, p.b, p.mtu.map_or("1500".into(), |m| m.to_string()))).collect();
    Check::ok(
        "mtu",
        format!("{} (frames up to {} bytes; mbufs of {} bytes)", pairs.join(", "), crate::profile::frame_of_mtu(largest.max(1500)), profile.data_room()),
    )
}

fn mempool_check(profile: &Profile, profile_file: &str) -> Check {
    let need = profile.mbufs_needed();
    if profile.mempool_mbufs < need {
        return Check::fail(
            "mempool",
            format!(
                "{profile_file}: key `mempool_mbufs` = {} is too small for these queues and descriptors; raise it to at least {need}.",
                profile.mempool_mbufs
            ),
        );
    }
    Check::ok("mempool", format!("{} mbufs, of which the queues' descriptors and the workers' caches can hold {need}", profile.mempool_mbufs))
}

fn memory_check(profile: &Profile, profile_file: &str, host: &Host) -> Check {
    let need_mb = profile.memory_needed_mb();
    if !profile.hugepages {
        if (profile.memory_mb as u64) < need_mb {
            return Check::fail(
                "memory",
                format!("{profile_file}: key `memory_mb` = {} is too small for the mempool; raise it to at least {need_mb}.", profile.memory_mb),
            );
        }
        return Check::ok("memory", format!("{} MiB without hugepages (--no-huge) for {need_mb} MiB needed", profile.memory_mb));
    }
    if let Err(m) = hugepages_ready_in(&host.mounts, &host.meminfo) {
        return Check::fail("hugepages", format!("{m} (profile {profile_file} sets hugepages = true)"));
    }
    let field = |k: &str| host.meminfo.lines().find(|l| l.starts_with(k)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse::<u64>().ok());
    let (free, size_kb) = (field("HugePages_Free:").unwrap_or(0), field("Hugepagesize:").unwrap_or(2048));
    let free_mb = free * size_kb / 1024;
    if free_mb < need_mb {
        let pages = need_mb * 1024 / size_kb.max(1) + 1;
        return Check::fail(
            "hugepages",
            format!(
                "{free} free hugepages ({free_mb} MiB) are fewer than the {need_mb} MiB the mempool needs; reserve {pages} (echo {pages} > /sys/kernel/mm/hugepages/hugepages-{size_kb}kB/nr_hugepages) or lower `mempool_mbufs` in {profile_file}."
            ),
        );
    }
    Check::ok("hugepages", format!("{free} free of {size_kb} kB ({free_mb} MiB) for {need_mb} MiB needed"))
}

fn mirror_check(profile: &Profile, profile_file: &str, p: &PolicyNeeds) -> Check {
    match (p.mirror_rules.first(), &profile.mirror) {
        (Some(rule), None) => Check::fail(
            "mirror",
            format!("the policy mirrors (rule `{rule}`) but {profile_file} names no mirror port; add `mirror = \"PORT\"` and a [[port]] for it, or remove the rule's `mirror`."),
        ),
        (Some(_), Some(m)) => Check::ok("mirror", format!("the policy's mirrored frames leave port `{m}`")),
        (None, Some(m)) => Check::warn("mirror", format!("port `{m}` is the mirror port, and no rule of the policy mirrors")),
        (None, None) => Check::ok("mirror", "the policy mirrors nothing; no mirror port".into()),
    }
}

/// Worker CPUs the kernel does not keep to themselves (`isolcpus`): other work on them costs the
/// dataplane (64 API clients on a worker's CPU cut it from 24 to 4 Mpps).
fn isolation_check(profile: &Profile, host: &Host) -> Option<Check> {
    let isolated = parse_cpu_list(host.isolated.trim());
    let cpus = profile.worker_cpus.as_ref().unwrap_or(&profile.worker_lcores);
    let shared: Vec<String> = cpus.iter().filter(|c| !isolated.contains(c)).map(|c| c.to_string()).collect();
    if shared.is_empty() {
        return Some(Check::ok("isolation", "every worker CPU is isolated".into()));
    }
    Some(Check::warn(
        "isolation",
        format!(
            "worker CPU(s) {} not isolated: other work can run there; add `isolcpus={0} nohz_full={0} rcu_nocbs={0}` to the kernel command line (docs/operations.md)",
            shared.join(",")
        ),
    ))
}

/// memif ports: DPDK 22.11's memif PMD unmaps the shared rings of a peer that disconnects
/// while a worker may be polling them, which crashes the process (testpmd and antidote alike,
/// measured: bench/pktgen/run.sh stops the device before its generator for this reason).
fn memif_check(profile: &Profile) -> Option<Check> {
    let names: Vec<&str> = profile.ports.iter().filter(|p| p.device.starts_with("net_memif")).map(|p| p.name.as_str()).collect();
    if names.is_empty() {
        return None;
    }
    Some(Check::warn(
        MEMIF,
        format!(
            "port(s) {} on net_memif: DPDK 22.11's memif can crash the process when the peer disconnects while frames flow; stop antidote before its memif peer",
            names.join(", ")
        ),
    ))
}

/// The name of the memif warning (`antidote run` prints it too).
pub const MEMIF: &str = "memif";

/// A PCI address as sysfs names it: domain included, lower case (`3b:00.0` → `0000:3b:00.0`).
pub fn pci_full(addr: &str) -> String {
    if addr.matches(':').count() == 1 { format!("0000:{addr}") } else { addr.to_string() }.to_ascii_lowercase()
}

/// A kernel CPU list (`1-3,6`).
fn parse_cpu_list(s: &str) -> Vec<u32> {
    s.split(',')
        .filter(|p| !p.is_empty())
        .flat_map(|p| match p.split_once('-') {
            Some((a, b)) => a.trim().parse::<u32>().ok().zip(b.trim().parse::<u32>().ok()).map(|(a, b)| (a..=b).collect()).unwrap_or_default(),
            None => p.trim().parse::<u32>().ok().into_iter().collect::<Vec<_>>(),
        })
        .collect()
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

/// Free hugepages and a hugetlbfs mount, by the texts of /proc/mounts and /proc/meminfo.
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
    use super::*;

    #[test]
    fn cpu_lists_read_as_the_kernel_writes_them() {
        assert_eq!(parse_cpu_list("1-3,6"), [1, 2, 3, 6]);
        assert_eq!(parse_cpu_list(""), Vec::<u32>::new());
    }

    fn profile(text: &str) -> Profile {
        Profile::parse(text, "p.toml").unwrap()
    }

    const PAIR: &str = "[[port]]\nname = \"a\"\ndevice = \"net_null0\"\n[[port]]\nname = \"b\"\ndevice = \"net_null1\"\n[[pair]]\na = \"a\"\nb = \"b\"\n";

    #[test]
    fn the_checks_find_what_would_fail_after_eal_and_say_what_to_do() {
        let host = Host { cpus: 2, mounts: MOUNTED.into(), meminfo: "HugePages_Free:     1000\nHugepagesize:       2048 kB\n".into(), isolated: "1\n".into() };
        // Lcores beyond the machine, or a worker on the main lcore.
        let p = profile(&format!("name = \"x\"\nworker_lcores = [2, 3]\n{PAIR}"));
        assert!(lcores_check(&p, "p.toml", 2).outcome.unwrap_err().contains("lcore 2 does not exist on this machine (2 CPUs)"));
        let p = profile(&format!("name = \"x\"\nworker_lcores = [1]\n{PAIR}"));
        assert!(lcores_check(&p, "p.toml", 2).outcome.is_ok());
        // A mempool too small for the descriptors, and memory too small for the mempool.
        let p = profile(&format!(
            "name = \"x\"\nworker_lcores = [1]\nmempool_mbufs = 1024\n{}",
            PAIR.replace("device = \"net_null0\"", "device = \"net_null0\"\nrx_desc = 1024")
        ));
        assert!(mempool_check(&p, "p.toml").outcome.unwrap_err().contains("raise it to at least"));
        let p = profile(&format!("name = \"x\"\nworker_lcores = [1]\nmemory_mb = 64\nmempool_mbufs = 65535\n{PAIR}"));
        assert!(memory_check(&p, "p.toml", &host).outcome.unwrap_err().contains("key `memory_mb` = 64 is too small"));
        let p = profile(&format!("name = \"x\"\nworker_lcores = [1]\nhugepages = true\nmempool_mbufs = 1048575\n{PAIR}"));
        let e = memory_check(&p, "p.toml", &host).outcome.unwrap_err();
        assert!(e.contains("1000 free hugepages (2000 MiB) are fewer than") && e.contains("nr_hugepages"), "{e}");
        // A policy that mirrors with no mirror port.
        let needs = PolicyNeeds { mirror_rules: vec!["copy-poison".into()] };
        let p = profile(&format!("name = \"x\"\nworker_lcores = [1]\n{PAIR}"));
        assert!(mirror_check(&p, "p.toml", &needs).outcome.unwrap_err().contains("rule `copy-poison`"));
        // Isolation: a warning only.
        let p = profile(&format!("name = \"x\"\nworker_lcores = [1]\n{PAIR}"));
        assert!(!isolation_check(&p, &host).unwrap().warn);
        let host2 = Host { isolated: String::new(), ..host };
        let c = isolation_check(&p, &host2).unwrap();
        assert!(c.warn && c.outcome.is_ok() && c.line().starts_with("warn  isolation: worker CPU(s) 1 not isolated"), "{}", c.line());
        // memif ports: a warning naming them; none for other devices.
        assert!(memif_check(&p).is_none());
        let p = profile(&format!("name = \"x\"\nworker_lcores = [1]\n{}", PAIR.replace("device = \"net_null0\"", "device = \"net_memif0,role=server\"")));
        let c = memif_check(&p).unwrap();
        assert!(c.warn && c.line().starts_with("warn  memif: port(s) a on net_memif:"), "{}", c.line());
    }

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

    #[test]
    fn a_jumbo_mtu_needs_af_packet_ring_frames_that_hold_it() {
        let af = |framesz: &str| {
            profile(&format!(
                "name = \"x\"\nworker_lcores = [1]\n[[port]]\nname = \"a\"\ndevice = \"net_af_packet0,iface=x{framesz}\"\n[[port]]\nname = \"b\"\ndevice = \"net_null1\"\n[[pair]]\na = \"a\"\nb = \"b\"\nmtu = 9000\n"
            ))
        };
        let e = mtu_check(&af(""), "p.toml").outcome.unwrap_err();
        assert!(
            e.contains("port `a`: net_af_packet's ring frames (2048 bytes) cannot hold the frames of `mtu` = 9000")
                && e.contains("framesz=10240,blocksz=20480"),
            "{e}"
        );
        // The mbufs grow to hold the ring's frames.
        let ok = mtu_check(&af(",framesz=10240,blocksz=20480"), "p.toml").outcome.unwrap();
        assert!(ok.contains("a/b 9000 (frames up to 9022 bytes; mbufs of 10368 bytes)"), "{ok}");
        let plain = mtu_check(&profile(&format!("name = \"x\"\nworker_lcores = [1]\n{PAIR}")), "p.toml").outcome.unwrap();
        assert!(plain.starts_with("1500"), "{plain}");
    }
}
