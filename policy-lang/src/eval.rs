//! The evaluator: a compiled [`Program`] run on one dissected frame. Nothing is allocated: the
//! outcome's lists are inline, field values are borrowed from the frame.
use crate::ast::{CmpOp, StrOp, Verdict};
use crate::fields::{Endpoint, FieldRef, LearnedField, MetaField, Source};
use crate::keys::{key_of, mac_key};
use crate::plan::transport_key;
use crate::program::{Act, Const, Meta, Outcome, Part, Program, Set, Test, MATCH, MAX_HITS, NO_MATCH};
use antidote_wire::fields::{FieldType, Value};
use antidote_wire::frame::frame_mask;
use antidote_wire::frame::Addr;
use antidote_wire::Frame;

impl Program {
    /// Whether a frame read only up to its transport (`Frame::parse_transport`, no error) may
    /// match a rule once its application message is read. False when every rule that could
    /// apply to any message it may carry fails its transport-level tests (follow-on rules about
    /// a learned poisoner, for traffic between other hosts): then the frame gets the default
    /// verdict without its application being read — the same as a full evaluation.
    /// [`Program::eval`] for a frame read only up to its transport, when that is enough: no
    /// rule may match it (the default verdict goes in `out`, as a full evaluation would give).
    /// False when its application message must be read and the frame evaluated.
    #[inline]
    pub fn eval_transport(&self, frame: &Frame<'_>, meta: &Meta, now: u64, out: &mut Outcome) -> bool {
        if frame.error.is_some() || self.may_match_from_transport(frame, meta, now) {
            return false;
        }
        out.clear();
        out.verdict = Some(self.default);
        true
    }

    #[inline]
    pub fn may_match_from_transport(&self, frame: &Frame<'_>, meta: &Meta, now: u64) -> bool {
        if self.uses_quarantine {
            return true;
        }
        let Some(&bits) = self.transport_candidates.get(transport_key(frame_mask(frame))) else { return true };
        let mut bits = bits;
        while bits != 0 {
            let i = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            if self.matches(self.rules[i].transport, frame, meta, now) {
                return true;
            }
        }
        false
    }
}

/// Reads a field.
#[inline(always)]
pub fn read<'f>(f: &FieldRef, frame: &'f Frame<'_>, meta: &Meta) -> Option<Value<'f>> {
    match f.src {
        Source::Wire(d) => (d.get)(frame),
        Source::Meta(MetaField::Port) => Some(Value::Int(meta.port as u64)),
        Source::Meta(MetaField::FromSegment) => Some(Value::Bool(meta.from_segment)),
        // What the network taught is the program's to read (`Program::value`).
        Source::Learned(_) => None,
    }
}

#[inline]
fn cmp_int(a: u64, op: CmpOp, b: u64) -> bool {
    match op {
        CmpOp::Eq => a == b,
        CmpOp::Ne => a != b,
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
    }
}

/// Whether a value equals a constant (types were checked at compile time).
#[inline]
fn value_eq(v: &Value<'_>, c: &Const) -> bool {
    match (v, c) {
        (Value::Int(a), Const::Int(b)) => a == b,
        (Value::Bool(a), Const::Bool(b)) => a == b,
        (Value::Ip(a), Const::Ip(b)) => Addr::from_ip(*a).0 == *b,
        (Value::Ip(a), Const::Cidr { net, mask }) => Addr::from_ip(*a).0 & mask == *net,
        (Value::Mac(a), Const::Mac(b)) => a.0 == *b,
        (Value::Bytes(a), Const::Bytes(b)) => *a == &b[..],
        (v, Const::Str(s)) => v.with_text(|t| t.eq_ignore_ascii_case(s)).unwrap_or(false),
        _ => false,
    }
}

#[inline]
fn values_eq(a: &Value<'_>, b: &Value<'_>) -> bool {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Ip(x), Value::Ip(y)) => x == y,
        (Value::Mac(x), Value::Mac(y)) => x == y,
        _ => match (key_of(a), key_of(b)) {
            (Some(x), Some(y)) => x == y,
            _ => false,
        },
    }
}

impl Set {
    #[inline]
    pub fn contains(&self, v: &Value<'_>) -> bool {
        // An empty set (the default policy's optional lists) holds nothing: no lower-casing of a
        // name nor hashing of an address to find that out.
        if self.is_empty() {
            return false;
        }
        match (self, v) {
            (Set::Ip { exact, cidrs }, Value::Ip(ip)) => {
                let a = Addr::from_ip(*ip).0;
                exact.contains(&a) || cidrs.iter().any(|(net, mask)| a & mask == *net)
            }
            (Set::Int(s), Value::Int(i)) => s.contains(i),
            (Set::Mac(s), Value::Mac(m)) => s.contains(&m.0),
            (Set::Str(s), v) => v.with_lower_text(|t| s.contains(t)).unwrap_or(false),
            (Set::FewStr(s), v) => v.with_lower_text(|t| s.iter().any(|x| **x == *t)).unwrap_or(false),
            _ => false,
        }
    }
}

impl Program {
    /// A field's value in `frame`: from the frame, its metadata, or the learned network.
    #[inline(always)]
    fn value<'f>(&self, f: &FieldRef, frame: &'f Frame<'_>, meta: &Meta, now: u64) -> Option<Value<'f>> {
        match f.src {
            Source::Learned(l) => self.learned(l, frame, meta, now),
            _ => read(f, frame, meta),
        }
    }

    /// What the learned network binds one of the frame's addresses to.
    #[inline(never)]
    fn learned<'f>(&self, l: LearnedField, frame: &Frame<'_>, meta: &Meta, now: u64) -> Option<Value<'f>> {
        let net = self.network.as_ref()?;
        // A binding loaded from before a restart and not seen since is not what the wire shows;
        // a name learned from answers has an owner once they are confirmed.
        let b = match l {
            LearnedField::SrcMac => {
                let src = match (frame.net, frame.arp) {
                    (Some(n), _) => n.src.0,
                    (None, Some(a)) => crate::keys::ip_key(a.sender_ip.into()),
                    _ => return None,
                };
                net.hosts.get(src, meta.segment, now).filter(|b| b.is_seen())
            }
            LearnedField::DstMac => net.hosts.get(frame.net?.dst.0, meta.segment, now).filter(|b| b.is_seen()),
            LearnedField::NameOwner => {
                meta.memo.name_key(frame)?;
                meta.memo.owner(net, frame, meta.segment, now).filter(|b| b.owns())
            }
            LearnedField::CanaryAnswered => {
                if !frame.app.is_answer() {
                    return Some(Value::Bool(false));
                }
                if net.is_ssrp_answer_to_identity(frame) {
                    return Some(Value::Bool(true));
                }
                return Some(Value::Bool(meta.memo.canary(net, frame, meta.segment, now)?));
            }
            LearnedField::SrcVerified => return Some(Value::Bool(net.is_verified(frame, meta.segment, now))),
            LearnedField::SrcNameServer => return Some(Value::Bool(net.is_name_server(frame.net?.src.0, meta.segment, now))),
            LearnedField::NameOwned => {
                meta.memo.name_key(frame)?;
                return Some(Value::Bool(meta.memo.owner(net, frame, meta.segment, now).is_some_and(|b| b.owns())));
            }
        }?;
        Some(Value::Mac(antidote_wire::ethernet::Mac(b.mac)))
    }

    /// Evaluates one test. A field with no value in this frame makes the test false.
    #[inline]
    fn test(&self, t: &Test, frame: &Frame<'_>, meta: &Meta, now: u64) -> bool {
        match t {
            Test::Const(b) => *b,
            Test::Bool(f) => matches!(self.value(f, frame, meta, now), Some(Value::Bool(true))),
            Test::Cmp(f, op, c) => match self.value(f, frame, meta, now) {
                None => false,
                Some(v) => match (op, &v, c) {
                    (CmpOp::Eq, ..) => value_eq(&v, c),
                    (CmpOp::Ne, ..) => !value_eq(&v, c),
                    (op, Value::Int(a), Const::Int(b)) => cmp_int(*a, *op, *b),
                    _ => false,
                },
            },
            Test::FieldCmp(a, op, b) => match (self.value(a, frame, meta, now), self.value(b, frame, meta, now)) {
                (Some(x), Some(y)) => {
                    let eq = values_eq(&x, &y);
                    match op {
                        CmpOp::Eq => eq,
                        CmpOp::Ne => !eq,
                        op => match (x, y) {
                            (Value::Int(x), Value::Int(y)) => cmp_int(x, *op, y),
                            _ => false,
                        },
                    }
                }
                _ => false,
            },
            // The field's value is used where the getter wrote it (`match &…`): moving it out
            // of the Option first copied it with wider loads than its stores, a
            // store-forwarding stall per test.
            Test::Str(f, op, lit) => match &self.value(f, frame, meta, now) {
                Some(v) => v
                    .with_lower_text(|t| match op {
                        StrOp::StartsWith => t.starts_with(lit),
                        StrOp::EndsWith => t.ends_with(lit),
                        StrOp::Contains => lit.is_empty() || t.windows(lit.len()).any(|w| w == &lit[..]),
                    })
                    .unwrap_or(false),
                None => false,
            },
            Test::InSet(f, s) => match &self.value(f, frame, meta, now) {
                Some(v) => self.sets[*s as usize].1.contains(v),
                None => false,
            },
            Test::InTable(f, t) => match &self.value(f, frame, meta, now) {
                Some(v) => key_of(v).is_some_and(|k| self.tables[*t as usize].state.contains(k, now)),
                None => false,
            },
            Test::Count { key, counter, op, n } => match self.value(key, frame, meta, now).and_then(|v| key_of(&v)) {
                Some(k) => cmp_int(self.counters[*counter as usize].state.hit(k, None, now), *op, *n),
                None => false,
            },
            Test::Distinct { value, key, counter, op, n } => {
                match (self.value(key, frame, meta, now).and_then(|v| key_of(&v)), self.value(value, frame, meta, now).and_then(|v| key_of(&v))) {
                    (Some(k), Some(v)) => cmp_int(self.counters[*counter as usize].state.hit(k, Some(v as u64 ^ (v >> 64) as u64), now), *op, *n),
                    _ => false,
                }
            }
        }
    }

    /// Runs a rule's branch program.
    #[inline]
    fn matches(&self, entry: u32, frame: &Frame<'_>, meta: &Meta, now: u64) -> bool {
        let mut pc = entry;
        loop {
            if pc == MATCH {
                return true;
            }
            if pc == NO_MATCH {
                return false;
            }
            let n = &self.nodes[pc as usize];
            pc = if self.test(&self.tests[n.test as usize], frame, meta, now) { n.on_true } else { n.on_false };
        }
    }

    /// Evaluates the program on one frame: quarantine first, then the rules in order; the
    /// first terminal verdict wins, other actions accumulate; with no verdict, the default.
    /// `now` is milliseconds on the caller's clock (load it once per burst).
    pub fn eval(&self, frame: &Frame<'_>, meta: &Meta, now: u64, out: &mut Outcome) {
        out.clear();
        if self.uses_quarantine && self.quarantined(frame, now) {
            out.quarantined = true;
            out.verdict = Some(Verdict::Drop);
            return;
        }
        let mask = frame_mask(frame);
        if let Some(&bits) = self.candidates.get(mask as usize) {
            let mut bits = bits;
            while bits != 0 {
                let i = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if self.matches(self.rules[i].entry, frame, meta, now) && self.apply(i, frame, meta, now, out) {
                    return;
                }
            }
        } else {
            for (i, r) in self.rules.iter().enumerate() {
                if !r.admits(mask) {
                    continue;
                }
                if self.matches(r.entry, frame, meta, now) && self.apply(i, frame, meta, now, out) {
                    return;
                }
            }
        }
        out.verdict = Some(self.default);
    }

    /// Carries out a matched rule's actions; true when one of them decided the frame.
    #[inline]
    fn apply(&self, i: usize, frame: &Frame<'_>, meta: &Meta, now: u64, out: &mut Outcome) -> bool {
        let r = &self.rules[i];
        {
            if out.matched.len() < MAX_HITS {
                out.matched.push(i as u16);
            } else {
                out.more = out.more.saturating_add(1);
            }
            for a in &r.acts {
                match a {
                    Act::Alert => {
                        if out.alerts.len() < MAX_HITS {
                            out.alerts.push(i as u16);
                        }
                    }
                    Act::Mirror => out.mirror = true,
                    Act::InjectNbnsNegative => out.inject_nbns_negative = true,
                    Act::Learn { table, key } => {
                        if let Some(v) = self.value(key, frame, meta, now) {
                            // A key already learned is refreshed; a new one is checked against the
                            // table's exceptions and the network first.
                            let def = &self.tables[*table as usize];
                            if let Some(k) = key_of(&v) {
                                // Learned from an answer to the appliance's own canary or probe:
                                // proof, kept against a flood of new keys (`LearnTable`).
                                let excepted = || def.except.is_some_and(|s| self.sets[s as usize].1.contains(&v));
                                if meta.memo.canary_known() == Some(true) {
                                    if !excepted() && (def.state.refresh(k, now) || self.may_learn(key, k, frame, meta, now)) {
                                        def.state.insert_confirmed(k, now);
                                    }
                                } else if !def.state.refresh(k, now) && !excepted() && self.may_learn(key, k, frame, meta, now) {
                                    def.state.insert(k, now);
                                }
                            }
                        }
                    }
                    Act::Forget { table, key } => {
                        if let Some(k) = self.value(key, frame, meta, now).and_then(|v| key_of(&v)) {
                            self.tables[*table as usize].state.remove(k, now);
                        }
                    }
                    Act::Quarantine { key, ms } => {
                        if let Some(v) = self.value(key, frame, meta, now) {
                            let q = if matches!(v, Value::Mac(_)) { &self.quarantine_mac } else { &self.quarantine_ip };
                            if let Some(k) = key_of(&v) {
                                if self.may_learn(key, k, frame, meta, now) {
                                    q.insert_for(k, now, *ms);
                                }
                            }
                        }
                    }
                    Act::RateLimit { counter, key, n } => {
                        if let Some(k) = self.value(key, frame, meta, now).and_then(|v| key_of(&v)) {
                            if self.counters[*counter as usize].state.hit(k, None, now) > *n {
                                out.rate_limited = true;
                                out.verdict = Some(Verdict::Drop);
                                out.decided_by = Some(i as u16);
                                return true;
                            }
                        }
                    }
                    Act::Verify { ms, fallback } => {
                        out.verify_ms = *ms;
                        out.verdict = Some(*fallback);
                        out.decided_by = Some(i as u16);
                        return true;
                    }
                    Act::Verdict(v) => {
                        out.verdict = Some(*v);
                        out.decided_by = Some(i as u16);
                        return true;
                    }
                }
            }
        }
        false
    }

    /// Whether `key` (the value of field `f` in `frame`) may be learned: not when it is the
    /// address of one of the frame's Ethernet endpoints and the network binds that address to
    /// another MAC — the frame's IP address is then forged (or the binding stale), and learning
    /// it would aim the policy at the host that owns it — nor when it is infrastructure's (a
    /// router or DHCP server for ten minutes). The MAC of an endpoint (`eth.src`) is checked
    /// through that endpoint's IP address. Refusals are counted.
    #[inline]
    fn may_learn(&self, f: &FieldRef, key: u128, frame: &Frame<'_>, meta: &Meta, now: u64) -> bool {
        let (Some(net), Some(end), Some(eth)) = (&self.network, f.host_endpoint(), frame.eth) else { return true };
        let (mac, addr) = match end {
            Endpoint::Source => (eth.src.0, frame.net.map(|n| n.src.0)),
            Endpoint::Destination => (eth.dst.0, frame.net.map(|n| n.dst.0)),
        };
        // A MAC is checked through the frame's address at the same end: learning the MAC that
        // sent a frame whose IP source is another host's, or a router's, is refused too.
        let key = match f.ty {
            FieldType::Mac => match addr {
                Some(a) => a,
                None => return true,
            },
            _ => key,
        };
        // Infrastructure (a router or DHCP server that has shown itself for a while, or one such a
        // server hands out) is alerted on, never blocked by what a policy learns; one router
        // advertisement or offer from a poisoner does not make it infrastructure.
        // A MAC that is infrastructure's (a router, a DHCP server, a long-standing name owner) is
        // not learned whatever address the frame carries: learning it would block them all.
        if net.is_infrastructure(key, meta.segment, now) || (f.ty == FieldType::Mac && net.is_infrastructure_mac(&mac, meta.segment, now)) {
            net.learn_refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            return false;
        }
        let other = match net.hosts.get(key, meta.segment, now) {
            // Another host's address. (A binding loaded from before a restart and not seen since
            // blocks nothing.)
            Some(b) if b.is_seen() => b.mac != mac,
            // Not bound by ARP, NDP or DHCP: what ordinary traffic confirms (a server off the
            // link shows its address from its router's MAC).
            _ => net.traffic_mac(key, meta.segment, now).is_some_and(|m| m != mac),
        };
        if other {
            net.learn_refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        !other
    }

    fn quarantined(&self, frame: &Frame<'_>, now: u64) -> bool {
        if let Some(n) = &frame.net {
            if self.quarantine_ip.contains(n.src.0, now) {
                return true;
            }
        }
        if let Some(e) = &frame.eth {
            if self.quarantine_mac.contains(mac_key(&e.src.0), now) {
                return true;
            }
        }
        false
    }

    /// A rule's alert message with the frame's values filled in (control side: allocates).
    pub fn render_message(&self, rule: usize, frame: &Frame<'_>, meta: &Meta) -> String {
        let r = &self.rules[rule];
        let mut s = String::new();
        for p in &r.message {
            match p {
                Part::Text(t) => s.push_str(t),
                Part::Field(f) => {
                    // (Rendered after the fact: a learned field shows the binding even if it has
                    // expired since.)
                    if let Some(v) = self.value(f, frame, meta, 0) {
                        s.push_str(&antidote_wire::fields::display_field(f.name, &v));
                    }
                }
            }
        }
        s
    }
}
