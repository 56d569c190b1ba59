//! The throughput bench's frame mix (bench/out/mix.pcap, written by bench/gen_mix.py), for the
//! criterion benches of the crates. Empty, with a note, when the file has not been generated.
pub fn frames() -> Vec<Vec<u8>> {
    let found = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().map(|a| a.join("bench/out/mix.pcap")).find(|p| p.exists());
    let Some(file) = found.and_then(|p| std::fs::File::open(p).ok()) else {
        eprintln!("bench/out/mix.pcap missing (run bench/gen_mix.py): the mix benches are skipped");
        return Vec::new();
    };
    let mut r = pcap_file::pcap::PcapReader::new(file).unwrap();
    let mut v = Vec::new();
    while let Some(p) = r.next_packet() {
        v.push(p.unwrap().data.into_owned());
    }
    v
}
