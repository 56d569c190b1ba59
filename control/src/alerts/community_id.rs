//! The Community ID of a flow (version 1, <https://github.com/corelight/community-id-spec>):
//! `network.community_id` in an alert, so that a SIEM joins it to the same flow's records from
//! Zeek, Suricata or a firewall.
use base64::Engine;
use std::net::IpAddr;

/// The Community ID (seed 0) of a TCP or UDP flow from `src`:`sport` to `dst`:`dport` (either
/// direction gives the same ID), or of another IP protocol `proto` between two addresses
/// (ports ignored).
pub fn community_id(src: IpAddr, dst: IpAddr, proto: u8, ports: Option<(u16, u16)>) -> String {
    let octets = |a: IpAddr| match a {
        IpAddr::V4(v) => v.octets().to_vec(),
        IpAddr::V6(v) => v.octets().to_vec(),
    };
    let (s, d) = (octets(src), octets(dst));
    let (sp, dp) = ports.unwrap_or((0, 0));
    // The endpoints in order: the smaller address (then port) first.
    let ((s, sp), (d, dp)) = if (&s, sp) <= (&d, dp) { ((s, sp), (d, dp)) } else { ((d, dp), (s, sp)) };
    let mut h = sha1_smol::Sha1::new();
    h.update(&0u16.to_be_bytes());
    h.update(&s);
    h.update(&d);
    h.update(&[proto, 0]);
    if ports.is_some() {
        h.update(&sp.to_be_bytes());
        h.update(&dp.to_be_bytes());
    }
    format!("1:{}", base64::engine::general_purpose::STANDARD.encode(h.digest().bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_specs_examples() {
        let (a, b) = ("1.2.3.4".parse().unwrap(), "43.3.132.3".parse().unwrap());
        // Published with the spec's implementations (Tenzir's `community_id` documentation).
        assert_eq!(community_id(a, b, 6, Some((4584, 3483))), "1:koNcqhFRD5kb254ZrLsdv630jCM=");
        assert_eq!(community_id(b, a, 6, Some((3483, 4584))), "1:koNcqhFRD5kb254ZrLsdv630jCM=", "either direction");
        assert_eq!(community_id(a, b, 17, None), "1:7TrrMeH98PrUKC0ySu3RNmpUr48=");
    }
}
