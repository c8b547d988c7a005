//! What a commit introduces: a commit introduces a blob at a path when its
//! tree has the blob there and none of its parents has the same blob at the
//! same path; a commit without parents (a root, or a shallow clone's
//! boundary) introduces everything. A subtree identical to one parent's is
//! skipped whole, so the work per commit follows what it changed, not the
//! size of its tree.

use super::oid::ObjectId as Oid;

use super::odb::ObjectReader;
use super::revwalk::PlannedCommit;
use super::trees::{TreeIds, Trees};
use super::{EntryKind, MODE_GITLINK, MODE_SYMLINK, MODE_TYPE};

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
