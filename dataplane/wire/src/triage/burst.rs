//! The triage of a whole burst: two passes (see [`triage_burst`]).
use super::known::{known_layout, Known};
use super::layout::{addrs_may_be_in, byte_mask, class_masks, layout_gated, layout_in, LAYOUT_TABLE, OTHER, V4_CLASSES};
use super::{BurstTriage, TriagePlan, LAYOUT_MASKS};

/// The header look over a whole burst. Every frame pays for it, so it is counted in
/// instructions and in mispredicted branches: on a realistic mix the layouts (tagged or not,
/// IPv4 or IPv6, TCP or UDP) alternate at random, and a look that branches on them per frame
/// mispredicts often — the bench mix in its own order against sorted by layout costs ~5 ns
/// more per frame, as much as the look itself. So the burst is looked at in two passes: the
/// first sorts the frames into layout classes without a branch on their contents; the second
/// checks each class with code made for its layout (fixed offsets, branches that go the same
/// way frame after frame). (A look with no branch at all was slower: it keeps every field of
/// every layout live at once, and spills.) Before the first, a loop over the frames'
/// descriptors alone finds their heads.
///
/// `plan` says which frames need no look ([`TriagePlan`]): the frames of its skipped classes
/// are only sorted, and those of its gated classes whose source and destination addresses its
/// filter has never seen only checked for that; both come back in
/// [`BurstTriage::class_skipped`]. `bytes(i)` is added up over the frames with their heads
/// (the worker's byte count, read from the frames' descriptors while the triage reads them
/// anyway) into [`BurstTriage::bytes`].
#[inline(always)]
pub fn triage_burst<'a>(n: usize, frame: impl Fn(usize) -> &'a [u8], bytes: impl Fn(usize) -> usize, plan: &TriagePlan<'_>) -> BurstTriage {
    let (skip_classes, gate) = (plan.skip_classes, plan.gate);
    debug_assert!(n <= 32);
    let mut total = 0;
    // Each frame's class, and its first 60 bytes for the address gate (read from here, not
    // from the frame's buffer descriptor again).
    let mut heads: [&[u8; 60]; 32] = [&[0; 60]; 32];
    let mut cls = [0x0fu8; 32];
    // (Indexed, not zipped: the iterator form costs ~2.5 instructions a frame more.)
    let table = &LAYOUT_TABLE;
    // With the IPv4 classes gated, their gate is read in the same pass, from the same
    // registers (the head and the tag's offset), for every frame: a byte of flags each.
    let gate4 = gate.filter(|g| g.classes & V4_CLASSES != 0);
    let mut seen = [0u8; 32];
    // What the watch wants of each frame (0 or 1), as `cls`: a byte stored a frame, the mask
    // made after the loop.
    let (watch, mut wants) = (plan.watch.unwrap_or(&super::MacWatch::NONE), [0u8; 32]);
    // The descriptors first, in a loop of their own: each frame's head (its first 60 bytes) and
    // length. Short frames keep the zero head, whose Ethertype is no layout's ([`OTHER`]).
    let mut short = 0u32;
    #[allow(clippy::needless_range_loop)]
    for i in 0..n.min(32) {
        total += bytes(i);
        match frame(i).first_chunk::<60>() {
            Some(h) => heads[i] = h,
            None => short |= 1 << i,
        }
    }
    // Then the heads (the first pass proper): no load of a frame's data waits on a load of its
    // descriptor in the same iteration, so more frames' data lines are fetched side by side
    // (with both in one loop, the IPv4 gate's loads cost ~1 TSC cycle a frame more on the bench
    // machine: `bench/RESULTS.md`, session 25). In four forms — with or without the IPv4
    // gate, with or without canary identities to watch for — so that a plan without either
    // pays nothing for it per frame.
    macro_rules! first_pass {
        ($gate:expr, $watch:expr) => {{
            #[allow(clippy::needless_range_loop)]
            for i in 0..n.min(32) {
                let h = heads[i];
                if $watch {
                    wants[i] = watch.wants(h);
                }
                cls[i] = match $gate {
                    Some(g) => {
                        let (c, flags) = layout_gated(h, table, g.filter);
                        seen[i] = flags;
                        c as u8
                    }
                    None => layout_in(h, table) as u8,
                };
            }
        }};
    }
    match (gate4, plan.watch.is_some()) {
        (Some(g), true) => first_pass!(Some(g), true),
        (Some(g), false) => first_pass!(Some(g), false),
        (None, true) => first_pass!(None::<super::AddrGate<'_>>, true),
        (None, false) => first_pass!(None::<super::AddrGate<'_>>, false),
    }
    let mut classes = class_masks(&cls);
    // Frames with a flag of the filter set for their source or destination address (as the
    // IPv4 classes place them).
    let seen4 = !byte_mask(&seen, 0);
    let mut watched = 0;
    if plan.watch.is_some() {
        watched = !byte_mask(&wants, 0);
        // A short frame's zero head has already read as no layout; its own destination is
        // tested here (short frames are common where the wire is software: a veth's ARP is 42
        // bytes). One too short to have a destination is pointed out.
        let mut s = short;
        while s != 0 {
            let i = s.trailing_zeros() as usize;
            s &= s - 1;
            watched |= (watch.wants_short(frame(i)) as u32) << i;
        }
    }
    let mut look = BurstTriage { other: classes[OTHER], bytes: total, watched, ..BurstTriage::default() };
    if skip_classes != 0 {
        for (c, bits) in classes.iter_mut().take(OTHER).enumerate() {
            if skip_classes >> c & 1 == 1 {
                look.class_skipped |= *bits;
                *bits = 0;
            }
        }
    }
    // The gated classes' frames whose addresses the filter has never seen: let through.
    if let Some(g) = gate {
        macro_rules! gate {
            ($c:expr, $tagged:expr, $v6:expr) => {
                if g.classes >> $c & 1 == 1 {
                    let (mut bits, mut unseen) = (classes[$c], 0u32);
                    while bits != 0 {
                        let i = bits.trailing_zeros() as usize;
                        bits &= bits - 1;
                        unseen |= (!addrs_may_be_in::<$tagged, $v6>(heads[i & 31], g.filter) as u32) << i;
                    }
                    classes[$c] &= !unseen;
                    look.class_skipped |= unseen;
                }
            };
        }
        for c in [0, 1, 2, 3] {
            if g.classes >> c & 1 == 1 {
                look.class_skipped |= classes[c] & !seen4;
                classes[c] &= seen4;
            }
        }
        gate!(4, false, true);
        gate!(5, false, true);
        gate!(6, true, true);
        gate!(7, true, true);
        for (c, bits) in classes.iter().enumerate().take(8) {
            if g.classes >> c & 1 == 1 {
                look.gated |= bits;
            }
        }
    }
    macro_rules! class {
        ($c:expr, $tagged:expr, $v6:expr, $udp:expr) => {
            let mut bits = classes[$c];
            while bits != 0 {
                let i = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                // IPv4 UDP is read from the head kept by the first pass (all `known_layout` reads
                // of it lie in the first 60 bytes); the others from the frame.
                let d: &[u8] = if $udp && !$v6 { &heads[i & 31][..] } else { frame(i) };
                match known_layout::<$tagged, $v6, $udp>(d) {
                    Some(Known::Plain) => look.plain[$c & 3] |= 1 << i,
                    Some(Known::Named(bits)) => {
                        look.named |= 1 << i;
                        look.named_mask[i] = (LAYOUT_MASKS[$c & 3] | bits) as u16;
                    }
                    Some(Known::Dissect) => look.dissect |= 1 << i,
                    None => look.other |= 1 << i,
                }
            }
        };
    }
    class!(0, false, false, false);
    class!(1, false, false, true);
    class!(2, true, false, false);
    class!(3, true, false, true);
    class!(4, false, true, false);
    class!(5, false, true, true);
    class!(6, true, true, false);
    class!(7, true, true, true);
    look
}
