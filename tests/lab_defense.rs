//! The proof in the lab: ad-legit runs Samba's nmbd (NetBIOS name LEGIT) and an LLMNR responder
//! for its own names; ad-poisoner runs a Responder-like poisoner (scripts/lab/poisoner.py).
//! With `antidote run --profile hw-profiles/lab.toml --policy policies/default.policy`:
//! the victim's lookups of a typo get no poisoned answer (NBT-NS, LLMNR over IPv4 and IPv6,
//! mDNS) while the poisoner demonstrably answered; the legitimate name still resolves; poisoned
//! answers are dropped and alerted with the poisoner's IP and MAC; a follow-on connection to
//! the poisoner is blocked and alerted; every dropped frame is accounted for by an alert that
//! names the poisoner. With policies/alert-only.policy the poison passes and is alerted.
mod common;
use common::*;
use serde_json::Value;
use std::process::Command;
use std::time::{Duration, Instant};

const POISONER_IPS: [&str; 3] = ["198.18.0.66", "fd00:198:18::66", "fe80::ad:ff:fe00:66"];

struct Actors(std::path::PathBuf);
impl Actors {
    fn start(dir: &std::path::Path) -> Actors {
        let out = run_for(Command::new("bash").arg(repo().join("scripts/lab/actors.sh")).arg("start").arg(dir), Duration::from_secs(30));
        assert!(out.status.success(), "actors: {}", String::from_utf8_lossy(&out.stderr));
        Actors(dir.to_path_buf())
    }
    fn poisoner_answers(&self, proto: &str, name: &str) -> usize {
        std::fs::read_to_string(self.0.join("poisoner.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["proto"] == proto && v["name"].as_str().map(|n| n.eq_ignore_ascii_case(name)).unwrap_or(false))
            .count()
    }
}
impl Actors {
    fn poisoner_answers_proto(&self, proto: &str) -> usize {
        std::fs::read_to_string(self.0.join("poisoner.jsonl")).unwrap_or_default().lines().filter(|l| l.contains(&format!("\"proto\": \"{proto}\""))).count()
    }
}

impl Drop for Actors {
    fn drop(&mut self) {
        let _ = Command::new("bash").arg(repo().join("scripts/lab/actors.sh")).arg("stop").arg(&self.0).output();
    }
}

fn victim(lab: &Lab, args: &[&str]) -> (String, Duration) {
    let t = Instant::now();
    let out = lab.exec("ad-victim", args, Duration::from_secs(15));
    (String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr), t.elapsed())
}

fn resolve(lab: &Lab, proto: &str, name: &str) -> Vec<Value> {
    let script = repo().join("scripts/lab/resolve.py");
    let (out, _) = victim(lab, &["/usr/bin/python3", script.to_str().unwrap(), proto, name, "--timeout", "1"]);
    out.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()
}

fn answered_by(answers: &[Value], ip: &str) -> bool {
    answers.iter().any(|a| a["answers"].as_array().map(|x| x.iter().any(|v| v == ip)).unwrap_or(false))
}

fn nmblookup(lab: &Lab, name: &str) -> (String, Duration) {
    victim(lab, &["nmblookup", "-B", "198.18.0.255", name])
}

fn alerts(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path).unwrap_or_default().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

/// Waits until nmbd answers for LEGIT (it registers its name first).
fn wait_for_nmbd(lab: &Lab) {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(20) {
        // nmbd answers broadcast queries only once its name is registered.
        let out = lab.exec("ad-legit", &["nmblookup", "-B", "198.18.0.255", "LEGIT"], Duration::from_secs(5));
        if String::from_utf8_lossy(&out.stdout).contains("198.18.0.20 LEGIT<00>") {
            return;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    panic!("nmbd in ad-legit never answered for LEGIT");
}

#[test]
fn lab_default_policy_stops_the_poisoner() {
    require_root();
    let lab = Lab::up();
    let s = Scratch::new("lab-defense");
    let actors = Actors::start(&s.path("actors"));
    wait_for_nmbd(&lab);
    let alerts_file = s.path("alerts.jsonl");
    let mut app = Appliance::start(
        &[
            "run",
            "--profile",
            "hw-profiles/lab.toml",
            "--policy",
            "policies/default.policy",
            "--alerts",
            alerts_file.to_str().unwrap(),
            "--stats-interval",
            "0",
            "--alert-window",
            "60",
        ],
        &s.path("run.log"),
    );
    app.wait_for("running:", Duration::from_secs(20));

    // NBT-NS: a typo. The poisoner answers; the victim gets no poisoned answer.
    let (out, took) = nmblookup(&lab, "fileservr");
    assert!(actors.poisoner_answers("nbns", "FILESERVR") >= 1, "the poisoner did not answer: the test proves nothing");
    assert!(!out.contains("198.18.0.66"), "poisoned NBT-NS answer reached the victim:\n{out}");
    assert!(out.contains("name_query failed to find name fileservr"), "{out}");
    eprintln!("nmblookup of a typo with antidote in the path: {took:?}: {}", out.trim().replace('\n', " | "));
    // The real name still resolves.
    let (out, _) = nmblookup(&lab, "legit");
    assert!(out.contains("198.18.0.20 legit<00>"), "legit lookup failed:\n{out}");
    // A unicast (WINS-style, RD) query of the typo to ad-legit: its nmbd is no WINS server and
    // stays silent (the client would wait 2 s); antidote's injected negative answer ends the
    // wait at once. Broadcast queries get none (their clients ignore it): one injection in all.
    let (out, took) = victim(&lab, &["nmblookup", "-U", "198.18.0.20", "--recursion", "fileservr"]);
    assert!(out.contains("name_query failed to find name fileservr"), "{out}");
    assert!(took < Duration::from_millis(1000), "the unicast query was not answered at once: {took:?}");
    eprintln!("unicast nmblookup of a typo, answered by antidote's negative answer: {took:?}: {}", out.trim().replace('\n', " | "));
    let (out, _) = victim(&lab, &["nmblookup", "-U", "198.18.0.20", "--recursion", "legit"]);
    assert!(out.contains("198.18.0.20 legit<00>"), "unicast legit lookup failed:\n{out}");

    // LLMNR over IPv4 and IPv6, mDNS: no poisoned answer; the legitimate names resolve.
    for (proto, name) in [("llmnr4", "fileservr"), ("llmnr6", "fileservr2"), ("mdns", "printer.local")] {
        let got = resolve(&lab, proto, name);
        assert!(POISONER_IPS.iter().all(|ip| !answered_by(&got, ip)), "{proto} {name}: poisoned answer reached the victim: {got:?}");
        let logged = match proto {
            "llmnr4" => actors.poisoner_answers("llmnr4", name),
            "llmnr6" => actors.poisoner_answers("llmnr6", name),
            _ => actors.poisoner_answers("mdns", name),
        };
        assert!(logged >= 1, "{proto}: the poisoner did not answer {name}");
    }
    assert!(answered_by(&resolve(&lab, "llmnr4", "legit"), "198.18.0.20"), "LLMNR lookup of legit failed");
    assert!(answered_by(&resolve(&lab, "llmnr6", "legit"), "fd00:198:18::20"), "LLMNR/IPv6 lookup of legit failed");

    // A follow-on: the victim reaches for the poisoner's WPAD file. Blocked.
    let (code, _) = victim(&lab, &["curl", "-s", "-m", "3", "-o", "/dev/null", "-w", "%{http_code}", "http://198.18.0.66/wpad.dat"]);
    assert_eq!(code.trim(), "000", "the WPAD fetch from the poisoner went through");

    let (ok, log) = app.stop();
    assert!(ok, "{log}");
    let docs = alerts(&alerts_file);
    let rules: Vec<&str> = docs.iter().filter_map(|d| d["rule"]["name"].as_str()).collect();
    for want in ["nbns-poison", "llmnr-poison", "connect-to-poisoner"] {
        assert!(rules.contains(&want), "no {want} alert; alerts: {rules:?}");
    }
    let poisoned: Vec<&Value> = docs
        .iter()
        .filter(|d| ["nbns-poison", "llmnr-poison", "mdns-poison", "answer-from-poisoner"].contains(&d["rule"]["name"].as_str().unwrap_or("")))
        .collect();
    assert!(poisoned.iter().any(|d| d["source"]["ip"] == "198.18.0.66"), "no IPv4 poisoner alert");
    assert!(
        poisoned.iter().any(|d| d["source"]["ip"].as_str().map(|s| s.starts_with("fe80::") || s.starts_with("fd00:")).unwrap_or(false)),
        "no IPv6 poisoner alert"
    );
    assert!(poisoned.iter().all(|d| d["source"]["mac"] == "02-AD-00-00-00-66"), "alerts must carry the poisoner's MAC");
    assert!(docs.iter().all(|d| d["threat"]["technique"]["subtechnique"]["id"][0] == "T1557.001"));

    // Every dropped frame is accounted for by a drop alert that names the poisoner.
    let fl = final_line(&log);
    let dropped = counter(&fl, "a→b", "dropped") + counter(&fl, "b→a", "dropped");
    let mut drop_alerts = 0;
    for d in &docs {
        if d["event"]["action"] == "drop" {
            drop_alerts += d["event"]["count"].as_u64().unwrap_or(1);
            let (src, dst) = (d["source"]["ip"].as_str().unwrap_or(""), d["destination"]["ip"].as_str().unwrap_or(""));
            assert!(POISONER_IPS.contains(&src) || POISONER_IPS.contains(&dst), "a frame not to or from the poisoner was dropped: {d}");
        }
    }
    assert!(dropped > 0);
    assert_eq!(dropped, drop_alerts, "dropped frames ({dropped}) != drop alerts ({drop_alerts}):\n{fl}");
    assert_eq!(counter(&fl, "alerts", "injected"), 1, "one negative answer, to the one unicast query of a typo:\n{fl}");
    eprintln!("{fl}");
}

#[test]
fn lab_alert_only_policy_lets_poison_through_and_alerts() {
    require_root();
    let lab = Lab::up();
    let s = Scratch::new("lab-alert-only");
    let actors = Actors::start(&s.path("actors"));
    wait_for_nmbd(&lab);
    let alerts_file = s.path("alerts.jsonl");
    let mut app = Appliance::start(
        &[
            "run",
            "--profile",
            "hw-profiles/lab.toml",
            "--policy",
            "policies/alert-only.policy",
            "--alerts",
            alerts_file.to_str().unwrap(),
            "--stats-interval",
            "0",
        ],
        &s.path("run.log"),
    );
    app.wait_for("running:", Duration::from_secs(20));
    let got = resolve(&lab, "llmnr4", "fileservr");
    assert!(actors.poisoner_answers("llmnr4", "fileservr") >= 1);
    assert!(answered_by(&got, "198.18.0.66"), "alert-only must not block: {got:?}");
    let (out, _) = nmblookup(&lab, "typo-name");
    assert!(out.contains("198.18.0.66 typo-name<00>"), "alert-only must not block NBT-NS:\n{out}");
    // The credential-theft follow-on goes through (alert-only) and is alerted: the victim
    // authenticates with NTLM to the poisoner's web server, which answers with its challenge.
    let (code, _) =
        victim(&lab, &["curl", "-s", "-m", "5", "--ntlm", "-u", "alice:Secret1", "-o", "/dev/null", "-w", "%{http_code}", "http://198.18.0.66/share"]);
    assert_eq!(code.trim(), "401", "the poisoner's NTLM exchange did not happen");
    assert!(actors.poisoner_answers_proto("http-ntlm-challenge") >= 1, "no NTLM challenge was sent");
    std::thread::sleep(Duration::from_millis(300));
    let (ok, log) = app.stop();
    assert!(ok, "{log}");
    let docs = alerts(&alerts_file);
    assert!(docs.iter().any(|d| d["rule"]["name"] == "llmnr-poison" && d["event"]["action"] == "pass" && d["source"]["ip"] == "198.18.0.66"), "{docs:?}");
    assert!(
        docs.iter().any(|d| d["network"]["protocol"] == "nbns" && d["source"]["ip"] == "198.18.0.66" && d["event"]["action"] == "pass"),
        "no alert for the NBT-NS poison: {docs:?}"
    );
    let ntlm = docs.iter().find(|d| d["rule"]["name"] == "ntlm-challenge-from-poisoner").expect("no NTLM challenge alert");
    assert!(ntlm["message"].as_str().unwrap().contains("WIN-"), "{ntlm}");
    let fl = final_line(&log);
    assert_eq!(counter(&fl, "a→b", "dropped") + counter(&fl, "b→a", "dropped"), 0, "{fl}");
}
