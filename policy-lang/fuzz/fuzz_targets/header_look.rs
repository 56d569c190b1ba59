//! Any bytes as a frame: the header look (per frame and over a burst) never panics, and when it
//! calls a frame plain traffic, the full dissector agrees: well formed, the same protocol mask.
#![no_main]
use antidote_policy::schema::{frame_mask, look_burst, quick_mask};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let quick = quick_mask(data);
    if let Some(m) = quick {
        let mut s = antidote_wire::Scratch::default();
        let f = antidote_wire::Frame::parse(data, &mut s);
        assert!(f.error.is_none(), "look said {m:#x}, dissector: {:?}", f.error);
        assert_eq!(m, frame_mask(&f));
    }
    // The same frame in a burst, between two truncations of itself.
    let frames = [&data[..data.len() / 2], data, &data[..data.len().saturating_sub(1)]];
    let look = look_burst(frames.len(), |i| frames[i]);
    assert_eq!(look.mask_of(1, data), quick);
});
