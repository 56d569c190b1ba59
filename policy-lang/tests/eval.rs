//! The compiled program on real frames: each construct, the semantics (first verdict wins,
//! actions accumulate, default), learned tables and counters, and the shipped default policy
//! against the lab's poisoner and legitimate host, and what the learned network lets a policy
//! read. (Over 500 lines: a test per construct, on the same frame builders; split by subject,
//! the helpers would be copied.)
#[path = "../../dataplane/wire/tests/frames/mod.rs"]
mod frames;
use antidote_policy::program::{Meta, Outcome};
use antidote_policy::{compile, Program};
use antidote_wire::triage::{triage_burst, TriagePlan};
use antidote_wire::{Frame, Scratch};
use frames::*;

/// The triage's plan for a program with every rule live and nothing skipped whole or gated:
/// only what its candidates say.
fn plan_of(p: &Program) -> TriagePlan<'_> {
    TriagePlan { skip_classes: 0, gate: None, ..p.triage_plan(&p.skip_plan(u64::MAX), u64::MAX) }
}

fn prog(src: &str) -> Program {
    compile(src).unwrap_or_else(|d| panic!("{}", antidote_policy::diag::render_all(&d, src, "t"))).program
}

fn run(p: &Program, frame: &[u8], now: u64) -> Outcome {
    let mut s = Scratch::default();
    let f = Frame::parse(frame, &mut s);
    assert!(f.error.is_none(), "test frame is malformed: {:?}", f.error);
    let mut o = Outcome::default();
    p.eval(&f, &Meta::default(), now, &mut o);
    o
}

fn names(p: &Program, o: &Outcome) -> Vec<String> {
    o.matched.iter().map(|&i| p.rules[i as usize].name.clone()).collect()
}

#[test]
fn comparisons_of_every_type() {
    let p = prog(
        r#"
rule int { when udp.sport == 5355 and llmnr.answer.ttl < 31 and llmnr.answer.ttl >= 30 then alert }
rule ip { when ip.src == 198.18.0.66 and ip.dst != 198.18.0.20 then alert }
rule cidr { when ip.src == 198.18.0.0/24 and ip.src in { 198.18.0.0/15 } then alert }
rule mac { when eth.src == 02:ad:00:00:00:66 then alert }
rule str { when llmnr.qname == "WPAD" and llmnr.qname starts_with "wp" and llmnr.qname ends_with "AD" and llmnr.qname contains "pa" then alert }
rule boolean { when llmnr.response and not llmnr.tc and llmnr.t == false then alert }
rule fields { when llmnr.answer.addr == ip.src then alert }
rule nomatch { when ip.src == 198.18.0.67 or llmnr.qname == "other" then alert }
"#,
    );
    let o = run(&p, &llmnr_answer(POISONER, VICTIM, "wpad", POISONER, 30, false), 1);
    assert_eq!(names(&p, &o), vec!["int", "ip", "cidr", "mac", "str", "boolean", "fields"]);
    assert_eq!(o.alerts.len(), 7);
    assert_eq!(o.verdict, Some(antidote_policy::ast::Verdict::Pass), "default pass");
}

#[test]
fn first_verdict_wins_and_actions_accumulate() {
    let p = prog(
        r#"
table seen : ip
rule a { when llmnr.response then alert; learn seen ip.src; mirror }
rule b { when llmnr.response then drop }
rule c { when llmnr.response or nbns.positive then pass }
default pass
"#,
    );
    let o = run(&p, &llmnr_answer(POISONER, VICTIM, "x", POISONER, 30, false), 5);
    assert_eq!(names(&p, &o), vec!["a", "b"], "c never runs");
    assert!(o.dropped() && o.mirror);
    assert_eq!(o.decided_by, Some(1));
    assert_eq!(p.tables[0].state.len(6), 1, "the source was learned");
}

#[test]
fn missing_fields_are_false_and_not_in_is_true() {
    let p = prog(
        r#"
set s = { 198.18.0.1 }
rule tcp-only { when tcp.dport == 80 then drop }
rule not-in { when ip.src not in s and llmnr.response then alert }
rule ne { when tcp.dport != 80 then drop }
default pass
"#,
    );
    let o = run(&p, &llmnr_answer(POISONER, VICTIM, "x", POISONER, 30, false), 1);
    assert_eq!(names(&p, &o), vec!["not-in"], "tcp.* tests are false on UDP, != included");
    assert!(!o.dropped());
}

#[test]
fn learned_tables_correlate_follow_ons_and_expire() {
    let p = prog(
        r#"
table poisoners : ip ttl 10s
rule learn-it { when llmnr.response then learn poisoners ip.src; drop }
rule wpad { when http.request and http.path == "/wpad.dat" and ip.dst in poisoners then alert critical; drop }
rule forget-it { when tcp.dport == 9 and ip.dst in poisoners then forget poisoners ip.dst }
"#,
    );
    let wpad = tcp(VICTIM, POISONER, 50001, 80, 0x18, b"GET /wpad.dat HTTP/1.1\r\nHost: wpad\r\n\r\n");
    // Before the HTTP head is read: the follow-on rules need the server to be a learned
    // poisoner, so until it is, the frame is decided from its transport alone.
    let from_transport = |now| p.may_match_from_transport(&Frame::parse_transport(&wpad), &Meta::default(), now);
    assert!(!from_transport(1_000), "no poisoner learned: the HTTP head need not be read");
    assert!(!run(&p, &wpad, 1_000).dropped(), "nothing learned yet");
    run(&p, &llmnr_answer(POISONER, VICTIM, "wpad", POISONER, 30, false), 2_000);
    assert!(from_transport(2_500), "to a learned poisoner: the HTTP head is read");
    let o = run(&p, &wpad, 3_000);
    assert!(o.dropped());
    assert_eq!(p.rules[o.alerts[0] as usize].severity.as_str(), "critical");
    assert!(!run(&p, &wpad, 12_001).dropped(), "expired after 10 s");
    run(&p, &llmnr_answer(POISONER, VICTIM, "wpad", POISONER, 30, false), 13_000);
    run(&p, &tcp(VICTIM, POISONER, 1, 9, 0x02, b""), 13_001);
    assert!(!run(&p, &wpad, 13_002).dropped(), "forgotten");
}

#[test]
fn counters_count_and_distinct_per_key() {
    let p = prog(
        r#"
rule many { when llmnr.response and distinct(llmnr.qname by ip.src over 10s) > 3 then alert }
rule flood { when llmnr.query and count(by ip.src over 1s) > 5 then drop }
"#,
    );
    for (i, n) in ["a", "b", "c", "a", "b"].iter().enumerate() {
        let o = run(&p, &llmnr_answer(POISONER, VICTIM, n, POISONER, 30, false), 100 + i as u64);
        assert!(o.alerts.is_empty(), "{n}: only 3 distinct names so far");
    }
    let o = run(&p, &llmnr_answer(POISONER, VICTIM, "d", POISONER, 30, false), 200);
    assert_eq!(o.alerts.len(), 1, "a fourth name");
    let o = run(&p, &llmnr_answer(LEGIT, VICTIM, "e", LEGIT, 30, false), 201);
    assert!(o.alerts.is_empty(), "another source has its own counter");
    let dropped: Vec<bool> = (0..7).map(|i| run(&p, &llmnr_query(VICTIM, "x"), 1_000 + i).dropped()).collect();
    assert_eq!(dropped, vec![false, false, false, false, false, true, true]);
    assert!(!run(&p, &llmnr_query(VICTIM, "x"), 2_500).dropped(), "a new window");
}

#[test]
fn quarantine_and_rate_limit() {
    let p = prog(
        r#"
rule q { when llmnr.response then quarantine ip.src for 5s; drop }
rule rl { when llmnr.query then rate-limit 2 per 1s by ip.src }
"#,
    );
    let other = tcp(POISONER, VICTIM, 445, 50000, 0x10, b"");
    assert!(!run(&p, &other, 1).dropped());
    run(&p, &llmnr_answer(POISONER, VICTIM, "x", POISONER, 30, false), 10);
    let o = run(&p, &other, 20);
    assert!(o.dropped() && o.quarantined, "everything from a quarantined source is dropped");
    assert!(!run(&p, &other, 5_011).dropped(), "quarantine over");
    let r: Vec<bool> = (0..4).map(|i| run(&p, &llmnr_query(VICTIM, "x"), 100 + i).dropped()).collect();
    assert_eq!(r, vec![false, false, true, true]);
}

#[test]
fn inject_negative_for_nbns_queries() {
    let p = prog("set known : string = { \"legit\" }\nrule neg { when nbns.query and nbns.name not in known then inject nbns.negative; pass }");
    assert!(run(&p, &nbns_query(VICTIM, "fileservr", true), 1).inject_nbns_negative);
    assert!(!run(&p, &nbns_query(VICTIM, "LEGIT", true), 1).inject_nbns_negative);
}

#[test]
fn verify_holds_answers_with_a_fallback() {
    let p =
        prog("rule v { when llmnr.response and llmnr.qname == \"wpad\" then alert; verify for 40ms else drop }\nrule after { when llmnr.response then drop }");
    let o = run(&p, &llmnr_answer(POISONER, VICTIM, "wpad", POISONER, 30, false), 1);
    assert_eq!((o.verify_ms, o.verdict, o.decided_by), (40, Some(antidote_policy::ast::Verdict::Drop), Some(0)), "held 40 ms, drop when it cannot be");
    assert_eq!(names(&p, &o), vec!["v"], "verify decides: no later rule runs");
    let o = run(&p, &llmnr_answer(POISONER, VICTIM, "other", POISONER, 30, false), 1);
    assert_eq!((o.verify_ms, o.decided_by), (0, Some(1)));
    assert!(antidote_policy::explain::explain(&p).contains("verify for 40ms else drop"));
}

/// `frame` sent from `mac` (the builders send from the poisoner's MAC, 02:ad:00:00:00:66).
fn from_mac(mut frame: Vec<u8>, mac: [u8; 6]) -> Vec<u8> {
    frame[6..12].copy_from_slice(&mac);
    frame
}

const LEGIT_MAC: [u8; 6] = [2, 0xad, 0, 0, 0, 0x20];
const POISONER_MAC: [u8; 6] = [2, 0xad, 0, 0, 0, 0x66];

/// The default policy and a network it learned: the legitimate host (198.18.0.20, its name
/// `legit` registered) and the poisoner (198.18.0.66), each bound to its MAC by ARP.
fn default_on_a_learned_network() -> (Program, std::sync::Arc<antidote_policy::state::Network>) {
    use antidote_policy::keys::{ip_key, name_key};
    use antidote_policy::state::{bindings::evidence, Network};
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/default.policy")).unwrap();
    let mut p = prog(&src);
    let net = std::sync::Arc::new(Network::default());
    net.hosts.bind(ip_key(LEGIT.parse().unwrap()), 0, LEGIT_MAC, evidence::ARP, 1);
    net.hosts.bind(ip_key(POISONER.parse().unwrap()), 0, POISONER_MAC, evidence::ARP, 1);
    net.owners.bind(name_key(&antidote_wire::fields::Value::StaticStr("LEGIT")).unwrap(), 0, LEGIT_MAC, evidence::NBNS, 1);
    p.network = Some(net.clone());
    (p, net)
}

#[test]
fn default_policy_against_the_lab() {
    let (p, _net) = default_on_a_learned_network();
    // The legitimate host answering its own name, over LLMNR (v4, v6) and NBT-NS: passes, with
    // no alert (its IPv6 address listed nowhere; its NBT-NS answer Responder-shaped).
    for f in [
        llmnr_answer(LEGIT, VICTIM, "legit", LEGIT, 30, true),
        llmnr_answer("fe80::ad:ff:fe00:20", "fe80::ad:ff:fe00:10", "legit", "fd00:198:18::20", 30, true),
        nbns_positive(LEGIT, VICTIM, "LEGIT", LEGIT, 300000),
    ] {
        let o = run(&p, &from_mac(f, LEGIT_MAC), 1);
        assert!(!o.dropped() && o.alerts.is_empty(), "legit answer flagged: {:?}", names(&p, &o));
    }
    // The poisoner answering the legitimate host's name, over LLMNR v4 and v6, NBT-NS and mDNS:
    // forged, dropped, alerted, the poisoner learned.
    let mdns_reply = |name: &str| {
        let mut m = vec![0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0, name.len() as u8];
        m.extend(name.as_bytes());
        m.extend([5]);
        m.extend(b"local");
        m.extend([0, 0, 1, 0, 1, 0, 0, 0, 120, 0, 4, 198, 18, 0, 66]);
        udp(POISONER, VICTIM, 5353, 5353, &m)
    };
    let cases = [
        llmnr_answer(POISONER, VICTIM, "legit", POISONER, 30, false),
        llmnr_answer("fd00:198:18::66", "fd00:198:18::10", "LEGIT", "fd00:198:18::66", 30, false),
        nbns_positive(POISONER, VICTIM, "LEGIT", POISONER, 165),
        mdns_reply("legit"),
    ];
    for (i, f) in cases.iter().enumerate() {
        // A fresh program for each: once the poisoner is learned, `answer-from-poisoner` decides.
        let (fresh, _) = default_on_a_learned_network();
        let o = run(&fresh, f, 10 + i as u64);
        assert!(o.dropped(), "case {i}: not dropped ({:?})", names(&fresh, &o));
        assert!(o.alerts.iter().any(|&a| fresh.rules[a as usize].name == "answer-for-owned-name"), "case {i}: {:?}", names(&fresh, &o));
        let o = run(&p, f, 10 + i as u64);
        assert!(o.dropped() && !o.alerts.is_empty(), "case {i}: in sequence: {:?}", names(&p, &o));
    }
    // The poisoner is now learned: its WPAD file and NTLM challenge are blocked, its answers
    // for names nobody owns dropped, from its IPv6 addresses too (by its MAC).
    let wpad = tcp(VICTIM, POISONER, 50001, 80, 0x18, b"GET /wpad.dat HTTP/1.1\r\nHost: wpad\r\n\r\n");
    let o = run(&p, &wpad, 100);
    assert!(o.dropped() && o.alerts.iter().any(|&a| p.rules[a as usize].name == "wpad-from-poisoner"));
    assert!(run(&p, &tcp(VICTIM, POISONER, 50002, 445, 0x02, b""), 101).dropped());
    let o = run(&p, &llmnr_answer("fe80::ad:ff:fe00:66", "fe80::ad:ff:fe00:10", "typo", "fe80::ad:ff:fe00:66", 30, false), 102);
    assert_eq!(names(&p, &o).first().map(String::as_str), Some("answer-from-poisoner"));
    assert!(o.dropped());
    // Ordinary traffic passes untouched.
    let o = run(&p, &tcp(VICTIM, LEGIT, 50003, 443, 0x10, b"data"), 103);
    assert!(!o.dropped() && o.matched.is_empty());
}

/// A poisoner nobody has caught yet, answering names nobody owns: its first answer passes (no
/// list says the name does not exist: that is for canaries and held answers); its second name
/// is one name too many.
#[test]
fn default_policy_catches_a_poisoner_at_its_second_name() {
    let (p, _net) = default_on_a_learned_network();
    assert!(!run(&p, &llmnr_answer(POISONER, VICTIM, "fileservr", POISONER, 30, false), 1).dropped(), "the first answer");
    let o = run(&p, &nbns_positive(POISONER, VICTIM, "FILESERVR", POISONER, 165), 2);
    assert!(!o.dropped(), "the same name over NBT-NS: still one name");
    let o = run(&p, &llmnr_answer(POISONER, VICTIM, "fileservr2", POISONER, 30, false), 3);
    assert!(o.dropped() && names(&p, &o).contains(&"many-names".to_string()), "{:?}", names(&p, &o));
    assert!(run(&p, &llmnr_answer(POISONER, VICTIM, "fileservr", POISONER, 30, false), 4).dropped(), "learned");
    // A host answering its own name, however often, over every protocol: never.
    let host = [2, 0xad, 0, 0, 0, 0x30];
    for t in 0..5 {
        let f = from_mac(llmnr_answer("fe80::ad:ff:fe00:30", "fe80::ad:ff:fe00:10", "winhost", "fe80::ad:ff:fe00:30", 30, true), host);
        assert!(!run(&p, &f, 10 + t * 1000).dropped());
    }
}

#[test]
fn shipped_policies_compile_without_warnings() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies");
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let src = std::fs::read_to_string(&path).unwrap();
        let c = compile(&src).unwrap_or_else(|d| panic!("{}", antidote_policy::diag::render_all(&d, &src, &path.display().to_string())));
        assert!(c.warnings.is_empty(), "{}: {:?}", path.display(), c.warnings);
        n += 1;
    }
    assert!(n >= 4);
}

#[test]
fn learned_state_survives_a_recompile_with_the_same_declaration() {
    let src = "table poisoners : ip ttl 1h\nrule r { when llmnr.response then learn poisoners ip.src }";
    let p1 = prog(src);
    run(&p1, &llmnr_answer(POISONER, VICTIM, "x", POISONER, 30, false), 1);
    let p2 = antidote_policy::compile_with(&format!("{src}\nrule other {{ when tcp.syn then alert }}"), Some(&p1)).ok().unwrap().program;
    assert_eq!(p2.tables[0].state.len(2), 1, "kept");
    let p3 = antidote_policy::compile_with("table poisoners : ip ttl 2h\nrule r { when llmnr.response then learn poisoners ip.src }", Some(&p2))
        .ok()
        .unwrap()
        .program;
    assert_eq!(p3.tables[0].state.len(2), 0, "a changed declaration starts empty");
}

#[test]
fn program_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Program>();
}

#[test]
fn programs_over_64_rules_evaluate_the_same() {
    let mut src = String::new();
    for i in 0..70 {
        src.push_str(&format!("rule r{i} {{ when llmnr.answer.ttl == {i} then alert }}\n"));
    }
    src.push_str("rule last { when llmnr.response then drop }\n");
    let p = prog(&src);
    assert!(p.candidates.is_empty());
    let o = run(&p, &llmnr_answer(POISONER, VICTIM, "x", POISONER, 30, false), 1);
    assert_eq!(names(&p, &o), vec!["r30", "last"]);
    assert!(o.dropped());
    let small = prog("rule r30 { when llmnr.answer.ttl == 30 then alert }\nrule last { when llmnr.response then drop }");
    assert!(!small.candidates.is_empty());
    let o2 = run(&small, &llmnr_answer(POISONER, VICTIM, "x", POISONER, 30, false), 1);
    assert_eq!(names(&small, &o2), vec!["r30", "last"]);
}

/// Rules about answers gate on the response bit: with the default policy a query has no
/// candidate rule (it is dissected, not evaluated), an answer has.
#[test]
fn queries_skip_the_rules_about_answers() {
    let p = prog(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/default.policy")).unwrap());
    let mask = |frame: &[u8]| {
        let mut s = Scratch::default();
        antidote_wire::frame::frame_mask(&Frame::parse(frame, &mut s))
    };
    let resp = antidote_wire::proto::RESP;
    let q = mask(&llmnr_query(VICTIM, "fileservr"));
    assert_eq!(q & resp, 0);
    assert!(p.skips(q), "an LLMNR query has no candidate rule in the default policy");
    let a = mask(&llmnr_answer(POISONER, VICTIM, "fileservr", POISONER, 30, false));
    assert_ne!(a & resp, 0);
    assert!(!p.skips(a));
    // NBT-NS queries too (the default policy injects no negative answers: which names do not
    // exist is what it does not know). Under a policy that answers unicast queries, a unicast
    // NBT-NS query visits only the rule that answers it; a broadcast one (whose clients ignore
    // negative answers) none: `not nbns.broadcast` excludes the B flag's bit.
    let n = mask(&nbns_query(VICTIM, "fileservr", false));
    assert!(p.skips(n));
    let neg = prog(
        "set known : string = { \"legit\" }\n\
         rule answers { when (llmnr.response or nbns.positive) and llmnr.qname not in known then alert; drop }\n\
         rule nbns-negative { when nbns.query and not nbns.broadcast and nbns.name not in known then inject nbns.negative; pass }",
    );
    let only: Vec<&str> = (0..neg.rules.len()).filter(|&i| neg.candidates[n as usize] >> i & 1 == 1).map(|i| neg.rules[i].name.as_str()).collect();
    assert_eq!(only, vec!["nbns-negative"]);
    let b = mask(&nbns_query(VICTIM, "fileservr", true));
    assert_eq!(b & antidote_wire::proto::BCAST, antidote_wire::proto::BCAST);
    assert!(neg.skips(b), "a broadcast NBT-NS query has no candidate rule");
    // And the verdicts are what they were: the unicast query answered, the broadcast one passed
    // without an answer.
    assert!(run(&neg, &nbns_query(VICTIM, "fileservr", false), 2).inject_nbns_negative);
    let o = run(&neg, &nbns_query(VICTIM, "fileservr", true), 3);
    assert!(!o.inject_nbns_negative && !o.dropped());
    // The workers' header look sees this before any dissection: in a burst, the LLMNR query,
    // the NBT-NS queries and the plain TCP segment need no dissection under the default policy;
    // the answer does.
    let burst = [
        llmnr_query(VICTIM, "fileservr"),
        llmnr_answer(POISONER, VICTIM, "fileservr", POISONER, 30, false),
        nbns_query(VICTIM, "fileservr", false),
        tcp(VICTIM, LEGIT, 50000, 443, 0x10, b"data"),
        nbns_query(VICTIM, "fileservr", true),
    ];
    let look = triage_burst(burst.len(), |i| &burst[i][..], |_| 0, &TriagePlan::NOTHING);
    assert_eq!(look.named, 0b10111, "{look:?}");
    // `skippable` asks of a name-resolution frame what `Triage::possible` lists.
    for i in [0, 1, 2, 4] {
        let seen = look.of(i, &burst[i]);
        let want = seen.possible().unwrap().into_iter().all(|m| p.skips(m));
        assert_eq!(look.skippable(|k| &burst[k][..], &plan_of(&p)) >> i & 1 == 1, want, "frame {i}: {seen:?}");
    }
    assert_eq!(look.skippable(|i| &burst[i][..], &plan_of(&p)), 0b11101);
    assert_eq!(look.skippable(|i| &burst[i][..], &plan_of(&neg)), 0b11001, "the unicast NBT-NS query is answered");
    // A policy that reads every frame (`frame.malformed`) skips none.
    let all = prog("rule m { when frame.malformed then drop }");
    assert_eq!(look.skippable(|i| &burst[i][..], &plan_of(&all)), 0);
}

/// Once a poisoner is known, the default policy's follow-on rules all need `ip.src` or `ip.dst`
/// in the table: the header look lets the TCP segments between other hosts through on the
/// table's address filter, and looks at those to or from the poisoner as before.
#[test]
fn the_address_gate_lets_other_hosts_through_once_a_poisoner_is_known() {
    let p = prog(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/default.policy")).unwrap());
    const POISONER6: &str = "fd00:198:18::66";
    // Ethernet pads a frame to 60 bytes (a pcap has the padding; the look wants it).
    let pad60 = |mut f: Vec<u8>| {
        f.resize(f.len().max(60), 0);
        f
    };
    // An SMB2 NEGOTIATE head: the NetBIOS session header, then 64 bytes of SMB2 header.
    let mut smb = vec![0, 0, 0, 64, 0xfe, b'S', b'M', b'B', 64, 0];
    smb.resize(4 + 64, 0);
    let burst = [
        tcp(VICTIM, LEGIT, 50000, 443, 0x10, b"data"),
        pad60(tcp(VICTIM, POISONER, 50000, 445, 0x02, b"")),
        tcp(VICTIM, LEGIT, 50000, 445, 0x18, &smb),
        tcp(VICTIM, LEGIT, 50000, 80, 0x18, b"GET /wpad.dat HTTP/1.1\r\n\r\n"),
        tcp(POISONER, VICTIM, 80, 50000, 0x18, b"HTTP/1.1 407 Proxy\r\nProxy-Authenticate: NTLM\r\n\r\n"),
        tcp6("fd00:198:18::10", "fd00:198:18::20", 50000, 445, 0x02, b""),
        tagged(&tcp6("fd00:198:18::10", POISONER6, 50000, 80, 0x02, b""), 10),
        tagged(&pad60(tcp(LEGIT, VICTIM, 50000, 8080, 0x02, b"")), 20),
        // UDP is not gated: an answer from a host not yet known is looked at and judged.
        llmnr_answer(LEGIT, VICTIM, "fileservr", LEGIT, 30, false),
        tagged(&llmnr_answer("198.18.0.77", VICTIM, "fileservr", "198.18.0.77", 30, false), 10),
    ];
    let look = |p: &Program| {
        let live = p.live_rules();
        let skip = p.skip_plan(live);
        let plan = p.triage_plan(&skip, live);
        let l = triage_burst(burst.len(), |i| &burst[i][..], |_| 0, &plan);
        (skip.gate.map(|g| g.0), l.skippable(|i| &burst[i][..], &plan))
    };
    // No poisoner yet: the follow-on rules are dormant and TCP's classes skipped whole.
    let (gate, skip) = look(&p);
    assert_eq!((gate, skip), (None, 0xff));
    // A poisoner known over IPv4 and one over IPv6: the TCP classes are gated, not skipped.
    let t = &p.tables.iter().find(|t| t.name == "poisoners").unwrap().state;
    t.insert(antidote_wire::frame::Addr::from_ip(POISONER.parse().unwrap()).0, 1);
    t.insert(antidote_wire::frame::Addr::from_ip(POISONER6.parse().unwrap()).0, 1);
    let (gate, skip) = look(&p);
    let tcp_classes = (0..8).filter(|c| c & 1 == 0).fold(0, |a, c| a | 1 << c);
    assert_eq!(gate, Some(tcp_classes), "every TCP class, no UDP one");
    assert_eq!(skip, 0b00_1010_1101, "between other hosts: let through; to or from a poisoner: looked at");
    // And what it lets through matches no rule when evaluated in full.
    for (i, f) in burst.iter().enumerate().filter(|(i, _)| skip >> i & 1 == 1) {
        let o = run(&p, f, 2);
        assert!(o.matched.is_empty() && !o.dropped(), "frame {i}");
    }
    // The frames looked at are the follow-ons.
    for i in [1, 4, 6, 8, 9] {
        assert!(skip >> i & 1 == 0, "frame {i}");
    }
    assert!(run(&p, &burst[1], 2).dropped(), "SYN to the poisoner's SMB port");
    assert!(run(&p, &burst[4], 2).dropped(), "proxy NTLM challenge from the poisoner");
    assert!(t.addr_filter().flags_set() == 2);
}

#[test]
fn every_field_is_documented() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/policy-language.md")).unwrap();
    for (name, _, _) in antidote_policy::fields::all_names() {
        assert!(doc.contains(&format!("`{name}`")), "docs/policy-language.md does not list `{name}`");
    }
    for code in
        ["E001", "E002", "E003", "E004", "E005", "E006", "E007", "E008", "E009", "E010", "E011", "E012", "E013", "E014", "E015", "E016", "E017", "E018", "W001"]
    {
        assert!(doc.contains(code), "docs/policy-language.md does not explain {code}");
    }
}

#[test]
fn rules_about_an_empty_table_are_dormant() {
    // Which rules cannot match while a table holds no key: the branch program decides, so
    // `and`, `or` and `not` all count.
    let p = prog(
        "table t : ip ttl 1h max 10\n\
         rule a { when tcp.syn and ip.dst in t then drop }\n\
         rule b { when tcp.syn and (ip.dst in t or tcp.dport == 445) then drop }\n\
         rule c { when tcp.syn and ip.dst not in t then alert }\n\
         rule d { when (http.request and ip.dst in t) or (smb2.command == 1 and ip.src in t) then drop }\n\
         rule e { when llmnr.response then alert }",
    );
    assert_eq!(p.dormant_if_empty, vec![(0, 0b01001)]);
    assert_eq!(p.live_rules(), !0b01001);
    // TCP's layout classes are wanted by b and c; with those gone only UDP's are.
    let q = prog("table t : ip ttl 1h max 10\nrule a { when tcp.syn and ip.dst in t then drop }\nrule e { when llmnr.response then alert }");
    let tcp_classes = 0b0101_0101;
    assert_eq!(q.skipped_classes(q.live_rules()), tcp_classes);
    assert_eq!(q.skipped_classes(u64::MAX), 0);
    q.tables[0].state.insert(7, 1);
    assert_eq!(q.live_rules(), u64::MAX, "a key wakes the rule");
    assert_eq!(q.skipped_classes(q.live_rules()), 0);

    // The shipped default policy: while no poisoner is known, every follow-on rule and the
    // rule about answers from known poisoners are dormant, and no TCP segment is looked at.
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/default.policy")).unwrap();
    let p = prog(&src);
    let live = p.live_rules();
    let dormant: Vec<&str> = p.rules.iter().enumerate().filter(|(i, _)| live >> i & 1 == 0).map(|(_, r)| r.name.as_str()).collect();
    assert_eq!(
        dormant,
        [
            "wpad-from-poisoner",
            "proxy-ntlm-from-poisoner",
            "ntlm-challenge-from-poisoner",
            "smb-denied-by-poisoner",
            "sql-browser-from-poisoner",
            "connect-to-poisoner"
        ]
    );
    assert_eq!(p.skipped_classes(live), tcp_classes);
    let syn = tcp(VICTIM, POISONER, 50000, 445, 0x02, b"");
    let mut s = antidote_wire::Scratch::default();
    let m = antidote_wire::frame::frame_mask(&antidote_wire::Frame::parse(&syn, &mut s));
    assert!(p.skips_with(m, live) && !p.skips(m));
}

/// One forged answer carrying a server's address as its IP source (Metasploit's spoofers do
/// this: the attacker's MAC, the domain controller's IP) must not get the server learned as a
/// poisoner once the network binds that address to the server's MAC: the answer is still
/// dropped, nothing is learned, the refusal is counted, and the server stays reachable. A
/// poisoner answering from its own address is learned as before.
#[test]
fn a_forged_answer_cannot_get_a_server_learned_as_a_poisoner() {
    use antidote_policy::keys::ip_key;
    use antidote_policy::state::bindings::evidence;
    use std::sync::atomic::Ordering::Relaxed;
    const DC: &str = "198.18.0.5";
    let (p, net) = default_on_a_learned_network();
    let key = |ip: &str| ip_key(ip.parse().unwrap());
    // The controller's address belongs to the controller's MAC; the forger answers the
    // legitimate host's name from the controller's address with its own MAC.
    net.hosts.bind(key(DC), 0, [2, 0xad, 0, 0, 0, 0x05], evidence::ARP, 1);
    let forged = llmnr_answer(DC, VICTIM, "legit", DC, 30, false);
    let o = run(&p, &forged, 2);
    assert!(o.dropped(), "the forged answer is dropped");
    assert_eq!(names(&p, &o), ["answer-forged-source"]);
    assert!(!p.tables[0].state.contains(key(DC), 3), "the controller is not learned as a poisoner");
    assert!(!run(&p, &tcp(VICTIM, DC, 50000, 445, 0x02, b""), 4).dropped(), "connections to the controller pass");
    run(&p, &llmnr_answer(POISONER, VICTIM, "legit", POISONER, 30, false), 5);
    assert!(p.tables[0].state.contains(key(POISONER), 6), "a poisoner answering from its own address is learned");
    assert!(run(&p, &tcp(VICTIM, POISONER, 50000, 445, 0x02, b""), 7).dropped());
    // A router (it has advertised itself for ten minutes) or a DHCP server answering a name it
    // does not own is alerted on and dropped, never learned; one that advertised itself just now
    // is not infrastructure yet.
    let (rtr, new_rtr) = (key("198.18.0.1"), key("198.18.0.2"));
    net.hosts.bind(rtr, 0, POISONER_MAC, evidence::NDP | evidence::ROUTER, 8);
    let later = 8 + antidote_policy::state::network::INFRASTRUCTURE_AFTER_MS;
    net.hosts.bind(new_rtr, 0, POISONER_MAC, evidence::DHCP_SERVER, later);
    let before = net.learn_refused.load(Relaxed);
    assert!(run(&p, &llmnr_answer("198.18.0.1", VICTIM, "legit", "198.18.0.1", 30, false), later).dropped());
    assert!(!p.tables[0].state.contains(rtr, later + 1), "a long-standing router is not learned as a poisoner");
    assert!(net.learn_refused.load(Relaxed) > before);
    run(&p, &llmnr_answer("198.18.0.2", VICTIM, "legit", "198.18.0.2", 30, false), later + 1);
    assert!(p.tables[0].state.contains(new_rtr, later + 2), "a DHCP offer sent just now makes no infrastructure");
    // Under strict-inline.policy, which quarantines poisoners: the controller is not quarantined.
    let strict = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/strict-inline.policy")).unwrap();
    let mut s = prog(&strict);
    s.network = Some(net.clone());
    assert!(run(&s, &forged, 10).dropped());
    let from_dc = run(&s, &tcp(DC, VICTIM, 445, 50000, 0x10, b"data"), 11);
    assert!(!from_dc.quarantined && !from_dc.dropped(), "the controller's own traffic passes");
    // A protected host (the operator's list) is never learned, whatever it answers.
    let protected = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/default.policy"))
        .unwrap()
        .replace("set protected_hosts : ip = { }", "set protected_hosts : ip = { 198.18.0.66 }");
    let mut q = prog(&protected);
    q.network = Some(net.clone());
    let o = run(&q, &llmnr_answer(POISONER, VICTIM, "legit", POISONER, 30, false), 12);
    assert!(o.dropped() && !o.alerts.is_empty(), "its forged answer is still dropped and alerted");
    assert!(!q.tables[0].state.contains(key(POISONER), 13), "but it is not learned");
}

/// Learned without ARP, and protecting only: a server off the link (ordinary traffic shows its
/// address from its router's MAC, confirmed over ten seconds) and a long-standing name owner
/// (its own claim on its name for an hour makes it infrastructure). A forged answer carrying
/// the server's address, or the owner's MAC with an address of the forger's, is dropped and
/// gets neither learned; an address ordinary traffic has shown only once, or from two MACs,
/// protects nothing.
#[test]
fn ordinary_traffic_and_long_standing_owners_keep_servers_from_being_learned() {
    use antidote_policy::keys::{ip_key, mac_key, name_key};
    use antidote_policy::state::bindings::evidence;
    use antidote_policy::state::network::{LONG_STANDING_MS, TRAFFIC_CONFIRM_MS};
    let (p, net) = default_on_a_learned_network();
    let key = |ip: &str| ip_key(ip.parse().unwrap());
    let (router, other) = ([2, 0xad, 0, 0, 0, 0x01], [2, 0xad, 0, 0, 0, 0x02]);
    let (offlink, once, twice) = ("198.18.7.10", "198.18.7.11", "198.18.7.12");
    for (mac, ip, t) in [
        (router, offlink, 1),
        (router, offlink, 1 + TRAFFIC_CONFIRM_MS),
        (router, once, 1),
        (router, twice, 1),
        (other, twice, 2),
        (router, twice, 2 + TRAFFIC_CONFIRM_MS),
    ] {
        net.learn_traffic(mac, ip.parse().unwrap(), 0, t);
    }
    let now = 3 + TRAFFIC_CONFIRM_MS;
    assert_eq!(net.traffic_mac(key(offlink), 0, now), Some(router));
    assert_eq!(net.traffic_mac(key(once), 0, now), None, "seen once: not confirmed");
    assert_eq!(net.traffic_mac(key(twice), 0, now), None, "shown from two MACs: contested");
    let o = run(&p, &llmnr_answer(offlink, VICTIM, "legit", offlink, 30, false), now);
    assert!(o.dropped(), "the forged answer is dropped");
    assert!(!p.tables[0].state.contains(key(offlink), now), "the off-link server is not learned as a poisoner");
    assert!(!p.tables[1].state.contains(mac_key(&POISONER_MAC), now), "nor the forger's MAC through the server's address");
    assert!(!run(&p, &tcp(VICTIM, offlink, 50000, 445, 0x02, b""), now).dropped(), "connections to it pass");
    run(&p, &llmnr_answer(once, VICTIM, "legit", once, 30, false), now);
    assert!(p.tables[0].state.contains(key(once), now), "an address traffic showed once protects nothing");

    // A file server that registered its name an hour ago and answers it now: infrastructure.
    const FS: &str = "198.18.0.30";
    let fs_mac = [2, 0xad, 0, 0, 0, 0x30];
    let t0 = now;
    net.hosts.bind(key(FS), 0, fs_mac, evidence::ARP, t0);
    let name = name_key(&antidote_wire::fields::Value::StaticStr("FS01")).unwrap();
    net.owners.bind(name, 0, fs_mac, evidence::NBNS, t0);
    let answer = from_mac(llmnr_answer(FS, VICTIM, "fs01", FS, 30, false), fs_mac);
    let mut s = antidote_wire::Scratch::default();
    let f = antidote_wire::Frame::parse(&answer, &mut s);
    net.learn_answer(&f, 0, t0 + 1000);
    assert!(!net.is_infrastructure_mac(&fs_mac, 0, t0 + 1000), "an owner of a second's standing is not infrastructure");
    let later = t0 + LONG_STANDING_MS;
    net.hosts.bind(key(FS), 0, fs_mac, evidence::ARP, later);
    net.learn_answer(&f, 0, later);
    assert!(net.is_infrastructure_mac(&fs_mac, 0, later) && net.is_infrastructure(key(FS), 0, later));
    // (An hour on: the legitimate host has registered its name again.)
    net.owners.bind(name_key(&antidote_wire::fields::Value::StaticStr("LEGIT")).unwrap(), 0, LEGIT_MAC, evidence::NBNS, later);
    // A forged answer with the server's MAC and an address of the forger's own: dropped, the
    // forger's address learned, the server's MAC not.
    let forged = from_mac(llmnr_answer("198.18.0.77", VICTIM, "legit", "198.18.0.77", 30, false), fs_mac);
    let o = run(&p, &forged, later + 1);
    assert!(o.dropped() && !o.alerts.is_empty(), "dropped and alerted");
    assert!(p.tables[0].state.contains(key("198.18.0.77"), later + 2));
    assert!(!p.tables[1].state.contains(mac_key(&fs_mac), later + 2), "the long-standing owner's MAC is not learned");
    assert!(!run(&p, &from_mac(tcp(FS, VICTIM, 445, 50000, 0x10, b"data"), fs_mac), later + 3).dropped(), "its traffic passes");
}

/// What the network taught, read by a policy: an answer whose IP source the network binds to
/// another MAC than the one that sent it (Metasploit's spoofers forge the IP source) is told
/// apart from the owner's own answer and from an address the network knows nothing of.
#[test]
fn a_policy_reads_what_the_network_learned() {
    use antidote_policy::keys::ip_key;
    use antidote_policy::state::{bindings::evidence, Network};
    let mut p = prog("rule spoofed-source { when llmnr.response and learned.src_mac != eth.src then alert; drop }\nrule owner { when llmnr.response and learned.src_mac == eth.src then pass }");
    let net = std::sync::Arc::new(Network::default());
    p.network = Some(net.clone());
    let attacker = [2, 0xad, 0, 0, 0, 0x66]; // the frames' source MAC
    net.hosts.bind(ip_key("198.18.0.5".parse().unwrap()), 0, [2, 0xad, 0, 0, 0, 0x05], evidence::ARP, 1);
    net.hosts.bind(ip_key(POISONER.parse().unwrap()), 0, attacker, evidence::ARP, 1);
    let spoofed = run(&p, &llmnr_answer("198.18.0.5", VICTIM, "fileservr", "198.18.0.5", 30, false), 2);
    assert_eq!(names(&p, &spoofed), ["spoofed-source"]);
    assert!(spoofed.dropped());
    let own = run(&p, &llmnr_answer(POISONER, VICTIM, "x", POISONER, 30, false), 3);
    assert_eq!(names(&p, &own), ["owner"]);
    let unknown = run(&p, &llmnr_answer(LEGIT, VICTIM, "legit", LEGIT, 30, false), 4);
    assert!(unknown.matched.is_empty(), "no binding: neither test holds");
    // A program that was only compiled knows no network: the field has no value.
    let q = prog("rule spoofed-source { when llmnr.response and learned.src_mac != eth.src then drop }");
    assert!(!run(&q, &llmnr_answer("198.18.0.5", VICTIM, "fileservr", "198.18.0.5", 30, false), 2).dropped());
}

/// A name's owner, learned from its registrations and announcements, read by a policy: an
/// answer about a name another MAC owns is forged, whatever the name; the owner answering its
/// own name is not; a name nobody owns is neither (what canaries and held answers are for).
#[test]
fn a_policy_reads_who_owns_a_name() {
    use antidote_policy::keys::name_key;
    use antidote_policy::state::{bindings::evidence, Network};
    use antidote_wire::fields::Value;
    let mut p = prog(
        "rule owned-elsewhere { when (llmnr.response or nbns.positive or mdns.response) and learned.name_owner != eth.src then alert; drop }\n\
         rule owner-answers { when (llmnr.response or nbns.positive or mdns.response) and learned.name_owner == eth.src then pass }",
    );
    let net = std::sync::Arc::new(Network::default());
    p.network = Some(net.clone());
    let answerer = [2, 0xad, 0, 0, 0, 0x66]; // the frames' source MAC
    net.owners.bind(name_key(&Value::StaticStr("fileservr")).unwrap(), 0, [2, 0xad, 0, 0, 0, 0x20], evidence::NBNS, 1);
    net.owners.bind(name_key(&Value::StaticStr("printer.local")).unwrap(), 0, answerer, evidence::MDNS, 1);
    let forged = run(&p, &llmnr_answer(POISONER, VICTIM, "FILESERVR", POISONER, 30, false), 2);
    assert_eq!(names(&p, &forged), ["owned-elsewhere"], "an answer about a name another MAC owns (any case)");
    assert!(forged.dropped());
    let own = run(&p, &llmnr_answer(POISONER, VICTIM, "printer", POISONER, 30, false), 3);
    assert_eq!(names(&p, &own), ["owner-answers"], "the owner answers its own name (printer.local is printer)");
    assert!(run(&p, &llmnr_answer(POISONER, VICTIM, "nobody", POISONER, 30, false), 4).matched.is_empty());
    // NBT-NS, the same name, the same verdict.
    assert!(run(&p, &nbns_positive(POISONER, VICTIM, "FILESERVR", POISONER, 300), 5).dropped());
}

/// An ARP frame claiming an address the network binds to another MAC: `learned.src_mac` reads
/// the ARP sender's address (strict-inline.policy's `arp-conflict`).
#[test]
fn an_arp_claim_of_a_bound_address_is_told_apart() {
    use antidote_policy::keys::ip_key;
    use antidote_policy::state::{bindings::evidence, Network};
    let mut p = prog("rule arp-conflict { when arp.op in { 1, 2 } and learned.src_mac != eth.src then alert }");
    let net = std::sync::Arc::new(Network::default());
    net.hosts.bind(ip_key(LEGIT.parse().unwrap()), 0, LEGIT_MAC, evidence::ARP, 1);
    p.network = Some(net);
    let arp = |mac: [u8; 6]| {
        let mut d = vec![0xff; 6];
        d.extend(mac);
        d.extend([0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 2]);
        d.extend(mac);
        d.extend([198, 18, 0, 20]);
        d.extend([0; 6]);
        d.extend([198, 18, 0, 10]);
        d.resize(60, 0);
        d
    };
    assert_eq!(run(&p, &arp(POISONER_MAC), 2).alerts.len(), 1, "the poisoner claims the server's address");
    assert!(run(&p, &arp(LEGIT_MAC), 3).alerts.is_empty(), "the server's own ARP");
}

#[test]
fn an_answer_to_a_sql_browser_canary_is_a_poisoners() {
    use antidote_policy::keys::name_key;
    use antidote_policy::state::bindings::evidence;
    let (p, net) = default_on_a_learned_network();
    let canary = name_key(&antidote_wire::fields::Value::StaticStr("corpfs17")).unwrap();
    net.canaries.bind(canary, 0, [2, 0xcc, 0, 0, 0, 0xfa], evidence::OPERATOR, 1);
    // Responder's rogue SQL browser answering the canary's instance request (echoing its name).
    let body = b"ServerName;QWERTYUIOPAS;InstanceName;CORPFS17;IsClustered;No;Version;12.00.4100.00;tcp;1433;;";
    let mut m = vec![5, body.len() as u8, 0];
    m.extend(body);
    let o = run(&p, &udp("198.18.0.66", "198.18.0.250", 1434, 50123, &m), 2);
    assert_eq!(names(&p, &o).first().map(String::as_str), Some("canary-answered"), "{:?}", names(&p, &o));
    assert!(o.dropped());
    // Learned from proof: confirmed, so a flood of forged entries cannot push it out.
    let macs = p.tables.iter().find(|t| t.name == "poisoner_macs").unwrap();
    let mac = antidote_policy::keys::mac_key(&[2, 0xad, 0, 0, 0, 0x66]);
    assert!(macs.state.is_confirmed(mac, 3));
    for k in 0..50_000u128 {
        macs.state.insert(0x0200_0000_0000 | (k * 7919), 4);
    }
    assert!(macs.state.is_confirmed(mac, 5), "the poisoner a canary caught was pushed out by a flood");
}
