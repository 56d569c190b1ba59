//! `antidote explain`: the compiled program in readable form — per rule its protocol gate, the
//! branch program in evaluation order, its actions; the sets with their sizes; the tables and
//! counters.
use crate::program::*;
use antidote_wire::proto;
use std::fmt::Write;

fn const_text(c: &Const) -> String {
    match c {
        Const::Int(i) => i.to_string(),
        Const::Bool(b) => b.to_string(),
        Const::Ip(a) => antidote_wire::frame::Addr(*a).ip().to_string(),
        Const::Cidr { net, mask } => {
            let a = antidote_wire::frame::Addr(*net);
            let bits = if a.is_v4() { 32 - (!mask).count_ones().min(32) } else { mask.count_ones() };
            format!("{}/{bits}", a.ip())
        }
        Const::Mac(m) => antidote_wire::ethernet::Mac(*m).to_string(),
        Const::Str(s) => format!("{:?} (any case)", String::from_utf8_lossy(s)),
        Const::Bytes(b) => format!("hex\"{}\"", b.iter().map(|x| format!("{x:02x}")).collect::<String>()),
    }
}

pub fn test_text(p: &Program, t: &Test) -> String {
    match t {
        Test::Const(b) => b.to_string(),
        Test::Bool(f) => f.name.to_string(),
        Test::Cmp(f, op, c) => format!("{} {} {}", f.name, op.as_str(), const_text(c)),
        Test::FieldCmp(a, op, b) => format!("{} {} {}", a.name, op.as_str(), b.name),
        Test::Str(f, op, s) => format!("{} {} {:?}", f.name, op.as_str(), String::from_utf8_lossy(s)),
        Test::InSet(f, s) => {
            let (name, set) = &p.sets[*s as usize];
            let how = match set {
                crate::program::Set::FewStr(_) => "compared in turn",
                crate::program::Set::Ip { cidrs, .. } if !cidrs.is_empty() => "hash lookup, then CIDRs",
                _ => "hash lookup",
            };
            format!("{} in set {name} ({} entries, {how})", f.name, set.len())
        }
        Test::InTable(f, t) => format!("{} in table {} (learned)", f.name, p.tables[*t as usize].name),
        Test::Count { counter, op, n, .. } => format!("{} {} {n}", p.counters[*counter as usize].text, op.as_str()),
        Test::Distinct { counter, op, n, .. } => format!("{} {} {n}", p.counters[*counter as usize].text, op.as_str()),
    }
}

fn target(t: u32) -> String {
    match t {
        MATCH => "MATCH".into(),
        NO_MATCH => "no match".into(),
        n => format!("@{n}"),
    }
}

/// Walks a rule's branch program from its entry and lists the nodes it can reach, in order.
fn reachable(p: &Program, entry: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut stack = vec![entry];
    while let Some(n) = stack.pop() {
        if n == MATCH || n == NO_MATCH || out.contains(&n) {
            continue;
        }
        out.push(n);
        let node = &p.nodes[n as usize];
        stack.push(node.on_false);
        stack.push(node.on_true);
    }
    out.sort();
    out
}

fn act_text(p: &Program, a: &Act) -> String {
    match a {
        Act::Alert => "alert".into(),
        Act::Mirror => "mirror".into(),
        Act::InjectNbnsNegative => "inject nbns.negative".into(),
        Act::Learn { table, key } => format!("learn {} {}", p.tables[*table as usize].name, key.name),
        Act::Forget { table, key } => format!("forget {} {}", p.tables[*table as usize].name, key.name),
        Act::Quarantine { key, ms } => format!("quarantine {} for {ms}ms", key.name),
        Act::RateLimit { counter, .. } => p.counters[*counter as usize].text.clone(),
        Act::Verify { ms, fallback } => format!("verify for {ms}ms else {} (held while the sender is probed)", format!("{fallback:?}").to_lowercase()),
        Act::Verdict(v) => format!("{v:?}").to_lowercase(),
    }
}

/// The program as text.
pub fn explain(p: &Program) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "program: {} rule(s), {} test(s), default {:?}", p.rules.len(), p.tests.len(), p.default);
    let _ = writeln!(
        s,
        "evaluation: quarantine check{}, then rules in order; the first pass, drop or verify decides; alert, mirror, inject, learn, forget and quarantine accumulate",
        if p.uses_quarantine { "" } else { " (off: no rule quarantines)" }
    );
    for (i, r) in p.rules.iter().enumerate() {
        let _ = writeln!(s, "\nrule #{i} {} [{}]", r.name, r.severity.as_str());
        let gate = match (r.gate, r.gate_any) {
            (0, 0) => "none (every frame)".to_string(),
            (all, 0) => format!("{} — frames without it skip this rule in one test", proto::names(all)),
            (0, any) => format!("one of {} — other frames skip this rule in one test", proto::names(any).replace('+', "/")),
            (all, any) => format!("{} and one of {} — other frames skip this rule in one test", proto::names(all), proto::names(any).replace('+', "/")),
        };
        let _ = writeln!(s, "  gate: {gate}");
        if r.gate_none != 0 {
            let _ = writeln!(s, "  gate: not {} — frames with it skip this rule in one test", proto::names(r.gate_none).replace('+', "/"));
        }
        if r.entry == MATCH {
            let _ = writeln!(s, "  condition: always");
        } else {
            let _ = writeln!(s, "  condition (entry @{}):", r.entry);
            for n in reachable(p, r.entry) {
                let node = &p.nodes[n as usize];
                let t = &p.tests[node.test as usize];
                let _ =
                    writeln!(s, "    @{n}: {:<60} true → {:<9} false → {}   (cost {})", test_text(p, t), target(node.on_true), target(node.on_false), t.cost());
            }
        }
        let acts: Vec<String> = r.acts.iter().map(|a| act_text(p, a)).collect();
        let _ = writeln!(s, "  actions: {}", acts.join("; "));
    }
    if !p.sets.is_empty() {
        let _ = writeln!(s, "\nsets:");
        for (name, set) in &p.sets {
            let kind = match set {
                Set::Ip { exact, cidrs } => format!("ip: {} addresses (ahash) + {} CIDRs", exact.len(), cidrs.len()),
                Set::Int(x) => format!("int: {} (ahash)", x.len()),
                Set::Str(x) => format!("string: {} (ahash, case-insensitive)", x.len()),
                Set::FewStr(x) => format!("string: {} (compared in turn, case-insensitive)", x.len()),
                Set::Mac(x) => format!("mac: {} (ahash)", x.len()),
            };
            let _ = writeln!(s, "  {name}: {kind}");
        }
    }
    if !p.tables.is_empty() {
        let _ = writeln!(s, "\ntables (learned at run time, shared by all workers, lock-free):");
        for (i, t) in p.tables.iter().enumerate() {
            let _ = writeln!(s, "  {}: {} keys, ttl {}ms, max {} (least recently used evicted)", t.name, t.key_ty.as_str(), t.ttl_ms, t.max);
            if let Some(&(_, rules)) = p.dormant_if_empty.iter().find(|d| d.0 as usize == i) {
                let names: Vec<&str> = p.rules.iter().enumerate().filter(|(r, _)| rules >> r & 1 == 1).map(|(_, r)| r.name.as_str()).collect();
                let _ = writeln!(s, "    while it holds no key these rules cannot match and are not evaluated: {}", names.join(", "));
            }
        }
        let quiet = p.skipped_classes(p.live_rules_if_empty());
        if quiet & !p.skipped_classes(u64::MAX) != 0 {
            let _ = writeln!(
                s,
                "  while every such table is empty the header look does not read past the IP protocol of: {}",
                antidote_wire::triage::class_names(quiet).join(", ")
            );
        }
        if let Some(g) = p.addr_gate(u64::MAX, p.skipped_classes(u64::MAX)) {
            let _ = writeln!(
                s,
                "  once {} holds keys, the header look lets through on its address filter (neither ip.src nor ip.dst learned) the frames of: {}",
                p.tables[g.1 as usize].name,
                antidote_wire::triage::class_names(g.0).join(", ")
            );
        }
    }
    if !p.counters.is_empty() {
        let _ = writeln!(s, "\ncounters (sliding windows, shared by all workers, lock-free):");
        for c in &p.counters {
            let _ = writeln!(s, "  {}", c.text);
        }
    }
    s
}
