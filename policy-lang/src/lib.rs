//! The policy language (filled by the policy issue).
#![forbid(unsafe_code)]
