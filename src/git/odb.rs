//! Reading objects: `ObjectReader`, the one type that reads git objects
//! (from the pack files mapped ahead when a whole history is read, else one
//! at a time), commit headers and author metadata, and the pack order used
//! to read blobs cheaply. Two backends: libgit2 behind the guard's checks
//! for SHA-1 repositories (the fast, long-tested path), and our own readers
//! (`native`, `store`: the same checks, done as they read) for SHA-256 ones,
//! which libgit2 cannot open.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use git2::{ObjectType, Repository};

use crate::error::{Error, Result};

pub use super::error::ReadError;
use super::guard::Guard;
use super::native::Native;
use super::oid::{HashKind, ObjectId as Oid};
use super::pack::{self, Inflater, PackSet};
use super::stream::BlobStream;

/// The one place that reads git objects. Not `Sync` (git2's `Repository` is
/// not): open one per thread.
pub struct ObjectReader {
    backend: Backend,
    /// The repository's refs when it stores them as reftables (libgit2
    /// cannot read those; see `refs`). SHA-1 repositories only: a native
    /// one reads its refs itself.
    reftable: Option<Arc<super::reftable::Refs>>,
    /// Pack files to read whole objects from first (`with_packs`).
    packs: Option<(Arc<PackSet>, RefCell<PackScratch>)>,
    /// For small objects the guard reads itself (`Guard::read_whole`).
    small: RefCell<PackScratch>,
}

/// Objects stored whole in a pack and at most this large are read by the
/// guard (libdeflate) rather than libgit2: commits, tags, most trees.
const SMALL: u64 = 1 << 20;

/// Who reads the objects.
enum Backend {
    /// libgit2, every object checked by the guard first (SHA-1).
    Lg { repo: Repository, guard: Guard },
    /// Our own readers (SHA-256), with the work tree found beside it.
    Native {
        repo: Native,
        workdir: Option<PathBuf>,
    },
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
        ObjectReader::locate(super::Locate::GitDir(git_dir))
    }

    /// The reader of the repository `how` finds: through libgit2 when it
    /// can open it, else (SHA-256 ids) through our own readers.
    pub(super) fn locate(how: super::Locate<'_>) -> Result<ObjectReader> {
        match super::open(how) {
            Ok(repo) => ObjectReader::over(repo),
            Err(e) => match super::open_native(how) {
                Some((repo, workdir)) => Ok(ObjectReader {
                    backend: Backend::Native { repo, workdir },
                    reftable: None,
                    packs: None,
                    small: RefCell::default(),
                }),
                None => Err(e),
            },
        }
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
            backend: Backend::Lg { repo, guard },
            reftable,
            packs: None,
            small: RefCell::default(),
        })
    }

    /// A reader that takes objects stored whole in `packs` from there
    /// (about four times cheaper than libgit2's lookup for a commit), and
    /// everything else one at a time.
    pub fn with_packs(git_dir: &Path, packs: Arc<PackSet>) -> Result<ObjectReader> {
        let mut r = ObjectReader::open(git_dir)?;
        r.packs = Some((packs, RefCell::default()));
        Ok(r)
    }

    /// The hash that names this repository's objects.
    pub fn kind(&self) -> HashKind {
        match &self.backend {
            Backend::Lg { .. } => HashKind::Sha1,
            Backend::Native { repo, .. } => repo.kind(),
        }
    }

    /// The git directory.
    pub fn git_dir(&self) -> &Path {
        match &self.backend {
            Backend::Lg { repo, .. } => repo.path(),
            Backend::Native { repo, .. } => &repo.git_dir,
        }
    }

    /// The work tree; `None` for a bare repository.
    pub fn workdir(&self) -> Option<&Path> {
        match &self.backend {
            Backend::Lg { repo, .. } => repo.workdir(),
            Backend::Native { workdir, .. } => workdir.as_deref(),
        }
    }

    /// The common git directory (a linked work tree's main one).
    pub fn common_dir(&self) -> &Path {
        match &self.backend {
            Backend::Lg { repo, .. } => repo.commondir(),
            Backend::Native { repo, .. } => &repo.common,
        }
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
        let (repo, guard) = match &self.backend {
            Backend::Lg { repo, guard } => (repo, guard),
            Backend::Native { repo, .. } => {
                let (kind, data) = repo.read(&oid).map_err(ReadError)?;
                return Ok(f(kind, &data));
            }
        };
        // Small objects stored whole in a pack are read by the guard (a
        // reader called back from `f` finds the buffer busy and goes on).
        if let Ok(mut small) = self.small.try_borrow_mut() {
            let (inflater, buf) = &mut *small;
            if let Some(kind) = guard.read_whole(oid, SMALL, inflater, buf) {
                return Ok(f(kind, buf));
            }
        }
        // Loose objects are read (and checked) here; packed ones are
        // checked before libgit2 reads them, which also keeps git2's
        // `kind()` from meeting a type it would panic on.
        if !guard.check_packed(oid)? {
            if let Some(loose) = guard.read_loose(oid) {
                let (kind, data) = loose?;
                return Ok(f(kind, &data));
            }
        }
        let g = lg_id(oid)?;
        let odb = repo.odb()?;
        let obj = odb.read(g).map_err(|e| named(oid, e))?;
        Ok(f(obj.kind(), obj.data()))
    }

    /// Blob `oid` as a stream when it is larger than `over` and stored
    /// loose or whole in a pack (see `stream`); `None`: read it whole.
    pub fn stream(&self, oid: Oid, over: u64) -> Result<Option<BlobStream<'_>>, ReadError> {
        match &self.backend {
            Backend::Lg { guard, .. } => guard.stream(oid, over),
            Backend::Native { repo, .. } => {
                repo.store().stream(oid, over).map_err(|e| ReadError(e.0))
            }
        }
    }

    /// An object's size without reading its content (a SHA-256
    /// repository's is read whole).
    pub fn size(&self, oid: Oid) -> Result<u64, ReadError> {
        Ok(self.header(oid)?.1)
    }

    /// The header of commit `oid` (tree, parents, date), read through the
    /// checks; an object of another type or a malformed commit is an error.
    pub fn commit(&self, oid: Oid) -> Result<CommitData, ReadError> {
        let kind = self.kind();
        self.with_object(oid, |t, data| match t {
            ObjectType::Commit => {
                parse_commit_of(data, kind).ok_or_else(|| ReadError("malformed commit".into()))
            }
            other => Err(ReadError(format!("expected a commit, found a {other}"))),
        })?
    }

    /// Who wrote commit `oid`, when, and its summary line.
    pub fn commit_meta(&self, oid: Oid) -> Result<CommitMeta, ReadError> {
        let (repo, guard) = match &self.backend {
            Backend::Lg { repo, guard } => (repo, guard),
            Backend::Native { .. } => {
                return self.with_object(oid, |t, data| match t {
                    ObjectType::Commit => parse_meta(data)
                        .ok_or_else(|| ReadError(format!("commit {oid}: malformed author"))),
                    other => Err(ReadError(format!(
                        "object {oid}: expected a commit, found a {other}"
                    ))),
                })?;
            }
        };
        guard.check(oid)?;
        let c = repo.find_commit(lg_id(oid)?).map_err(|e| named(oid, e))?;
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
        let (repo, guard) = match &self.backend {
            Backend::Lg { repo, guard } => (repo, guard),
            Backend::Native { repo, .. } => {
                return repo.store().header(&oid).map_err(|e| ReadError(e.0));
            }
        };
        if let Some(h) = guard.header_whole(oid) {
            return Ok(h);
        }
        if !guard.check_packed(oid)? {
            if let Some(loose) = guard.read_loose(oid) {
                let (kind, data) = loose?;
                return Ok((kind, data.len() as u64));
            }
        }
        let odb = repo.odb()?;
        let (size, kind) = odb.read_header(lg_id(oid)?).map_err(|e| named(oid, e))?;
        Ok((kind, size as u64))
    }

    /// Whether the object store holds `oid` (nothing is read).
    pub fn exists(&self, oid: Oid) -> bool {
        match &self.backend {
            Backend::Lg { repo, .. } => oid
                .to_git2()
                .is_some_and(|g| repo.odb().is_ok_and(|o| o.exists(g))),
            Backend::Native { repo, .. } => repo.store().contains(&oid),
        }
    }

    /// libgit2's repository, for the readers of `src/git/` only: nothing
    /// outside this module reads git except through `Repo` and this reader.
    /// `None` for a repository read by our own readers (SHA-256).
    pub(super) fn repo(&self) -> Option<&Repository> {
        match &self.backend {
            Backend::Lg { repo, .. } => Some(repo),
            Backend::Native { .. } => None,
        }
    }

    /// The repository when our own readers read it (SHA-256).
    pub(super) fn native(&self) -> Option<&Native> {
        match &self.backend {
            Backend::Lg { .. } => None,
            Backend::Native { repo, .. } => Some(repo),
        }
    }

    /// The refs of a SHA-1 repository that stores them as reftables: every
    /// ref lookup of `src/git/` asks here first, since libgit2 (which opens
    /// the repository with `extensions.refStorage` allowed) sees none of
    /// them.
    pub(super) fn reftable(&self) -> Option<&super::reftable::Refs> {
        self.reftable.as_deref()
    }

    /// libgit2's repository and the checks its reads go through (`staged`
    /// reads blobs borrowed from libgit2 after them); `None` for a
    /// repository read by our own readers.
    pub(super) fn lg(&self) -> Option<(&Repository, &Guard)> {
        match &self.backend {
            Backend::Lg { repo, guard } => Some((repo, guard)),
            Backend::Native { .. } => None,
        }
    }
}

/// `oid` as libgit2's id: a SHA-1 one (a SHA-256 id never reaches libgit2,
/// which reads SHA-1 repositories only).
fn lg_id(oid: Oid) -> Result<git2::Oid, ReadError> {
    oid.to_git2()
        .ok_or_else(|| ReadError(format!("object {oid}: a SHA-256 id in a SHA-1 repository")))
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
    kind: HashKind,
}

impl PackOrder {
    pub fn load(git_dir: &Path) -> PackOrder {
        let kind = pack::hash_of(git_dir);
        let idx = pack::files(git_dir, "idx")
            .iter()
            .filter_map(|p| std::fs::read(p).ok())
            .filter(|d| pack::Index::of(d, kind).is_ok())
            .collect();
        PackOrder { idx, kind }
    }

    /// (pack number, offset in the pack); `(u32::MAX, 0)` when not in a pack.
    pub fn position(&self, oid: Oid) -> (u32, u64) {
        let id = oid.as_bytes();
        for (n, d) in self.idx.iter().enumerate() {
            let index = pack::Index::checked_before(d, self.kind.len());
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

/// Parses the header of a raw commit object of a SHA-1 repository.
#[cfg(test)]
pub(crate) fn parse_commit(data: &[u8]) -> Option<CommitData> {
    parse_commit_of(data, HashKind::Sha1)
}

/// Parses the header of a raw commit object whose ids are of `kind`.
pub(crate) fn parse_commit_of(data: &[u8], kind: HashKind) -> Option<CommitData> {
    let mut tree = None;
    let mut parents = Vec::new();
    let mut time = 0;
    for line in data.split(|&b| b == b'\n') {
        if line.is_empty() {
            break;
        }
        if let Some(hex) = line.strip_prefix(b"tree ") {
            tree = Some(Oid::from_hex_of(kind, hex)?);
        } else if let Some(hex) = line.strip_prefix(b"parent ") {
            parents.push(Oid::from_hex_of(kind, hex)?);
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

/// Author, date and summary of a raw commit object, as libgit2 gives them:
/// the summary is the message's first paragraph, its lines trimmed and
/// joined by spaces.
fn parse_meta(data: &[u8]) -> Option<CommitMeta> {
    let (head, message) = match memchr::memmem::find(data, b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &b""[..]),
    };
    let who = head
        .split(|&b| b == b'\n')
        .find_map(|l| l.strip_prefix(b"author "))?;
    let open = memchr::memchr(b'<', who)?;
    let close = open + memchr::memchr(b'>', &who[open..])?;
    let after = String::from_utf8_lossy(&who[close + 1..]);
    let mut fields = after.split_whitespace();
    let time = fields.next().and_then(|t| t.parse().ok()).unwrap_or(0);
    let offset_minutes = fields
        .next()
        .filter(|z| z.len() == 5)
        .and_then(|z| {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let h: i32 = z[1..3].parse().ok()?;
            let m: i32 = z[3..5].parse().ok()?;
            Some(sign * (h * 60 + m))
        })
        .unwrap_or(0);
    let mut summary = Vec::new();
    for line in message
        .split(|&b| b == b'\n')
        .skip_while(|l| l.trim_ascii().is_empty())
    {
        let line = line.trim_ascii();
        if line.is_empty() {
            break;
        }
        if !summary.is_empty() {
            summary.push(b' ');
        }
        summary.extend_from_slice(line);
    }
    Some(CommitMeta {
        author: String::from_utf8_lossy(who[..open].trim_ascii()).into_owned(),
        email: String::from_utf8_lossy(&who[open + 1..close]).into_owned(),
        time,
        offset_minutes,
        summary: String::from_utf8_lossy(&summary).into_owned(),
    })
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
