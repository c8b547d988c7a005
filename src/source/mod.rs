//! Sources: what to scan. Each source yields blobs (bytes plus where they
//! came from) and knows nothing about rules or findings.
//! - `worktree`: files under directories (parallel walk) and standard input;
//! - `staged`: the index against HEAD, for the pre-commit hook;
//! - `history`: every blob reachable from commits, deduplicated by blob id.

pub mod history;
pub mod objdirs;
pub mod pack;
pub mod staged;
pub mod trees;
pub mod worktree;

use crate::finding::PathBytes;
use std::path::Path;

/// A path as `/`-separated bytes, losslessly (non-UTF-8 names survive).
pub fn path_bytes(p: &Path) -> PathBytes {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let b = p.as_os_str().as_bytes();
        let b = b.strip_prefix(b"./").unwrap_or(b);
        PathBytes(b.to_vec())
    }
    #[cfg(not(unix))]
    {
        let s = p.to_string_lossy().replace('\\', "/");
        PathBytes(s.trim_start_matches("./").as_bytes().to_vec())
    }
}
