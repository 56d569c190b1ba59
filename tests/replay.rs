//! `antidote replay` over the project's crafted capture with the default policy: the same
//! dataplane and worker code as the live appliance, over net_pcap. Forwarded and injected frames
//! go to --out, dropped ones do not; the summary and the alert file agree with the counts.
mod common;
use common::*;
use pcap_file::pcap::PcapReader;
use std::process::Command;
use std::time::Duration;

fn frames(p: &std::path::Path) -> Vec<Vec<u8>> {
    let mut r = PcapReader::new(std::fs::File::open(p).unwrap()).unwrap();
    let mut v = Vec::new();
    while let Some(x) = r.next_packet() {
        v.push(x.unwrap().data.into_owned());
    }
    v
}

#[test]
fn replay_drops_poison_injects_negatives_and_alerts() {
    require_root();
    let s = Scratch::new("replay");
    let input = s.path("in.pcap");
    let g = run_for(Command::new("/usr/bin/python3").arg(repo().join("scripts/gen_wire_corpus.py")).arg(&input), Duration::from_secs(60));
    assert!(g.status.success());
    let (out, alerts) = (s.path("out.pcap"), s.path("alerts.jsonl"));
    let r = run_for(
        Command::new(bin())
            .args(["replay", "--policy"])
            .arg(repo().join("policies/default.policy"))
            .arg("--in")
            .arg(&input)
            .arg("--out")
            .arg(&out)
            .arg("--alerts")
            .arg(&alerts),
        Duration::from_secs(60),
    );
    let text = String::from_utf8_lossy(&r.stdout).to_string();
    assert!(r.status.success(), "{text}\n{}", String::from_utf8_lossy(&r.stderr));
    let inp = frames(&input);
    let outp = frames(&out);
    // The summary line: frames in, forwarded, dropped, injected.
    let line = text.lines().find(|l| l.starts_with("replay: ") && l.contains("frames in")).unwrap();
    let num = |key: &str| -> usize {
        let w: Vec<&str> = line.split_whitespace().collect();
        let i = w.iter().position(|x| x.starts_with(key)).unwrap();
        w[i - 1].trim_end_matches(',').parse().unwrap()
    };
    let (fin, fwd, dropped, injected) = (num("frames"), num("forwarded"), num("dropped"), num("negative"));
    assert_eq!(fin, inp.len());
    assert_eq!(fwd + dropped, fin, "{line}");
    assert_eq!(outp.len(), fwd + injected, "out.pcap holds forwarded and injected frames");
    assert!(dropped >= 6, "the poisoned answers and follow-ons are dropped: {line}");
    assert!(injected >= 1, "NBT-NS queries for unknown names are answered: {line}");
    // Nothing dropped reaches the output; every forwarded frame is unchanged.
    let input_set: std::collections::HashSet<&Vec<u8>> = inp.iter().collect();
    let forwarded_in_out = outp.iter().filter(|f| input_set.contains(f)).count();
    assert_eq!(forwarded_in_out, fwd);
    // The injected frames are NBT-NS negative answers.
    for f in outp.iter().filter(|f| !input_set.contains(f)) {
        let mut sc = antidote_wire::Scratch::default();
        let fr = antidote_wire::Frame::parse(f, &mut sc);
        assert!(fr.nbns().map(|m| m.is_negative_response()).unwrap_or(false), "an injected frame is not an NBT-NS negative answer");
    }
    // One alert per dropped frame here (each dropping rule alerts), all written as ECS.
    let docs: Vec<serde_json::Value> = std::fs::read_to_string(&alerts).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let drops: usize = docs.iter().filter(|d| d["event"]["action"] == "drop").map(|d| d["event"]["count"].as_u64().unwrap_or(1) as usize).sum();
    assert_eq!(drops, dropped, "{line}");
    assert!(text.contains("replay:   llmnr-poison:") && text.contains("replay:   nbns-poison:"), "{text}");
}
