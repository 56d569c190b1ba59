//! `antidote run` end to end over `net_pcap` files: frames read on port a leave port b unchanged,
//! the final counters say so, and nothing is left in /var/run/dpdk or /dev/hugepages.
mod common;
use common::*;
use pcap_file::pcap::{PcapPacket, PcapReader, PcapWriter};
use std::fs::File;
use std::time::Duration;

fn write_pcap(path: &std::path::Path, frames: &[Vec<u8>]) {
    let mut w = PcapWriter::new(File::create(path).unwrap()).unwrap();
    for (i, f) in frames.iter().enumerate() {
        w.write_packet(&PcapPacket::new(Duration::from_micros(i as u64), f.len() as u32, f)).unwrap();
    }
}

fn read_pcap(path: &std::path::Path) -> Vec<Vec<u8>> {
    let mut r = PcapReader::new(File::open(path).unwrap()).unwrap();
    let mut v = Vec::new();
    while let Some(p) = r.next_packet() {
        v.push(p.unwrap().data.into_owned());
    }
    v
}

fn frames() -> Vec<Vec<u8>> {
    (0..500usize)
        .map(|i| {
            let len = 60 + (i * 37) % 1454;
            let mut f = vec![0u8; len];
            f[..6].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x20]);
            f[6..12].copy_from_slice(&[0x02, 0, 0, 0, 0, 0x10]);
            f[12..14].copy_from_slice(&[0x88, 0xb5]); // local experimental ethertype
            for (j, b) in f[14..].iter_mut().enumerate() {
                *b = (i + j) as u8;
            }
            f
        })
        .collect()
}

/// A profile in `s` (p.toml) between pcap files: port a reads in.pcap and writes out-a.pcap,
/// port b reads empty.pcap and writes out-b.pcap; with `mirror`, port m writes mirror.pcap and
/// is the profile's mirror port.
fn write_pcap_profile(s: &Scratch, mirror: bool) -> std::path::PathBuf {
    let d = s.0.display();
    let port = |name: &str, n: u8, rx: &str, tx: &str| {
        format!("[[port]]\nname = \"{name}\"\ndevice = \"net_pcap{n},rx_pcap={d}/{rx},tx_pcap={d}/{tx}\"\nrx_desc = 256\ntx_desc = 256\n")
    };
    let mut profile = String::from("name = \"t\"\nworker_lcores = [1]\nmemory_mb = 256\nmempool_mbufs = 4095\n");
    if mirror {
        profile += "mirror = \"m\"\n";
    }
    profile += &port("a", 0, "in.pcap", "out-a.pcap");
    profile += &port("b", 1, "empty.pcap", "out-b.pcap");
    if mirror {
        profile += &port("m", 2, "empty.pcap", "mirror.pcap");
    }
    profile += "[[pair]]\na = \"a\"\nb = \"b\"\n";
    let path = s.path("p.toml");
    std::fs::write(&path, profile).unwrap();
    path
}

/// `antidote run` on the profile until its input is done (plus `extra` arguments); returns the
/// final counters line.
fn run_pcap_profile(profile: &std::path::Path, extra: &[&std::ffi::OsStr]) -> String {
    let mut cmd = std::process::Command::new(bin());
    cmd.args(["run", "--profile"]).arg(profile).args(extra).args(["--until-idle-ms", "400", "--duration", "20", "--control", "off"]);
    let out = run_for(&mut cmd, Duration::from_secs(30));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    final_line(&stdout)
}

#[test]
fn pcap_in_pcap_out_unchanged() {
    require_root();
    let s = Scratch::new("run-pcap");
    let input = frames();
    write_pcap(&s.path("in.pcap"), &input);
    write_pcap(&s.path("empty.pcap"), &[]);
    let profile = write_pcap_profile(&s, false);
    let hp_before = hugepage_files();
    let dirs_before = runtime_dirs();
    let fl = run_pcap_profile(&profile, &[]);
    assert_eq!(counter(&fl, "a→b", "rx"), 500, "{fl}");
    assert_eq!(counter(&fl, "a→b", "tx"), 500, "{fl}");
    assert_eq!(counter(&fl, "a→b", "txfull"), 0, "{fl}");
    assert_eq!(counter(&fl, "b→a", "rx"), 0, "{fl}");
    let got = read_pcap(&s.path("out-b.pcap"));
    assert_eq!(got.len(), input.len());
    assert!(got == input, "frames changed on the way through");
    assert!(read_pcap(&s.path("out-a.pcap")).is_empty());
    // Clean shutdown: no runtime files, no hugepage files.
    // Every antidote runtime dir that remains belongs to a live process (parallel tests).
    let left = runtime_dirs_left_since(&dirs_before);
    assert!(left.is_empty(), "left in /var/run/dpdk: {left:?}");
    assert!(hugepage_files() <= hp_before, "hugepage files left behind");
}

#[test]
fn clear_sentences_for_operator_mistakes() {
    require_root();
    let s = Scratch::new("mistakes");
    let run = |args: &[&str]| {
        let out = run_for(std::process::Command::new(bin()).args(args).current_dir(repo()), Duration::from_secs(20));
        (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    // A bad key: file, line, key and fix, before EAL starts.
    std::fs::write(s.path("bad.toml"), "name = \"x\"\nworker_lcores = [1]\nrx_queus = 2\n").unwrap();
    let (ok, err) = run(&["run", "--profile", s.path("bad.toml").to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("bad.toml: line 3: unknown field `rx_queus`") && err.contains("fix the key"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one sentence: {err}");
    // An interface that does not exist.
    let lab = std::fs::read_to_string(repo().join("hw-profiles/lab.toml")).unwrap().replace("iface=ad-a", "iface=ad-nope");
    std::fs::write(s.path("noiface.toml"), lab).unwrap();
    let (ok, err) = run(&["run", "--profile", s.path("noiface.toml").to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("network interface ad-nope does not exist"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one sentence: {err}");
    // A missing capture file.
    let pcap = std::fs::read_to_string(repo().join("hw-profiles/pcap.toml")).unwrap().replace("/var/tmp/antidote/in.pcap", "/nonexistent/in.pcap");
    std::fs::write(s.path("nopcap.toml"), pcap).unwrap();
    let (ok, err) = run(&["run", "--profile", s.path("nopcap.toml").to_str().unwrap()]);
    assert!(!ok && err.contains("capture file /nonexistent/in.pcap (rx_pcap) does not exist"), "{err}");
    // A sink that cannot start, an unknown sink scheme, a control address that cannot be bound:
    // one sentence, a failure, before the dataplane starts (before EAL: nothing to clean up).
    let null = repo().join("hw-profiles/null.toml");
    let null = null.to_str().unwrap();
    for (args, want) in [
        (vec!["--alerts", "ftp://x"], "unknown scheme `ftp://`"),
        (vec!["--alerts", "/nonexistent/dir/alerts.jsonl"], "/nonexistent/dir/alerts.jsonl"),
        (vec!["--control", "192.0.2.1:9440"], "control API cannot listen on 192.0.2.1:9440"),
    ] {
        let mut a = vec!["run", "--profile", null, "--duration", "1", "--state-dir", s.path("state").to_str().unwrap().to_string().leak()];
        a.extend(args);
        let (ok, err) = run(&a);
        assert!(!ok && err.contains(want), "{a:?}: {err}");
        assert!(!err.contains("EAL"), "{a:?}: failed only once EAL was up: {err}");
    }
    // replay's --out, checked before the run.
    drop(pcap_file::pcap::PcapWriter::new(std::fs::File::create(s.path("empty.pcap")).unwrap()).unwrap());
    let (ok, err) = run(&["replay", "--policy", "policies/default.policy", "--in", s.path("empty.pcap").to_str().unwrap(), "--out", "/nonexistent/dir/x.pcap"]);
    assert!(!ok && err.contains("--out /nonexistent/dir/x.pcap") && !err.contains("EAL"), "{err}");
    // Not root.
    let out = run_for(
        std::process::Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", bin(), "run", "--profile"])
            .arg(repo().join("hw-profiles/lab.toml")),
        Duration::from_secs(20),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("must run as root"), "{err}");
}

#[path = "../dataplane/wire/tests/frames/mod.rs"]
mod policy_frames;

#[test]
fn mirror_to_a_pcap_file() {
    // The profile's mirror port is a net_pcap vdev writing a file: with the mirror-only policy,
    // every name-resolution frame and follow-on is copied there, and every frame still passes.
    use policy_frames::*;
    require_root();
    let s = Scratch::new("run-pcap-mirror");
    let mut input = Vec::new();
    let mut mirrored = Vec::new();
    for i in 0..200usize {
        let f = match i % 5 {
            0 => llmnr_query(VICTIM, &format!("host{i}")),
            1 => nbns_query(VICTIM, &format!("HOST{i}"), true),
            2 => tcp(VICTIM, LEGIT, 50000, 80, 0x18, b"GET /wpad.dat HTTP/1.1\r\nHost: wpad\r\n\r\n"),
            _ => tcp(VICTIM, LEGIT, 50000, 443, 0x10, &[i as u8; 32]),
        };
        if i % 5 < 3 {
            mirrored.push(f.clone());
        }
        input.push(f);
    }
    write_pcap(&s.path("in.pcap"), &input);
    write_pcap(&s.path("empty.pcap"), &[]);
    let profile = write_pcap_profile(&s, true);
    let policy = repo().join("policies/mirror-only.policy");
    let fl = run_pcap_profile(&profile, &["--policy".as_ref(), policy.as_os_str()]);
    assert_eq!(counter(&fl, "a→b", "tx"), 200, "{fl}");
    assert!(fl.contains(&format!("mirrored {}", mirrored.len())), "{fl}");
    assert_eq!(read_pcap(&s.path("out-b.pcap")), input, "every frame passes unchanged");
    assert_eq!(read_pcap(&s.path("mirror.pcap")), mirrored, "the mirror file holds exactly the mirrored frames, in order");
}
