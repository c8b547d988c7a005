//! leakscan: a secret-leak scanner for working trees, staged changes and git
//! history. The data flows one way:
//!
//! ```text
//! commands (flags → settings::Request → Settings)
//!   → pipeline drivers over source/ and git/ (what to read; the only threads)
//!   → pipeline::BlobStep: blob::classify (size, LFS, UTF-16, binary)
//!       → matcher (keyword automaton → rule regex in windows → filters)
//!       → finding (rule, path, line/column, secret, fingerprint, commit)
//!   → outcome: suppress (allowlist → inline → baseline) → report → exit code
//! ```
//!
//! A module imports only modules upstream of it (scripts/check-layers.py).
//! See ARCHITECTURE.md.

// One exception, `git::pack`, maps pack files into memory (see its SAFETY
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
