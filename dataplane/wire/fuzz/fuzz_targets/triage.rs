//! Any bytes as a frame: the header triage (per frame and over a burst) and the answer budget's
//! walk never panic, and the full dissector gives the frame one of the masks the triage says it
//! can have, and one its layout class allows. The address gate never lets through a frame whose `ip.src` or `ip.dst`
//! (as the dissector reads them) is in the filter.
#![no_main]
use antidote_wire::frame::frame_mask;
use antidote_wire::triage::{class_may_give, layout_class, triage_burst, triage_frame, AddrFilter, AddrGate, TriagePlan};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The answer budget's walk of layouts the first pass does not read: never panics.
    let _ = antidote_wire::triage::answer_beyond_layouts(data);
    let seen = triage_frame(data);
    if let Some(possible) = seen.possible() {
        let mut s = antidote_wire::Scratch::default();
        let f = antidote_wire::Frame::parse(data, &mut s);
        assert!(possible.contains(&frame_mask(&f)), "{seen:?} {possible:x?}: dissector {:#x} {:?}", frame_mask(&f), f.error);
    }
    if let Some(c) = layout_class(data) {
        let mut s = antidote_wire::Scratch::default();
        let m = frame_mask(&antidote_wire::Frame::parse(data, &mut s));
        assert!(class_may_give(c, m), "class {c}: dissector {m:#x}");
    }
    // The same frame in a burst, between two truncations of itself.
    let frames = [&data[..data.len() / 2], data, &data[..data.len().saturating_sub(1)]];
    let burst = triage_burst(frames.len(), |i| frames[i], |_| 0, &TriagePlan::NOTHING);
    assert_eq!(burst.of(1, data), seen);
    // The frame's own addresses learned (the bytes where the triage reads them, whatever the
    // frame): with every layout class gated, it is never let through if the dissector gives it
    // an ip.src or ip.dst in the filter.
    let mut s = antidote_wire::Scratch::default();
    let f = antidote_wire::Frame::parse(data, &mut s);
    if let Some(net) = f.net {
        for addr in [net.src, net.dst] {
            let filter = AddrFilter::default();
            filter.add(addr.0);
            let plan = TriagePlan { gate: Some(AddrGate { classes: 0xff, filter: &filter }), ..TriagePlan::NOTHING };
            let gated = triage_burst(1, |_| data, |_| 0, &plan);
            assert_eq!(gated.class_skipped, 0, "a frame from or to a learned address was let through");
        }
    }
});
