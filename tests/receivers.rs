//! Alerts reach real receivers: Debian's rsyslog (imudp and imtcp, its RFC 5424 parser and
//! mmpstrucdata reading the structured data back) and a webhook posting to a real HTTP server,
//! both in a network namespace the test creates (`ad-siem`, 198.18.254.2, joined to the host by
//! a veth of its own), fed by `antidote replay` of the crafted capture — every document the file
//! sink writes arrives at each of them, field by field.
mod common;
use common::*;
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const NS: &str = "ad-siem";
const HOST_IF: &str = "ad-siem-h";
const ADDR: &str = "198.18.254.2";

/// The namespace, its veth, and the receivers in it: removed on drop, whatever happens.
struct Siem {
    procs: Vec<Child>,
}

impl Siem {
    fn up() -> Siem {
        Siem::clean();
        let sh = |args: &[&str]| {
            let o = Command::new("ip").args(args).output().unwrap();
            assert!(o.status.success(), "ip {args:?}: {}", String::from_utf8_lossy(&o.stderr));
        };
        sh(&["netns", "add", NS]);
        sh(&["link", "add", HOST_IF, "type", "veth", "peer", "name", "eth0", "netns", NS]);
        sh(&["addr", "add", "198.18.254.1/30", "dev", HOST_IF]);
        sh(&["link", "set", HOST_IF, "up"]);
        sh(&["-n", NS, "addr", "add", &format!("{ADDR}/30"), "dev", "eth0"]);
        sh(&["-n", NS, "link", "set", "eth0", "up"]);
        sh(&["-n", NS, "link", "set", "lo", "up"]);
        Siem { procs: Vec::new() }
    }

    fn clean() {
        let _ = Command::new("ip").args(["link", "del", HOST_IF]).stderr(Stdio::null()).status();
        let _ = Command::new("ip").args(["netns", "del", NS]).stderr(Stdio::null()).status();
    }

    fn spawn(&mut self, args: &[&str], log: &std::path::Path) {
        let f = std::fs::File::create(log).unwrap();
        let c = Command::new("ip").args(["netns", "exec", NS]).args(args).stdout(f.try_clone().unwrap()).stderr(f).spawn().unwrap();
        self.procs.push(c);
    }
}

impl Drop for Siem {
    fn drop(&mut self) {
        for p in &mut self.procs {
            let _ = p.kill();
            let _ = p.wait();
        }
        Siem::clean();
    }
}

fn lines(p: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(p).unwrap_or_default().lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

#[test]
fn alerts_reach_rsyslog_over_udp_and_tcp_and_a_webhook_field_by_field() {
    require_root();
    assert!(std::path::Path::new("/usr/sbin/rsyslogd").exists(), "rsyslog is not installed: run scripts/setup.sh");
    let s = Scratch::new("receivers");
    let mut siem = Siem::up();
    // rsyslog: both transports, the structured data parsed, every property written as JSON.
    let received = s.path("rsyslog.jsonl");
    let conf = format!(
        r#"global(workDirectory="{dir}")
module(load="imudp")
module(load="imtcp")
module(load="mmpstrucdata")
template(name="j" type="list" option.jsonf="on") {{
  property(outname="input" name="inputname" format="jsonf")
  property(outname="host" name="hostname" format="jsonf")
  property(outname="app" name="app-name" format="jsonf")
  property(outname="procid" name="procid" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="facility" name="syslogfacility" format="jsonf")
  property(outname="severity" name="syslogseverity" format="jsonf")
  property(outname="time" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="sd" name="$!rfc5424-sd" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
}}
ruleset(name="r") {{
  action(type="mmpstrucdata")
  action(type="omfile" file="{out}" template="j")
}}
input(type="imudp" address="{ADDR}" port="5514" ruleset="r")
input(type="imtcp" address="{ADDR}" port="5514" ruleset="r")
"#,
        dir = s.0.display(),
        out = received.display()
    );
    std::fs::write(s.path("rsyslog.conf"), conf).unwrap();
    let pid = s.path("rsyslog.pid");
    siem.spawn(&["rsyslogd", "-n", "-f", s.path("rsyslog.conf").to_str().unwrap(), "-i", pid.to_str().unwrap()], &s.path("rsyslog.log"));
    // The webhook's receiver: Python's HTTP server, each POST body written as a line.
    let hooks = s.path("webhook.jsonl");
    let server = format!(
        "import http.server,json\nclass H(http.server.BaseHTTPRequestHandler):\n def do_POST(self):\n  b=self.rfile.read(int(self.headers['Content-Length']))\n  open({hooks:?},'a').write(json.dumps(json.loads(b))+'\\n')\n  self.send_response(204); self.end_headers()\n def log_message(self,*a): pass\nhttp.server.ThreadingHTTPServer(('{ADDR}',8080),H).serve_forever()\n",
        hooks = hooks.display().to_string()
    );
    siem.spawn(&["/usr/bin/python3", "-c", &server], &s.path("webhook.log"));
    // Both listening.
    let t = Instant::now();
    loop {
        let o = Command::new("ip").args(["netns", "exec", NS, "ss", "-Hltun"]).output().unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        if out.contains(&format!("{ADDR}:5514")) && out.matches(&format!("{ADDR}:5514")).count() >= 2 && out.contains(&format!("{ADDR}:8080")) {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the receivers did not start: {out}\n{}",
            std::fs::read_to_string(s.path("rsyslog.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let input = s.path("in.pcap");
    let g = run_for(Command::new("/usr/bin/python3").arg(repo().join("scripts/gen_wire_corpus.py")).arg(&input), Duration::from_secs(60));
    assert!(g.status.success());
    let file = s.path("alerts.jsonl");
    let r = run_for(
        Command::new(bin())
            .args(["replay", "--policy"])
            .arg(repo().join("policies/default.policy"))
            .arg("--in")
            .arg(&input)
            .args(["--alerts", file.to_str().unwrap()])
            .args(["--alerts", &format!("syslog+udp://{ADDR}:5514,sd_id=antidote@99999"), "--alerts", &format!("syslog+tcp://{ADDR}:5514")])
            .args(["--alerts", &format!("http://{ADDR}:8080/hook")]),
        Duration::from_secs(60),
    );
    let text = String::from_utf8_lossy(&r.stdout).to_string() + &String::from_utf8_lossy(&r.stderr);
    assert!(r.status.success(), "{text}");
    let docs = lines(&file);
    assert!(docs.len() >= 5, "the replay must raise alerts: {text}");
    // Everything delivered (UDP on a veth loses nothing at this rate).
    let t = Instant::now();
    let (mut udp, mut tcp, mut posted);
    loop {
        let got = lines(&received);
        udp = got.iter().filter(|l| l["input"] == "imudp").cloned().collect::<Vec<_>>();
        tcp = got.iter().filter(|l| l["input"] == "imtcp").cloned().collect::<Vec<_>>();
        posted = lines(&hooks);
        if (udp.len(), tcp.len(), posted.len()) == (docs.len(), docs.len(), docs.len()) || t.elapsed() > Duration::from_secs(10) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        (udp.len(), tcp.len(), posted.len()),
        (docs.len(), docs.len(), docs.len()),
        "documents written {}, received over UDP, TCP, webhook\n{text}",
        docs.len()
    );
    let severity = |d: &Value| match d["log"]["level"].as_str() {
        Some("critical") => "2",
        Some("high") => "3",
        Some("medium") => "4",
        _ => "5",
    };
    for (proto, got) in [("UDP", &udp), ("TCP", &tcp)] {
        for d in &docs {
            let msg = format!("{} {d}", d["message"].as_str().unwrap());
            let l = got.iter().find(|l| l["msg"].as_str() == Some(msg.as_str())).unwrap_or_else(|| panic!("{proto}: no message for {d}"));
            assert_eq!(
                (l["app"].as_str(), l["msgid"].as_str(), l["procid"].as_str(), l["facility"].as_str()),
                (Some("antidote"), Some("alert"), Some("-"), Some("16")),
                "{proto}: {l}"
            );
            assert_eq!(l["severity"].as_str(), Some(severity(d)), "{proto}: {l}");
            assert_eq!(l["time"], d["@timestamp"], "{proto}: {l}");
            assert!(!l["host"].as_str().unwrap_or("").is_empty(), "{l}");
            let sd: Value = serde_json::from_str(l["sd"].as_str().unwrap()).unwrap_or_else(|e| panic!("{proto}: structured data {e}: {l}"));
            let (id, params) = sd.as_object().unwrap().iter().next().unwrap();
            // The SD-ID a sink names (UDP: the operator's enterprise number), else the default.
            assert_eq!(id, if proto == "UDP" { "antidote@99999" } else { "antidote@32473" }, "{l}");
            assert_eq!(params["rule"], d["rule"]["name"], "{proto}: {l}");
            assert_eq!(params["src"].as_str(), Some(d["source"]["ip"].as_str().unwrap_or("")), "{proto}: {l}");
            assert_eq!(params["dst"].as_str(), Some(d["destination"]["ip"].as_str().unwrap_or("")), "{proto}: {l}");
            assert_eq!(params["action"], d["event"]["action"], "{proto}: {l}");
            assert_eq!(params["count"].as_str(), Some(d["antidote"]["count"].as_u64().unwrap_or(1).to_string().as_str()), "{proto}: {l}");
        }
    }
    for d in &docs {
        assert!(posted.contains(d), "the webhook did not receive {d}");
    }
}
