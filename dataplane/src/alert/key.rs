//! What makes two alerts repeats of each other, in one place. The alert thread aggregates the
//! alerts of one [`group`]: the same rule of the same policy version, the same IP addresses and
//! question name. A worker's folds refine the group by ingress port and Ethernet header
//! (`AlertFolds::frame_key`), so they never fold together what the alert thread keeps apart.
//! Fixed seeds: every worker gives an alert the same group.
use antidote_wire::Frame;
use std::hash::{BuildHasher, Hash, Hasher};

fn hasher() -> ahash::RandomState {
    ahash::RandomState::with_seeds(0x6a09_e667_f3bc_c908, 0xbb67_ae85_84ca_a73b, 0x3c6e_f372_fe94_f82b, 0xa54f_f53a_5f1d_36f1)
}

/// The part of an alert's group its frame gives: the policy version, the IP addresses and the
/// question name (as sent: its case kept).
pub fn frame_group(policy_version: u64, f: &Frame<'_>) -> u64 {
    let mut h = hasher().build_hasher();
    policy_version.hash(&mut h);
    f.net.map(|n| (n.src.ip(), n.dst.ip())).hash(&mut h);
    antidote_wire::fields::question_name(f).and_then(|v| v.with_text(|t| t.hash(&mut h)));
    h.finish()
}

/// The group of an alert of `rule` raised by a frame of [`frame_group`] `fg`.
pub fn group(fg: u64, rule: u16) -> u64 {
    hasher().hash_one((fg, rule))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_is_the_rule_the_addresses_and_the_name() {
        let mut s = antidote_wire::Scratch::default();
        // Two LLMNR answers alike but for the source MAC: one group; another rule: another.
        let mut a = vec![0u8; 12];
        a.extend([0x08, 0x00, 0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 0, 66, 198, 18, 0, 10]);
        a.extend([0x14, 0xeb, 0xc3, 0x50, 0, 8, 0, 0]);
        let mut b = a.clone();
        b[6] = 0x02;
        let (fa, fb) = (frame_group(1, &Frame::parse(&a, &mut s)), frame_group(1, &Frame::parse(&b, &mut s)));
        assert_eq!(fa, fb);
        assert_ne!(group(fa, 1), group(fa, 2));
        assert_ne!(frame_group(1, &Frame::parse(&a, &mut s)), frame_group(2, &Frame::parse(&a, &mut s)), "the version is part of it");
    }
}
