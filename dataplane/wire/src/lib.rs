//! antidote-wire: zero-copy dissectors and emitters for every frame antidote's policies see.
//!
//! Safe Rust over byte slices (SIMD only through `safe_arch`): no DPDK, no I/O, no allocation on the dissect path, and no
//! panic on any input — every length field is checked before it is used, and a truncated or
//! inconsistent layer ends in a typed [`Error`]. In the manner of smoltcp's `wire` module:
//! checked views (`new_checked`) for fixed headers, and reprs with `parse`/`emit` where a message
//! must be built.
//!
//! Where a packet goes: [`frame::Frame::parse`] → [`ethernet`] → [`arp`] | [`ipv4`] | [`ipv6`]
//! (→ [`ndp`] for IPv6 neighbour discovery) →
//! [`udp`] | [`tcp`] → [`nbns`] · [`dns`] (LLMNR, mDNS) · [`ssrp`] · [`http`] · [`smb2`] →
//! [`ntlm`]. [`proto`] is the one table of ports and protocol bits both the dissector and the
//! header [`triage`] decide by; the triage sorts a whole burst by its headers before any
//! dissection. [`fields`] is the typed schema policies and `antidote dissect` read through;
//! [`emit`] builds whole frames (NBT-NS negative answers, canary queries).
#![forbid(unsafe_code)]

pub mod arp;
pub mod checksum;
pub mod dhcp;
pub mod dhcp6;
pub mod dns;
pub mod emit;
pub mod error;
pub mod ethernet;
pub mod fields;
pub mod frame;
pub mod http;
pub mod ipv4;
pub mod ipv6;
pub mod nbns;
pub mod ndp;
pub mod ntlm;
pub mod proto;
pub mod smb2;
pub mod ssrp;
pub mod tcp;
pub mod triage;
pub mod udp;

pub use error::{Error, Result};
pub use frame::{App, Frame, Layer, Scratch};
