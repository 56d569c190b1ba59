//! The subcommands of `antidote` that are more than a call into a crate.
pub mod config;
pub mod ctl;
pub mod dissect;
pub mod policy;
pub mod prepare;
pub mod replay;
pub mod run;
