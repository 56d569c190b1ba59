//! The antidote policy language: where an operator says what poisoning looks like on their
//! network and what to do about it.
//!
//! source → [`lexer`] → [`parse`] (lalrpop grammar) → [`ast`] → [`compile`] (type checks,
//! diagnostics) → [`program::Program`] (flat, immutable, shared by the workers) →
//! [`program::Program::eval`] per frame, with learned tables and counters in [`state`].
//! [`explain`] prints a program; [`interp`] is a plain reference interpreter of the syntax tree,
//! used to test the compiler. Pure Rust: no DPDK, no I/O.
#![forbid(unsafe_code)]

pub mod ast;
pub mod compile;
pub mod diag;
pub mod explain;
pub mod interp;
pub mod lexer;
pub mod parse;
pub mod program;
pub mod schema;
pub mod span;
pub mod state;

pub use compile::{compile, compile_with, Compiled};
pub use diag::Diagnostic;
pub use program::{Meta, Outcome, Program};
