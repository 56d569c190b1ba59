//! ns per frame for the dissectors. Goals (see bench/RESULTS.md): a whole Ethernet/IPv4/TCP frame
//! ≤ 15 ns; an LLMNR or NBT-NS answer ≤ 60 ns. The mix is bench/out/mix.pcap (bench/gen_mix.py).
use antidote_wire::{Frame, Scratch};
#[path = "../../../bench/mix.rs"]
mod mix;
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};

fn tcp_frame() -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
    f.extend([0x45, 0, 0, 40 + 6, 0, 1, 0x40, 0, 64, 6, 0, 0, 198, 18, 0, 10, 198, 18, 0, 20]);
    f.extend([0xc3, 0x50, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 1, 0x50, 0x10, 0x10, 0, 0, 0, 0, 0]);
    f.extend([1, 2, 3, 4, 5, 6]);
    f
}

fn llmnr_answer() -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 0x10, 2, 0, 0, 0, 0, 0x66, 0x08, 0x00];
    let dns: Vec<u8> = [
        &[0xbe, 0xef, 0x80, 0x00, 0, 1, 0, 1, 0, 0, 0, 0][..],
        b"\x04wpad\x00",
        &[0, 1, 0, 1],
        b"\x04wpad\x00",
        &[0, 1, 0, 1, 0, 0, 0, 30, 0, 4, 198, 18, 0, 66],
    ]
    .concat();
    let udp_len = 8 + dns.len();
    let tot = 20 + udp_len;
    f.extend([0x45, 0, (tot >> 8) as u8, tot as u8, 0, 1, 0, 0, 64, 17, 0, 0, 198, 18, 0, 66, 198, 18, 0, 10]);
    f.extend([0x14, 0xeb, 0xd6, 0xd8, (udp_len >> 8) as u8, udp_len as u8, 0, 0]);
    f.extend(dns);
    f
}

fn nbns_answer() -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 0x10, 2, 0, 0, 0, 0, 0x66, 0x08, 0x00];
    let mut m = vec![0x81, 0x2a, 0x85, 0x00, 0, 0, 0, 1, 0, 0, 0, 0, 0x20];
    m.extend(b"FHFAEBEECACACACACACACACACACACAAA");
    m.extend([0, 0, 0x20, 0, 1, 0, 0, 0, 165, 0, 6, 0, 0, 198, 18, 0, 66]);
    let udp_len = 8 + m.len();
    let tot = 20 + udp_len;
    f.extend([0x45, 0, (tot >> 8) as u8, tot as u8, 0, 1, 0, 0, 64, 17, 0, 0, 198, 18, 0, 66, 198, 18, 0, 10]);
    f.extend([0, 137, 0, 137, (udp_len >> 8) as u8, udp_len as u8, 0, 0]);
    f.extend(m);
    f
}

fn bench(c: &mut Criterion) {
    let mut scratch = Scratch::default();
    for (name, frame) in [("eth_ipv4_tcp", tcp_frame()), ("llmnr_answer", llmnr_answer()), ("nbns_answer", nbns_answer())] {
        {
            let f = Frame::parse(&frame, &mut scratch);
            assert!(f.error.is_none(), "{name}: {:?}", f.error);
        }
        let mut g = c.benchmark_group("dissect");
        g.throughput(Throughput::Elements(1));
        g.bench_function(name, |b| {
            b.iter(|| {
                let f = Frame::parse(black_box(&frame), &mut scratch);
                black_box(&f);
            })
        });
        g.finish();
    }
    let frames = mix::frames();
    if !frames.is_empty() {
        let mut g = c.benchmark_group("dissect");
        g.throughput(Throughput::Elements(frames.len() as u64));
        g.bench_function("mix_per_frame", |b| {
            b.iter(|| {
                for fr in &frames {
                    let f = Frame::parse(black_box(fr), &mut scratch);
                    black_box(&f);
                }
            })
        });
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).warm_up_time(std::time::Duration::from_millis(500)).measurement_time(std::time::Duration::from_secs(2));
    targets = bench
}
criterion_main!(benches);
