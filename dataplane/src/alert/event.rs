//! The alert event: what a worker hands to the control side when a rule alerts. Fixed size and
//! copied by value: the worker never allocates or formats. It carries the first bytes of the
//! frame, so the control side can dissect it again and fill in addresses, names and the rule's
//! message there.

/// Bytes of the frame an event keeps (enough for every header and name the alert shows).
pub const FRAME_BYTES: usize = 384;

#[derive(Clone, Copy)]
pub struct AlertEvent {
    /// Wall-clock time, milliseconds since the Unix epoch (of the last occurrence).
    pub unix_ms: u64,
    /// How many occurrences of the alert the event stands for: 1, or the repeats a worker
    /// folded ([`super::AlertFolds`]), the first of them at `first_unix_ms`.
    pub count: u32,
    pub first_unix_ms: u64,
    /// The policy version whose rule fired.
    pub policy_version: u64,
    /// Which alerts the alert thread takes for repeats of this one ([`super::key::group`]).
    pub group: u64,
    pub rule: u16,
    /// Ingress port index (profile order).
    pub port: u16,
    pub lcore: u16,
    /// What was done to the frame.
    pub dropped: bool,
    pub injected: bool,
    pub mirrored: bool,
    /// A storm summary: `count` new alerts of the rule (each unlike the others: other sources,
    /// names, ports) that the worker did not hand over one by one within a second, over its
    /// budget ([`super::folds::NEW_PER_RULE_PER_S`]); the frame is the first of them.
    pub storm: bool,
    /// Frame bytes kept and the frame's full length.
    pub len: u16,
    pub frame_len: u16,
    pub frame: [u8; FRAME_BYTES],
}

impl AlertEvent {
    pub fn frame(&self) -> &[u8] {
        &self.frame[..self.len as usize]
    }
}

impl AlertEvent {
    /// An event with no frame (a slot's filler).
    pub const EMPTY: AlertEvent = AlertEvent {
        unix_ms: 0,
        count: 1,
        first_unix_ms: 0,
        policy_version: 0,
        group: 0,
        rule: 0,
        port: 0,
        lcore: 0,
        dropped: false,
        injected: false,
        mirrored: false,
        storm: false,
        len: 0,
        frame_len: 0,
        frame: [0; FRAME_BYTES],
    };
}
