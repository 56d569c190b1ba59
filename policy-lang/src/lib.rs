//! The antidote policy language: where an operator says what poisoning looks like on their
//! network and what to do about it.
//!
//! Its stages, in order:
//! source → [`lexer`] → [`parse`] (lalrpop grammar) → [`ast`] → [`check`] (names, types,
//! diagnostics; [`fields`] is what a policy can read) → [`lower`] (conditions flattened and
//! gated, branch programs) → [`program`] (the flat, immutable IR the workers share) → [`plan`]
//! (what the header triage may skip, as data) → [`eval`] per frame, with the key encoding in
//! [`keys`] and the learned tables and counters in [`state`]. [`explain`] prints a program;
//! [`interp`] is a plain reference interpreter of the syntax tree (fields read from the bytes by its own code; whole policies with sets and tables), used to test the compiler.
//! Pure Rust: no DPDK, no I/O.
#![forbid(unsafe_code)]

pub mod ast;
pub mod check;
pub mod diag;
pub mod eval;
pub mod explain;
pub mod fields;
pub mod interp;
pub mod keys;
pub mod lexer;
pub mod lower;
pub mod parse;
pub mod plan;
pub mod program;
pub mod span;
pub mod state;

pub use check::{compile, compile_with, Compiled};
pub use diag::Diagnostic;
pub use program::{Meta, Outcome, Program};
