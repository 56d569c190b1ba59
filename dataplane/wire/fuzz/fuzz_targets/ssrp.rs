//! SQL Server Resolution Protocol messages.
#![no_main]
use antidote_wire::ssrp::SsrpMessage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = SsrpMessage::parse(data);
});
