//! leakscan: a secret-leak scanner for working trees, staged changes and git
//! history. The data flows one way:
//!
//! ```text
//! source::{worktree, staged, history}  → bytes + origin
//!   → blob (decode, binary / size / LFS checks; skips counted in stats)
//!   → matcher (keyword automaton → rule regex in windows → entropy, allowlist, placeholder filters)
//!   → finding (rule, path, line/column, secret, fingerprint, commit)
//!   → suppress (config allowlist → inline `leakscan:allow` → baseline)
//!   → report (text, json, sarif) + stats → exit code
//! ```
//!
//! `pipeline` is the only module that starts threads; `app` glues the command
//! line to the stages. See ARCHITECTURE.md.

// One exception, `source::pack`, maps pack files into memory (see its SAFETY
// note); everything else is safe code.
#![deny(unsafe_code)]

// libgit2 (history and staged reads) inflates objects through the zlib C API;
// zlib-rs provides those functions (`inflate`, ...) under their C names and
// inflates about twice as fast as the system zlib. Linked, never called here.
extern crate libz_rs_sys;

pub(crate) mod blob;
pub mod cli;
pub mod commands;
pub(crate) mod config;
pub(crate) mod error;
pub mod exit;
pub mod finding;
pub(crate) mod git;
pub mod matcher;
pub(crate) mod outcome;
pub mod paths;
pub(crate) mod pipeline;
pub(crate) mod progress;
pub(crate) mod report;
pub mod rules;
pub mod settings;
pub(crate) mod source;
pub(crate) mod stats;
pub mod suppress;
