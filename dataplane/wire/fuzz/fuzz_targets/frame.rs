//! A whole frame: dissect, read every field of the schema, and answer NBT-NS queries.
#![no_main]
use antidote_wire::{emit, fields, Frame, Scratch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut scratch = Scratch::default();
    let f = Frame::parse(data, &mut scratch);
    for (_, v) in fields::all_values(&f) {
        let _ = v.display();
        let _ = v.with_text(|t| t.len());
    }
    if f.nbns().map(|m| m.is_name_query()).unwrap_or(false) {
        let mut out = [0u8; emit::MAX_FRAME + 300];
        let _ = emit::nbns_negative_response(&mut out, &f, Default::default(), std::net::Ipv4Addr::LOCALHOST, true);
    }
});
