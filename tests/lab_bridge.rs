//! The lab end to end: namespaces joined only through `antidote run --profile hw-profiles/lab.toml`.
//! Ping (IPv4 and IPv6) and a UDP exchange between ad-victim and ad-legit pass through the
//! appliance, and stop passing when it stops. A data link that goes down and up (the segment
//! side's veth) is said and counted, and traffic passes again once it is back.
mod common;
use common::*;
use std::time::Duration;

fn ping(lab: &Lab, dst: &str) -> bool {
    let v6 = dst.contains(':');
    let mut args = vec!["ping", "-c", "3", "-i", "0.2", "-W", "1"];
    if v6 {
        args.insert(1, "-6");
    }
    args.push(dst);
    lab.exec("ad-victim", &args, Duration::from_secs(10)).status.success()
}

/// Sends one UDP datagram victim → legit and expects legit's echo back.
fn udp_roundtrip(lab: &Lab) -> bool {
    let server = std::process::Command::new("ip")
        .args(["netns", "exec", "ad-legit", "timeout", "4", "socat", "-T", "3", "UDP-RECVFROM:7777,reuseaddr", "EXEC:cat"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let out = lab.exec("ad-victim", &["bash", "-c", "echo antidote-udp-probe | timeout 3 socat -T 2 - UDP-SENDTO:198.18.0.20:7777"], Duration::from_secs(6));
    let mut server = server;
    let _ = server.kill();
    let _ = server.wait();
    String::from_utf8_lossy(&out.stdout).contains("antidote-udp-probe")
}

#[test]
fn lab_traffic_passes_through_antidote_and_stops_without_it() {
    require_root();
    let lab = Lab::up();
    let s = Scratch::new("lab-bridge");
    // Without the appliance the segments are apart.
    assert!(!ping(&lab, "198.18.0.20"), "victim reached legit with no appliance in the path");

    let mut app = Appliance::start(&["run", "--profile", "hw-profiles/lab.toml", "--stats-interval", "1"], &s.path("run.log"));
    app.wait_for("running:", Duration::from_secs(20));
    assert!(ping(&lab, "198.18.0.20"), "IPv4 ping through antidote failed:\n{}", app.log_text());
    assert!(ping(&lab, "fd00:198:18::20"), "IPv6 ping through antidote failed:\n{}", app.log_text());
    assert!(udp_roundtrip(&lab), "UDP exchange through antidote failed:\n{}", app.log_text());

    // The segment side's link goes down, then up: said at once and counted; the appliance
    // carries on, and traffic passes again.
    let link = |state: &str| {
        let o = std::process::Command::new("ip").args(["link", "set", "ad-a", state]).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    link("down");
    app.wait_for("port a link DOWN", Duration::from_secs(3));
    assert!(!ping(&lab, "198.18.0.20"), "traffic passed with the segment's link down");
    app.wait_for("LINK a DOWN", Duration::from_secs(3));
    link("up");
    app.wait_for("port a link up again", Duration::from_secs(5));
    let t = std::time::Instant::now();
    while !ping(&lab, "198.18.0.20") {
        assert!(t.elapsed() < Duration::from_secs(10), "no traffic after the link came back:\n{}", app.log_text());
    }

    let (ok, log) = app.stop();
    assert!(ok, "antidote did not stop cleanly on SIGINT:\n{log}");
    let fl = final_line(&log);
    assert!(counter(&fl, "a→b", "rx") >= 8, "{fl}");
    assert_eq!(counter(&fl, "a→b", "rx"), counter(&fl, "a→b", "tx"), "{fl}");
    assert_eq!(counter(&fl, "b→a", "rx"), counter(&fl, "b→a", "tx"), "{fl}");
    assert_eq!(counter(&fl, "a→b", "linkdowns"), 1, "{fl}");

    // With the appliance gone, nothing passes.
    assert!(!ping(&lab, "198.18.0.20"), "traffic still passes after antidote stopped");
    assert!(!udp_roundtrip(&lab), "UDP still passes after antidote stopped");
}
