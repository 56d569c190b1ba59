//! SMB2 over NBSS, and the NTLMSSP message in its security blob.
#![no_main]
use antidote_wire::ntlm::NtlmMessage;
use antidote_wire::smb2::Smb2Header;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(h) = Smb2Header::parse_tcp_payload(data) {
        let _ = NtlmMessage::find(h.security_blob);
    }
    let _ = Smb2Header::parse(data);
});
