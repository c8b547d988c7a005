//! Git history as a source: which commits a run covers (`plan`), and which
//! `(path, blob)` pairs each of those commits introduces (`introduced`).
//!
//! A commit introduces a blob at a path when its tree has the blob there and
//! none of its parents has the same blob at the same path; a commit without
//! parents (a root, or a shallow clone's boundary) introduces everything. A
//! subtree identical to one parent's is skipped whole, so the work per commit
//! follows what it changed, not the size of its tree.
//!
//! All object reading goes through `ObjectReader`, the one type to swap for
//! another object store. Nothing here starts threads (that is `pipeline`'s
//! job: one `ObjectReader` and `TreeCache` per worker) and nothing here knows
//! about rules or findings.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use git2::{ObjectType, Oid, Repository};

use crate::error::{Error, Result};

use super::pack::{self, Inflater, PackSet};
use super::trees::{TreeIds, Trees, MODE_GITLINK, MODE_SYMLINK, MODE_TYPE};

// ---------------------------------------------------------------------------
// Opening and reading

/// A repository located from a path inside it (or its `.git` directory, or a
/// bare repository).
#[derive(Debug, Clone)]
pub struct Repo {
    /// The git directory: `.git`, or the repository itself when bare.
    pub git_dir: PathBuf,
    /// The work tree; `None` for a bare repository.
    pub workdir: Option<PathBuf>,
}

impl Repo {
    /// Finds the repository containing `path`, as git does from a directory.
    pub fn discover(path: &Path) -> Result<Repo> {
        std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        let repo = Repository::discover(path).map_err(|e| Error::Git {
            repo: path.to_path_buf(),
            msg: if e.code() == git2::ErrorCode::NotFound {
                "not a git repository (nor inside one)".to_string()
            } else {
                e.message().to_string()
            },
        })?;
        Ok(Repo {
            git_dir: repo.path().to_path_buf(),
            workdir: repo.workdir().map(Path::to_path_buf),
        })
    }

    /// Where configuration and baseline are looked for: the work tree, or
    /// the repository itself when bare.
    pub fn root(&self) -> &Path {
        self.workdir.as_deref().unwrap_or(&self.git_dir)
    }
}

/// A problem reading one object; the scan records it and goes on.
#[derive(Debug, Clone)]
pub struct ReadError(pub String);

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<git2::Error> for ReadError {
    fn from(e: git2::Error) -> Self {
        ReadError(e.message().to_string())
    }
}

/// The one place that reads git objects. Not `Sync` (git2's `Repository` is
/// not): open one per thread.
pub struct ObjectReader {
    repo: Repository,
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
        let repo = Repository::open(git_dir).map_err(|e| Error::Git {
            repo: git_dir.to_path_buf(),
            msg: e.message().to_string(),
        })?;
        // A push's objects, while a pre-receive hook runs.
        super::objdirs::attach(&repo)?;
        Ok(ObjectReader { repo, packs: None })
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
        let odb = self.repo.odb()?;
        let obj = odb.read(oid)?;
        Ok(f(obj.kind(), obj.data()))
    }

    /// An object's size without reading its content.
    pub fn size(&self, oid: Oid) -> Result<u64, ReadError> {
        let odb = self.repo.odb()?;
        Ok(odb.read_header(oid)?.0 as u64)
    }

    /// Who wrote commit `oid`, when, and its summary line.
    pub fn commit_meta(&self, oid: Oid) -> Result<CommitMeta, ReadError> {
        let c = self.repo.find_commit(oid)?;
        let author = c.author();
        let when = author.when();
        Ok(CommitMeta {
            id: oid,
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

    fn repo(&self) -> &Repository {
        &self.repo
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
    pub id: Oid,
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
struct CommitData {
    tree: Oid,
    parents: Vec<Oid>,
    /// Committer date (what `--since` and `--until` compare, as in git).
    time: i64,
}

/// Parses the header of a raw commit object.
fn parse_commit(data: &[u8]) -> Option<CommitData> {
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

// ---------------------------------------------------------------------------
// Selecting commits

/// Which commits to scan, as the user asked.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `REV`, `^REV`, `A..B`, `A...B`; HEAD when there is no positive one and
    /// `all` is off.
    pub revs: Vec<String>,
    /// Every ref (branches, tags, remotes, stash, notes) and HEAD.
    pub all: bool,
    /// Revisions whose history is excluded (`--since-commit`).
    pub exclude: Vec<String>,
    /// Only commits whose committer date is at or after this (Unix seconds).
    pub since: Option<i64>,
    /// Only commits whose committer date is at or before this.
    pub until: Option<i64>,
}

/// A commit to scan, with what its introductions are computed against.
#[derive(Debug, Clone)]
pub struct PlannedCommit {
    pub id: Oid,
    pub tree: Oid,
    /// One per parent; `None` when the parent could not be read (everything
    /// is then new relative to it). Empty for roots and shallow boundaries.
    pub parent_trees: Vec<Option<Oid>>,
}

/// The commits of a run in topological order (parents before children).
#[derive(Debug, Default)]
pub struct Plan {
    pub commits: Vec<PlannedCommit>,
    pub warnings: Vec<String>,
    /// Objects that could not be read while walking (the run exits 2).
    pub errors: Vec<String>,
}

/// Resolves the selection and walks the history: which commits to scan, in
/// topological order. Bad revisions are errors; unreadable commits are
/// recorded in `Plan::errors` and the walk goes on without them.
pub fn plan(reader: &ObjectReader, sel: &Selection) -> Result<Plan> {
    let repo = reader.repo();
    let mut plan = Plan::default();
    let mut tips: Vec<(Oid, bool)> = Vec::new();
    for spec in &sel.revs {
        resolve(repo, spec, &mut tips)?;
    }
    for spec in &sel.exclude {
        let oid = peel_rev(repo, spec)?;
        tips.push((oid, true));
    }
    if sel.all {
        all_refs(repo, &mut tips, &mut plan)?;
    }
    if !sel.all && !tips.iter().any(|&(_, neg)| !neg) {
        match repo.head().and_then(|h| h.peel_to_commit()) {
            Ok(c) => tips.push((c.id(), false)),
            Err(e) if e.code() == git2::ErrorCode::UnbornBranch => {
                plan.warnings
                    .push("HEAD has no commits yet: nothing to scan".into());
                return Ok(plan);
            }
            Err(e) => return Err(git_error(repo, format!("HEAD: {}", e.message()))),
        }
    }
    let shallow = read_shallow(repo.path());
    let mut walk = Walk::new(reader, shallow);
    for &(oid, negative) in &tips {
        walk.add(oid, negative, None);
    }
    walk.run();
    let included: Vec<Oid> = walk
        .order
        .iter()
        .copied()
        .filter(|o| {
            let n = &walk.nodes[o];
            n.flags & UNINTERESTING == 0
                && sel.since.map_or(true, |s| n.data.time >= s)
                && sel.until.map_or(true, |u| n.data.time <= u)
        })
        .collect();
    let order = topological(&walk.nodes, &included);
    let mut cut = Vec::new();
    for oid in order {
        let n = &walk.nodes[&oid];
        if walk.shallow.contains(&oid) {
            cut.push(oid);
        }
        let parent_trees = n
            .data
            .parents
            .iter()
            .map(|p| {
                walk.nodes
                    .get(p)
                    .filter(|pn| pn.flags & MISSING == 0)
                    .map(|pn| pn.data.tree)
            })
            .collect();
        plan.commits.push(PlannedCommit {
            id: oid,
            tree: n.data.tree,
            parent_trees,
        });
    }
    if !cut.is_empty() {
        let ids: Vec<String> = cut.iter().map(|o| o.to_string()).collect();
        plan.warnings.push(format!(
            "shallow clone: history is cut at {} commit{} ({}); older commits are not in the repository and were not \
             scanned, and everything in a boundary commit is attributed to it",
            cut.len(),
            if cut.len() == 1 { "" } else { "s" },
            ids.join(", ")
        ));
    }
    plan.errors.append(&mut walk.errors);
    Ok(plan)
}

fn git_error(repo: &Repository, msg: String) -> Error {
    let path = repo.workdir().unwrap_or(repo.path());
    Error::Git {
        repo: path.to_path_buf(),
        msg,
    }
}

/// One command-line revision argument: `REV`, `^REV`, `A..B`, `A...B`.
fn resolve(repo: &Repository, spec: &str, tips: &mut Vec<(Oid, bool)>) -> Result<()> {
    if let Some(neg) = spec.strip_prefix('^') {
        tips.push((peel_rev(repo, neg)?, true));
        return Ok(());
    }
    if let Some((a, b)) = spec.split_once("...") {
        let a = peel_rev(repo, if a.is_empty() { "HEAD" } else { a })?;
        let b = peel_rev(repo, if b.is_empty() { "HEAD" } else { b })?;
        tips.push((a, false));
        tips.push((b, false));
        if let Ok(bases) = repo.merge_bases(a, b) {
            tips.extend(bases.iter().map(|&o| (o, true)));
        }
        return Ok(());
    }
    if let Some((a, b)) = spec.split_once("..") {
        tips.push((peel_rev(repo, if a.is_empty() { "HEAD" } else { a })?, true));
        tips.push((
            peel_rev(repo, if b.is_empty() { "HEAD" } else { b })?,
            false,
        ));
        return Ok(());
    }
    tips.push((peel_rev(repo, spec)?, false));
    Ok(())
}

/// A revision peeled to a commit.
fn peel_rev(repo: &Repository, spec: &str) -> Result<Oid> {
    let obj = repo
        .revparse_single(spec)
        .map_err(|e| git_error(repo, format!("unknown revision `{spec}`: {}", e.message())))?;
    let commit = obj
        .peel_to_commit()
        .map_err(|_| git_error(repo, format!("`{spec}` does not name a commit")))?;
    Ok(commit.id())
}

/// `--all`: HEAD and every ref under `refs/` that leads to a commit.
fn all_refs(repo: &Repository, tips: &mut Vec<(Oid, bool)>, plan: &mut Plan) -> Result<()> {
    if let Ok(c) = repo.head().and_then(|h| h.peel_to_commit()) {
        tips.push((c.id(), false));
    }
    let refs = repo
        .references()
        .map_err(|e| git_error(repo, format!("cannot list refs: {}", e.message())))?;
    let mut names = Vec::new();
    for r in refs {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                plan.errors.push(format!("ref: {}", e.message()));
                continue;
            }
        };
        let name = String::from_utf8_lossy(r.name_bytes()).into_owned();
        match r.resolve().and_then(|r| r.peel(ObjectType::Any)) {
            Ok(obj) => match obj.kind() {
                Some(ObjectType::Commit) => names.push((name, obj.id())),
                _ => plan.warnings.push(format!(
                    "{name} points to a {}, not a commit: not scanned",
                    obj.kind().map_or("object", |k| k.str())
                )),
            },
            // A symbolic ref to a branch that does not exist yet is harmless.
            Err(e)
                if e.code() == git2::ErrorCode::NotFound
                    && r.kind() == Some(git2::ReferenceType::Symbolic) => {}
            Err(e) => plan.errors.push(format!("{name}: {}", e.message())),
        }
    }
    names.sort();
    tips.extend(names.into_iter().map(|(_, oid)| (oid, false)));
    Ok(())
}

/// The commits listed in `.git/shallow`: their parents are not in the clone.
fn read_shallow(git_dir: &Path) -> HashSet<Oid> {
    std::fs::read_to_string(git_dir.join("shallow"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| Oid::from_str(l.trim()).ok())
        .collect()
}

const UNINTERESTING: u8 = 1;
const QUEUED: u8 = 2;
const POPPED: u8 = 4;
const MISSING: u8 = 8;

/// After the last interesting commit leaves the queue, excluded commits dated
/// up to a day before the oldest included one are still walked: a commit
/// with a skewed clock may lead back into the included set.
const CLOCK_SKEW: i64 = 86_400;

struct Node {
    data: CommitData,
    flags: u8,
}

/// Git's limited walk: newest first, marking everything reachable from an
/// excluded tip; stops once only excluded commits are queued.
struct Walk<'r> {
    reader: &'r ObjectReader,
    nodes: OidMap<Node>,
    heap: BinaryHeap<(i64, Oid)>,
    interesting_queued: usize,
    /// Interesting commits in the order they left the queue.
    order: Vec<Oid>,
    shallow: HashSet<Oid>,
    errors: Vec<String>,
}

impl<'r> Walk<'r> {
    fn new(reader: &'r ObjectReader, shallow: HashSet<Oid>) -> Walk<'r> {
        Walk {
            reader,
            nodes: OidMap::default(),
            heap: BinaryHeap::new(),
            interesting_queued: 0,
            order: Vec::new(),
            shallow,
            errors: Vec::new(),
        }
    }

    fn add(&mut self, oid: Oid, uninteresting: bool, child: Option<Oid>) {
        if self.nodes.contains_key(&oid) {
            if uninteresting {
                self.mark_uninteresting(oid);
            }
            return;
        }
        let read = self.reader.with_object(oid, |kind, data| match kind {
            ObjectType::Commit => {
                parse_commit(data).ok_or_else(|| ReadError("malformed commit".into()))
            }
            other => Err(ReadError(format!("expected a commit, found a {other}"))),
        });
        let mut data = match read.and_then(|r| r) {
            Ok(d) => d,
            Err(e) => {
                let whose = child.map_or(String::new(), |c| format!(" (parent of {c})"));
                self.errors.push(format!(
                    "commit {oid}{whose} cannot be read: {e}; the history below it is not scanned"
                ));
                let data = CommitData {
                    tree: Oid::zero(),
                    parents: Vec::new(),
                    time: 0,
                };
                self.nodes.insert(
                    oid,
                    Node {
                        data,
                        flags: MISSING,
                    },
                );
                return;
            }
        };
        if self.shallow.contains(&oid) {
            data.parents.clear();
        }
        let mut flags = QUEUED;
        if uninteresting {
            flags |= UNINTERESTING;
        } else {
            self.interesting_queued += 1;
        }
        self.heap.push((data.time, oid));
        self.nodes.insert(oid, Node { data, flags });
    }

    fn mark_uninteresting(&mut self, oid: Oid) {
        let mut stack = vec![oid];
        while let Some(o) = stack.pop() {
            let Some(n) = self.nodes.get_mut(&o) else {
                continue;
            };
            if n.flags & UNINTERESTING != 0 {
                continue;
            }
            n.flags |= UNINTERESTING;
            if n.flags & QUEUED != 0 {
                self.interesting_queued -= 1;
            }
            if n.flags & POPPED != 0 {
                // Its parents are already walked: they become excluded too.
                stack.extend(n.data.parents.iter().copied());
            }
        }
    }

    fn run(&mut self) {
        let mut oldest_included = i64::MAX;
        while let Some(&(time, oid)) = self.heap.peek() {
            if self.interesting_queued == 0 && time < oldest_included.saturating_sub(CLOCK_SKEW) {
                break;
            }
            self.heap.pop();
            let n = self.nodes.get_mut(&oid).expect("queued commits are known");
            n.flags = (n.flags & !QUEUED) | POPPED;
            let uninteresting = n.flags & UNINTERESTING != 0;
            let parents = n.data.parents.clone();
            if !uninteresting {
                self.interesting_queued -= 1;
                oldest_included = oldest_included.min(time);
                self.order.push(oid);
            }
            for p in parents {
                self.add(p, uninteresting, Some(oid));
            }
        }
    }
}

/// Orders `included` parents-first (Kahn's algorithm); among commits ready
/// at the same time, the oldest (then the smallest id) goes first.
fn topological(nodes: &OidMap<Node>, included: &[Oid]) -> Vec<Oid> {
    let index: OidMap<usize> = included.iter().enumerate().map(|(i, &o)| (o, i)).collect();
    let mut pending = vec![0usize; included.len()];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); included.len()];
    for (i, oid) in included.iter().enumerate() {
        for p in &nodes[oid].data.parents {
            if let Some(&pi) = index.get(p) {
                pending[i] += 1;
                children[pi].push(i);
            }
        }
    }
    let key = |i: usize| Reverse((nodes[&included[i]].data.time, included[i]));
    let mut ready: BinaryHeap<_> = (0..included.len())
        .filter(|&i| pending[i] == 0)
        .map(key)
        .collect();
    let mut out = Vec::with_capacity(included.len());
    while let Some(Reverse((_, oid))) = ready.pop() {
        out.push(oid);
        for &c in &children[index[&oid]] {
            pending[c] -= 1;
            if pending[c] == 0 {
                ready.push(key(c));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// What a commit introduces

/// What a tree entry holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntryKind {
    File,
    Symlink,
    /// A gitlink: a commit of another repository.
    Submodule,
}

/// A blob (or gitlink) at a path that a commit introduces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Introduced {
    /// `/`-separated, as bytes (git paths need not be UTF-8).
    pub path: Vec<u8>,
    pub oid: Oid,
    pub kind: EntryKind,
}

/// An object that could not be read while diffing trees.
#[derive(Debug, Clone)]
pub struct TreeError {
    pub oid: Oid,
    pub msg: String,
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

/// Appends to `out` every `(path, blob)` (and gitlink) that `commit`
/// introduces, and to `errors` every tree that could not be read.
pub fn introduced(
    reader: &ObjectReader,
    trees: &mut Trees<'_>,
    commit: &PlannedCommit,
    out: &mut Vec<Introduced>,
    errors: &mut Vec<TreeError>,
) {
    let mut prefix = Vec::new();
    let mut d = Differ {
        reader,
        trees,
        out,
        errors,
    };
    d.tree(commit.tree, &commit.parent_trees, &mut prefix);
}

struct Differ<'a, 's> {
    reader: &'a ObjectReader,
    trees: &'a mut Trees<'s>,
    out: &'a mut Vec<Introduced>,
    errors: &'a mut Vec<TreeError>,
}

/// How many entry numbers `a` and `b` share at their start.
fn common_prefix(a: &[u32], b: &[u32]) -> usize {
    let n = a.len().min(b.len());
    let blocks = a[..n]
        .chunks_exact(8)
        .zip(b[..n].chunks_exact(8))
        .take_while(|(x, y)| x == y)
        .count();
    let mut i = blocks * 8;
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

/// What to do with an entry of a tree that differs from its parents'.
enum Step {
    Skip,
    Descend(Option<Oid>),
    Emit,
}

impl<'s> Differ<'_, 's> {
    fn read(&mut self, oid: Oid) -> Option<TreeIds<'s>> {
        match self.trees.get(self.reader, oid) {
            Ok(t) => Some(t),
            Err(e) => {
                self.errors.push(TreeError { oid, msg: e.0 });
                None
            }
        }
    }

    fn tree(&mut self, oid: Oid, parents: &[Option<Oid>], prefix: &mut Vec<u8>) {
        match parents {
            [] => self.tree1(oid, None, prefix),
            [p] => self.tree1(oid, *p, prefix),
            _ => self.tree_n(oid, parents, prefix),
        }
    }

    /// `tree` against at most one parent, the common case: an unchanged
    /// entry costs one comparison of two entry numbers.
    fn tree1(&mut self, oid: Oid, parent: Option<Oid>, prefix: &mut Vec<u8>) {
        // Identical to the parent's subtree: every path in it already exists there.
        if parent == Some(oid) {
            return;
        }
        let Some(tree) = self.read(oid) else { return };
        let parent_tree = parent.and_then(|p| self.read(p));
        let old: &[u32] = parent_tree.as_deref().unwrap_or(&[]);
        let (mut i, mut at) = (0, 0);
        loop {
            // Runs of unchanged entries (most of a large directory) are
            // skipped eight at a time.
            let same = common_prefix(&tree[i..], old.get(at..).unwrap_or(&[]));
            i += same;
            at += same;
            let Some(&id) = tree.get(i) else { break };
            i += 1;
            let e = self.trees.entry(id);
            while old
                .get(at)
                .is_some_and(|&h| self.trees.entry(h).cmp_git(&e) == std::cmp::Ordering::Less)
            {
                at += 1;
            }
            let same = old
                .get(at)
                .map(|&h| self.trees.entry(h))
                .filter(|h| h.name == e.name && h.is_tree() == e.is_tree());
            // The parent's entry of that name is used up: step past it, so
            // that the runs after it line up again.
            at += usize::from(same.is_some());
            let step = match same {
                // Only the mode changed.
                Some(h) if h.id == e.id => Step::Skip,
                Some(h) if e.is_tree() => Step::Descend(Some(h.oid())),
                _ if e.is_tree() => Step::Descend(None),
                _ => Step::Emit,
            };
            self.take(step, id, prefix);
        }
    }

    /// `tree` against several parents (a merge): an entry is new only if it
    /// differs from every parent's.
    fn tree_n(&mut self, oid: Oid, parents: &[Option<Oid>], prefix: &mut Vec<u8>) {
        if parents.contains(&Some(oid)) {
            return;
        }
        let Some(tree) = self.read(oid) else { return };
        let parent_trees: Vec<Option<TreeIds<'s>>> = parents
            .iter()
            .map(|p| p.and_then(|p| self.read(p)))
            .collect();
        // One cursor per parent, walking in step with this tree (same order).
        let mut cursors = vec![0usize; parent_trees.len()];
        let mut sub_parents: Vec<Option<Oid>> = Vec::with_capacity(parents.len());
        for &id in tree.iter() {
            let e = self.trees.entry(id);
            let mut unchanged = false;
            sub_parents.clear();
            for (t, at) in parent_trees.iter().zip(cursors.iter_mut()) {
                let old: &[u32] = t.as_deref().unwrap_or(&[]);
                while old
                    .get(*at)
                    .is_some_and(|&h| self.trees.entry(h).cmp_git(&e) == std::cmp::Ordering::Less)
                {
                    *at += 1;
                }
                let same_name = old
                    .get(*at)
                    .map(|&h| self.trees.entry(h))
                    .filter(|h| h.name == e.name && h.is_tree() == e.is_tree());
                match same_name {
                    Some(h) if h.id == e.id => {
                        unchanged = true;
                        break;
                    }
                    Some(h) if e.is_tree() => sub_parents.push(Some(h.oid())),
                    _ => sub_parents.push(None),
                }
            }
            if unchanged {
                continue;
            }
            if e.is_tree() {
                let subs = std::mem::take(&mut sub_parents);
                self.descend(id, &subs, prefix);
                sub_parents = subs;
            } else {
                self.emit(id, prefix);
            }
        }
    }

    fn take(&mut self, step: Step, id: u32, prefix: &mut Vec<u8>) {
        match step {
            Step::Skip => {}
            Step::Descend(p) => self.descend(id, &[p], prefix),
            Step::Emit => self.emit(id, prefix),
        }
    }

    /// Diffs subtree entry `id` against the parents' subtrees at the same path.
    fn descend(&mut self, id: u32, parents: &[Option<Oid>], prefix: &mut Vec<u8>) {
        let len = prefix.len();
        let e = self.trees.entry(id);
        prefix.extend_from_slice(e.name);
        prefix.push(b'/');
        let oid = e.oid();
        self.tree(oid, parents, prefix);
        prefix.truncate(len);
    }

    /// Records a new blob or gitlink.
    fn emit(&mut self, id: u32, prefix: &[u8]) {
        let e = self.trees.entry(id);
        let kind = match e.mode & MODE_TYPE {
            MODE_GITLINK => EntryKind::Submodule,
            MODE_SYMLINK => EntryKind::Symlink,
            _ => EntryKind::File,
        };
        let mut path = Vec::with_capacity(prefix.len() + e.name.len());
        path.extend_from_slice(prefix);
        path.extend_from_slice(e.name);
        self.out.push(Introduced {
            path,
            oid: e.oid(),
            kind,
        });
    }
}

// ---------------------------------------------------------------------------
// Dates

/// Parses `YYYY-MM-DD` (midnight UTC, or the end of that day when
/// `end_of_day`) or RFC 3339 (`2024-05-01T12:00:00Z`, `…+02:00`) into Unix seconds.
pub fn parse_date(s: &str, end_of_day: bool) -> Option<i64> {
    let s = s.trim();
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, m, d);
    if b.len() == 10 {
        return Some(days * 86_400 + if end_of_day { 86_399 } else { 0 });
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 19 || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        rest = &frac[digits..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && &rest[3..4] == ":" =>
        {
            let oh: i64 = rest[1..3].parse().ok()?;
            let om: i64 = rest[4..6].parse().ok()?;
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (oh * 3600 + om * 60)
        }
        _ => return None,
    };
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss - offset)
}

/// `2024-01-02T03:04:05+01:00` for a git time and its UTC offset.
pub fn rfc3339(secs: i64, offset_minutes: i32) -> String {
    let local = secs + i64::from(offset_minutes) * 60;
    let (days, rem) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let off = offset_minutes.unsigned_abs();
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        off / 60,
        off % 60
    )
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(parse_date("1970-01-01", false), Some(0));
        assert_eq!(parse_date("2024-01-01", false), Some(1_704_067_200));
        assert_eq!(parse_date("2024-01-01", true), Some(1_704_067_200 + 86_399));
        assert_eq!(
            parse_date("2024-01-01T01:00:00+01:00", false),
            Some(1_704_067_200)
        );
        assert_eq!(
            parse_date("2024-01-01T00:00:00.5Z", false),
            Some(1_704_067_200)
        );
        assert_eq!(parse_date("2024-13-01", false), None);
        assert_eq!(parse_date("yesterday", false), None);
        assert_eq!(rfc3339(1_704_067_200, 0), "2024-01-01T00:00:00+00:00");
        assert_eq!(rfc3339(1_709_210_096, -90), "2024-02-29T11:04:56-01:30");
    }

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
