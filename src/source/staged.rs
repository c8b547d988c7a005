//! The staged change: what `git commit` would record. Reads the index (see
//! `index`), compares it with HEAD's tree, descending only into directories
//! whose cache-tree entry no longer matches HEAD, and lists the staged files
//! that differ from HEAD. For a file that turns out to hold a secret it finds
//! the HEAD content to compare with (the same path, or the file it was renamed
//! or copied from) and which of its lines are new.
//!
//! Knows nothing about rules or findings: `commands::staged` scans the blobs
//! and keeps what falls on new lines. No `git` subprocess: libgit2 opens the
//! repository, reads objects and computes line diffs.

mod index;

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use git2::{ErrorCode, Oid, Repository};

use crate::error::{Error, Result};
use crate::finding::PathBytes;

use index::{CacheTree, Entry, Index, ReadError};

const MODE_TYPE: u32 = 0o170000;
const MODE_TREE: u32 = 0o040000;
const MODE_FILE: u32 = 0o100000;
const MODE_LINK: u32 = 0o120000;
const MODE_GITLINK: u32 = 0o160000;

/// Git's default rename threshold: at least half of the larger file's bytes
/// are lines the two files share.
const MIN_SIMILARITY: f64 = 0.5;
/// Unchanged HEAD files compared as possible copy sources for one added file
/// (same name first, then same directory). Git only looks at unchanged files
/// with `--find-copies-harder`, which reads every blob; these few are the
/// likely sources of a `cp` and cost one read each.
const MAX_UNCHANGED_SOURCES: usize = 32;
/// Deleted and modified files compared as rename or copy sources (git's
/// `diff.renameLimit` default); beyond this an added file counts as all new.
const MAX_CHANGED_SOURCES: usize = 1000;

/// What a staged path holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Symlink,
    Submodule,
}

impl Kind {
    fn of(mode: u32) -> Kind {
        match mode & MODE_TYPE {
            MODE_LINK => Kind::Symlink,
            MODE_GITLINK => Kind::Submodule,
            _ => Kind::File,
        }
    }
}

/// A path whose staged content differs from HEAD's (added or modified).
#[derive(Debug, Clone)]
pub struct StagedFile {
    pub path: PathBytes,
    /// The staged blob (or, for a submodule, commit).
    pub id: Oid,
    pub kind: Kind,
    /// HEAD's blob at the same path, when HEAD has a regular file there.
    pub head: Option<Oid>,
}

/// What a staged file's lines are new against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// HEAD has this exact content (an exact rename or copy, or a file
    /// changed back to content found elsewhere): no line is new.
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
    /// How the index was read, for `--debug`-style notes in warnings.
    pub notes: Vec<String>,
    index: Index,
    /// Index positions of `files`, sorted: every other stage-0 entry equals HEAD.
    changed: Vec<usize>,
}

/// A non-bare repository whose index is about to be committed.
pub struct Repo {
    repo: Repository,
    workdir: PathBuf,
    index_path: PathBuf,
}

impl Repo {
    /// Opens the repository containing `path`, or the one git's environment
    /// names (`GIT_DIR`, `GIT_WORK_TREE`, `GIT_INDEX_FILE`, as a hook sees them
    /// during `git commit -a` or `git commit PATH`) or containing the current
    /// directory.
    pub fn open(path: Option<&Path>) -> Result<Repo> {
        let opened = match path {
            Some(p) => Repository::discover(p),
            None => Repository::open_from_env(),
        };
        let shown = path.unwrap_or(Path::new("."));
        let repo = opened.map_err(|e| Error::Git {
            repo: shown.to_path_buf(),
            msg: match e.code() {
                ErrorCode::NotFound => "not inside a git repository (use --repo PATH)".into(),
                _ => e.message().to_string(),
            },
        })?;
        let workdir = repo
            .workdir()
            .ok_or_else(|| Error::Git {
                repo: repo.path().to_path_buf(),
                msg: "a bare repository has no index to commit".into(),
            })?
            .to_path_buf();
        let index_path = match (path, std::env::var_os("GIT_INDEX_FILE")) {
            (None, Some(f)) if !f.is_empty() => PathBuf::from(f),
            _ => repo.path().join("index"),
        };
        Ok(Repo {
            repo,
            workdir,
            index_path,
        })
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
        let index = self.read_index(&mut notes)?;
        let head = match self.repo.head() {
            Ok(r) => Some(
                r.peel_to_tree()
                    .map_err(|e| self.git_error(format!("HEAD: {}", e.message())))?
                    .id(),
            ),
            Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => None,
            Err(e) => return Err(self.git_error(format!("HEAD: {}", e.message()))),
        };
        let mut walk = Walk {
            repo: &self.repo,
            index: &index,
            cache: index.tree.as_ref(),
            files: Vec::new(),
            changed: Vec::new(),
            deleted: Vec::new(),
            unmerged: Vec::new(),
        };
        let root = walk.cache.and_then(CacheTree::root);
        walk.dir(b"", head, root, 0..index.entries.len())
            .map_err(|e| self.git_error(e))?;
        let Walk {
            files,
            mut changed,
            deleted,
            unmerged,
            ..
        } = walk;
        changed.sort_unstable();
        Ok(Changes {
            files,
            deleted,
            unmerged,
            initial: head.is_none(),
            notes,
            index,
            changed,
        })
    }

    fn read_index(&self, notes: &mut Vec<String>) -> Result<Index> {
        let data = match std::fs::read(&self.index_path) {
            Ok(d) => d,
            // No index yet: nothing has been staged.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Index::default()),
            Err(e) => return Err(Error::io(&self.index_path, e)),
        };
        match Index::parse(data) {
            Ok(ix) => Ok(ix),
            Err(ReadError::Corrupt(msg)) => Err(Error::Git {
                repo: self.index_path.clone(),
                msg,
            }),
            Err(ReadError::Unsupported(what)) => {
                notes.push(format!("{what}: read with libgit2 (slower)"));
                self.read_index_libgit2()
            }
        }
    }

    /// The slow, general reader, for index features `index` does not handle.
    fn read_index_libgit2(&self) -> Result<Index> {
        let ix = git2::Index::open(&self.index_path).map_err(|e| Error::Git {
            repo: self.index_path.clone(),
            msg: e.message().to_string(),
        })?;
        Ok(Index::from_entries(ix.iter().map(|e| {
            let entry = Entry::new(
                e.mode,
                *e.id.as_bytes().first_chunk().unwrap_or(&[0; 20]),
                ((e.flags >> 12) & 3) as u8,
                e.flags_extended & 0x2000 != 0,
            );
            (e.path, entry)
        })))
    }

    /// A blob's bytes.
    pub fn read(&self, id: Oid) -> Result<Vec<u8>, String> {
        self.repo
            .find_blob(id)
            .map(|b| b.content().to_vec())
            .map_err(|e| format!("object {id}: {}", e.message()))
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
        if changes.in_head(file.id) {
            return Ok(Base::Same);
        }
        if let Some(id) = file.head {
            return Ok(Base::Blob {
                id,
                path: file.path.clone(),
                how: How::Modified,
            });
        }
        let mut sources: Vec<(PathBytes, Oid, How)> = Vec::new();
        for (path, id) in changes.deleted.iter().take(MAX_CHANGED_SOURCES) {
            sources.push((path.clone(), *id, How::Renamed));
        }
        for f in &changes.files {
            if let Some(id) = f.head {
                if sources.len() >= 2 * MAX_CHANGED_SOURCES {
                    break;
                }
                sources.push((f.path.clone(), id, How::Copied));
            }
        }
        for (path, id) in changes.unchanged_near(&file.path, MAX_UNCHANGED_SOURCES) {
            sources.push((path, id, How::Copied));
        }
        let new = LineSet::new(content);
        let mut best: Option<(f64, usize)> = None;
        for (i, (_, id, _)) in sources.iter().enumerate() {
            let old = self.read(*id)?;
            let score = new.similarity(&LineSet::new(&old));
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
                Base::Blob { id, path, how }
            }
            None => Base::Nothing,
        })
    }
}

impl Changes {
    /// Whether HEAD holds a blob with this id anywhere.
    fn in_head(&self, id: Oid) -> bool {
        let want = id.as_bytes();
        self.deleted.iter().any(|(_, d)| *d == id)
            || self.files.iter().any(|f| f.head == Some(id))
            || self.unchanged().any(|(_, e)| e.id == want)
    }

    /// Index entries whose content equals HEAD's.
    fn unchanged(&self) -> impl Iterator<Item = (usize, &Entry)> {
        self.index.entries.iter().enumerate().filter(|(i, e)| {
            e.stage == 0 && !e.intent_to_add && self.changed.binary_search(i).is_err()
        })
    }

    /// Up to `max` unchanged regular files with `path`'s file name, then in its directory.
    fn unchanged_near(&self, path: &PathBytes, max: usize) -> Vec<(PathBytes, Oid)> {
        let (dir, name) = split_dir(&path.0);
        let mut same_name = Vec::new();
        let mut same_dir = Vec::new();
        for (_, e) in self.unchanged() {
            if e.mode & MODE_TYPE != MODE_FILE {
                continue;
            }
            let p = self.index.path(e);
            let (d, n) = split_dir(p);
            let id = Oid::from_bytes(&e.id).expect("20-byte id");
            if n == name && same_name.len() < max {
                same_name.push((PathBytes(p.to_vec()), id));
            } else if d == dir && same_dir.len() < max {
                same_dir.push((PathBytes(p.to_vec()), id));
            }
        }
        same_name.extend(same_dir);
        same_name.truncate(max);
        same_name
    }
}

/// (`dir/`, `name`) of a `/`-separated path; `dir` is empty at the top.
fn split_dir(p: &[u8]) -> (&[u8], &[u8]) {
    match memchr::memrchr(b'/', p) {
        Some(i) => (&p[..=i], &p[i + 1..]),
        None => (&[], p),
    }
}

/// An entry of a HEAD tree.
struct HeadEntry {
    name: Vec<u8>,
    mode: u32,
    id: Oid,
}

/// The index-against-HEAD comparison in progress.
struct Walk<'a> {
    repo: &'a Repository,
    index: &'a Index,
    cache: Option<&'a CacheTree>,
    files: Vec<StagedFile>,
    changed: Vec<usize>,
    deleted: Vec<(PathBytes, Oid)>,
    unmerged: Vec<PathBytes>,
}

impl<'a> Walk<'a> {
    /// Compares directory `prefix` (`""` or `a/b/`), whose index entries are
    /// `range`, with HEAD's tree `head` there. `node` is the directory's
    /// cache-tree node: when it is valid and names HEAD's tree, nothing below
    /// changed and no object is read.
    fn dir(
        &mut self,
        prefix: &'a [u8],
        head: Option<Oid>,
        node: Option<usize>,
        range: Range<usize>,
    ) -> Result<(), String> {
        if let (Some(h), Some(n), Some(cache)) = (head, node, self.cache) {
            if cache.node(n).id.as_ref() == Some(h.as_bytes().first_chunk().expect("20-byte id")) {
                return Ok(());
            }
        }
        let head_entries = match head {
            Some(id) => self.read_tree(id, prefix)?,
            None => Vec::new(),
        };
        let by_name: HashMap<&[u8], usize> = head_entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.as_slice(), i))
            .collect();
        let mut seen = vec![false; head_entries.len()];
        let index = self.index;
        let entries = &index.entries;
        let mut i = range.start;
        while i < range.end {
            let full = index.path(&entries[i]);
            let rest = &full[prefix.len()..];
            if let Some(k) = memchr::memchr(b'/', rest) {
                let name = &rest[..k];
                let sub = &full[..prefix.len() + k + 1];
                let j =
                    i + entries[i..range.end].partition_point(|e| index.path(e).starts_with(sub));
                let head_sub = by_name
                    .get(name)
                    .filter(|&&h| head_entries[h].mode == MODE_TREE)
                    .map(|&h| {
                        seen[h] = true;
                        head_entries[h].id
                    });
                let child = node.zip(self.cache).and_then(|(n, c)| c.child(n, name));
                self.dir(sub, head_sub, child, i..j)?;
                i = j;
            } else {
                let j = i + entries[i..range.end].partition_point(|e| index.path(e) == full);
                let head_file = by_name
                    .get(rest)
                    .filter(|&&h| head_entries[h].mode != MODE_TREE)
                    .map(|&h| {
                        seen[h] = true;
                        &head_entries[h]
                    });
                self.file(i..j, head_file);
                i = j;
            }
        }
        for (h, e) in head_entries.iter().enumerate() {
            if seen[h] {
                continue;
            }
            let mut path = prefix.to_vec();
            path.extend_from_slice(&e.name);
            if e.mode == MODE_TREE {
                path.push(b'/');
                self.deleted_tree(path, e.id)?;
            } else if e.mode & MODE_TYPE == MODE_FILE {
                self.deleted.push((PathBytes(path), e.id));
            }
        }
        Ok(())
    }

    /// One path of the index (several entries when it is conflicted).
    fn file(&mut self, range: Range<usize>, head: Option<&HeadEntry>) {
        let index = self.index;
        let e = &index.entries[range.start];
        let path = || PathBytes(index.path(e).to_vec());
        if range.len() > 1 || e.stage != 0 {
            self.unmerged.push(path());
            return;
        }
        // `git add -N`: a placeholder that `git commit` does not record.
        if e.intent_to_add {
            return;
        }
        let id = Oid::from_bytes(&e.id).expect("20-byte id");
        // The same content under a new mode adds no line.
        if head.is_some_and(|h| h.id == id) {
            return;
        }
        let head_blob = head
            .filter(|h| h.mode & MODE_TYPE == MODE_FILE && e.mode & MODE_TYPE == MODE_FILE)
            .map(|h| h.id);
        self.files.push(StagedFile {
            path: path(),
            id,
            kind: Kind::of(e.mode),
            head: head_blob,
        });
        self.changed.push(range.start);
    }

    /// Every regular file under a HEAD directory the index no longer has;
    /// `dir` is its path with a trailing `/`.
    fn deleted_tree(&mut self, dir: Vec<u8>, id: Oid) -> Result<(), String> {
        for e in self.read_tree(id, &dir)? {
            let mut path = dir.clone();
            path.extend_from_slice(&e.name);
            if e.mode == MODE_TREE {
                path.push(b'/');
                self.deleted_tree(path, e.id)?;
            } else if e.mode & MODE_TYPE == MODE_FILE {
                self.deleted.push((PathBytes(path), e.id));
            }
        }
        Ok(())
    }

    fn read_tree(&self, id: Oid, prefix: &[u8]) -> Result<Vec<HeadEntry>, String> {
        let tree = self.repo.find_tree(id).map_err(|e| tree_error(prefix, e))?;
        Ok(tree
            .iter()
            .map(|e| HeadEntry {
                name: e.name_bytes().to_vec(),
                mode: e.filemode() as u32,
                id: e.id(),
            })
            .collect())
    }
}

fn tree_error(prefix: &[u8], e: git2::Error) -> String {
    format!(
        "HEAD tree `{}`: {}",
        String::from_utf8_lossy(prefix).trim_end_matches('/'),
        e.message()
    )
}

/// The lines of a blob, for similarity: line hash → (count, bytes per line).
struct LineSet {
    lines: HashMap<u64, (u32, u32)>,
    size: usize,
}

impl LineSet {
    fn new(bytes: &[u8]) -> LineSet {
        use std::hash::{BuildHasher, RandomState};
        let hasher = FIXED_HASHER.get_or_init(RandomState::new);
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
static FIXED_HASHER: std::sync::OnceLock<std::hash::RandomState> = std::sync::OnceLock::new();

/// The 1-based line ranges of `new` that are not in `old` (a line diff).
pub fn added_lines(old: &[u8], new: &[u8]) -> Result<AddedLines, String> {
    let mut opts = git2::DiffOptions::new();
    opts.context_lines(0).interhunk_lines(0).force_text(true);
    let patch = git2::Patch::from_buffers(old, None, new, None, Some(&mut opts))
        .map_err(|e| format!("diff: {}", e.message()))?;
    let mut ranges = Vec::with_capacity(patch.num_hunks());
    for h in 0..patch.num_hunks() {
        let (hunk, _) = patch
            .hunk(h)
            .map_err(|e| format!("diff: {}", e.message()))?;
        let (start, n) = (hunk.new_start() as usize, hunk.new_lines() as usize);
        if n > 0 {
            ranges.push(start..start + n);
        }
    }
    Ok(AddedLines { ranges })
}

/// Lines a staged change adds to a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddedLines {
    /// Sorted, disjoint, 1-based, end-exclusive.
    pub ranges: Vec<Range<usize>>,
}

impl AddedLines {
    /// Whether any line of `first..=last` is added.
    pub fn touches(&self, first: usize, last: usize) -> bool {
        let i = self.ranges.partition_point(|r| r.end <= first);
        self.ranges.get(i).is_some_and(|r| r.start <= last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_lines_of_an_insertion() {
        let old = b"a\nb\nc\n";
        let new = b"a\nx\ny\nb\nc\nz\n";
        let added = added_lines(old, new).unwrap();
        assert_eq!(added.ranges, vec![2..4, 6..7]);
        assert!(added.touches(2, 2));
        assert!(added.touches(1, 2));
        assert!(!added.touches(4, 5));
        assert!(added.touches(5, 9));
        assert!(!added.touches(1, 1));
    }

    #[test]
    fn similarity_is_shared_bytes_over_larger_size() {
        let a = LineSet::new(b"one\ntwo\nthree\n");
        let b = LineSet::new(b"one\ntwo\nfour\n");
        let s = a.similarity(&b);
        assert!((s - 8.0 / 14.0).abs() < 1e-9, "{s}");
        assert_eq!(a.similarity(&a), 1.0);
    }

    #[test]
    fn split_dir_parts() {
        assert_eq!(split_dir(b"a/b/c.txt"), (&b"a/b/"[..], &b"c.txt"[..]));
        assert_eq!(split_dir(b"c.txt"), (&b""[..], &b"c.txt"[..]));
    }
}
