//! ns per frame for the header triage over the throughput bench's mix (bench/out/mix.pcap,
//! bench/gen_mix.py): what every frame the workers receive pays for. The triage under a
//! program's plan is benched with the policy (policy-lang/benches/eval.rs).
#[path = "../../../bench/mix.rs"]
mod mix;
use antidote_wire::triage::{plain_mask, triage_burst, BurstTriage, TriagePlan};
use criterion::{black_box, criterion_group, criterion_main, Criterion};

/// The triage of a burst with nothing skipped.
#[inline(always)]
fn triage_all<'a>(n: usize, frame: impl Fn(usize) -> &'a [u8]) -> BurstTriage {
    triage_burst(n, frame, |_| 0, &TriagePlan::NOTHING)
}

fn bench(c: &mut Criterion) {
    let mix = mix::frames();
    if mix.is_empty() {
        return;
    }
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
    sorted.sort_by_key(|d| (plain_mask(d), d.get(12..14).map(|x| x.to_vec()), d.len()));
    for (name, frames) in [("plain_mask_per_frame", &mix), ("plain_mask_sorted_per_frame", &sorted)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut n = 0u32;
                for d in frames {
                    n = n.wrapping_add(plain_mask(black_box(d)).unwrap_or(7));
                }
                black_box(n)
            })
        });
    }
    // What the workers run: the burst triage, 32 frames at a time, in mix order.
    g.bench_function("triage_burst_per_frame", |b| {
        b.iter(|| {
            let mut n = 0u32;
            for burst in mix.chunks(32) {
                let look = triage_all(burst.len(), |i| black_box(&burst[i][..]));
                n = n.wrapping_add(look.plain[0] ^ look.plain[1] ^ look.dissect ^ look.other);
            }
            black_box(n)
        })
    });
    // The same triage on one burst that stays in L1, 128 times: its compute alone (the
    // difference to `triage_burst_per_frame` is waiting for frame data).
    let hot: Vec<Vec<u8>> = mix.iter().take(32).cloned().collect();
    g.bench_function("triage_burst_in_l1_per_frame", |b| {
        b.iter(|| {
            let mut n = 0u32;
            for _ in 0..mix.len() / 32 {
                let look = triage_all(hot.len(), |i| black_box(&hot[i][..]));
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
        let name = if look { "copy_then_plain_mask_per_frame" } else { "copy_only_per_frame" };
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut n = 0u32;
                for burst in mix.chunks(32) {
                    copy_burst(burst, &mut bufs, &mut lens);
                    if look {
                        for i in 0..burst.len() {
                            let d = &bufs[i * 2048..i * 2048 + lens[i]];
                            n = n.wrapping_add(plain_mask(black_box(d)).unwrap_or(7));
                        }
                    }
                    black_box(&bufs);
                }
                black_box(n)
            })
        });
    }
    // The worker's burst triage where the worker runs it: right after the copy (the difference
    // to `copy_only_per_frame` is the look's cost with frame data as the PMD leaves it).
    g.bench_function("copy_then_triage_burst_per_frame", |b| {
        b.iter(|| {
            let mut n = 0u32;
            for burst in mix.chunks(32) {
                copy_burst(burst, &mut bufs, &mut lens);
                let bufs = black_box(&bufs[..]);
                let look = triage_all(burst.len(), |i| &bufs[i * 2048..i * 2048 + lens[i]]);
                n = n.wrapping_add(look.plain[0] ^ look.plain[1] ^ look.dissect ^ look.other ^ look.named);
            }
            black_box(n)
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
