//! Everything that reads git, and the only module that uses libgit2:
//! `Repo` (`repo`) is the door for the rest of the crate (an opened
//! repository: HEAD, refs, tags peeled, files at a commit, config), opening
//! repositories (`open`, here, the one place that does), objects (`odb`, and `pack` for whole pack files), trees (`trees`,
//! compact and interned), which commits a run covers (`revwalk`), what each
//! commit introduces (`diff`), the index against HEAD (`index`, `staged`),
//! revision arguments and files as of a revision (`revspec`, `rev`) and dates. `guard` checks every object
//! before libgit2 reads it (damaged data is an error naming the object, never
//! a crash, hang or huge allocation). Nothing here knows about rules,
//! findings or threads.

pub mod dates;
pub mod diff;
pub mod error;
pub mod guard;
pub mod index;
pub mod objdirs;
pub mod odb;
pub mod pack;
pub mod packed_refs;
pub mod repo;
pub mod rev;
pub mod revspec;
pub mod revwalk;
pub mod staged;
pub mod stream;
pub mod trees;

use std::collections::HashMap;
use std::path::Path;

use git2::{ErrorCode, Repository};

use crate::error::{Error, Result};

/// The object id type, named here only: code outside `src/git/` says
/// `git::Oid`.
pub use git2::Oid;

pub use odb::ObjectReader;
pub use repo::{Kind, Ref, Repo};

pub const MODE_TREE: u32 = 0o040000;
pub const MODE_FILE: u32 = 0o100000;
pub const MODE_SYMLINK: u32 = 0o120000;
pub const MODE_GITLINK: u32 = 0o160000;
pub const MODE_TYPE: u32 = 0o170000;

/// What a tree or index entry holds (trees are walked, not listed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntryKind {
    File,
    Symlink,
    /// A gitlink: a commit of another repository.
    Submodule,
}

impl EntryKind {
    /// The kind of a non-tree entry with this mode.
    pub fn of(mode: u32) -> EntryKind {
        match mode & MODE_TYPE {
            MODE_SYMLINK => EntryKind::Symlink,
            MODE_GITLINK => EntryKind::Submodule,
            _ => EntryKind::File,
        }
    }
}

/// Hashes an object id by its first 8 bytes: ids are already uniformly
/// random, so SipHash would only cost time.
#[derive(Default, Clone, Copy)]
pub struct OidHasher(u64);

impl std::hash::Hasher for OidHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8).take(1) {
            let mut b = [0u8; 8];
            b[..chunk.len()].copy_from_slice(chunk);
            self.0 ^= u64::from_le_bytes(b);
        }
    }

    fn write_usize(&mut self, _: usize) {}
}

/// A `HashMap` keyed by object id.
pub type OidMap<V> = HashMap<Oid, V, std::hash::BuildHasherDefault<OidHasher>>;

/// How to find a repository.
#[derive(Debug, Clone, Copy)]
pub enum Locate<'a> {
    /// The repository containing this path, as git finds it from a directory.
    Discover(&'a Path),
    /// The one git's environment names (`GIT_DIR`, `GIT_WORK_TREE`, as a hook
    /// sees them), else the one containing the current directory.
    FromEnv,
    /// Exactly this repository (its git directory or work tree), without
    /// searching upward.
    GitDir(&'a Path),
}

/// Opens a repository: the only place that does (`Repo::open` and
/// `ObjectReader::open` outside). Errors name the path and say when it is
/// not a repository at all.
fn open(how: Locate<'_>) -> Result<Repository> {
    let (opened, shown) = match how {
        Locate::Discover(p) => {
            std::fs::metadata(p).map_err(|e| Error::io(p, e))?;
            (Repository::discover(p), p)
        }
        Locate::FromEnv => (Repository::open_from_env(), Path::new(".")),
        Locate::GitDir(p) => (Repository::open(p), p),
    };
    opened.map_err(|e| Error::Git {
        repo: shown.to_path_buf(),
        msg: match (e.code(), how) {
            (ErrorCode::NotFound, Locate::FromEnv) => {
                "not inside a git repository (use --repo PATH)".to_string()
            }
            (ErrorCode::NotFound, _) => {
                "not a git repository (nor inside one); name one with --repo PATH".to_string()
            }
            _ => e.message().to_string(),
        },
    })
}
