//! The key of a value in a learned table or counter — one encoding for the evaluator, the
//! control API and everything else that names a key.
use antidote_wire::fields::Value;
use antidote_wire::frame::Addr;

/// The key of a value in a table or counter: addresses and integers as themselves, text as a
/// 128-bit hash of its lower-cased form.
#[inline]
pub fn key_of(v: &Value<'_>) -> Option<u128> {
    Some(match v {
        Value::Ip(ip) => ip_key(*ip),
        Value::Mac(m) => mac_key(&m.0),
        Value::Int(i) => *i as u128,
        Value::Bool(b) => *b as u128,
        Value::Bytes(b) => hash128(b),
        other => other.with_lower_text(hash128)?,
    })
}

fn hash128(b: &[u8]) -> u128 {
    let a = ahash::RandomState::with_seeds(1, 2, 3, 4).hash_one(b) as u128;
    let c = ahash::RandomState::with_seeds(5, 6, 7, 8).hash_one(b) as u128;
    (a << 64) | c
}

/// The key of a MAC address: its six bytes as a big-endian integer.
#[inline]
pub fn mac_key(m: &[u8; 6]) -> u128 {
    u64::from_be_bytes([0, 0, m[0], m[1], m[2], m[3], m[4], m[5]]) as u128
}

/// The key of an IP address: IPv6, IPv4 mapped (`::ffff:a.b.c.d`), as a big-endian integer.
#[inline]
pub fn ip_key(ip: std::net::IpAddr) -> u128 {
    Addr::from_ip(ip).0
}
