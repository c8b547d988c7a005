//! Sources: what to scan. Each source yields blobs (bytes plus where they
//! came from) and knows nothing about rules or findings.
//! - `worktree`: files under directories (parallel walk) and standard input;
//! - `staged`: the index against HEAD, for the pre-commit hook;
//! - `repos`: the repositories under directories (what a sweep reads).
//!
//! (Histories are read by `git::revwalk` and `git::diff`.)

pub mod repos;
pub mod staged;
pub mod worktree;
