//! Policy benches. Goals (bench/RESULTS.md): the default policy ≤ 20 ns per frame for traffic
//! that is not name resolution and ≤ 150 ns for an LLMNR answer; compiling a policy with a
//! 10,000-entry set < 100 ms.
#[path = "../../dataplane/wire/tests/frames/mod.rs"]
mod frames;
#[path = "../../bench/mix.rs"]
mod mix;
use antidote_policy::program::{Meta, Outcome};
use antidote_wire::triage::{triage_burst, triage_frame};
use antidote_wire::{Frame, Scratch};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use frames::*;

fn default_policy() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/default.policy")).unwrap()
}

fn bench(c: &mut Criterion) {
    let p = antidote_policy::compile(&default_policy()).ok().unwrap().program;
    let meta = Meta::default();
    let cases = [
        ("default_policy/tcp_data", tcp(VICTIM, LEGIT, 50000, 443, 0x10, b"0123456789")),
        ("default_policy/tcp_syn", tcp(VICTIM, LEGIT, 50000, 443, 0x02, b"")),
        ("default_policy/llmnr_answer_legit", llmnr_answer(LEGIT, VICTIM, "legit", LEGIT, 30, true)),
        ("default_policy/llmnr_answer_poisoned", llmnr_answer(POISONER, VICTIM, "fileservr", POISONER, 30, false)),
        ("default_policy/nbns_query", nbns_query(VICTIM, "fileservr", true)),
    ];
    for (name, frame) in &cases {
        let mut s = Scratch::default();
        let f = Frame::parse(frame, &mut s);
        let mut o = Outcome::default();
        let mut now = 1u64;
        c.bench_function(name, |b| {
            b.iter(|| {
                now += 1;
                p.eval(black_box(&f), &meta, now, &mut o);
                black_box(&o);
            })
        });
    }
    // The worker's per-frame work without the PMDs: the header classifier, and for frames it
    // cannot decide, dissection and evaluation — over the throughput bench's mix.
    let mix = mix::frames();
    if !mix.is_empty() {
        let mut g = c.benchmark_group("mix");
        g.throughput(criterion::Throughput::Elements(mix.len() as u64));
        // What the workers run once the mix's poisoners are known: the default policy's TCP
        // classes gated on the learned table's address filter (each burst as the worker sees
        // it: the live rules, the program's plan, then the triage and `skippable`). The triage
        // alone is benched in dataplane/wire/benches/triage.rs.
        let learned = antidote_policy::compile(&default_policy()).ok().unwrap().program;
        for d in &mix {
            let mut s = Scratch::default();
            let mut o = Outcome::default();
            learned.eval(&Frame::parse(d, &mut s), &meta, 1, &mut o);
        }
        // (`_ungated`: the same without the gate, every TCP segment looked at.)
        for (name, gated) in [("triage_burst_gated_per_frame", true), ("triage_burst_learned_ungated_per_frame", false)] {
            g.bench_function(name, |b| {
                b.iter(|| {
                    let mut n = 0u32;
                    for burst in mix.chunks(32) {
                        let live = learned.live_rules();
                        let mut skip = learned.skip_plan(live);
                        if !gated {
                            skip.gate = None;
                        }
                        let plan = learned.triage_plan(&skip, live);
                        let t = triage_burst(burst.len(), |i| black_box(&burst[i][..]), |_| 0, &plan);
                        n = n.wrapping_add(t.skippable(|i| &burst[i][..], &plan));
                    }
                    black_box(n)
                })
            });
        }
        let mut s = Scratch::default();
        let mut o = Outcome::default();
        let mut now = 1u64;
        g.bench_function("judge_default_policy_per_frame", |b| {
            b.iter(|| {
                now += 1;
                let mut dropped = 0u32;
                for d in &mix {
                    if let Some(masks) = triage_frame(black_box(d)).possible() {
                        if masks.into_iter().all(|m| p.skips(m)) {
                            continue;
                        }
                    }
                    let f = Frame::parse(d, &mut s);
                    p.eval(&f, &meta, now, &mut o);
                    dropped += o.dropped() as u32;
                }
                black_box(dropped)
            })
        });
        g.finish();
    }

    let mut src = String::from("set big : ip = { ");
    for i in 0..10_000u32 {
        src.push_str(&format!("198.{}.{}.{}, ", 18 + (i >> 16), (i >> 8) & 0xff, i & 0xff));
    }
    src.push_str("}\n");
    src.push_str(&default_policy());
    src.push_str("\nrule big-set { when ip.src in big then alert }\n");
    c.bench_function("compile/default_policy_plus_10000_entry_set", |b| b.iter(|| black_box(antidote_policy::compile(black_box(&src)).ok().unwrap())));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
