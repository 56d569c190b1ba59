//! Zero-copy dissectors (filled by the wire issue).
#![forbid(unsafe_code)]
