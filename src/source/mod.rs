//! Sources: what to scan. Each source yields blobs (bytes plus where they
//! came from) and knows nothing about rules or findings.
//! - `worktree`: files under directories (parallel walk) and standard input;
//! - `staged`: the index against HEAD, for the pre-commit hook;
//! - `history`: every blob reachable from commits, deduplicated by blob id.

pub mod staged;
pub mod worktree;
