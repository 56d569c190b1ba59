//! Any bytes as a frame: the header look (per frame and over a burst) never panics, and what
//! it says the full dissector confirms: plain traffic well formed with the same protocol mask;
//! a name-resolution message with the mask the look gave, or, malformed, its layout's mask.
#![no_main]
use antidote_policy::schema::{frame_mask, look, look_burst, Seen};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let seen = look(data);
    if let Some([m, malformed]) = seen.possible() {
        let mut s = antidote_wire::Scratch::default();
        let f = antidote_wire::Frame::parse(data, &mut s);
        match seen {
            Seen::Plain(_) => {
                assert!(f.error.is_none(), "look said {m:#x}, dissector: {:?}", f.error);
                assert_eq!(m, frame_mask(&f));
            }
            _ => assert_eq!(frame_mask(&f), if f.error.is_none() { m } else { malformed }, "{seen:?} {:?}", f.error),
        }
    }
    // The same frame in a burst, between two truncations of itself.
    let frames = [&data[..data.len() / 2], data, &data[..data.len().saturating_sub(1)]];
    let burst = look_burst(frames.len(), |i| frames[i]);
    assert_eq!(burst.seen(1, data), seen);
});
