//! `antidote dissect FILE.pcap`: one JSON object per frame with every decoded field, named as
//! the policy language names them. Needs no DPDK.
use antidote_wire::fields::{all_values, Value};
use antidote_wire::{Frame, Scratch};
use pcap_file::pcap::PcapReader;
use pcap_file::DataLink;
use serde_json::{Map, Value as Json};
use std::io::Write;
use std::path::Path;

pub fn value_json(v: &Value<'_>) -> Json {
    match v {
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        other => Json::String(other.display()),
    }
}

/// Writes one JSON line per frame of `path` to `out`.
pub fn run(path: &Path, out: &mut dyn Write) -> Result<u64, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let mut reader = PcapReader::new(std::io::BufReader::new(file))
        .map_err(|e| format!("{} is not a pcap file ({e}); pcapng captures can be converted with `editcap -F pcap`", path.display()))?;
    if reader.header().datalink != DataLink::ETHERNET {
        return Err(format!("{}: link type {:?} is not Ethernet", path.display(), reader.header().datalink));
    }
    let mut scratch = Scratch::default();
    let mut n = 0u64;
    while let Some(pkt) = reader.next_packet() {
        let pkt = pkt.map_err(|e| format!("{}: frame {}: {e}", path.display(), n + 1))?;
        n += 1;
        let frame = Frame::parse(&pkt.data, &mut scratch);
        let mut obj = Map::new();
        obj.insert("frame.number".into(), Json::from(n));
        obj.insert("frame.time".into(), Json::from(pkt.timestamp.as_secs_f64()));
        for (name, v) in all_values(&frame) {
            obj.insert(name, value_json(&v));
        }
        if let Some((layer, e)) = frame.error {
            obj.insert("frame.error".into(), Json::String(format!("{}: {e}", layer.as_str())));
        }
        writeln!(out, "{}", Json::Object(obj)).map_err(|e| e.to_string())?;
    }
    Ok(n)
}
