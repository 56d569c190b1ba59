//! NBT-NS messages, and the negative response built from a query.
#![no_main]
use antidote_wire::nbns::{emit_negative_response, NbnsMessage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = NbnsMessage::parse(data) {
        let mut b = [0u8; 15];
        if let Some(q) = m.question {
            let _ = q.name.name(&mut b);
            let _ = q.name.suffix();
            let _ = q.name.scope();
        }
        for r in m.records() {
            let _ = r.name.name(&mut b);
            let _ = r.entries().count();
        }
        let _ = (m.is_positive_response(), m.is_negative_response(), m.is_name_query());
        let mut out = [0u8; 512];
        let _ = emit_negative_response(&mut out, &m, false);
    }
});
