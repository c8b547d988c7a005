//! Archives, packages and container images opened in memory, so that what
//! ships is scanned like what is committed: the zip family (jars, wheels,
//! Office files), the tar family, single compressed streams (gzip, bzip2,
//! xz, zstd) and image layouts (OCI, `docker save`), nested to a bounded
//! depth. Nothing is written to disk; every read is bounded by `Limits`.
//! No matcher: `pipeline::BlobStep` matches each file this hands it.

mod detect;
mod image;
mod stream;
mod tar;
mod walk;
mod zip;

pub use detect::{detect, Kind};

use crate::paths::PathBytes;

/// How far an archive is opened. The defaults are far above what real
/// packages need (see README: a jar in a war in a zip is depth 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Containers inside containers, the outermost being 1.
    pub max_depth: u32,
    /// Entries (files, directories, links) in one archive, nested ones included.
    pub max_entries: u64,
    /// Bytes decompressed from one archive, nested ones included.
    pub max_bytes: u64,
    /// Decompressed bytes per byte of the archive, once past `RATIO_FLOOR`.
    pub max_ratio: u64,
    /// The largest file inside an archive that is read (and scanned); larger
    /// ones are counted as too large, like walked files over the limit.
    pub max_entry_size: u64,
}

/// An archive may always expand to this many bytes, whatever its ratio:
/// small archives of repetitive text are not bombs.
pub const RATIO_FLOOR: u64 = 64 << 20;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 8,
            max_entries: 1_000_000,
            max_bytes: 8 << 30,
            max_ratio: 200,
            max_entry_size: 10 << 20,
        }
    }
}

/// A file inside an archive, handed to the caller to scan.
pub struct Entry<'a> {
    /// Names from the outermost archive inwards (the archive's own path not
    /// included): `["app/settings.py"]`, `["WEB-INF/lib/a.jar", "a.env"]`.
    pub chain: &'a [PathBytes],
    /// The image layer holding it (`sha256:…`), inside a container image.
    pub layer: Option<&'a str>,
    pub data: &'a [u8],
}

/// Part of an archive that could not be read: where (`chain` as in
/// `Entry`, empty for the archive itself) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub chain: Vec<PathBytes>,
    pub reason: String,
}

/// What opening one archive gave besides its entries.
#[derive(Debug, Default)]
pub struct Report {
    /// Files inside handed to the caller.
    pub files: u64,
    /// Files over `max_entry_size`, not read: (count, their declared bytes).
    pub too_large: (u64, u64),
    /// Symbolic and hard links (their content is elsewhere or nowhere).
    pub links: u64,
    /// Encrypted, corrupt, or over a limit: each makes the run exit 2.
    pub failures: Vec<Failure>,
    /// The outermost container could not even be opened (its raw bytes
    /// should be scanned as they are).
    pub unopened: bool,
}

/// Opens `bytes` (an archive of `kind`, named `name`) and calls `visit` for
/// every file inside, nested archives opened in turn.
pub fn open(
    bytes: &[u8],
    kind: Kind,
    name: &[u8],
    limits: &Limits,
    visit: &mut dyn FnMut(Entry<'_>),
) -> Report {
    walk::Walk::run(bytes, kind, name, limits, visit)
}
