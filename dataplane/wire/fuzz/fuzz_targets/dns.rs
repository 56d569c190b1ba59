//! LLMNR / mDNS messages: names with pointers, every question, answer, authority and additional
//! record.
#![no_main]
use antidote_wire::dns::DnsMessage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = DnsMessage::parse(data) {
        let mut out = [0u8; 256];
        for q in m.questions() {
            q.name.write_text(&mut out);
            let _ = q.name.eq_ignore_case(b"wpad.local");
        }
        for a in m.answers().chain(m.authorities()).chain(m.additionals()) {
            a.name.write_text(&mut out);
            let _ = a.addr();
            let _ = a.name.first_label();
        }
        let _ = (m.first_address(), m.is_probe());
    }
});
