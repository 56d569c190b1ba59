//! Any text: parse, check, compile, render every diagnostic, explain, and evaluate the program
//! on a few frames.
#![no_main]
use antidote_policy::program::{Meta, Outcome};
use libfuzzer_sys::fuzz_target;

const FRAMES: [&[u8]; 2] = [
    // LLMNR answer wpad -> 198.18.0.66
    b"\x02\xad\x00\x00\x00\x10\x02\xad\x00\x00\x00\x66\x08\x00\x45\x00\x00\x44\x00\x01\x00\x00\x40\x11\x00\x00\xc6\x12\x00\x42\xc6\x12\x00\x0a\x14\xeb\xc3\x50\x00\x30\x00\x00\x12\x34\x80\x00\x00\x01\x00\x01\x00\x00\x00\x00\x04wpad\x00\x00\x01\x00\x01\x04wpad\x00\x00\x01\x00\x01\x00\x00\x00\x1e\x00\x04\xc6\x12\x00\x42",
    // TCP SYN to 445
    b"\x02\xad\x00\x00\x00\x66\x02\xad\x00\x00\x00\x10\x08\x00\x45\x00\x00\x28\x00\x01\x40\x00\x40\x06\x00\x00\xc6\x12\x00\x0a\xc6\x12\x00\x42\xc3\x50\x01\xbd\x00\x00\x00\x01\x00\x00\x00\x00\x50\x02\x20\x00\x00\x00\x00\x00",
];

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };
    match antidote_policy::compile(src) {
        Ok(c) => {
            let _ = antidote_policy::explain::explain(&c.program);
            for f in FRAMES {
                let mut s = antidote_wire::Scratch::default();
                let fr = antidote_wire::Frame::parse(f, &mut s);
                let mut o = Outcome::default();
                c.program.eval(&fr, &Meta::default(), 1, &mut o);
                for &a in &o.alerts {
                    let _ = c.program.render_message(a as usize, &fr, &Meta::default());
                }
            }
        }
        Err(diags) => {
            for d in &diags {
                let _ = d.render(src, "fuzz.policy");
            }
        }
    }
});
