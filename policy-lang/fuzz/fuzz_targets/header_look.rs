//! Any bytes as a frame: the header look (per frame and over a burst) never panics, and the
//! full dissector gives the frame one of the masks the look says it can have, and one its
//! layout class allows.
#![no_main]
use antidote_policy::schema::{class_may_give, frame_mask, layout_class, look, look_burst};
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
});
