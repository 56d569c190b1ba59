//! Property tests: random policies never panic the compiler; the compiled program agrees with
//! the plain reference interpreter of the syntax tree on random expressions and frames.
#[path = "../../dataplane/wire/tests/frames/mod.rs"]
mod frames;
use antidote_policy::ast::Item;
use antidote_policy::interp::{self, Sets};
use antidote_policy::program::{Meta, Outcome};
use antidote_wire::{Frame, Scratch};
use frames::*;
use proptest::prelude::*;

const IPS: [&str; 5] = ["198.18.0.10", "198.18.0.20", "198.18.0.66", "fd00:198:18::66", "198.18.0.0/24"];
const NAMES: [&str; 4] = ["wpad", "legit", "x", "FileServr"];

fn leaf() -> impl Strategy<Value = String> {
    let ip = prop::sample::select(&IPS[..]);
    let name = prop::sample::select(&NAMES[..]);
    prop_oneof![
        prop::sample::select(vec![
            "llmnr.response",
            "llmnr.query",
            "nbns.query",
            "nbns.positive",
            "nbns.broadcast",
            "tcp.syn",
            "mdns.response",
            "llmnr.answer.compressed",
            "true",
            "false"
        ])
        .prop_map(String::from),
        (prop::sample::select(vec!["==", "!="]), ip.clone()).prop_map(|(op, a)| format!("ip.src {op} {a}")),
        (ip.clone(), ip.clone()).prop_map(|(a, b)| format!("ip.dst in {{ {a}, {b} }}")),
        ip.prop_map(|a| format!("ip.src not in {{ {a} }}")),
        (
            prop::sample::select(vec!["udp.dport", "udp.sport", "tcp.dport", "llmnr.answer.ttl", "nbns.answer.ttl"]),
            prop::sample::select(vec!["==", "!=", "<", "<=", ">", ">="]),
            prop::sample::select(vec![0u64, 30, 80, 137, 165, 5355, 50000])
        )
            .prop_map(|(f, op, n)| format!("{f} {op} {n}")),
        (prop::sample::select(vec!["llmnr.qname", "nbns.name", "llmnr.answer.name"]), prop::sample::select(vec!["==", "!="]), name.clone())
            .prop_map(|(f, op, n)| format!("{f} {op} \"{n}\"")),
        (prop::sample::select(vec!["starts_with", "ends_with", "contains"]), name.clone())
            .prop_map(|(op, n)| format!("llmnr.qname {op} \"{}\"", &n[..n.len().min(2)])),
        (name.clone(), name.clone()).prop_map(|(a, b)| format!("nbns.name in {{ \"{a}\", \"{b}\" }}")),
        // More members than a set compared in turn holds: hashed.
        (prop::sample::select(vec!["llmnr.qname", "nbns.name"]), name)
            .prop_map(|(f, n)| format!("{f} in {{ \"{n}\", \"s1\", \"s2\", \"s3\", \"s4\", \"s5\", \"s6\", \"s7\", \"s8\" }}")),
        prop::sample::select(vec!["llmnr.answer.addr == ip.src", "llmnr.answer.addr != ip.src", "udp.sport == udp.dport"]).prop_map(String::from),
        prop::sample::select(vec!["http.request", "http.path ends_with \"wpad.dat\"", "http.status == 407", "smb2.command == 0", "tcp.dport == 445"])
            .prop_map(String::from),
    ]
}

fn expr() -> impl Strategy<Value = String> {
    leaf().prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} and {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} or {b})")),
            inner.prop_map(|a| format!("not ({a})")),
        ]
    })
}

/// [`expr`] with membership tests of a learned table `t` among its leaves.
fn expr_with_table() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        2 => leaf(),
        1 => prop::sample::select(vec!["ip.src in t", "ip.dst in t", "ip.src not in t", "not (ip.dst in t)"]).prop_map(String::from),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} and {b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} or {b})")),
            inner.prop_map(|a| format!("not ({a})")),
        ]
    })
}

fn frame() -> impl Strategy<Value = Vec<u8>> {
    let src = prop::sample::select(vec![VICTIM, LEGIT, POISONER]);
    let name = prop::sample::select(&NAMES[..]);
    prop_oneof![
        (src.clone(), name.clone(), prop::sample::select(vec![30u32, 60, 165]), any::<bool>()).prop_map(|(s, n, ttl, c)| llmnr_answer(s, VICTIM, n, s, ttl, c)),
        (name.clone(), any::<bool>()).prop_map(|(n, c)| llmnr_answer("fd00:198:18::66", "fd00:198:18::10", n, "fd00:198:18::66", 30, c)),
        (src.clone(), name.clone()).prop_map(|(s, n)| llmnr_query(s, n)),
        (src.clone(), name.clone(), any::<bool>()).prop_map(|(s, n, b)| nbns_query(s, n, b)),
        (src.clone(), name, prop::sample::select(vec![165u32, 300000])).prop_map(|(s, n, t)| nbns_positive(s, VICTIM, n, s, t)),
        (src.clone(), prop::sample::select(vec![80u16, 445, 443]), prop::sample::select(vec![0x02u8, 0x10]))
            .prop_map(|(s, p, fl)| tcp(s, POISONER, 50000, p, fl, b"")),
        // Over IPv6, to and from the IPv6 poisoner or between other hosts, tagged or not.
        (
            prop::sample::select(vec!["fd00:198:18::66", "fd00:198:18::10"]),
            prop::sample::select(vec!["fd00:198:18::66", "fd00:198:18::20"]),
            prop::sample::select(vec![0x02u8, 0x18]),
            any::<bool>()
        )
            .prop_map(|(s, d, fl, tagged)| {
                let f = tcp6(s, d, 50000, 80, fl, if fl == 0x02 { b"" } else { b"GET /wpad.dat HTTP/1.1\r\n\r\n" });
                if tagged {
                    [&f[..12], &[0x81, 0, 0, 10], &f[12..]].concat()
                } else {
                    f
                }
            }),
        // Follow-ons with their application message: an HTTP request and response, an SMB2 head.
        (src, prop::sample::select(vec![POISONER, LEGIT]), prop::sample::select(vec![0usize, 1, 2])).prop_map(|(s, d, k)| match k {
            0 => tcp(s, d, 50000, 80, 0x18, b"GET /wpad.dat HTTP/1.1\r\nHost: wpad\r\n\r\n"),
            1 => tcp(d, s, 80, 50000, 0x18, b"HTTP/1.1 407 Proxy\r\nProxy-Authenticate: NTLM\r\n\r\n"),
            _ => tcp(
                s,
                d,
                50000,
                445,
                0x18,
                b"\0\0\0\x44\xfeSMB\x40\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
            ),
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn a_frame_ruled_out_by_its_transport_matches_nothing(e in expr(), counted in any::<bool>(), frames in prop::collection::vec(frame(), 1..6)) {
        // What the workers skip after reading a frame up to its transport, the full evaluation
        // would have matched with no rule (with a counter in the condition too).
        let e = if counted { format!("({e}) and count(by ip.src over 10s) > 1 or ({e})") } else { e };
        let src = format!("rule r {{ when {e} then alert; drop }}");
        let p = antidote_policy::compile(&src).unwrap().program;
        let meta = Meta::default();
        for f in &frames {
            let t = Frame::parse_transport(f);
            if t.error.is_none() && !p.may_match_from_transport(&t, &meta, 1) {
                let mut s = Scratch::default();
                let full = Frame::parse(f, &mut s);
                let mut o = Outcome::default();
                p.eval(&full, &meta, 1, &mut o);
                prop_assert!(o.matched.is_empty() && !o.dropped(), "policy: {}", src);
            }
        }
    }

    #[test]
    fn frames_the_learned_tables_rule_out_match_nothing(
        e in expr_with_table(),
        counted in any::<bool>(),
        learned in prop::sample::select(vec![None, Some(POISONER), Some("fd00:198:18::66"), Some("198.18.0.99")]),
        frames in prop::collection::vec(frame(), 1..12),
    ) {
        // What the workers skip while the table is empty — the frames only dormant rules could
        // want, whole layout classes of them — the full evaluation would have matched with no
        // rule. A key wakes every rule.
        let e = if counted { format!("({e}) and count(by ip.src over 10s) > 1 or ({e})") } else { e };
        // Sometimes with a second rule, about answers, that needs no key: the gate must leave
        // its frames to the look.
        let other = if counted { "" } else { "rule answers { when llmnr.response and ip.src != 198.18.0.20 then alert }\n" };
        let src = format!("table t : ip ttl 1h max 100\n{other}rule r {{ when {e} then alert; drop }}");
        let p = antidote_policy::compile(&src).unwrap().program;
        if let Some(ip) = learned {
            p.tables[0].state.insert(antidote_wire::frame::Addr::from_ip(ip.parse().unwrap()).0, 1);
            prop_assert_eq!(p.live_rules(), u64::MAX);
        }
        // And once the table holds a key, what the address gate lets through (the frames of
        // the classes whose every rule needs `ip.src` or `ip.dst` in the table, when neither
        // address may be in it).
        let live = p.live_rules();
        let plan = p.skip_plan(live);
        prop_assert!(plan.gate.is_none() || learned.is_some(), "a gate needs a live table");
        let plan = p.triage_plan(&plan, live);
        let look = antidote_wire::triage::triage_burst(frames.len(), |i| &frames[i][..], |_| 0, &plan);
        let skip = look.skippable(|i| &frames[i][..], &plan);
        let meta = Meta::default();
        for (i, f) in frames.iter().enumerate().filter(|(i, _)| skip >> i & 1 == 1) {
            let mut s = Scratch::default();
            let full = Frame::parse(f, &mut s);
            let mut o = Outcome::default();
            p.eval(&full, &meta, 2, &mut o);
            prop_assert!(o.matched.is_empty() && !o.dropped(), "frame {} skipped, policy: {} (learned {:?})", i, src, learned);
        }
    }

    #[test]
    fn compiled_program_agrees_with_the_reference_interpreter(e in expr(), frames in prop::collection::vec(frame(), 1..6)) {
        let src = format!("rule r {{ when {e} then drop }}");
        let compiled = match antidote_policy::compile(&src) {
            Ok(c) => c.program,
            Err(d) => { prop_assert!(false, "generated policy rejected: {src}\n{d:?}"); unreachable!() }
        };
        let (tree, _) = antidote_policy::parse::parse(&src);
        let tree = tree.unwrap();
        let Item::Rule(rule) = &tree.items[0] else { unreachable!() };
        let when = &rule.when.as_ref().unwrap().node;
        let meta = Meta::default();
        for f in &frames {
            let mut s = Scratch::default();
            let fr = Frame::parse(f, &mut s);
            let mut o = Outcome::default();
            compiled.eval(&fr, &meta, 1, &mut o);
            let want = interp::eval(when, f, &meta, &Sets::new());
            prop_assert_eq!(o.dropped(), want, "policy: {}", src);
        }
    }

    /// Whole policies: several rules in order (their `when` drawn as above, with a named set and
    /// a learned table among the leaves), each with actions that accumulate (alert, mirror,
    /// learn and forget in the table) and maybe one that decides, a default; run over a sequence
    /// of frames whose times pass the table's TTL. The compiled program and the reference
    /// ([`interp::Reference`], fields read from the bytes by its own code) give every frame the
    /// same verdict, deciding rule, matched rules, alerts and mirror flag.
    #[test]
    fn compiled_policy_agrees_with_the_reference_over_a_sequence(
        rules in prop::collection::vec((expr_with_table(), prop::collection::vec(0usize..4, 0..3), 0usize..3), 1..5),
        default_drop in any::<bool>(),
        members in prop::collection::vec(prop::sample::select(&IPS[..]), 0..3),
        frames in prop::collection::vec((frame(), 0u64..8_000), 1..12),
    ) {
        let mut src = format!("set s : ip = {{ {} }}\ntable t : ip ttl 10s except s\n", members.join(", "));
        for (k, (when, acts, verdict)) in rules.iter().enumerate() {
            // (The named set among the leaves too.)
            let when = when.replace("ip.dst in {", "ip.dst in s or ip.dst in {");
            let mut a: Vec<&str> = acts.iter().map(|&x| ["alert", "mirror", "learn t ip.src", "forget t ip.dst"][x]).collect();
            a.push(["", "pass", "drop"][*verdict]);
            a.retain(|x| !x.is_empty());
            if a.is_empty() {
                a.push("alert");
            }
            src += &format!("rule r{k} \"r{k}\" severity high {{\n  when {when}\n  then {}\n}}\n", a.join("; "));
        }
        if default_drop {
            src += "default drop\n";
        }
        let compiled = match antidote_policy::compile(&src) {
            Ok(c) => c.program,
            // A rule shadowed by one above it with the same condition is refused (E005).
            Err(d) if d.iter().all(|x| x.code == "E005") => { prop_assume!(false); unreachable!() }
            Err(d) => { prop_assert!(false, "generated policy rejected: {src}\n{d:?}"); unreachable!() }
        };
        let (tree, _) = antidote_policy::parse::parse(&src);
        let mut reference = match interp::Reference::new(&tree.unwrap()) {
            Ok(r) => r,
            Err(e) => { prop_assert!(false, "the reference refused {src}: {e}"); unreachable!() }
        };
        let meta = Meta::default();
        let mut now = 1;
        for (i, (f, dt)) in frames.iter().enumerate() {
            now += dt;
            let mut s = Scratch::default();
            let fr = Frame::parse(f, &mut s);
            let mut o = Outcome::default();
            compiled.eval(&fr, &meta, now, &mut o);
            let want = reference.eval(f, &meta, now);
            let got = (o.verdict, o.decided_by.map(|r| r as usize), o.matched.iter().map(|&r| r as usize).collect::<Vec<_>>(),
                o.alerts.iter().map(|&r| r as usize).collect::<Vec<_>>(), o.mirror);
            prop_assert_eq!(got, (Some(want.verdict), want.decided_by, want.matched, want.alerts, want.mirror), "frame {} at {} ms, policy:\n{}", i, now, src);
        }
    }

    #[test]
    fn random_text_never_panics_the_compiler(s in "\\PC{0,200}") {
        let _ = antidote_policy::compile(&s);
    }

    #[test]
    fn random_token_soup_never_panics_the_compiler(toks in prop::collection::vec(prop::sample::select(vec![
        "rule", "r", "{", "}", "when", "then", "and", "or", "not", "in", "==", "!=", "<", "(", ")", ";", ",", "set", "s", "=",
        "table", "t", ":", "ip", "ttl", "1h", "max", "10", "drop", "pass", "alert", "learn", "forget", "mirror", "inject",
        "nbns.negative", "nbns.query", "llmnr.qname", "ip.src", "\"x\"", "198.18.0.1", "10.0.0.0/8", "count", "distinct",
        "by", "over", "10s", "quarantine", "for", "rate-limit", "per", "default", "severity", "high", "&&", "!", "0x10",
        "hex\"00\"", "02:00:00:00:00:01", "starts_with", "true", "meta.port",
    ]), 0..60)) {
        let src = toks.join(" ");
        if let Err(d) = antidote_policy::compile(&src) {
            for x in &d { let _ = x.render(&src, "p"); }
        }
    }
}
