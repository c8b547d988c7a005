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

pub mod chain;
pub mod dates;
pub mod diff;
pub mod error;
pub mod format;
pub mod guard;
pub mod index;
pub mod native;
pub mod objdirs;
pub mod odb;
pub mod oid;
pub mod pack;
pub mod packed_refs;
pub mod promisor;
pub mod reftable;
pub mod repo;
pub mod rev;
pub mod revspec;
pub mod revwalk;
pub mod staged;
pub mod store;
pub mod stream;
#[cfg(test)]
mod test_git;
pub mod trees;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use git2::{ErrorCode, Repository};

use crate::error::{Error, Result};

/// The object id type (20-byte SHA-1 or 32-byte SHA-256 ids, see `oid`):
/// code outside `src/git/` says `git::Oid`.
pub use oid::ObjectId as Oid;

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
    allow_reftable();
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
            // libgit2 refused the repository's format: say why in our words
            // (the extension, this version).
            (ErrorCode::NotFound, _) => not_found(how),
            _ => format_refusal(how).unwrap_or_else(|| e.message().to_string()),
        },
    })
}

/// Lets libgit2 open repositories whose refs are reftables (it refuses
/// `extensions.refStorage` otherwise): it still reads their objects, and
/// every ref lookup in `src/git/` asks `reftable` instead (`ObjectReader::reftable`).
fn allow_reftable() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: libgit2 keeps the list in a static that every repository
        // open reads. This runs once, before the first open (every open goes
        // through `open`, which calls this first; `call_once` makes other
        // threads wait until the write is done), so no read races the write.
        #[allow(unsafe_code)]
        let set = unsafe { git2::opts::set_extensions(&["refstorage"]) };
        // Failing leaves libgit2 refusing these repositories (an error
        // naming the extension), never misreading them.
        let _ = set;
    });
}

/// The repository `how` finds when libgit2 cannot open it but our own
/// readers can (SHA-256 ids), with its work tree; `None` otherwise.
fn open_native(how: Locate<'_>) -> Option<(native::Native, Option<PathBuf>)> {
    let (git_dir, workdir) = match how {
        Locate::Discover(p) => native::locate(p, false)?,
        Locate::FromEnv => native::locate(Path::new("."), true)?,
        Locate::GitDir(p) if p.join(".git").exists() => native::locate(p, false)?,
        Locate::GitDir(p) => {
            let p = crate::paths::absolute(p);
            let work = (p.file_name() == Some(".git".as_ref()))
                .then(|| p.parent().map(Path::to_path_buf))
                .flatten();
            (p, work)
        }
    };
    let format = format::Format::read(&git_dir).ok()?;
    (format.objects == oid::HashKind::Sha256)
        .then(|| (native::Native::open(git_dir, format), workdir))
}

fn not_found(how: Locate<'_>) -> String {
    match how {
        Locate::FromEnv => "not inside a git repository (use --repo PATH)".to_string(),
        _ => "not a git repository (nor inside one); name one with --repo PATH".to_string(),
    }
}

/// Checks that there is a repository there (`open`'s errors), also in the
/// formats libgit2 cannot open but our own readers can (SHA-256 ids,
/// reftable refs), for commands that only need to know it exists.
pub fn ensure_repository(how: Locate<'_>) -> Result<()> {
    let Err(e) = open(how) else {
        return Ok(());
    };
    let (start, env) = match how {
        Locate::Discover(p) | Locate::GitDir(p) => (p.to_path_buf(), false),
        Locate::FromEnv => (PathBuf::from("."), true),
    };
    match native::locate(&start, env) {
        Some((git_dir, _)) if format::Format::read(&git_dir).is_ok() => Ok(()),
        _ => Err(e),
    }
}

/// Why a repository libgit2 would not open cannot be read, from its own
/// configuration (see `format`); `None` when its format is not the reason.
fn format_refusal(how: Locate<'_>) -> Option<String> {
    let git_dir = match how {
        Locate::Discover(p) => Repository::discover_path(p, [] as [&std::ffi::OsStr; 0]).ok()?,
        Locate::FromEnv => match std::env::var_os("GIT_DIR") {
            Some(d) if !d.is_empty() => PathBuf::from(d),
            _ => Repository::discover_path(".", [] as [&std::ffi::OsStr; 0]).ok()?,
        },
        Locate::GitDir(p) if p.join(".git").exists() => p.join(".git"),
        Locate::GitDir(p) => p.to_path_buf(),
    };
    let f = match format::Format::read(&git_dir) {
        Ok(f) => f,
        Err(e) => return Some(e.0),
    };
    let version = env!("CARGO_PKG_VERSION");
    match (f.objects, f.refs) {
        (oid::HashKind::Sha1, format::RefStorage::Files) => None,
        (objects, refs) => Some(format!(
            "this repository uses {} (object format {}, ref storage {}), which leakscan \
             {version} cannot read in this mode yet",
            match refs {
                format::RefStorage::Reftable if objects == oid::HashKind::Sha256 => {
                    "SHA-256 object ids and reftable refs"
                }
                format::RefStorage::Reftable => "reftable refs",
                format::RefStorage::Files => "SHA-256 object ids",
            },
            objects.name(),
            match refs {
                format::RefStorage::Files => "files",
                format::RefStorage::Reftable => "reftable",
            }
        )),
    }
}
