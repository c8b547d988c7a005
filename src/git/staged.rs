//! The staged change: what `git commit` would record. Streams the index (see
//! `index`) against HEAD's tree, reading HEAD trees only for directories whose
//! cache-tree entry no longer matches HEAD, and lists the staged files that
//! differ from HEAD. A valid cache-tree node (the root too) is what git
//! records for its directory, whatever the entries under it say: its tree is
//! compared with HEAD's instead of the entries. For a file that turns out to hold a secret it finds the
//! HEAD content to compare with (the same path, or the file it was renamed or
//! copied from) and which of its lines are new.
//!
//! Knows nothing about rules or findings: `commands::staged` scans the blobs
//! and keeps what falls on new lines. No `git` subprocess: libgit2 opens the
//! repository and reads objects; the index is read by `index`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use git2::{Blob, ErrorCode, ObjectType, Repository};

// Ids of either hash: a SHA-256 repository is read by `native`, a SHA-1 one
// with the files ref store by libgit2 (ids converted at its calls).
use super::oid::ObjectId as Oid;

use super::guard::Guard;

use crate::error::{Error, Result};
use crate::paths::PathBytes;

use super::index::{
    read_split, CacheTree, Entries, IndexEntry, IndexEntryRef, IndexError, IndexFile, Step,
};
use super::stream::{BlobStream, STREAM_OVER};
use super::{EntryKind, MODE_FILE, MODE_TREE, MODE_TYPE};

/// Git's default rename threshold: at least half of the larger file's bytes
/// are lines the two files share.
const MIN_SIMILARITY: f64 = 0.5;
/// Unchanged HEAD files compared as possible copy sources for one added file
/// (same name first, then same directory). Git only looks at unchanged files
/// with `--find-copies-harder`, which reads every blob; these few are the
/// likely sources of a `cp` and cost one read each.
const MAX_UNCHANGED_SOURCES: usize = 32;
/// Changes of up to this many files answer `scan_unchanged` for all of
/// them from one pass over the index.
const MAX_BATCHED: usize = 16;
/// Deleted and modified files compared as rename or copy sources (git's
/// `diff.renameLimit` default); beyond this an added file counts as all new.
const MAX_CHANGED_SOURCES: usize = 1000;

/// A path whose staged content differs from HEAD's (added or modified).
#[derive(Debug, Clone)]
pub struct StagedFile {
    pub path: PathBytes,
    /// The staged blob (or, for a submodule, commit).
    pub id: Oid,
    pub kind: EntryKind,
    /// HEAD's blob at the same path, when HEAD has a regular file there.
    pub head: Option<Oid>,
}

/// What a staged file's lines are new against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// HEAD has this exact content (an exact rename or copy, or a file
    /// changed to content found elsewhere in HEAD): no line is new.
    Same,
    /// No similar file in HEAD: every line is new.
    Nothing,
    /// HEAD's version of this path, or the file it was renamed or copied from.
    Blob { id: Oid, path: PathBytes, how: How },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum How {
    Modified,
    Renamed,
    Copied,
}

/// The difference between the index and HEAD.
pub struct Changes {
    /// Added and modified paths, in index order. Mode-only changes are not
    /// listed: their content is already in HEAD.
    pub files: Vec<StagedFile>,
    /// HEAD files no longer in the index.
    pub deleted: Vec<(PathBytes, Oid)>,
    /// Paths with unresolved conflicts (stages 1–3): there is no staged
    /// result to judge, and `git commit` refuses until they are resolved.
    pub unmerged: Vec<PathBytes>,
    /// There is no HEAD commit yet: everything staged is new.
    pub initial: bool,
    /// Notes for the user about how the index was read.
    pub notes: Vec<String>,
    entries: Option<Entries>,
    /// HEAD's tree (`None`: no commit yet): what index entries said to be
    /// in HEAD are checked against.
    head: Option<Oid>,
    /// `scan_unchanged` for every file of a small change, from one pass over
    /// the index (made on first use: a change whose files hold no secret
    /// never pays it).
    near: std::cell::OnceCell<Option<Vec<Near>>>,
}

/// How objects and refs are read.
enum Objects {
    /// The repository through its checked reader (libgit2 behind the guard:
    /// SHA-1 ids, refs stored as files).
    Lg(super::Repo),
    /// Our own readers: SHA-256 ids or reftable refs, which libgit2 cannot
    /// read.
    Native(super::native::Native),
}

/// A non-bare repository whose index is about to be committed.
pub struct Staging {
    objects: Objects,
    workdir: PathBuf,
    index_path: PathBuf,
    /// During a merge, the other parents (MERGE_HEAD): what they hold is
    /// already committed, so the merge does not add it.
    merge_heads: Vec<Oid>,
}

impl Staging {
    /// Opens the repository containing `path`, or the one git's environment
    /// names (`GIT_DIR`, `GIT_WORK_TREE`, `GIT_INDEX_FILE`, as a hook sees them
    /// during `git commit -a` or `git commit PATH`) or containing the current
    /// directory.
    pub fn open(path: Option<&Path>) -> Result<Staging> {
        // `Repo::open` turns off libgit2's hashing of every object read (a
        // third of the cost of reading the staged blobs).
        if let Some(native) = Staging::native(path)? {
            return Ok(native);
        }
        let git = super::Repo::open(match path {
            Some(p) => super::Locate::Discover(p),
            None => super::Locate::FromEnv,
        })?;
        let workdir = git.workdir.clone().ok_or_else(|| Error::Git {
            repo: git.git_dir.clone(),
            msg: "a bare repository has no index to commit".into(),
        })?;
        let index_path = match (path, std::env::var_os("GIT_INDEX_FILE")) {
            (None, Some(f)) if !f.is_empty() => PathBuf::from(f),
            _ => git.git_dir.join("index"),
        };
        // One id per line; absent outside a merge.
        let merge_heads = std::fs::read_to_string(git.git_dir.join("MERGE_HEAD"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| Oid::from_hex(l.trim().as_bytes()))
            .collect();
        Ok(Staging {
            objects: Objects::Lg(git),
            workdir,
            index_path,
            merge_heads,
        })
    }

    /// The repository read by our own readers, when its format is one
    /// libgit2 cannot read (SHA-256 ids, reftable refs); `None` otherwise.
    fn native(path: Option<&Path>) -> Result<Option<Staging>> {
        let here = std::env::current_dir().map_err(|e| Error::io(Path::new("."), e))?;
        let found = super::native::Native::open_if_needed(path.unwrap_or(&here), path.is_none())
            .map_err(|(repo, msg)| Error::Git { repo, msg })?;
        let Some((native, workdir)) = found else {
            return Ok(None);
        };
        let git_dir = native.git_dir.clone();
        let workdir = workdir.ok_or_else(|| Error::Git {
            repo: git_dir.clone(),
            msg: "a bare repository has no index to commit".into(),
        })?;
        let index_path = match (path, std::env::var_os("GIT_INDEX_FILE")) {
            (None, Some(f)) if !f.is_empty() => PathBuf::from(f),
            _ => git_dir.join("index"),
        };
        let merge_heads = std::fs::read_to_string(git_dir.join("MERGE_HEAD"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| Oid::from_hex_of(native.kind(), l.trim().as_bytes()))
            .collect();
        Ok(Some(Staging {
            objects: Objects::Native(native),
            workdir,
            index_path,
            merge_heads,
        }))
    }

    /// libgit2's repository and the checks before it reads an object (and
    /// the loose reader); `None` for a repository read natively.
    fn lg(&self) -> Option<(&Repository, &Guard)> {
        match &self.objects {
            Objects::Lg(git) => git.reader().lg(),
            Objects::Native(_) => None,
        }
    }

    /// Whether a merge is being committed.
    pub fn merging(&self) -> bool {
        !self.merge_heads.is_empty()
    }

    /// Whether another parent of the merge being committed already has
    /// `secret` in its version of `path`.
    pub fn in_merged_parent(&self, path: &PathBytes, secret: &[u8]) -> bool {
        self.merge_heads.iter().any(|&id| {
            let found = match &self.objects {
                Objects::Lg(git) => git
                    .entry_at(id, &path.0)
                    .ok()
                    .flatten()
                    .filter(|e| e.is_blob())
                    .and_then(|e| self.holds(e.id, &[secret]).ok()),
                Objects::Native(n) => n
                    .entry_at(&id, &path.0)
                    .ok()
                    .flatten()
                    .filter(|e| e.mode & super::MODE_TYPE == MODE_FILE)
                    .and_then(|e| self.holds(e.id, &[secret]).ok()),
            };
            found.is_some_and(|h| h[0])
        })
    }

    /// Which of `needles` blob `id` holds: a blob over `STREAM_OVER` is
    /// searched as a stream, not held in memory.
    pub fn holds(&self, id: Oid, needles: &[&[u8]]) -> Result<Vec<bool>, String> {
        if let Some(mut s) = self.stream(id, STREAM_OVER)? {
            return s.holds(needles).map_err(|e| e.to_string());
        }
        let blob = self.read(id)?;
        Ok(needles
            .iter()
            .map(|n| memchr::memmem::find(blob.content(), n).is_some())
            .collect())
    }

    /// The top of the work tree (where `.leakscan.toml` is looked for).
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    fn git_error(&self, msg: impl Into<String>) -> Error {
        Error::Git {
            repo: self.workdir.clone(),
            msg: msg.into(),
        }
    }

    /// Compares the index with HEAD.
    pub fn changes(&self) -> Result<Changes> {
        let mut notes = Vec::new();
        let entries = self.read_index(&mut notes)?;
        let (repo, guard) = match &self.objects {
            Objects::Lg(git) => git
                .reader()
                .lg()
                .ok_or_else(|| self.git_error("not read through libgit2"))?,
            Objects::Native(n) => {
                let head = n
                    .head()
                    .and_then(|c| c.map(|c| n.commit_tree(&c)).transpose())
                    .map_err(|e| self.git_error(format!("HEAD: {e}")))?;
                return self.compare(entries, head, notes);
            }
        };
        let head = match repo.head() {
            Ok(r) => {
                let commit = r.resolve().ok().and_then(|r| r.target());
                if let Some(Err(e)) = commit.map(|c| guard.check(c.into())) {
                    return Err(self.git_error(format!("HEAD: {e}")));
                }
                // The tree's id only: `read_tree` checks it before reading.
                Some(
                    r.peel_to_commit()
                        .map_err(|e| self.git_error(format!("HEAD: {}", e.message())))?
                        .tree_id()
                        .into(),
                )
            }
            Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => None,
            Err(e) => return Err(self.git_error(format!("HEAD: {}", e.message()))),
        };
        self.compare(entries, head, notes)
    }

    /// The index (`None`: there is none) against HEAD's tree (`None`: no
    /// commit yet).
    fn compare(
        &self,
        entries: Option<Entries>,
        head: Option<Oid>,
        notes: Vec<String>,
    ) -> Result<Changes> {
        let mut changes = Changes {
            files: Vec::new(),
            deleted: Vec::new(),
            unmerged: Vec::new(),
            initial: head.is_none(),
            notes,
            entries: None,
            head,
            near: std::cell::OnceCell::new(),
        };
        let Some(entries) = entries else {
            // No index: nothing is staged (but HEAD's files would be deleted).
            if let Some(h) = head {
                let mut walk = IndexWalk::new(&self.objects, None, &mut changes);
                walk.deleted_tree(Vec::new(), h)
                    .map_err(|e| self.git_error(e))?;
            }
            return Ok(changes);
        };
        let cache = entries.tree();
        let root = cache.and_then(CacheTree::root);
        // A valid root: `git commit` records that tree as it is (git makes
        // the whole cache tree valid before the pre-commit hook runs).
        let root_tree = root.zip(cache).and_then(|(r, c)| c.id(r));
        let unchanged = head.is_some_and(|h| root_tree == Some(h.as_bytes()));
        if let Some(id) = root_tree.filter(|_| !unchanged) {
            let id = Oid::from_bytes(id).expect("hash length");
            IndexWalk::new(&self.objects, None, &mut changes)
                .sparse_dir(Vec::new(), id, head)
                .map_err(|e| self.git_error(cache_tree_error(b"", e)))?;
        } else if !unchanged {
            match self.walk(&entries, head, true, &mut changes) {
                Err(WalkError::Inconsistent) => {
                    changes.files.clear();
                    changes.deleted.clear();
                    changes.unmerged.clear();
                    changes.notes.push(
                        "the index's cache tree does not match its entries: every directory was compared"
                            .into(),
                    );
                    self.walk(&entries, head, false, &mut changes)
                }
                other => other,
            }
            .map_err(|e| match e {
                WalkError::Index(msg) => Error::Git {
                    repo: self.index_path.clone(),
                    msg,
                },
                e => self.git_error(e.message()),
            })?;
        }
        changes.entries = Some(entries);
        Ok(changes)
    }

    /// One pass of the index against HEAD; with `jumps`, over the entries of
    /// directories the cache tree proves unchanged.
    fn walk(
        &self,
        entries: &Entries,
        head: Option<Oid>,
        jumps: bool,
        out: &mut Changes,
    ) -> Result<(), WalkError> {
        let cache = entries.tree();
        let mut walk = IndexWalk::new(&self.objects, cache, out);
        walk.jumps = jumps;
        walk.open_dir(Vec::new(), head, cache.and_then(CacheTree::root))?;
        entries.for_each(|i, e| walk.entry(i, e))?;
        walk.finish()?;
        Ok(())
    }

    fn read_index(&self, notes: &mut Vec<String>) -> Result<Option<Entries>> {
        let kind = match &self.objects {
            Objects::Lg(_) => super::oid::HashKind::Sha1,
            Objects::Native(n) => n.kind(),
        };
        let opened = IndexFile::open(&self.index_path, kind);
        if opened.is_err() {
            // A split index (its replacements have no names, and it has a
            // `link` extension): merged with its shared index in memory.
            let git_dir = match &self.objects {
                Objects::Lg(git) => &git.git_dir,
                Objects::Native(n) => &n.git_dir,
            };
            match read_split(&self.index_path, git_dir, kind) {
                Ok(Some(entries)) => return Ok(Some(Entries::Memory(entries))),
                Ok(None) => {}
                Err(IndexError::Corrupt(msg) | IndexError::Unsupported(msg)) => {
                    return Err(Error::Git {
                        repo: self.index_path.clone(),
                        msg,
                    })
                }
            }
        }
        match opened {
            Ok(f) => Ok(f.map(Entries::File)),
            Err(IndexError::Corrupt(msg)) => Err(Error::Git {
                repo: self.index_path.clone(),
                msg,
            }),
            Err(IndexError::Unsupported(what)) if self.lg().is_none() => Err(Error::Git {
                repo: self.index_path.clone(),
                msg: format!(
                    "{what}: not read in this repository's format; nothing was checked. \
                     `git update-index --no-split-index` or \
                     `git sparse-checkout init --no-sparse-index` turns the feature off"
                ),
            }),
            Err(IndexError::Unsupported(what)) => {
                notes.push(format!("{what}: index read with libgit2 (slower)"));
                self.read_index_libgit2(&what).map(Some)
            }
        }
    }

    /// The slow, general reader, for index features `index` does not handle.
    fn read_index_libgit2(&self, what: &str) -> Result<Entries> {
        let ix = git2::Index::open(&self.index_path).map_err(|e| Error::Git {
            repo: self.index_path.clone(),
            msg: format!(
                "{what}, which libgit2 cannot read either ({}); nothing was checked. \
                 `git update-index --no-split-index` or `git sparse-checkout init --no-sparse-index` \
                 turns the feature off for this repository",
                e.message()
            ),
        })?;
        Ok(Entries::Memory(
            ix.iter()
                .map(|e| IndexEntry {
                    mode: e.mode,
                    id: e.id.into(),
                    stage: ((e.flags >> 12) & 3) as u8,
                    intent_to_add: e.flags_extended & 0x2000 != 0,
                    path: e.path,
                })
                .collect(),
        ))
    }

    /// Blob `id` as a stream when it is larger than `over` and stored loose
    /// or whole in a pack (see `stream`); `None`: `read` it whole.
    pub fn stream(&self, id: Oid, over: u64) -> Result<Option<BlobStream<'_>>, String> {
        match &self.objects {
            Objects::Lg(git) => git.reader().stream(id, over).map_err(|e| e.0),
            // Our own readers (SHA-256, reftable): the native store.
            Objects::Native(n) => n.store().stream(id, over).map_err(|e| e.0),
        }
    }

    /// A blob from the object database: packed ones checked (see `guard`)
    /// and read through libgit2, loose ones read here.
    pub fn read(&self, id: Oid) -> Result<StoredBlob<'_>, String> {
        let ((repo, guard), id) = match (self.lg(), &self.objects) {
            (Some(lg), _) => (lg, id),
            (None, Objects::Native(n)) => {
                return match n.read(&id)? {
                    (ObjectType::Blob, data) => Ok(StoredBlob::Own(data)),
                    (kind, _) => Err(format!("object {id}: a {}, not a blob", kind.str())),
                }
            }
            (None, Objects::Lg(_)) => unreachable!("lg() is Some for Objects::Lg"),
        };
        if !guard.check_packed(id).map_err(|e| e.0)? {
            if let Some(loose) = guard.read_loose(id) {
                return match loose.map_err(|e| e.0)? {
                    (ObjectType::Blob, data) => Ok(StoredBlob::Own(data)),
                    (kind, _) => Err(format!("object {id}: a {}, not a blob", kind.str())),
                };
            }
        }
        repo.find_blob(to_git2(id)?)
            .map(StoredBlob::Git)
            .map_err(|e| format!("object {id}: {}", e.message()))
    }

    /// Whether HEAD holds `file`'s staged content exactly, at any path (a
    /// file changed back, or to a copy of another): then nothing in it is new.
    pub fn in_head(&self, changes: &Changes, file: &StagedFile) -> Result<bool, String> {
        Ok(self.near(changes, file)?.in_head)
    }

    /// `Changes::scan_unchanged`, with what the index says HEAD holds
    /// checked against HEAD's trees: the walk judged HEAD's trees (or the
    /// cache tree's), not every entry, so an entry claiming HEAD content (a
    /// damaged or forged index) must not make a secret look old.
    fn near(&self, changes: &Changes, file: &StagedFile) -> Result<Near, String> {
        let mut near = changes.scan_unchanged(file)?;
        let Some(head) = changes.head else {
            near.same_id.clear();
            near.sources.clear();
            return Ok(near);
        };
        // The same few HEAD trees (the top, the file's directory) serve
        // every claim: each is read once.
        let mut trees = HashMap::new();
        let mut at = |path: &[u8]| head_blob(&self.objects, head, path, &mut trees);
        for p in std::mem::take(&mut near.same_id) {
            if near.in_head {
                break;
            }
            near.in_head = at(&p.0)? == Some(file.id);
        }
        let mut kept = Vec::with_capacity(near.sources.len());
        for (p, id) in std::mem::take(&mut near.sources) {
            if at(&p.0)? == Some(id) {
                kept.push((p, id));
            }
        }
        near.sources = kept;
        Ok(near)
    }

    /// Finds what `file`'s lines are new against: HEAD's version of the same
    /// path, or for an added file the HEAD file it was renamed or copied from
    /// (the most similar of the deleted files, the modified files' HEAD
    /// versions, and a few unchanged files with the same name or in the same
    /// directory). Called only for files that hold a secret, so the extra
    /// reads cost nothing on a clean commit.
    pub fn base(
        &self,
        changes: &Changes,
        file: &StagedFile,
        content: &[u8],
    ) -> Result<Base, String> {
        let near = self.near(changes, file)?;
        if near.in_head {
            return Ok(Base::Same);
        }
        if let Some(id) = file.head {
            return Ok(Base::Blob {
                id,
                path: file.path.clone(),
                how: How::Modified,
            });
        }
        let mut sources: Vec<(&PathBytes, Oid, How)> = Vec::new();
        for (path, id) in changes.deleted.iter().take(MAX_CHANGED_SOURCES) {
            sources.push((path, *id, How::Renamed));
        }
        for f in changes
            .files
            .iter()
            .filter(|f| f.head.is_some())
            .take(MAX_CHANGED_SOURCES)
        {
            sources.push((&f.path, f.head.expect("filtered"), How::Copied));
        }
        for (path, id) in &near.sources {
            sources.push((path, *id, How::Copied));
        }
        let new = LineSet::new(content);
        let mut best: Option<(f64, usize)> = None;
        for (i, (_, id, _)) in sources.iter().enumerate() {
            // An unreadable candidate is no source (its own read reports
            // the damage when it is scanned).
            let Ok(old) = self.read(*id) else {
                continue;
            };
            let score = new.similarity(&LineSet::new(old.content()));
            let better = match best {
                None => score >= MIN_SIMILARITY,
                Some((s, _)) => score > s,
            };
            if better {
                best = Some((score, i));
            }
        }
        Ok(match best {
            Some((_, i)) => {
                let (path, id, how) = sources.swap_remove(i);
                Base::Blob {
                    id,
                    path: path.clone(),
                    how,
                }
            }
            None => Base::Nothing,
        })
    }
}

/// What one pass over the unchanged index entries found for a staged file.
#[derive(Clone)]
struct Near {
    /// Some HEAD file (changed or not) has the staged content exactly.
    in_head: bool,
    /// Entries not staged as changed whose id is the staged content's: in
    /// HEAD if HEAD has that blob there (checked by `Staging::near`).
    same_id: Vec<PathBytes>,
    /// Unchanged files with the staged file's name, then in its directory.
    sources: Vec<(PathBytes, Oid)>,
}

impl Changes {
    /// Streams the index once more: does HEAD hold `file`'s content anywhere,
    /// and which unchanged files might it have been copied from.
    fn scan_unchanged(&self, file: &StagedFile) -> Result<Near, String> {
        // Each file holding a secret needed a pass of its own (three
        // secrets in a 70k-file index: three passes, most of the hook's
        // time); a change of a few files gets all its answers from one.
        if self.files.len() <= MAX_BATCHED {
            if let Some(i) = self.files.iter().position(|f| f.path == file.path) {
                if self.near.get().is_none() {
                    let all = self.scan_unchanged_all()?;
                    let _ = self.near.set(Some(all));
                }
                if let Some(Some(all)) = self.near.get() {
                    return Ok(all[i].clone());
                }
            }
        }
        self.scan_unchanged_one(file)
    }

    /// Every file of `files`, in one pass over the index.
    fn scan_unchanged_all(&self) -> Result<Vec<Near>, String> {
        let all: Vec<&StagedFile> = self.files.iter().collect();
        self.scan_near(&all)
    }

    /// One file alone (a change too large to batch).
    fn scan_unchanged_one(&self, file: &StagedFile) -> Result<Near, String> {
        let mut near = self.scan_near(&[file])?;
        Ok(near.pop().expect("one answer per file"))
    }

    /// For each of `targets`, in one pass over the index: is its content
    /// anywhere in HEAD, and which unchanged files (same name first, then
    /// same directory) it might have been copied from.
    fn scan_near(&self, targets: &[&StagedFile]) -> Result<Vec<Near>, String> {
        let mut near: Vec<Near> = targets
            .iter()
            .map(|f| Near {
                in_head: self.deleted.iter().any(|(_, d)| *d == f.id)
                    || self.files.iter().any(|g| g.head == Some(f.id)),
                same_id: Vec::new(),
                sources: Vec::new(),
            })
            .collect();
        let Some(entries) = &self.entries else {
            return Ok(near);
        };
        if self.initial {
            return Ok(near);
        }
        let keys: Vec<(&[u8], &[u8], Oid)> = targets
            .iter()
            .map(|f| {
                let (d, n) = split_dir(&f.path.0);
                (d, n, f.id)
            })
            .collect();
        let mut same_dir: Vec<Vec<(PathBytes, Oid)>> = vec![Vec::new(); targets.len()];
        let mut changed = self.files.iter().map(|f| f.path.0.as_slice()).peekable();
        entries
            .for_each(|_, e| {
                while changed.next_if(|c| *c < e.path).is_some() {}
                let is_changed = changed.peek() == Some(&e.path);
                if e.stage != 0 || e.intent_to_add || is_changed || e.mode & MODE_TYPE != MODE_FILE
                {
                    return Ok(Step::Next);
                }
                let (d, n) = split_dir(e.path);
                for (i, (dir, name, want)) in keys.iter().enumerate() {
                    let near = &mut near[i];
                    if e.id == want.as_bytes() && near.same_id.len() < MAX_UNCHANGED_SOURCES {
                        near.same_id.push(PathBytes(e.path.to_vec()));
                    }
                    if n == *name && near.sources.len() < MAX_UNCHANGED_SOURCES {
                        near.sources.push((
                            PathBytes(e.path.to_vec()),
                            Oid::from_bytes(e.id).expect("hash length"),
                        ));
                    } else if d == *dir && same_dir[i].len() < MAX_UNCHANGED_SOURCES {
                        same_dir[i].push((
                            PathBytes(e.path.to_vec()),
                            Oid::from_bytes(e.id).expect("hash length"),
                        ));
                    }
                }
                Ok(Step::Next)
            })
            .map_err(|e: WalkError| e.message())?;
        for (near, same_dir) in near.iter_mut().zip(same_dir) {
            near.sources.extend(same_dir);
            near.sources.truncate(MAX_UNCHANGED_SOURCES);
        }
        Ok(near)
    }
}

impl Changes {
    /// The blob `git commit` would record at `path` (`/`-separated, from the
    /// top of the work tree): the index's entry there (stage 0, not
    /// intent-to-add). `Ok(None)` when the index holds no such file (never
    /// added, removed, only conflict stages). Something other than a
    /// regular file there (a symbolic link, a submodule, a sparse directory
    /// above it) is an error: its content is not a file's text.
    /// `staged` reads its `.leakscan.toml` and baseline this way.
    pub fn staged_blob(&self, path: &[u8]) -> Result<Option<Oid>, String> {
        Ok(self.staged_blobs(&[path])?.pop().flatten())
    }

    /// `staged_blob` for each of `paths`, sorted as the index is (bytewise),
    /// in one pass over the index.
    pub fn staged_blobs(&self, paths: &[&[u8]]) -> Result<Vec<Option<Oid>>, String> {
        let mut found = vec![None; paths.len()];
        let (Some(entries), Some(&last)) = (&self.entries, paths.last()) else {
            return Ok(found);
        };
        // The index is sorted by path: stop at the first entry past `path`.
        enum Stop {
            Past,
            Failed(String),
        }
        impl From<IndexError> for Stop {
            fn from(e: IndexError) -> Stop {
                Stop::Failed(WalkError::from(e).message())
            }
        }
        let walked = entries.for_each(|_, e| {
            if e.path > last {
                return Err(Stop::Past);
            }
            for (i, path) in paths.iter().enumerate() {
                let shown = || String::from_utf8_lossy(path);
                if e.mode & MODE_TYPE == MODE_TREE && path.starts_with(e.path) {
                    return Err(Stop::Failed(format!(
                        "{}: inside the sparse directory {}, which the index records as a \
                         tree; not read",
                        shown(),
                        String::from_utf8_lossy(e.path)
                    )));
                }
                if e.path == *path && e.stage == 0 && !e.intent_to_add {
                    if e.mode & MODE_TYPE != MODE_FILE {
                        return Err(Stop::Failed(format!(
                            "{}: staged as mode {:o}, not a regular file",
                            shown(),
                            e.mode
                        )));
                    }
                    found[i] = Some(Oid::from_bytes(e.id).expect("hash length"));
                }
            }
            Ok(Step::Next)
        });
        match walked {
            Ok(()) | Err(Stop::Past) => Ok(found),
            Err(Stop::Failed(msg)) => Err(msg),
        }
    }
}

/// The id as libgit2 takes it (a SHA-1 repository's ids all are).
fn to_git2(id: Oid) -> Result<git2::Oid, String> {
    id.to_git2()
        .ok_or_else(|| format!("object {id}: not a SHA-1 id"))
}

/// (`dir/`, `name`) of a `/`-separated path; `dir` is empty at the top.
fn split_dir(p: &[u8]) -> (&[u8], &[u8]) {
    match memchr::memrchr(b'/', p) {
        Some(i) => (&p[..=i], &p[i + 1..]),
        None => (&[], p),
    }
}

/// A tree named by a valid cache-tree node could not be read: git would
/// commit it unread by us, so the staged change is not judged.
fn cache_tree_error(dir: &[u8], e: String) -> String {
    format!(
        "index: the cache tree's tree for `{}/` (what `git commit` records) could not be read: {e}",
        String::from_utf8_lossy(dir).trim_end_matches('/')
    )
}

/// Why a walk stopped.
enum WalkError {
    Failed(String),
    /// The index file could not be read (named by the caller).
    Index(String),
    /// A cache-tree entry count that jumped past its directory: walk again
    /// without jumps.
    Inconsistent,
}

impl WalkError {
    fn message(self) -> String {
        match self {
            WalkError::Failed(m) | WalkError::Index(m) => m,
            WalkError::Inconsistent => "index: cache tree does not match the entries".into(),
        }
    }
}

impl From<IndexError> for WalkError {
    fn from(e: IndexError) -> Self {
        match e {
            IndexError::Corrupt(m) | IndexError::Unsupported(m) => WalkError::Index(m),
        }
    }
}

impl From<String> for WalkError {
    fn from(m: String) -> Self {
        WalkError::Failed(m)
    }
}

/// An entry of a HEAD tree.
struct HeadEntry {
    name: Vec<u8>,
    mode: u32,
    id: Oid,
}

/// An open directory of the walk: HEAD's entries there, and which the index has.
struct Frame {
    /// Length of the directory's path (with its trailing `/`) in `IndexWalk::prefix`.
    prefix_len: usize,
    head: Vec<HeadEntry>,
    by_name: HashMap<Vec<u8>, usize>,
    seen: Vec<bool>,
    node: Option<usize>,
}

impl Frame {
    /// HEAD's entry `name` of the wanted kind (tree or not), marked as seen.
    fn take(&mut self, name: &[u8], tree: bool) -> Option<&HeadEntry> {
        let &i = self.by_name.get(name)?;
        if (self.head[i].mode == MODE_TREE) != tree {
            return None;
        }
        self.seen[i] = true;
        Some(&self.head[i])
    }
}

/// A file entry waiting to see whether the next entry is another stage of it.
struct Pending {
    path: Vec<u8>,
    mode: u32,
    id: Oid,
    conflicted: bool,
    intent_to_add: bool,
    head: Option<(u32, Oid)>,
}

/// The index-against-HEAD comparison: a merge of the sorted index entries
/// with HEAD's trees, one open directory per level.
struct IndexWalk<'a> {
    objects: &'a Objects,
    cache: Option<&'a CacheTree>,
    out: &'a mut Changes,
    /// The innermost open directory's path, `/`-terminated (empty at the top).
    prefix: Vec<u8>,
    frames: Vec<Frame>,
    /// A directory the cache tree proved unchanged: its entries are skipped.
    skip: Vec<u8>,
    /// Whether to ask the reader to jump over such a directory's entries.
    jumps: bool,
    /// After a jump: the position of the entry that must still be inside the
    /// skipped directory (its last), which checks the cache tree's count.
    jumped_to: Option<usize>,
    pending: Option<Pending>,
}

impl<'a> IndexWalk<'a> {
    fn new(
        objects: &'a Objects,
        cache: Option<&'a CacheTree>,
        out: &'a mut Changes,
    ) -> IndexWalk<'a> {
        IndexWalk {
            objects,
            cache,
            out,
            prefix: Vec::new(),
            frames: Vec::new(),
            skip: Vec::new(),
            jumps: false,
            jumped_to: None,
            pending: None,
        }
    }

    /// Opens directory `path` (`/`-terminated, or empty for the top).
    fn open_dir(
        &mut self,
        path: Vec<u8>,
        head: Option<Oid>,
        node: Option<usize>,
    ) -> Result<(), String> {
        let head_entries = match head {
            Some(id) => self.read_tree(id, &path)?,
            None => Vec::new(),
        };
        let by_name = head_entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.clone(), i))
            .collect();
        self.frames.push(Frame {
            prefix_len: path.len(),
            seen: vec![false; head_entries.len()],
            head: head_entries,
            by_name,
            node,
        });
        self.prefix = path;
        Ok(())
    }

    /// Takes the index entry at position `i`.
    fn entry(&mut self, i: usize, e: IndexEntryRef<'_>) -> Result<Step, WalkError> {
        if let Some(p) = &mut self.pending {
            if p.path == e.path {
                p.conflicted = true;
                return Ok(Step::Next);
            }
        }
        self.flush();
        if !self.skip.is_empty() {
            let inside = e.path.starts_with(&self.skip);
            if self.jumped_to.take().is_some_and(|j| j == i && !inside) {
                return Err(WalkError::Inconsistent);
            }
            if inside {
                return Ok(Step::Next);
            }
            self.skip.clear();
        }
        while self.frames.len() > 1 && !e.path.starts_with(&self.prefix) {
            self.close_dir()?;
        }
        loop {
            let rest = &e.path[self.prefix.len()..];
            let top = self
                .frames
                .last_mut()
                .expect("the top directory stays open");
            match memchr::memchr(b'/', rest) {
                Some(k) => {
                    let name = &rest[..k];
                    let head = top.take(name, true).map(|h| h.id);
                    if e.mode == MODE_TREE && k + 1 == rest.len() {
                        // A sparse index's directory entry: git records its
                        // tree as it is.
                        let dir = e.path.to_vec();
                        let id = Oid::from_bytes(e.id).expect("hash length");
                        self.sparse_dir(dir, id, head)?;
                        return Ok(Step::Next);
                    }
                    let node = top.node.zip(self.cache).and_then(|(n, c)| c.child(n, name));
                    let dir = e.path[..self.prefix.len() + k + 1].to_vec();
                    if let (Some(n), Some(c)) = (node, self.cache) {
                        if let Some(id) = c.id(n) {
                            // A valid cache-tree node: `git commit` records
                            // its tree as it is, without reading the entries
                            // (and skips as many entries as the node counts).
                            // Unchanged since HEAD: nothing to judge. Else the
                            // tree is judged against HEAD's, not the entries.
                            if !head.is_some_and(|h| h.as_bytes() == id) {
                                let id = Oid::from_bytes(id).expect("hash length");
                                self.sparse_dir(dir.clone(), id, head)
                                    .map_err(|e| cache_tree_error(&dir, e))?;
                            }
                            // Skip the whole directory, jumping to its last
                            // entry, which must be in it.
                            self.skip = dir;
                            if self.jumps && c.entries(n) >= 2 {
                                let last = i + c.entries(n) - 1;
                                self.jumped_to = Some(last);
                                return Ok(Step::JumpTo(last));
                            }
                            return Ok(Step::Next);
                        }
                    }
                    self.open_dir(dir, head, node)?;
                }
                None => {
                    let head = top.take(rest, false).map(|h| (h.mode, h.id));
                    self.pending = Some(Pending {
                        path: e.path.to_vec(),
                        mode: e.mode,
                        id: Oid::from_bytes(e.id).expect("hash length"),
                        conflicted: e.stage != 0,
                        intent_to_add: e.intent_to_add,
                        head,
                    });
                    return Ok(Step::Next);
                }
            }
        }
    }

    /// Records the pending file entry.
    fn flush(&mut self) {
        let Some(p) = self.pending.take() else {
            return;
        };
        if p.conflicted {
            self.out.unmerged.push(PathBytes(p.path));
            return;
        }
        // `git add -N`: a placeholder that `git commit` does not record.
        if p.intent_to_add {
            return;
        }
        // The same content under a new mode adds no line.
        if p.head.is_some_and(|(_, id)| id == p.id) {
            return;
        }
        let head = p
            .head
            .filter(|(mode, _)| mode & MODE_TYPE == MODE_FILE && p.mode & MODE_TYPE == MODE_FILE)
            .map(|(_, id)| id);
        self.out.files.push(StagedFile {
            path: PathBytes(p.path),
            id: p.id,
            kind: EntryKind::of(p.mode),
            head,
        });
    }

    /// Closes the innermost directory: HEAD entries the index lacks are deleted.
    fn close_dir(&mut self) -> Result<(), String> {
        let frame = self.frames.pop().expect("an open directory");
        for (e, seen) in frame.head.into_iter().zip(frame.seen) {
            if seen {
                continue;
            }
            self.deleted(self.prefix.clone(), &e)?;
        }
        let len = self.frames.last().map_or(0, |f| f.prefix_len);
        self.prefix.truncate(len);
        Ok(())
    }

    fn finish(mut self) -> Result<(), String> {
        self.flush();
        while !self.frames.is_empty() {
            self.close_dir()?;
        }
        Ok(())
    }

    /// A sparse directory entry at `dir` (ending in `/`) holding tree `id`,
    /// against HEAD's tree there: every file that differs is staged, every
    /// HEAD file it lacks deleted. Usually the two are the same tree and
    /// nothing is read.
    fn sparse_dir(&mut self, dir: Vec<u8>, id: Oid, head: Option<Oid>) -> Result<(), String> {
        if head == Some(id) {
            return Ok(());
        }
        let new = self.read_tree(id, &dir)?;
        let old = match head {
            Some(h) => self.read_tree(h, &dir)?,
            None => Vec::new(),
        };
        // Both trees are in git's tree order: one merge pairs each entry
        // with HEAD's of the same name and kind. (Entries out of order only
        // go unpaired: judged as added, HEAD's as deleted, never missed.)
        let mut gone = Vec::new();
        let mut o = 0;
        for e in &new {
            while o < old.len() && tree_order(&old[o], e).is_lt() {
                gone.push(o);
                o += 1;
            }
            let before = (o < old.len() && tree_order(&old[o], e).is_eq()).then(|| {
                o += 1;
                (old[o - 1].mode, old[o - 1].id)
            });
            let mut path = dir.clone();
            path.extend_from_slice(&e.name);
            if e.mode == MODE_TREE {
                path.push(b'/');
                self.sparse_dir(path, e.id, before.map(|(_, id)| id))?;
                continue;
            }
            if before.is_some_and(|(_, id)| id == e.id) {
                continue;
            }
            let head = before
                .filter(|(m, _)| m & MODE_TYPE == MODE_FILE && e.mode & MODE_TYPE == MODE_FILE)
                .map(|(_, id)| id);
            self.out.files.push(StagedFile {
                path: PathBytes(path),
                id: e.id,
                kind: EntryKind::of(e.mode),
                head,
            });
        }
        gone.extend(o..old.len());
        for i in gone {
            self.deleted(dir.clone(), &old[i])?;
        }
        Ok(())
    }

    /// Every regular file under a HEAD directory the index no longer has;
    /// `dir` is its path with a trailing `/` (empty for the top).
    fn deleted_tree(&mut self, dir: Vec<u8>, id: Oid) -> Result<(), String> {
        for e in self.read_tree(id, &dir)? {
            self.deleted(dir.clone(), &e)?;
        }
        Ok(())
    }

    /// HEAD entry `e` under `dir` (a path ending in `/`, or empty) is not in
    /// the index: a regular file is recorded as deleted, a directory is walked.
    fn deleted(&mut self, dir: Vec<u8>, e: &HeadEntry) -> Result<(), String> {
        let mut path = dir;
        path.extend_from_slice(&e.name);
        if e.mode == MODE_TREE {
            path.push(b'/');
            self.deleted_tree(path, e.id)?;
        } else if e.mode & MODE_TYPE == MODE_FILE {
            self.out.deleted.push((PathBytes(path), e.id));
        }
        Ok(())
    }

    fn read_tree(&self, id: Oid, dir: &[u8]) -> Result<Vec<HeadEntry>, String> {
        read_tree(self.objects, id, dir)
    }
}

/// Git's order of tree entries: by name, a tree's name read as if it ended
/// in `/`.
fn tree_order(a: &HeadEntry, b: &HeadEntry) -> std::cmp::Ordering {
    let n = a.name.len().min(b.name.len());
    let end = |e: &HeadEntry| {
        e.name
            .get(n)
            .copied()
            .unwrap_or(if e.mode == MODE_TREE { b'/' } else { 0 })
    };
    a.name[..n]
        .cmp(&b.name[..n])
        .then_with(|| end(a).cmp(&end(b)))
        .then_with(|| a.name.len().cmp(&b.name.len()))
}

/// The id of the file (not a tree) at `path` in tree `root`, read tree by
/// tree through the checked reader (each tree once: `trees` keeps them);
/// `None` if there is none.
fn head_blob(
    objects: &Objects,
    root: Oid,
    path: &[u8],
    trees: &mut HashMap<Oid, Vec<HeadEntry>>,
) -> Result<Option<Oid>, String> {
    let mut tree = root;
    let mut dir = Vec::new();
    let mut parts = path.split(|&b| b == b'/').peekable();
    while let Some(name) = parts.next() {
        let last = parts.peek().is_none();
        let entries = match trees.entry(tree) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(read_tree(objects, tree, &dir)?)
            }
        };
        let Some(e) = entries
            .iter()
            .find(|e| e.name == name && (e.mode == MODE_TREE) != last)
        else {
            return Ok(None);
        };
        if last {
            return Ok(Some(e.id));
        }
        tree = e.id;
        dir.extend_from_slice(name);
        dir.push(b'/');
    }
    Ok(None)
}

/// The entries of tree `id` (at `dir`, for messages).
fn read_tree(objects: &Objects, id: Oid, dir: &[u8]) -> Result<Vec<HeadEntry>, String> {
    let err = |e: git2::Error| {
        format!(
            "HEAD tree `{}`: {}",
            String::from_utf8_lossy(dir).trim_end_matches('/'),
            e.message()
        )
    };
    let named = |e: String| {
        format!(
            "HEAD tree `{}`: {e}",
            String::from_utf8_lossy(dir).trim_end_matches('/')
        )
    };
    let (repo, guard) = match objects {
        Objects::Lg(git) => git
            .reader()
            .lg()
            .ok_or_else(|| named("not read through libgit2".into()))?,
        Objects::Native(n) => {
            return Ok(n
                .tree(&id)
                .map_err(named)?
                .into_iter()
                .map(|e| HeadEntry {
                    name: e.name,
                    mode: e.mode,
                    id: e.id,
                })
                .collect())
        }
    };
    guard.check(id).map_err(|e| named(e.0))?;
    let tree = repo.find_tree(to_git2(id).map_err(named)?).map_err(err)?;
    Ok(tree
        .iter()
        .map(|e| HeadEntry {
            name: e.name_bytes().to_vec(),
            mode: e.filemode() as u32,
            id: e.id().into(),
        })
        .collect())
}

/// The lines of a blob, for similarity: line hash → (count, bytes per line).
struct LineSet {
    lines: HashMap<u64, (u32, u32)>,
    size: usize,
}

impl LineSet {
    fn new(bytes: &[u8]) -> LineSet {
        use std::hash::{BuildHasher, RandomState};
        let hasher = LINE_HASHER.get_or_init(RandomState::new);
        let mut lines: HashMap<u64, (u32, u32)> = HashMap::new();
        for line in bytes.split_inclusive(|&b| b == b'\n') {
            let slot = lines
                .entry(hasher.hash_one(line))
                .or_insert((0, line.len() as u32));
            slot.0 += 1;
        }
        LineSet {
            lines,
            size: bytes.len(),
        }
    }

    /// Bytes in lines both have, over the larger size (git's rename score).
    fn similarity(&self, other: &LineSet) -> f64 {
        let max = self.size.max(other.size);
        if max == 0 {
            return 1.0;
        }
        let (small, large) = if self.lines.len() <= other.lines.len() {
            (self, other)
        } else {
            (other, self)
        };
        let common: u64 = small
            .lines
            .iter()
            .filter_map(|(h, &(n, len))| {
                large
                    .lines
                    .get(h)
                    .map(|&(m, _)| n.min(m) as u64 * len as u64)
            })
            .sum();
        common as f64 / max as f64
    }
}

/// One hasher for all `LineSet`s of a run, so their hashes compare.
static LINE_HASHER: std::sync::OnceLock<std::hash::RandomState> = std::sync::OnceLock::new();

/// A blob's bytes: libgit2's, or read here (a loose object).
pub enum StoredBlob<'r> {
    Git(Blob<'r>),
    Own(Vec<u8>),
}

impl StoredBlob<'_> {
    pub fn content(&self) -> &[u8] {
        match self {
            StoredBlob::Git(b) => b.content(),
            StoredBlob::Own(v) => v,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_is_shared_bytes_over_larger_size() {
        let a = LineSet::new(b"one\ntwo\nthree\n");
        let b = LineSet::new(b"one\ntwo\nfour\n");
        let s = a.similarity(&b);
        assert!((s - 8.0 / 14.0).abs() < 1e-9, "{s}");
        assert_eq!(a.similarity(&a), 1.0);
    }

    /// One pass for a whole small change answers exactly what one pass per
    /// file answers: copies by name and by directory, content already in
    /// HEAD, in the same order.
    #[test]
    fn batched_scan_of_unchanged_entries_equals_one_per_file() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .args(["-c", "user.name=t", "-c", "user.email=t@e", "-C"])
                .arg(dir.path())
                .args(args)
                .status()
                .unwrap()
                .success();
            assert!(ok, "git {args:?}");
        };
        let write = |p: &str, text: &str| {
            let p = dir.path().join(p);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        git(&["init", "-q"]);
        for d in ["a", "b", "c"] {
            for n in ["x.txt", "y.txt", "conf.py"] {
                write(&format!("{d}/{n}"), &format!("{d} {n}\n"));
            }
        }
        git(&["add", "."]);
        git(&["commit", "-q", "-m", "one"]);
        write("a/new.txt", "a x.txt\n");
        write("b/conf.py", "changed\n");
        write("c/z.txt", "brand new\n");
        write("d/x.txt", "elsewhere\n");
        write("b/y.txt", "c y.txt\n");
        git(&["add", "."]);
        let repo = Staging::open(Some(dir.path())).unwrap();
        let changes = repo.changes().unwrap();
        assert_eq!(changes.files.len(), 5);
        let all = changes.scan_unchanged_all().unwrap();
        let mut copies = 0;
        for (f, batched) in changes.files.iter().zip(&all) {
            let one = changes.scan_unchanged_one(f).unwrap();
            assert_eq!(batched.in_head, one.in_head, "{:?}", f.path);
            assert_eq!(batched.same_id, one.same_id, "{:?}", f.path);
            assert_eq!(batched.sources, one.sources, "{:?}", f.path);
            copies += one.sources.len();
            // What the callers get: the batched answer.
            assert_eq!(changes.scan_unchanged(f).unwrap().sources, one.sources);
        }
        assert!(copies > 5);
        // Checked against HEAD's trees by the caller's answer.
        let in_head: Vec<bool> = changes
            .files
            .iter()
            .map(|f| repo.in_head(&changes, f).unwrap())
            .collect();
        assert_eq!(
            in_head,
            changes
                .files
                .iter()
                .map(|f| f.path.0 == b"a/new.txt" || f.path.0 == b"b/y.txt")
                .collect::<Vec<_>>(),
            "a/new.txt is a/x.txt's content and b/y.txt c/y.txt's, in HEAD"
        );
    }

    #[test]
    fn split_dir_parts() {
        assert_eq!(split_dir(b"a/b/c.txt"), (&b"a/b/"[..], &b"c.txt"[..]));
        assert_eq!(split_dir(b"c.txt"), (&b""[..], &b"c.txt"[..]));
    }
}
