//! Policy benches. Goals (bench/RESULTS.md): the default policy ≤ 20 ns per frame for traffic
//! that is not name resolution and ≤ 150 ns for an LLMNR answer; compiling a policy with a
//! 10,000-entry set < 100 ms.
#[path = "../tests/frames.rs"]
mod frames;
#[path = "../../bench/mix.rs"]
mod mix;
use antidote_policy::program::{Meta, Outcome};
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
        g.bench_function("touch_one_byte_per_frame", |b| {
            b.iter(|| {
                let mut n = 0u32;
                for d in &mix {
                    n = n.wrapping_add(black_box(d).get(12).copied().unwrap_or(7) as u32);
                }
                black_box(n)
            })
        });
        // In mix order, and sorted by layout (the difference is what branch prediction costs).
        let mut sorted = mix.clone();
        sorted.sort_by_key(|d| (antidote_policy::schema::quick_mask(d), d.get(12..14).map(|x| x.to_vec()), d.len()));
        for (name, frames) in [("quick_mask_per_frame", &mix), ("quick_mask_sorted_per_frame", &sorted)] {
            g.bench_function(name, |b| {
                b.iter(|| {
                    let mut n = 0u32;
                    for d in frames {
                        n = n.wrapping_add(antidote_policy::schema::quick_mask(black_box(d)).unwrap_or(7));
                    }
                    black_box(n)
                })
            });
        }
        // What the workers run: the burst look, 32 frames at a time, in mix order.
        g.bench_function("look_burst_per_frame", |b| {
            b.iter(|| {
                let mut n = 0u32;
                for burst in mix.chunks(32) {
                    let look = antidote_policy::schema::look_burst(burst.len(), |i| black_box(&burst[i][..]));
                    n = n.wrapping_add(look.plain[0] ^ look.plain[1] ^ look.dissect ^ look.other);
                }
                black_box(n)
            })
        });
        // What the workers run once the mix's poisoners are known: the default policy's TCP
        // classes gated on the learned table's address filter (each burst as the worker sees
        // it: the live rules, the skipped classes and the gate, then the look and `skippable`).
        let learned = antidote_policy::compile(&default_policy()).ok().unwrap().program;
        for d in &mix {
            let mut s = Scratch::default();
            let mut o = Outcome::default();
            learned.eval(&Frame::parse(d, &mut s), &meta, 1, &mut o);
        }
        // (`_ungated`: the same without the gate, every TCP segment looked at.)
        for (name, gated) in [("look_burst_gated_per_frame", true), ("look_burst_learned_ungated_per_frame", false)] {
            g.bench_function(name, |b| {
                b.iter(|| {
                    let mut n = 0u32;
                    for burst in mix.chunks(32) {
                        let live = learned.live_rules();
                        let classes = learned.skipped_classes(live);
                        let gate = if gated { learned.addr_gate(live, classes) } else { None };
                        let look = antidote_policy::schema::look_burst_gated(burst.len(), |i| black_box(&burst[i][..]), classes, gate);
                        n = n.wrapping_add(look.skippable(|i| &burst[i][..], |m| learned.skips_with(m, live)));
                    }
                    black_box(n)
                })
            });
        }
        // The same look on one burst that stays in L1, 128 times: its compute alone (the
        // difference to `look_burst_per_frame` is waiting for frame data).
        let hot: Vec<Vec<u8>> = mix.iter().take(32).cloned().collect();
        g.bench_function("look_burst_in_l1_per_frame", |b| {
            b.iter(|| {
                let mut n = 0u32;
                for _ in 0..mix.len() / 32 {
                    let look = antidote_policy::schema::look_burst(hot.len(), |i| black_box(&hot[i][..]));
                    n = n.wrapping_add(look.plain[0] ^ look.plain[1] ^ look.dissect ^ look.other);
                }
                black_box(n)
            })
        });
        // As in the appliance: each burst of 32 is first copied into 2 KiB buffers (what the pcap
        // PMD does), then looked at. The copy alone is the baseline.
        let mut bufs = vec![0u8; 32 * 2048];
        let mut lens = [0usize; 32];
        fn copy_burst(burst: &[Vec<u8>], bufs: &mut [u8], lens: &mut [usize; 32]) {
            for (i, d) in burst.iter().enumerate() {
                bufs[i * 2048..i * 2048 + d.len()].copy_from_slice(d);
                lens[i] = d.len();
            }
        }
        for look in [false, true] {
            let name = if look { "copy_then_quick_mask_per_frame" } else { "copy_only_per_frame" };
            g.bench_function(name, |b| {
                b.iter(|| {
                    let mut n = 0u32;
                    for burst in mix.chunks(32) {
                        copy_burst(burst, &mut bufs, &mut lens);
                        if look {
                            for i in 0..burst.len() {
                                let d = &bufs[i * 2048..i * 2048 + lens[i]];
                                n = n.wrapping_add(antidote_policy::schema::quick_mask(black_box(d)).unwrap_or(7));
                            }
                        }
                        black_box(&bufs);
                    }
                    black_box(n)
                })
            });
        }
        // The worker's burst look where the worker runs it: right after the copy (the difference
        // to `copy_only_per_frame` is the look's cost with frame data as the PMD leaves it).
        g.bench_function("copy_then_look_burst_per_frame", |b| {
            b.iter(|| {
                let mut n = 0u32;
                for burst in mix.chunks(32) {
                    copy_burst(burst, &mut bufs, &mut lens);
                    let bufs = black_box(&bufs[..]);
                    let look = antidote_policy::schema::look_burst(burst.len(), |i| &bufs[i * 2048..i * 2048 + lens[i]]);
                    n = n.wrapping_add(look.plain[0] ^ look.plain[1] ^ look.dissect ^ look.other ^ look.named);
                }
                black_box(n)
            })
        });
        let mut s = Scratch::default();
        let mut o = Outcome::default();
        let mut now = 1u64;
        g.bench_function("judge_default_policy_per_frame", |b| {
            b.iter(|| {
                now += 1;
                let mut dropped = 0u32;
                for d in &mix {
                    if let Some(masks) = antidote_policy::schema::look(black_box(d)).possible() {
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
