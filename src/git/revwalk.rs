//! Which commits a run covers: revisions and ranges resolved, `--all`'s refs
//! listed, and git's limited walk with dates, in topological order (parents
//! before children).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::path::Path;

use git2::ObjectType;

use crate::error::{Error, Result};
use crate::stats::{ErrorKind, ItemError};

use super::odb::{CommitData, ObjectReader};
use super::oid::ObjectId as Oid;
use super::revspec::{peel, peel_commit};
use super::OidMap;

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
    /// Commits whose history is excluded, already resolved (the pre-receive
    /// hook's existing refs, ~1,000 on a large server: parsing each as a
    /// revision looked it up as a ref name and read it twice more).
    pub hide: Vec<Oid>,
    /// Only commits whose committer date is at or after this (Unix seconds).
    pub since: Option<i64>,
    /// Only commits whose committer date is at or before this.
    pub until: Option<i64>,
}

impl Selection {
    /// Whole histories: no ranges, exclusions or dates, so every commit
    /// reachable from the tips is scanned.
    pub fn is_whole_history(&self) -> bool {
        self.exclude.is_empty()
            && self.hide.is_empty()
            && self.since.is_none()
            && self.until.is_none()
            && self
                .revs
                .iter()
                .all(|r| !r.contains("..") && !r.starts_with('^'))
    }
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
    /// Refs other than branches (`--all`: tags, notes, …) whose target,
    /// tags followed, is a blob or a tree, not a commit: (ref name, object
    /// type, object id). The history driver scans them as they are.
    pub tagged: Vec<(String, super::Kind, Oid)>,
    pub warnings: Vec<String>,
    /// Objects that could not be read while walking (the run exits 2).
    pub errors: Vec<ItemError>,
}

/// Resolves the selection and walks the history: which commits to scan, in
/// topological order. Bad revisions are errors; unreadable commits are
/// recorded in `Plan::errors` and the walk goes on without them.
pub fn plan(reader: &ObjectReader, sel: &Selection) -> Result<Plan> {
    let mut plan = Plan::default();
    let mut tips: Vec<(Oid, bool)> = Vec::new();
    for spec in &sel.revs {
        resolve(reader, spec, &mut tips)?;
    }
    for spec in &sel.exclude {
        let oid = peel_rev(reader, spec)?;
        tips.push((oid, true));
    }
    tips.extend(sel.hide.iter().map(|&oid| (oid, true)));
    if sel.all {
        all_refs(reader, &mut tips, &mut plan)?;
    }
    if !sel.all && !tips.iter().any(|&(_, neg)| !neg) {
        let native_head = match (reader.reftable(), reader.native()) {
            (Some(refs), _) => Some(Ok(refs.resolve_id(b"HEAD"))),
            (None, Some(n)) => Some(n.head()),
            (None, None) => None,
        };
        if let Some(head) = native_head {
            match head.map_err(|e| git_error(reader, format!("HEAD: {e}")))? {
                Some(id) => tips.push((
                    peel_commit(reader, "HEAD", id).map_err(|e| git_error(reader, e))?,
                    false,
                )),
                None => {
                    plan.warnings
                        .push("HEAD has no commits yet: nothing to scan".into());
                    return Ok(plan);
                }
            }
        } else if let Some(repo) = reader.repo() {
            match repo.head().and_then(|h| h.resolve()) {
                Ok(h) => {
                    let id = h.target().map_or_else(Oid::zero, Oid::from);
                    tips.push((
                        peel_commit(reader, "HEAD", id).map_err(|e| git_error(reader, e))?,
                        false,
                    ))
                }
                Err(e) if e.code() == git2::ErrorCode::UnbornBranch => {
                    plan.warnings
                        .push("HEAD has no commits yet: nothing to scan".into());
                    return Ok(plan);
                }
                Err(e) => return Err(git_error(reader, format!("HEAD: {}", e.message()))),
            }
        }
    }
    let shallow = read_shallow(reader.git_dir());
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

fn git_error(reader: &ObjectReader, msg: String) -> Error {
    let path = reader.workdir().unwrap_or(reader.git_dir());
    Error::Git {
        repo: path.to_path_buf(),
        msg,
    }
}

/// One command-line revision argument: `REV`, `^REV`, `A..B`, `A...B`.
fn resolve(repo: &ObjectReader, spec: &str, tips: &mut Vec<(Oid, bool)>) -> Result<()> {
    if let Some(neg) = spec.strip_prefix('^') {
        tips.push((peel_rev(repo, neg)?, true));
        return Ok(());
    }
    if let Some((a, b)) = spec.split_once("...") {
        let a = peel_rev(repo, if a.is_empty() { "HEAD" } else { a })?;
        let b = peel_rev(repo, if b.is_empty() { "HEAD" } else { b })?;
        tips.push((a, false));
        tips.push((b, false));
        let git_dir = repo.git_dir().to_path_buf();
        let common = common_frontier(repo, a, b, &read_shallow(&git_dir))
            .map_err(|e| git_error(repo, format!("`{spec}`: {e}")))?;
        tips.extend(common.into_iter().map(|o| (o, true)));
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

/// For `A...B`: the common ancestors of `a` and `b` nearest to `b` (every
/// merge base is among them, and everything they lead to is common), so
/// excluding them excludes exactly what git's `A...B` excludes. Read through
/// the checked reader (libgit2's merge-base search reads unchecked).
fn common_frontier(
    reader: &ObjectReader,
    a: Oid,
    b: Oid,
    shallow: &HashSet<Oid>,
) -> std::result::Result<Vec<Oid>, String> {
    let parents = |c: Oid| -> std::result::Result<Vec<Oid>, String> {
        if shallow.contains(&c) {
            return Ok(Vec::new());
        }
        reader
            .commit(c)
            .map(|d| d.parents)
            .map_err(|e| format!("commit {c}: {e}"))
    };
    let mut of_a: HashSet<Oid> = HashSet::from([a]);
    let mut stack = vec![a];
    while let Some(c) = stack.pop() {
        for p in parents(c)? {
            if of_a.insert(p) {
                stack.push(p);
            }
        }
    }
    let mut seen: HashSet<Oid> = HashSet::from([b]);
    let mut stack = vec![b];
    let mut common = Vec::new();
    while let Some(c) = stack.pop() {
        if of_a.contains(&c) {
            common.push(c);
            continue;
        }
        for p in parents(c)? {
            if seen.insert(p) {
                stack.push(p);
            }
        }
    }
    Ok(common)
}

/// A revision peeled to a commit (every object read checked).
fn peel_rev(reader: &ObjectReader, spec: &str) -> Result<Oid> {
    super::revspec::commit(reader, spec).map_err(|e| git_error(reader, e))
}

/// `--all`: HEAD and every ref under `refs/` that leads to a commit. A
/// branch (or HEAD, or a remote branch) that leads to anything else, or to
/// an unreadable object, is an error: git keeps only commits there, so it
/// means damage (a corrupt `.idx` resolves an id to the wrong entry). A tag
/// may name a tree or a blob (the kernel's v2.6.11 does): a warning.
fn all_refs(reader: &ObjectReader, tips: &mut Vec<(Oid, bool)>, plan: &mut Plan) -> Result<()> {
    let listed = match (reader.reftable(), reader.native(), reader.repo()) {
        (Some(refs), _, _) => Some((
            Ok(refs.resolve_id(b"HEAD")),
            refs.list("refs/").into_iter().map(Ok).collect(),
        )),
        (None, Some(n), _) => Some((
            n.head(),
            n.list("refs/")
                .map_err(|e| git_error(reader, format!("cannot list refs: {e}")))?,
        )),
        (None, None, _) => None,
    };
    let repo = match (listed, reader.repo()) {
        (Some((head, refs)), _) => {
            match head {
                Ok(Some(id)) => match peel_commit(reader, "HEAD", id) {
                    Ok(c) => tips.push((c, false)),
                    Err(e) => plan.errors.push(ItemError::new(ErrorKind::Object, e)),
                },
                Ok(None) => {}
                Err(e) => plan
                    .errors
                    .push(ItemError::new(ErrorKind::Repository, format!("HEAD: {e}"))),
            }
            let mut targets: Vec<(String, Oid)> = Vec::new();
            for r in refs {
                match r {
                    Ok(r) => {
                        if let Some(id) = r.resolved {
                            targets.push((String::from_utf8_lossy(&r.name).into_owned(), id));
                        }
                    }
                    Err(e) => plan
                        .errors
                        .push(ItemError::new(ErrorKind::Repository, format!("ref: {e}"))),
                }
            }
            return ref_tips(reader, targets, tips, plan);
        }
        (None, Some(repo)) => repo,
        (None, None) => return Ok(()),
    };
    match repo.head().and_then(|h| h.resolve()) {
        Ok(h) => match peel_commit(reader, "HEAD", h.target().map_or_else(Oid::zero, Oid::from)) {
            Ok(c) => tips.push((c, false)),
            Err(e) => plan.errors.push(ItemError::new(ErrorKind::Object, e)),
        },
        Err(e)
            if matches!(
                e.code(),
                git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound
            ) => {}
        Err(e) => plan.errors.push(ItemError::new(
            ErrorKind::Repository,
            format!("HEAD: {}", e.message()),
        )),
    }
    let refs = repo
        .references()
        .map_err(|e| git_error(reader, format!("cannot list refs: {}", e.message())))?;
    let mut targets = Vec::new();
    for r in refs {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                plan.errors.push(ItemError::new(
                    ErrorKind::Repository,
                    format!("ref: {}", e.message()),
                ));
                continue;
            }
        };
        let name = String::from_utf8_lossy(r.name_bytes()).into_owned();
        let target = match r.resolve() {
            Ok(t) => t.target(),
            // A symbolic ref to a branch that does not exist yet is harmless.
            Err(e)
                if e.code() == git2::ErrorCode::NotFound
                    && r.kind() == Some(git2::ReferenceType::Symbolic) =>
            {
                continue
            }
            Err(e) => {
                plan.errors.push(ItemError::new(
                    ErrorKind::Repository,
                    format!("{name}: {}", e.message()),
                ));
                continue;
            }
        };
        if let Some(target) = target {
            targets.push((name, Oid::from(target)));
        }
    }
    ref_tips(reader, targets, tips, plan)
}

/// Each ref's target peeled to a commit (see `all_refs`), added to `tips`
/// in name order.
fn ref_tips(
    reader: &ObjectReader,
    targets: Vec<(String, Oid)>,
    tips: &mut Vec<(Oid, bool)>,
    plan: &mut Plan,
) -> Result<()> {
    let mut names = Vec::new();
    for (name, target) in targets {
        let branch = name.starts_with("refs/heads/") || name.starts_with("refs/remotes/");
        match peel(reader, target) {
            Ok((ObjectType::Commit, c)) => names.push((name, c)),
            Ok((kind, o)) if branch => plan.errors.push(ItemError::new(
                ErrorKind::Object,
                format!(
                    "{name} points to {} {o}, not a commit (a damaged repository?)",
                    kind.str()
                ),
            )),
            Ok((kind, o)) => plan.tagged.push((name, super::Kind::of(kind), o)),
            Err(e) => plan
                .errors
                .push(ItemError::new(ErrorKind::Object, format!("{name}: {e}"))),
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
    errors: Vec<ItemError>,
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
        let mut data = match self.reader.commit(oid) {
            Ok(d) => d,
            Err(e) => {
                let whose = child.map_or(String::new(), |c| format!(" (parent of {c})"));
                self.errors.push(ItemError::new(
                    ErrorKind::Object,
                    format!(
                        "commit {oid}{whose} cannot be read: {e}; the history below it is not scanned"
                    ),
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
