//! Any bytes as a frame: the header look (per frame and over a burst) never panics, and the
//! full dissector gives the frame one of the masks the look says it can have, and one its
//! layout class allows. The address gate never lets through a frame whose `ip.src` or `ip.dst`
//! (as the dissector reads them) is in the table.
#![no_main]
use antidote_policy::schema::{class_may_give, frame_mask, layout_class, look, look_burst, look_burst_gated, AddrGate};
use antidote_policy::state::LearnTable;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let seen = look(data);
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
    let burst = look_burst(frames.len(), |i| frames[i]);
    assert_eq!(burst.seen(1, data), seen);
    // The frame's own addresses learned (the bytes where the look reads them, whatever the
    // frame): with every layout class gated, it is never let through if the dissector gives it
    // an ip.src or ip.dst in the table.
    let mut s = antidote_wire::Scratch::default();
    let f = antidote_wire::Frame::parse(data, &mut s);
    if let Some(net) = f.net {
        let table = LearnTable::new(16, 1000);
        table.insert(antidote_wire::frame::Addr::from_ip(net.src.ip()).0, 1);
        let gate = AddrGate { classes: 0xff, filter: table.addr_filter(), table: 0 };
        let gated = look_burst_gated(1, |_| data, 0, Some(gate));
        assert_eq!(gated.class_skipped, 0, "a frame from a learned address was let through");
        let table = LearnTable::new(16, 1000);
        table.insert(antidote_wire::frame::Addr::from_ip(net.dst.ip()).0, 1);
        let gate = AddrGate { classes: 0xff, filter: table.addr_filter(), table: 0 };
        assert_eq!(look_burst_gated(1, |_| data, 0, Some(gate)).class_skipped, 0, "a frame to a learned address was let through");
    }
});
