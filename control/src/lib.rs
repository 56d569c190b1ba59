//! Control plane (filled by the control-plane issue).
#![forbid(unsafe_code)]
