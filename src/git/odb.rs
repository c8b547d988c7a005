//! Reading objects: `ObjectReader`, the one type that reads git objects
//! (from the pack files mapped ahead when a whole history is read, else one
//! at a time through libgit2), commit headers and author metadata, and the
//! pack order used to read blobs cheaply.

use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;

use git2::{ObjectType, Oid, Repository};

use crate::error::{Error, Result};

pub use super::error::ReadError;
use super::guard::Guard;
use super::pack::{self, Inflater, PackSet};
use super::stream::BlobStream;

/// The one place that reads git objects. Not `Sync` (git2's `Repository` is
/// not): open one per thread.
pub struct ObjectReader {
    repo: Repository,
    /// Checks every object before libgit2 reads it (and reads loose ones).
    guard: Guard,
    /// The repository's refs when it stores them as reftables (libgit2
    /// cannot read those; see `refs`).
    reftable: Option<Arc<super::reftable::Refs>>,
    /// Pack files to read whole objects from first (`with_packs`).
    packs: Option<(Arc<PackSet>, RefCell<PackScratch>)>,
}

/// An inflater and a buffer for reads from the packs.
type PackScratch = (Inflater, Vec<u8>);

impl ObjectReader {
    pub fn open(git_dir: &Path) -> Result<ObjectReader> {
        // libgit2 hashes every object it reads to verify its id: a SHA-1 with
        // collision detection, which costs as much as inflating the object.
        // A scanner needs the content, not an integrity check (`git fsck`'s
        // job), and a damaged object still fails to inflate. Process-wide.
        git2::opts::strict_hash_verification(false);
        // libgit2's object cache (up to 256 MiB per repository, one per
        // worker) would hold every small tree and commit read; `TreeCache`
        // keeps just the trees a diff reuses.
        git2::opts::enable_caching(false);
        ObjectReader::over(super::open(super::Locate::GitDir(git_dir))?)
    }

    /// A reader of the repository `repo` (opened by `super::open`), with
    /// this process's extra object directories attached.
    pub(super) fn over(repo: Repository) -> Result<ObjectReader> {
        // A push's objects, while a pre-receive hook runs.
        super::objdirs::attach(&repo)?;
        let guard = Guard::new(repo.commondir());
        let format = super::format::Format::read(repo.path()).map_err(|e| Error::Git {
            repo: repo.path().to_path_buf(),
            msg: e.0,
        })?;
        let reftable = match format.refs {
            super::format::RefStorage::Files => None,
            super::format::RefStorage::Reftable => Some(Arc::new(
                super::reftable::Refs::read(repo.path(), format.objects).map_err(|e| {
                    Error::Git {
                        repo: repo.path().to_path_buf(),
                        msg: e.0,
                    }
                })?,
            )),
        };
        Ok(ObjectReader {
            repo,
            guard,
            reftable,
            packs: None,
        })
    }

    /// A reader that takes objects stored whole in `packs` from there
    /// (about four times cheaper than libgit2's lookup for a commit), and
    /// everything else through libgit2.
    pub fn with_packs(git_dir: &Path, packs: Arc<PackSet>) -> Result<ObjectReader> {
        let mut r = ObjectReader::open(git_dir)?;
        r.packs = Some((packs, RefCell::default()));
        Ok(r)
    }

    /// Calls `f` with the object's type and bytes (borrowed from the object
    /// store; nothing is copied).
    pub fn with_object<R>(
        &self,
        oid: Oid,
        f: impl FnOnce(ObjectType, &[u8]) -> R,
    ) -> Result<R, ReadError> {
        if let Some((packs, scratch)) = &self.packs {
            let mut scratch = scratch.borrow_mut();
            let (inflater, buf) = &mut *scratch;
            if let Some(Ok(code)) = packs.read_whole(oid, inflater, buf) {
                let kind = match code {
                    pack::COMMIT => ObjectType::Commit,
                    pack::TREE => ObjectType::Tree,
                    pack::BLOB => ObjectType::Blob,
                    _ => ObjectType::Tag,
                };
                return Ok(f(kind, buf));
            }
        }
        // Loose objects are read (and checked) here; packed ones are
        // checked before libgit2 reads them, which also keeps git2's
        // `kind()` from meeting a type it would panic on.
        if !self.guard.check_packed(oid)? {
            if let Some(loose) = self.guard.read_loose(oid) {
                let (kind, data) = loose?;
                return Ok(f(kind, &data));
            }
        }
        let odb = self.repo.odb()?;
        let obj = odb.read(oid).map_err(|e| named(oid, e))?;
        Ok(f(obj.kind(), obj.data()))
    }

    /// Blob `oid` as a stream when it is larger than `over` and stored
    /// loose or whole in a pack (see `stream`); `None`: read it whole.
    pub fn stream(&self, oid: Oid, over: u64) -> Result<Option<BlobStream<'_>>, ReadError> {
        self.guard.stream(oid, over)
    }

    /// An object's size without reading its content.
    pub fn size(&self, oid: Oid) -> Result<u64, ReadError> {
        if !self.guard.check_packed(oid)? {
            if let Some(loose) = self.guard.read_loose(oid) {
                return Ok(loose?.1.len() as u64);
            }
        }
        let odb = self.repo.odb()?;
        Ok(odb.read_header(oid).map_err(|e| named(oid, e))?.0 as u64)
    }

    /// The header of commit `oid` (tree, parents, date), read through the
    /// checks; an object of another type or a malformed commit is an error.
    pub fn commit(&self, oid: Oid) -> Result<CommitData, ReadError> {
        self.with_object(oid, |kind, data| match kind {
            ObjectType::Commit => {
                parse_commit(data).ok_or_else(|| ReadError("malformed commit".into()))
            }
            other => Err(ReadError(format!("expected a commit, found a {other}"))),
        })?
    }

    /// Who wrote commit `oid`, when, and its summary line.
    pub fn commit_meta(&self, oid: Oid) -> Result<CommitMeta, ReadError> {
        self.guard.check(oid)?;
        let c = self.repo.find_commit(oid).map_err(|e| named(oid, e))?;
        let author = c.author();
        let when = author.when();
        Ok(CommitMeta {
            author: String::from_utf8_lossy(author.name_bytes()).into_owned(),
            email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
            time: when.seconds(),
            offset_minutes: when.offset_minutes(),
            summary: c
                .summary_bytes()
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .unwrap_or_default(),
        })
    }

    /// An object's type and size, read from its header only (a packed
    /// commit or blob is not inflated), through the checks.
    pub fn header(&self, oid: Oid) -> Result<(ObjectType, u64), ReadError> {
        if !self.guard.check_packed(oid)? {
            if let Some(loose) = self.guard.read_loose(oid) {
                let (kind, data) = loose?;
                return Ok((kind, data.len() as u64));
            }
        }
        let odb = self.repo.odb()?;
        let (size, kind) = odb.read_header(oid).map_err(|e| named(oid, e))?;
        Ok((kind, size as u64))
    }

    /// Whether the object store holds `oid` (nothing is read).
    pub fn exists(&self, oid: Oid) -> bool {
        self.repo.odb().is_ok_and(|o| o.exists(oid))
    }

    /// libgit2's repository, for the readers of `src/git/` only: nothing
    /// outside this module reads git except through `Repo` and this reader.
    pub(super) fn repo(&self) -> &Repository {
        &self.repo
    }

    /// The refs of a repository that stores them as reftables: every ref
    /// lookup of `src/git/` asks here first, since libgit2 (which opens the
    /// repository with `extensions.refStorage` allowed) sees none of them.
    pub(super) fn reftable(&self) -> Option<&super::reftable::Refs> {
        self.reftable.as_deref()
    }

    /// The checks libgit2's reads go through (`staged` reads blobs
    /// borrowed from libgit2 after them).
    pub(super) fn guard(&self) -> &Guard {
        &self.guard
    }
}

/// A libgit2 error about `oid`, naming it unless libgit2 did.
fn named(oid: Oid, e: git2::Error) -> ReadError {
    let msg = e.message();
    if msg.contains(&oid.to_string()) {
        ReadError(msg.to_string())
    } else {
        ReadError(format!("object {oid}: {msg}"))
    }
}

/// Where objects sit in the repository's pack files, so blobs can be read
/// in pack order: a delta's base then tends to be in libgit2's delta base
/// cache already. Reads `objects/pack/*.idx` (version 2) directly; objects in
/// other packs or loose sort last.
pub struct PackOrder {
    /// Index files, in name order.
    idx: Vec<Vec<u8>>,
}

impl PackOrder {
    pub fn load(git_dir: &Path) -> PackOrder {
        let idx = pack::files(git_dir, "idx")
            .iter()
            .filter_map(|p| std::fs::read(p).ok())
            .filter(|d| pack::Index::new(d).is_ok())
            .collect();
        PackOrder { idx }
    }

    /// (pack number, offset in the pack); `(u32::MAX, 0)` when not in a pack.
    pub fn position(&self, oid: Oid) -> (u32, u64) {
        let id = oid.as_bytes();
        for (n, d) in self.idx.iter().enumerate() {
            let index = pack::Index::new(d).expect("checked on load");
            if let Some(off) = index.position(id).and_then(|pos| index.offset(pos)) {
                return (n as u32, off);
            }
        }
        (u32::MAX, 0)
    }
}

/// Author, date and summary of a commit.
#[derive(Debug, Clone)]
pub struct CommitMeta {
    pub author: String,
    pub email: String,
    /// Author date, seconds since the Unix epoch.
    pub time: i64,
    /// The author's UTC offset.
    pub offset_minutes: i32,
    pub summary: String,
}

/// What the walk needs from a commit object.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitData {
    pub tree: Oid,
    pub parents: Vec<Oid>,
    /// Committer date (what `--since` and `--until` compare, as in git).
    pub time: i64,
}

/// Parses the header of a raw commit object.
pub(crate) fn parse_commit(data: &[u8]) -> Option<CommitData> {
    let mut tree = None;
    let mut parents = Vec::new();
    let mut time = 0;
    for line in data.split(|&b| b == b'\n') {
        if line.is_empty() {
            break;
        }
        if let Some(hex) = line.strip_prefix(b"tree ") {
            tree = Some(parse_hex_oid(hex)?);
        } else if let Some(hex) = line.strip_prefix(b"parent ") {
            parents.push(parse_hex_oid(hex)?);
        } else if let Some(who) = line.strip_prefix(b"committer ") {
            // `Name <email> 1700000000 +0100`: the time follows the last `>`.
            let after = &who[memchr::memrchr(b'>', who).map_or(0, |i| i + 1)..];
            let after = std::str::from_utf8(after).unwrap_or("");
            time = after
                .split_whitespace()
                .next()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0);
        }
    }
    Some(CommitData {
        tree: tree?,
        parents,
        time,
    })
}

fn parse_hex_oid(hex: &[u8]) -> Option<Oid> {
    Oid::from_str(std::str::from_utf8(hex).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_headers() {
        let raw = b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\
parent 0000000000000000000000000000000000000001\n\
parent 0000000000000000000000000000000000000002\n\
author A <a@x> 1700000000 +0100\n\
committer C <c> d> 1700000123 -0200\n\
\n\
tree 0000000000000000000000000000000000000003\n";
        let c = parse_commit(raw).unwrap();
        assert_eq!(
            c.tree.to_string(),
            "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
        );
        assert_eq!(c.parents.len(), 2);
        assert_eq!(c.time, 1_700_000_123);
    }
}
