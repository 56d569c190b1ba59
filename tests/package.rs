//! The Debian package (packaging/build-deb.sh): built from the binary under test, installed with
//! `dpkg -i`, its unit checked by `systemd-analyze verify`, and — systemd is not PID 1 on these
//! machines — the unit's own ExecStartPre, ExecStart, ExecReload and ExecStop command lines run
//! in order against a vdev profile; then purged, leaving nothing behind.
mod common;
use common::*;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn sh(cmd: &str) -> (bool, String) {
    // (The unit reads /etc/antidote/antidote.toml: the tests' ANTIDOTE_CONFIG=none is not its.)
    let r = run_for(Command::new("sh").arg("-c").arg(cmd).env_remove("ANTIDOTE_CONFIG"), Duration::from_secs(120));
    (r.status.success(), String::from_utf8_lossy(&r.stdout).to_string() + &String::from_utf8_lossy(&r.stderr))
}

/// The unit's `KEY=` lines, in order.
fn unit_lines<'a>(unit: &'a str, key: &str) -> Vec<&'a str> {
    unit.lines().filter_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix('='))).collect()
}

/// Purges the package whatever happens to the test.
struct Installed;
impl Drop for Installed {
    fn drop(&mut self) {
        let _ = std::fs::remove_file("/etc/antidote/profile.toml");
        let _ = Command::new("dpkg").args(["--purge", "antidote"]).stdout(Stdio::null()).stderr(Stdio::null()).status();
    }
}

#[test]
fn the_debian_package_installs_runs_its_unit_commands_and_purges_cleanly() {
    require_root();
    let (installed, _) = sh("dpkg-query -W -f='${Status}' antidote 2>/dev/null | grep -q 'install ok installed'");
    assert!(!installed, "antidote is installed on this machine already; this test installs and purges its own package");
    let s = Scratch::new("package");
    let (ok, out) = sh(&format!("{} --bin {} --out {}", repo().join("packaging/build-deb.sh").display(), bin(), s.0.display()));
    assert!(ok, "{out}");
    let deb = out.lines().last().unwrap().trim().to_string();
    assert!(deb.ends_with(".deb") && Path::new(&deb).exists(), "{out}");
    let (ok, out) = sh(&format!("dpkg-deb --info {deb} && dpkg-deb --contents {deb}"));
    assert!(ok, "{out}");
    for f in [
        "./usr/bin/antidote",
        "./lib/systemd/system/antidote.service",
        "./etc/antidote/antidote.toml",
        "./etc/logrotate.d/antidote",
        "./etc/sysctl.d/antidote.conf",
        "./usr/share/antidote/policies/default.policy",
        "./usr/share/antidote/hw-profiles/intel-x710.toml",
        "./usr/share/man/man1/antidote-run.1.gz",
        "./usr/share/bash-completion/completions/antidote",
        "./usr/share/doc/antidote/operations.md",
    ] {
        assert!(out.contains(f), "{f} missing from the package:\n{out}");
    }

    let _guard = Installed;
    let (ok, out) = sh(&format!("dpkg -i {deb}"));
    assert!(ok, "dpkg -i: {out}");
    assert!(Path::new("/var/lib/antidote").is_dir() && Path::new("/var/log/antidote").is_dir());
    let unit = std::fs::read_to_string("/lib/systemd/system/antidote.service").unwrap();
    let (ok, out) = sh("systemd-analyze verify /lib/systemd/system/antidote.service");
    assert!(ok && !out.contains("antidote.service:"), "systemd-analyze verify: {out}");
    if Path::new("/usr/sbin/logrotate").exists() {
        let (ok, out) = sh("logrotate -d /etc/logrotate.d/antidote");
        assert!(ok && !out.to_lowercase().contains("error"), "logrotate -d: {out}");
    }
    let (ok, out) = sh("bash -c 'source /usr/share/bash-completion/completions/antidote && complete -p antidote'");
    assert!(ok, "bash completion: {out}");

    // The operator's part: a profile (here vdevs), the API on a free port.
    std::fs::write(
        "/etc/antidote/profile.toml",
        "name = \"packaged\"\nworker_lcores = [1]\nmemory_mb = 256\nmempool_mbufs = 4095\n[[port]]\nname = \"a\"\ndevice = \"net_null0,no-rx=1\"\nrx_desc = 512\ntx_desc = 512\n\
         [[port]]\nname = \"b\"\ndevice = \"net_null1,no-rx=1\"\nrx_desc = 512\ntx_desc = 512\n[[pair]]\na = \"a\"\nb = \"b\"\n",
    )
    .unwrap();
    let conf = std::fs::read_to_string("/etc/antidote/antidote.toml").unwrap();
    assert!(conf.contains("listen = \"127.0.0.1:9440\""), "{conf}");
    std::fs::write("/etc/antidote/antidote.toml", conf.replace("listen = \"127.0.0.1:9440\"", "listen = \"127.0.0.1:0\"")).unwrap();

    // The unit's command lines, in order, as systemd would run them.
    for pre in unit_lines(&unit, "ExecStartPre") {
        let (ok, out) = sh(pre);
        assert!(ok, "{pre}: {out}");
    }
    let start = unit_lines(&unit, "ExecStart");
    assert_eq!(start.len(), 1, "{unit}");
    let log = s.path("service.log");
    let f = std::fs::File::create(&log).unwrap();
    let mut child =
        Command::new("sh").arg("-c").arg(format!("exec {}", start[0])).env_remove("ANTIDOTE_CONFIG").stdout(f.try_clone().unwrap()).stderr(f).spawn().unwrap();
    let pid = child.id().to_string();
    let text = || std::fs::read_to_string(&log).unwrap_or_default();
    let wait = |needle: &str, child: &mut std::process::Child| {
        let t = Instant::now();
        while !text().contains(needle) {
            assert!(child.try_wait().unwrap().is_none(), "the service exited before `{needle}`:\n{}", text());
            assert!(t.elapsed() < Duration::from_secs(30), "no `{needle}`:\n{}", text());
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait("control API on http://", &mut child);
    assert!(Path::new("/var/log/antidote/alerts.jsonl").exists() && Path::new("/var/lib/antidote/token").exists(), "{}", text());
    for reload in unit_lines(&unit, "ExecReload") {
        let (ok, out) = sh(&reload.replace("$MAINPID", &pid));
        assert!(ok, "{reload}: {out}");
    }
    wait("SIGHUP: alert files reopened", &mut child);
    for stop in unit_lines(&unit, "ExecStop") {
        let (ok, out) = sh(&stop.replace("$MAINPID", &pid));
        assert!(ok, "{stop}: {out}");
    }
    let limit: u64 = unit_lines(&unit, "TimeoutStopSec").first().and_then(|v| v.parse().ok()).unwrap_or(90);
    let t = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(t.elapsed() < Duration::from_secs(limit), "the service did not stop within TimeoutStopSec:\n{}", text());
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}:\n{}", text());

    // Purged: nothing of the package is left.
    std::fs::remove_file("/etc/antidote/profile.toml").unwrap();
    let (ok, out) = sh("dpkg --purge antidote");
    assert!(ok, "{out}");
    for gone in ["/usr/bin/antidote", "/lib/systemd/system/antidote.service", "/etc/antidote", "/var/lib/antidote", "/var/log/antidote", "/usr/share/antidote"]
    {
        assert!(!Path::new(gone).exists(), "{gone} is left after the purge");
    }
}
