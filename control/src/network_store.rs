//! What the workers learned of the network, kept in the state directory so that a restart does
//! not forget it: `STATE_DIR/network.json`, written atomically every minute and when the run
//! ends, read when it starts. Times are stored as wall-clock milliseconds (the run clock starts
//! again at every start); bindings that expired while the appliance was down are not loaded.
use antidote_dataplane::clock::{unix_now_ms, Clock};
use antidote_policy::state::bindings::{BindTable, Binding};
use antidote_policy::state::Network;
use serde_json::{json, Value};
use std::path::Path;

/// The file name in the state directory.
pub const FILE: &str = "network.json";

fn table_json(t: &BindTable, clock: &Clock, now: u64) -> Value {
    let unix = |ms: u64| clock.unix_ms(ms.max(1));
    Value::Array(
        t.entries(now)
            .iter()
            .map(|(k, seg, b)| {
                json!({
                    "key": format!("{k:032x}"), "segment": seg, "mac": format!("{:012x}", antidote_policy::keys::mac_key(&b.mac)),
                    "evidence": b.evidence, "first_seen": unix(b.first_seen_ms), "last_seen": unix(b.last_seen_ms), "conflicts": b.conflicts,
                })
            })
            .collect(),
    )
}

/// Writes the learned network to `dir/network.json`.
pub fn save(dir: &Path, net: &Network, clock: &Clock) -> std::io::Result<()> {
    let now = clock.now_ms();
    let doc = json!({"version": 1, "hosts": table_json(&net.hosts, clock, now), "owners": table_json(&net.owners, clock, now), "infra": table_json(&net.infra, clock, now), "traffic": table_json(&net.traffic, clock, now)});
    crate::manager::write_atomic(&dir.join(FILE), doc.to_string().as_bytes())
}

fn load_table(t: &BindTable, v: &Value, clock: &Clock) -> usize {
    let (unix_now, now) = (unix_now_ms(), clock.now_ms());
    let mut n = 0;
    for e in v.as_array().into_iter().flatten() {
        let num = |k: &str| e[k].as_u64();
        let (Some(key), Some(seg), Some(mac), Some(ev), Some(first), Some(last)) = (
            e["key"].as_str().and_then(|s| u128::from_str_radix(s, 16).ok()),
            num("segment"),
            e["mac"].as_str().and_then(|s| u64::from_str_radix(s, 16).ok()),
            num("evidence"),
            num("first_seen"),
            num("last_seen"),
        ) else {
            continue;
        };
        // Run-clock times: how long ago, before now (clamped to the run's start, for display);
        // the binding expires when it would have, an hour after it was last seen.
        let at = |unix: u64| now.saturating_sub(unix_now.saturating_sub(unix)).max(1);
        let left = (last + t.ttl_ms).saturating_sub(unix_now);
        if left == 0 {
            continue;
        }
        let m = mac.to_be_bytes();
        let b = Binding {
            mac: [m[2], m[3], m[4], m[5], m[6], m[7]],
            evidence: ev as u16,
            first_seen_ms: at(first),
            last_seen_ms: at(last),
            expires_at_ms: now + left,
            conflicts: num("conflicts").unwrap_or(0),
        };
        t.restore(key, seg, &b, now);
        n += 1;
    }
    n
}

/// Reads `dir/network.json` into `net`, if there is one. Returns the hosts and owners loaded, or
/// why the file could not be read (the run goes on with what it learns).
pub fn load(dir: &Path, net: &Network, clock: &Clock) -> Result<(usize, usize), String> {
    let path = dir.join(FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((0, 0)),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let doc: Value =
        serde_json::from_str(&text).map_err(|e| format!("{} is not the learned network's JSON ({e}); it is rewritten at the next save", path.display()))?;
    load_table(&net.infra, &doc["infra"], clock);
    load_table(&net.traffic, &doc["traffic"], clock);
    Ok((load_table(&net.hosts, &doc["hosts"], clock), load_table(&net.owners, &doc["owners"], clock)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use antidote_policy::state::bindings::evidence;

    #[test]
    fn what_was_learned_survives_a_restart() {
        let dir = std::env::temp_dir().join(format!("antidote-netstore-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let clock = Clock::new();
        let net = Network::default();
        let now = clock.now_ms();
        net.hosts.bind(7, 0, [2, 0, 0, 0, 0, 7], evidence::ARP | evidence::NDP, now);
        net.hosts.bind(7, 0, [2, 0, 0, 0, 0, 8], evidence::ARP, now);
        net.owners.bind(9, 2, [2, 0, 0, 0, 0, 9], evidence::NBNS, now);
        save(&dir, &net, &clock).unwrap();
        // A new run: a new clock, an empty network.
        let clock2 = Clock::new();
        let net2 = Network::default();
        assert_eq!(load(&dir, &net2, &clock2).unwrap(), (1, 1));
        let h = net2.hosts.get(7, 0, clock2.now_ms()).unwrap();
        assert_eq!((h.mac, h.evidence, h.conflicts), ([2, 0, 0, 0, 0, 7], evidence::ARP | evidence::NDP | evidence::RESTORED, 1));
        assert!(h.expires_at_ms <= clock2.now_ms() + net2.hosts.ttl_ms, "a restart does not renew a binding");
        // Seen again, it is no longer "restored"; a restored binding yields to another MAC.
        net2.hosts.bind(7, 0, [2, 0, 0, 0, 0, 7], evidence::ARP, clock2.now_ms());
        assert_eq!(net2.hosts.get(7, 0, clock2.now_ms()).unwrap().evidence, evidence::ARP | evidence::NDP);
        use antidote_policy::state::Bound;
        assert_eq!(net2.owners.bind(9, 2, [2, 0, 0, 0, 0, 0x66], evidence::NBNS, clock2.now_ms()), Bound::New, "the wire now shows another owner");
        assert_eq!(net2.owners.get(9, 2, clock2.now_ms()).unwrap().mac, [2, 0, 0, 0, 0, 0x66]);
        // A broken file: a clear error, nothing loaded.
        std::fs::write(dir.join(FILE), "{nope").unwrap();
        assert!(load(&dir, &Network::default(), &clock2).unwrap_err().contains("network.json"));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(load(&dir, &Network::default(), &clock2).unwrap(), (0, 0), "no file: nothing to load");
    }
}
