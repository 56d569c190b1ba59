//! HTTP heads, their auth tokens decoded from base64, and NTLMSSP messages.
#![no_main]
use antidote_wire::http::HttpHead;
use antidote_wire::ntlm::{base64_decode, NtlmMessage};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = HttpHead::parse(data) {
        let _ = (h.host_name(), h.path());
        let mut buf = [0u8; 2048];
        if let Some(n) = base64_decode(h.auth_token, &mut buf) {
            if let Some(Ok(m)) = NtlmMessage::find(&buf[..n]) {
                let mut out = [0u8; 64];
                m.target.write_ascii(&mut out);
            }
        }
    }
    if let Ok(m) = NtlmMessage::parse(data) {
        let mut out = [0u8; 64];
        for s in [m.target, m.user, m.domain, m.workstation] {
            s.write_ascii(&mut out);
            let _ = s.starts_with_ignore_case(b"WIN-");
        }
    }
});
