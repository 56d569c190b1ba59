//! Helpers shared by the binary-level tests.
#![allow(dead_code)]
pub mod ecs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_antidote")
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn require_root() {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let uid = status.lines().find(|l| l.starts_with("Uid:")).unwrap().split_whitespace().nth(2).unwrap().to_string();
    assert_eq!(uid, "0", "this test drives DPDK and network namespaces: run it as root (scripts/test.sh)");
}

/// A fresh scratch directory under the target dir, removed on drop.
pub struct Scratch(pub PathBuf);
impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let p = std::env::temp_dir().join(format!("antidote-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Scratch(p)
    }
    pub fn path(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }
}
impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a command with a time limit; kills it when the limit passes. Output is drained while
/// it runs, so large outputs cannot block it.
pub fn run_for(cmd: &mut Command, limit: Duration) -> Output {
    use std::io::Read;
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let (o, e) = (t_out.join().unwrap(), t_err.join().unwrap());
            panic!("{:?} did not finish within {limit:?}\nstdout: {}\nstderr: {}", cmd, String::from_utf8_lossy(&o), String::from_utf8_lossy(&e));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output { status, stdout: t_out.join().unwrap(), stderr: t_err.join().unwrap() }
}

/// An `antidote run` in the background, stopped with SIGINT (then killed) on drop.
pub struct Appliance {
    pub child: Option<Child>,
    pub log: PathBuf,
}

impl Appliance {
    pub fn start(args: &[&str], log: &Path) -> Appliance {
        Self::start_with_env(args, log, &[])
    }

    /// [`Appliance::start`] with environment variables (the debug build's fault injection).
    pub fn start_with_env(args: &[&str], log: &Path, env: &[(&str, &str)]) -> Appliance {
        let f = std::fs::File::create(log).unwrap();
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        if args.first().map(|a| a == "run").unwrap_or(false) && !args.iter().any(|a| a == "--control" || a == "--config") {
            // Tests run in parallel: no API unless a test asks for one (or its configuration file
            // does).
            args.extend(["--control".to_string(), "off".to_string()]);
        }
        let child = Command::new(bin())
            .args(&args)
            .envs(env.iter().copied())
            .current_dir(repo())
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .expect("start antidote");
        Appliance { child: Some(child), log: log.to_path_buf() }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the log contains `needle`, or panics with the log.
    pub fn wait_for(&mut self, needle: &str, limit: Duration) {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.log_text().contains(needle) {
                return;
            }
            if let Some(st) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("antidote exited ({st}) before `{needle}`:\n{}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("no `{needle}` from antidote within {limit:?}:\n{}", self.log_text());
    }

    /// SIGINT, then waits (killing after 10 s); returns the exit status success and the log.
    pub fn stop(&mut self) -> (bool, String) {
        let Some(mut child) = self.child.take() else { return (false, self.log_text()) };
        let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
        let start = Instant::now();
        loop {
            if let Some(st) = child.try_wait().unwrap() {
                return (st.success(), self.log_text());
            }
            if start.elapsed() > Duration::from_secs(10) {
                let _ = child.kill();
                let _ = child.wait();
                return (false, format!("{}\n(killed after SIGINT timeout)", self.log_text()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Appliance {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The admin token of [`start_with_api`].
pub const TEST_TOKEN: &str = "test-admin-token-0123456789abcdef";

/// `antidote run ARGS` with the control API on an ephemeral local port, the token file in `s`
/// (`tester:TEST_TOKEN`, then `more_tokens` lines) and the state in `s/state`: the appliance,
/// once its API listens, and the API's base URL (`http://127.0.0.1:PORT`).
pub fn start_with_api(s: &Scratch, args: &[&str], env: &[(&str, &str)], more_tokens: &str) -> (Appliance, String) {
    std::fs::write(s.path("token"), format!("tester:{TEST_TOKEN}\n{more_tokens}")).unwrap();
    let (token, state) = (s.path("token"), s.path("state"));
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--control", "127.0.0.1:0", "--token-file", token.to_str().unwrap(), "--state-dir", state.to_str().unwrap()]);
    let mut app = Appliance::start_with_env(&all, &s.path("run.log"), env);
    app.wait_for("control API on http://", Duration::from_secs(30));
    let log = app.log_text();
    let base = log.lines().find_map(|l| l.split("control API on ").nth(1)).unwrap().split_whitespace().next().unwrap().trim_end_matches('/').to_string();
    (app, base)
}

/// The lab network, torn down on drop (even when the test panics).
pub struct Lab;
impl Lab {
    pub fn up() -> Lab {
        let out = run_for(Command::new("bash").arg(repo().join("scripts/lab.sh")).arg("up"), Duration::from_secs(30));
        assert!(out.status.success(), "lab.sh up failed: {}", String::from_utf8_lossy(&out.stderr));
        Lab
    }
    /// Runs a command inside namespace `ns`, bounded in time.
    pub fn exec(&self, ns: &str, cmd: &[&str], limit: Duration) -> Output {
        run_for(Command::new("ip").args(["netns", "exec", ns]).args(cmd), limit)
    }
}
impl Drop for Lab {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(repo().join("scripts/lab.sh")).arg("down").output();
    }
}

/// The last `antidote final:` line of a log.
pub fn final_line(log: &str) -> String {
    log.lines().rfind(|l| l.starts_with("antidote final:")).unwrap_or("").to_string()
}

/// The counter after `key ` in a summary segment like `a→b rx 10 tx 10 txfull 0`.
pub fn counter(line: &str, dir: &str, key: &str) -> u64 {
    let seg = line.split('|').find(|s| s.trim().starts_with(dir)).unwrap_or_else(|| panic!("no {dir} in {line}"));
    let mut it = seg.split_whitespace();
    while let Some(w) = it.next() {
        if w == key {
            return it.next().unwrap().parse().unwrap();
        }
    }
    panic!("no {key} in {seg}");
}

/// The `antidote-<pid>` runtime folders in `/var/run/dpdk` now.
pub fn runtime_dirs() -> std::collections::BTreeSet<String> {
    std::fs::read_dir("/var/run/dpdk")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("antidote-"))
        .collect()
}

/// Runtime folders that appeared since `before` and whose process is gone: what a run of this
/// test left behind (a folder left by an earlier run, or a live parallel test's, is not).
pub fn runtime_dirs_left_since(before: &std::collections::BTreeSet<String>) -> Vec<String> {
    runtime_dirs()
        .into_iter()
        .filter(|n| !before.contains(n))
        .filter(|n| n.strip_prefix("antidote-").and_then(|p| p.parse::<u32>().ok()).is_some_and(|pid| !std::path::Path::new(&format!("/proc/{pid}")).exists()))
        .collect()
}

pub fn hugepage_files() -> usize {
    std::fs::read_dir("/dev/hugepages").map(|d| d.count()).unwrap_or(0)
}
