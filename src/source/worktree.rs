//! Files under directories, walked in parallel with the `ignore` crate
//! (.gitignore, .ignore and hidden files honoured unless widened), and how one
//! walked entry is read: size limit, binary detection, decoding. Files named
//! on the command line are always read, whatever their size or content.

use std::io::Read;
use std::path::{Path, PathBuf};

use ignore::{WalkBuilder, WalkParallel};

use crate::paths::PathBytes;
use crate::stats::SkipReason;

/// How to walk.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    pub no_ignore: bool,
    pub hidden: bool,
    pub follow: bool,
    pub threads: usize,
    pub max_file_size: u64,
}

pub fn build(roots: &[PathBuf], opts: &WalkOptions) -> WalkParallel {
    let mut b = WalkBuilder::new(&roots[0]);
    for r in &roots[1..] {
        b.add(r);
    }
    b.hidden(!opts.hidden)
        .ignore(!opts.no_ignore)
        .git_ignore(!opts.no_ignore)
        .git_global(!opts.no_ignore)
        .git_exclude(!opts.no_ignore)
        .parents(!opts.no_ignore)
        // Like git and ripgrep: `.gitignore` rules need a repository. An
        // unpacked tarball whose `.gitignore` is `/*` is scanned whole.
        .require_git(true)
        .follow_links(opts.follow)
        .threads(opts.threads)
        // `.git/` holds objects, not the work tree; history is its own mode.
        .filter_entry(|e| e.file_name() != ".git");
    b.build_parallel()
}

/// Whether the walk filters anything out (ignore files, hidden files).
pub fn filters(opts: &WalkOptions) -> bool {
    !opts.no_ignore || !opts.hidden
}

/// The same walk without ignore files or hidden-file filtering (only `.git/`
/// is left out): every file the filtered walk could have met.
pub fn build_unfiltered(roots: &[PathBuf], opts: &WalkOptions) -> WalkParallel {
    let mut b = WalkBuilder::new(&roots[0]);
    for r in &roots[1..] {
        b.add(r);
    }
    b.standard_filters(false)
        .follow_links(opts.follow)
        .threads(opts.threads)
        .filter_entry(|e| e.file_name() != ".git");
    b.build_parallel()
}

/// What reading one entry gave.
pub enum FileRead {
    /// The bytes are in the buffer, to classify and scan.
    Content,
    Skip(SkipReason, u64),
    Error(String),
}

/// Reads the file at `path` into `buf`. A walked file over `max` bytes is
/// not read at all; `explicit` files (named on the command line) always are.
pub fn read_file(path: &Path, explicit: bool, max: u64, buf: &mut Vec<u8>) -> FileRead {
    buf.clear();
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return FileRead::Error(format!("{}: {e}", path.display())),
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    if !explicit && len > max {
        return FileRead::Skip(SkipReason::TooLarge, len);
    }
    if let Err(e) = file.read_to_end(buf) {
        return FileRead::Error(format!("{}: {e}", path.display()));
    }
    FileRead::Content
}

/// The path reported for `path` found under `root`: relative to the root when
/// one directory is scanned, otherwise as given.
pub fn display_path(path: &Path, single_root: Option<&Path>) -> PathBytes {
    let p = single_root
        .and_then(|r| path.strip_prefix(r).ok())
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(path);
    crate::paths::path_bytes(p)
}
