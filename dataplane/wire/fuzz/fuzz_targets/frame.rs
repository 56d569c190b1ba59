//! A whole frame: dissect, read every field of the schema, and answer NBT-NS queries — the
//! answer read back must be a negative NBT-NS response to that query, to its sender, behind the
//! same tags.
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
    let Some(q) = f.nbns().filter(|m| m.is_name_query()) else { return };
    let mut out = [0u8; emit::MAX_FRAME + 300];
    let Ok(n) = emit::nbns_negative_response(&mut out, &f, Default::default(), std::net::Ipv4Addr::LOCALHOST, true) else { return };
    let mut s2 = Scratch::default();
    let a = Frame::parse(&out[..n], &mut s2);
    let m = a.nbns().expect("the negative answer dissects as NBT-NS");
    assert!(m.is_response() && m.rcode() == 3 && m.id == q.id, "a negative response to the query");
    let (qe, ae) = (f.eth.unwrap(), a.eth.unwrap());
    assert_eq!(ae.dst, qe.src, "to the querier's MAC");
    assert_eq!(ae.vlan_count, qe.vlan_count, "behind the query's tags");
    assert_eq!(a.net.unwrap().dst.ip(), f.net.unwrap().src.ip(), "to the querier's address");
    assert_eq!(a.udp().unwrap().dst_port, f.udp().unwrap().src_port, "to the querier's port");
});
