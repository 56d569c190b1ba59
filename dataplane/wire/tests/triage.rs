//! The header triage against the full dissector: on the bench mix, the fuzz corpus, crafted
//! frames of every layout class, their one-byte mutations and truncations, the triage of a frame
//! (alone and in a burst) says only what the dissector can give it.
mod frames;
use frames::*;

#[test]
fn the_triage_agrees_with_the_full_dissector() {
    use antidote_wire::frame::frame_mask;
    use antidote_wire::frame::Layer;
    use antidote_wire::triage::{class_may_give, layout_class, plain_mask, triage_burst, triage_frame, Triage, TriagePlan, LAYOUT_CLASSES};
    use antidote_wire::{Frame, Scratch};
    let mut frames: Vec<Vec<u8>> = Vec::new();
    for path in [concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/out/mix.pcap"), concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/frame")] {
        if path.ends_with(".pcap") {
            if let Ok(f) = std::fs::File::open(path) {
                let mut r = pcap_file::pcap::PcapReader::new(f).unwrap();
                while let Some(p) = r.next_packet() {
                    frames.push(p.unwrap().data.into_owned());
                }
            }
        } else {
            for e in std::fs::read_dir(path).unwrap() {
                frames.push(std::fs::read(e.unwrap().path()).unwrap());
            }
        }
    }
    for port in [22u16, 80, 139, 443, 445, 3128, 8080] {
        for flags in [0x10u8, 0x18, 0x11, 0x02, 0x12] {
            for payload in [&b""[..], b"data", b"GET /wpad.dat HTTP/1.1\r\n\r\n", b"HTTP/1.1 407 x\r\n", b"\0\0\0\x44\xfeSMB"] {
                frames.push(tcp(VICTIM, LEGIT, 50000, port, flags, payload));
                frames.push(tcp(LEGIT, VICTIM, port, 50000, flags, payload));
            }
        }
    }
    for port in [53u16, 123, 137, 1434, 4789, 5353, 5355] {
        frames.push(udp(VICTIM, LEGIT, 40000, port, b"0123456789"));
        frames.push(udp("fd00:198:18::10", "fd00:198:18::20", port, 40000, b"0123456789"));
    }
    frames.push(tcp(VICTIM, LEGIT, 50000, 443, 0x02, b""));
    frames.push(llmnr_answer(POISONER, VICTIM, "x", POISONER, 30, false));
    // Every layout class without the bench mix (it is not there on a fresh clone): IPv6 TCP,
    // and each layout with an 802.1Q tag.
    let (v6a, v6b) = ("fd00:198:18::10", "fd00:198:18::20");
    let untagged = [
        tcp(VICTIM, LEGIT, 50000, 443, 0x10, b"data"),
        tcp(VICTIM, LEGIT, 50000, 80, 0x18, b"GET /wpad.dat HTTP/1.1\r\n\r\n"),
        udp(VICTIM, LEGIT, 40000, 123, b"0123456789"),
        llmnr_query(VICTIM, "x"),
        tcp6(v6a, v6b, 50000, 443, 0x10, b"data"),
        tcp6(v6a, v6b, 50000, 445, 0x02, b""),
        udp(v6a, v6b, 40000, 4789, b"0123456789"),
        udp(v6a, v6b, 5355, 40000, b"\x12\x34\x80\x00\x00\x01\x00\x01\x00\x00\x00\x00"),
    ];
    for f in untagged {
        frames.push(tagged(&f, 42));
        frames.push(f);
    }
    assert!(frames.len() >= 40);
    // Mutations of the header bytes: tags, versions, lengths, flags and ports set to values each
    // check must tell apart (deterministic, so a failure names its frame).
    let mut mutated = Vec::new();
    let values = [0x00u8, 0x01, 0x02, 0x05, 0x06, 0x08, 0x11, 0x14, 0x45, 0x46, 0x60, 0x81, 0x86, 0x88, 0x89, 0xdd, 0xff];
    for (i, f) in frames.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
        for pos in 12..f.len().min(80) {
            let mut g = f.clone();
            g[pos] = values[(i + pos) % values.len()];
            mutated.push(g);
        }
    }
    frames.extend(mutated);
    let (mut quick, mut named) = (0, 0);
    // Every truncation too: the look must never claim a frame it misreads.
    let cuts: Vec<(usize, usize, &[u8])> = frames
        .iter()
        .enumerate()
        .flat_map(|(i, f)| [f.len(), f.len().saturating_sub(1), f.len() / 2, 42, 20, 14].map(|c| (i, c, &f[..c.min(f.len())])))
        .collect();
    let mut exact = 0;
    let mut classed = [0usize; LAYOUT_CLASSES];
    for &(i, cut, d) in &cuts {
        // A frame's layout class bounds the masks the dissector can give it (a class no rule
        // wants under any of them is skipped unread).
        if let Some(c) = layout_class(d) {
            let mut s = Scratch::default();
            let got = frame_mask(&Frame::parse(d, &mut s));
            assert!(class_may_give(c, got), "frame {i} cut {cut}: class {c}, dissector {got:#x}");
            classed[c] += 1;
        }
        let seen = triage_frame(d);
        let Some(possible) = seen.possible() else { continue };
        let mut s = Scratch::default();
        let full = Frame::parse(d, &mut s);
        let got = frame_mask(&full);
        assert!(possible.contains(&got), "frame {i} cut {cut}: look said {seen:?} ({possible:x?}), dissector {got:#x} ({:?})", full.error);
        match seen {
            Triage::Plain(m) => {
                quick += 1;
                // Only lengths the look does not read can make the frame malformed.
                if let Some((layer, _)) = full.error {
                    assert!(matches!(layer, Layer::Ipv4 | Layer::Ipv6 | Layer::Tcp | Layer::Udp), "frame {i} cut {cut}: {layer:?} failed under a plain look");
                } else if got == m {
                    exact += 1;
                }
            }
            _ => {
                named += 1;
                if let Some((layer, _)) = full.error {
                    assert!(
                        matches!(layer, Layer::Llmnr | Layer::Nbns | Layer::Mdns | Layer::Ssrp | Layer::Ipv4 | Layer::Ipv6 | Layer::Udp),
                        "frame {i} cut {cut}: {layer:?} failed under a named look"
                    );
                }
            }
        }
        assert_eq!(plain_mask(d), if let Triage::Plain(m) = seen { Some(m) } else { None });
    }
    assert!(exact > 20, "only {exact} plain frames were well formed with the look's own mask");
    assert!(classed.iter().all(|&n| n > 0), "every layout class is tried: {classed:?}");
    // The burst look (what the workers run) says the same, burst by burst: each frame in
    // exactly one of its sets.
    let mut plain = 0;
    for burst in cuts.chunks(32) {
        let bl = triage_burst(burst.len(), |k| burst[k].2, |_| 0, &TriagePlan::NOTHING);
        for (k, &(i, cut, d)) in burst.iter().enumerate() {
            let bit = 1u32 << k;
            let sets = bl.plain.iter().chain([&bl.named, &bl.dissect, &bl.other]).filter(|&&b| b & bit != 0).count();
            assert_eq!(sets, 1, "frame {i} cut {cut}: in {sets} sets of the burst look");
            if bl.plain.iter().any(|&b| b & bit != 0) {
                plain += 1;
            }
            assert_eq!(bl.of(k, d), triage_frame(d), "frame {i} cut {cut}: the burst look and the per-frame look disagree");
        }
        // Skipping classes only moves their frames to `class_skipped`; the rest is unchanged.
        for skip in [0b0101_0101u32, 0b1111_1111, 0b0000_0010] {
            let sk = triage_burst(burst.len(), |k| burst[k].2, |_| 0, &TriagePlan { skip_classes: skip, ..TriagePlan::NOTHING });
            for (k, &(_, _, d)) in burst.iter().enumerate() {
                let bit = 1u32 << k;
                let in_skipped = layout_class(d).is_some_and(|c| skip >> c & 1 == 1);
                assert_eq!(sk.class_skipped & bit != 0, in_skipped);
                if !in_skipped {
                    assert_eq!(sk.of(k, d), bl.of(k, d));
                }
            }
        }
    }
    assert!(named > 20, "the look read only {named} name-resolution messages");
    assert!(plain > 20, "the burst look found only {plain} plain frames");
    assert!(quick > 20, "the quick path covered only {quick} frames");
}

#[test]
fn answers_beyond_the_first_pass_layouts_are_found_as_the_dissector_finds_them() {
    // What a worker's answer budget charges before a dissection: an LLMNR, NBT-NS or mDNS
    // answer or a SQL browser reply in two tags, after IPv4 options, the first fragment of a
    // name-service datagram
    // (the dissector marks it a possible answer, its message unread) — never a query, a later
    // fragment or another UDP message.
    use antidote_wire::triage::answer_beyond_layouts;
    use antidote_wire::{Frame, Scratch};
    let answer = llmnr_answer(POISONER, VICTIM, "wpad", POISONER, 30, true);
    let query = llmnr_query(VICTIM, "wpad");
    let qinq = |f: &[u8]| [&f[..12], &[0x88, 0xa8, 0, 100, 0x81, 0x00, 0, 10], &f[12..]].concat();
    // IPv4 options: a 4-byte NOP option, IHL 6, the lengths grown.
    let options = |f: &[u8]| {
        let mut g = [&f[..34], &[1, 1, 1, 1], &f[34..]].concat();
        g[14] = 0x46;
        let total = u16::from_be_bytes([g[16], g[17]]) + 4;
        g[16..18].copy_from_slice(&total.to_be_bytes());
        g
    };
    // The first and a later fragment: MF set, then an offset.
    let fragment = |f: &[u8], first: bool| {
        let mut g = f.to_vec();
        g[20..22].copy_from_slice(&(if first { 0x2000u16 } else { 0x0003 }).to_be_bytes());
        g
    };
    let nbns = nbns_positive(POISONER, VICTIM, "FILESRV", POISONER, 165);
    let mut s = Scratch::default();
    let dissected_answer = |d: &[u8], s: &mut Scratch| {
        let f = Frame::parse(d, s);
        f.app.is_answer() || antidote_wire::frame::frame_mask(&f) & antidote_wire::proto::RESP != 0
    };
    for (f, want) in [
        (qinq(&answer), true),
        (qinq(&nbns), true),
        (options(&answer), true),
        (fragment(&answer, true), true),
        (fragment(&query, true), true),
        (qinq(&fragment(&query, true)), true),
        (options(&fragment(&nbns, true)), true),
        (fragment(&answer, false), false),
        (qinq(&fragment(&answer, false)), false),
        (qinq(&query), false),
        (options(&query), false),
        (qinq(&udp(VICTIM, LEGIT, 40000, 123, b"0123456789abcdef")), false),
        // A SQL browser reply (SVR_RESP) and a request.
        (qinq(&udp(POISONER, VICTIM, 1434, 50000, b"\x05\x10\x00ServerName;RSP;;")), true),
        (qinq(&udp(VICTIM, POISONER, 50000, 1434, b"\x03")), false),
        (qinq(&tcp(VICTIM, LEGIT, 50000, 5355, 0x18, b"0123456789abcdef")), false),
    ] {
        assert_eq!(answer_beyond_layouts(&f), want, "{f:02x?}");
        if want {
            assert!(dissected_answer(&f, &mut s), "the dissector reads an answer too: {f:02x?}");
        }
        for cut in 0..f.len() {
            let _ = answer_beyond_layouts(&f[..cut]);
        }
    }
}
