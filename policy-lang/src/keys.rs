//! The key of a value in a learned table or counter — one encoding for the evaluator, the
//! control API and everything else that names a key.
use antidote_wire::fields::Value;
use antidote_wire::frame::Addr;

/// The key of a value in a table or counter: addresses and integers as themselves, a name from
/// a name-service message as its [`name_key`], other text as a 128-bit hash of its lower-cased
/// form.
#[inline]
pub fn key_of(v: &Value<'_>) -> Option<u128> {
    Some(match v {
        Value::Ip(ip) => ip_key(*ip),
        Value::Mac(m) => mac_key(&m.0),
        Value::Int(i) => *i as u128,
        Value::Bool(b) => *b as u128,
        Value::Bytes(b) => hash128(b),
        // A host name is one key across NBT-NS, LLMNR and mDNS.
        Value::NbName(_) | Value::DnsName(_) => name_key(v)?,
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

/// The key of a host name across NBT-NS, LLMNR and mDNS: lower-cased, without a trailing dot or
/// `.local` — `CORPFS01`, `corpfs01` and `corpfs01.local` are one name. A name of up to 16
/// bytes (every NetBIOS name, most host names) is its own key, readable again
/// ([`name_of_key`]); a longer one is hashed, its first byte's top bit set.
#[inline]
pub fn name_key(v: &Value<'_>) -> Option<u128> {
    v.with_lower_text(|t| {
        let t = t.strip_suffix(b".").unwrap_or(t);
        let t = t.strip_suffix(b".local").unwrap_or(t);
        if t.len() <= 16 && t.is_ascii() {
            let mut b = [0u8; 16];
            b[..t.len()].copy_from_slice(t);
            u128::from_be_bytes(b)
        } else {
            hash128(t) | 1 << 127
        }
    })
}

/// The name a [`name_key`] stands for, when it is not a hash.
pub fn name_of_key(k: u128) -> Option<String> {
    let b = k.to_be_bytes();
    (b[0] < 0x80).then(|| String::from_utf8_lossy(&b[..b.iter().position(|&x| x == 0).unwrap_or(16)]).into_owned())
}
