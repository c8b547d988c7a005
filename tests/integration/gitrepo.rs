//! `TempRepo`: git repositories built in-process with git2 for tests, with a
//! fixed author and fixed, increasing dates so commit ids are reproducible.
//!
//! The work tree is the model: `write`, `rm` and `mv` change files, `commit`
//! records the whole work tree (like `git add -A && git commit`). Branches,
//! merges (clean, conflicted or "evil"), tags, stashes, other refs, gitlinks
//! (submodules), bare clones and damage (deleted or corrupted objects, a
//! shallow cut) are one call each. Not a model of git's porcelain: no hooks, no
//! config, no network.

#![allow(dead_code)]

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use git2::build::{CheckoutBuilder, RepoBuilder};
use git2::{
    IndexAddOption, IndexEntry, IndexTime, ObjectType, Oid, Repository, RepositoryInitOptions,
    Signature, Time,
};
use tempfile::TempDir;

/// The author and committer of every commit.
pub const AUTHOR: &str = "Ada Tester";
pub const EMAIL: &str = "ada@example.com";
/// 2024-01-01T00:00:00Z: the first commit's date; commit `n` (0-based, in
/// creation order) is dated `n` days later.
pub const EPOCH: i64 = 1_704_067_200;
pub const DAY: i64 = 86_400;

pub struct TempRepo {
    dir: TempDir,
    repo: RefCell<Repository>,
    /// Commits made so far: the next commit's date is `EPOCH + count * DAY`.
    count: Cell<i64>,
    /// The other side of a merge begun with `begin_merge`, until `commit`.
    merging: Cell<Option<Oid>>,
    /// Gitlinks (submodule entries) to record in every later commit.
    gitlinks: RefCell<BTreeMap<Vec<u8>, Oid>>,
}

impl TempRepo {
    /// An empty non-bare repository whose first branch is `main`.
    pub fn new() -> TempRepo {
        let dir = tempfile::Builder::new()
            .prefix("leakscan-repo")
            .tempdir()
            .unwrap();
        let mut opts = RepositoryInitOptions::new();
        opts.initial_head("main");
        let repo = Repository::init_opts(dir.path(), &opts).unwrap();
        TempRepo {
            dir,
            repo: RefCell::new(repo),
            count: Cell::new(0),
            merging: Cell::new(None),
            gitlinks: RefCell::new(BTreeMap::new()),
        }
    }

    /// The work tree (the repository's top directory).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The `.git` directory.
    pub fn git_dir(&self) -> PathBuf {
        self.repo.borrow().path().to_path_buf()
    }

    /// Direct access to the repository, for anything not covered here.
    pub fn repo(&self) -> std::cell::Ref<'_, Repository> {
        self.repo.borrow()
    }

    /// Writes `content` to `path` (relative to the work tree), creating parents.
    pub fn write(&self, path: impl AsRef<Path>, content: impl AsRef<[u8]>) -> &TempRepo {
        let p = self.path().join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, content).unwrap();
        self
    }

    /// Deletes the file `path`.
    pub fn rm(&self, path: impl AsRef<Path>) -> &TempRepo {
        std::fs::remove_file(self.path().join(path)).unwrap();
        self
    }

    /// Renames `from` to `to`, creating `to`'s parents.
    pub fn mv(&self, from: impl AsRef<Path>, to: impl AsRef<Path>) -> &TempRepo {
        let to = self.path().join(to);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::rename(self.path().join(from), to).unwrap();
        self
    }

    /// Records a gitlink (a submodule at `commit`) at `path` in this and every
    /// later commit, with a matching `.gitmodules` entry. The submodule's own
    /// objects are not in this repository, as in a real superproject.
    pub fn submodule(&self, path: &str, commit: Oid) -> &TempRepo {
        self.gitlinks
            .borrow_mut()
            .insert(path.as_bytes().to_vec(), commit);
        let mut modules = String::new();
        for p in self.gitlinks.borrow().keys() {
            let p = String::from_utf8_lossy(p);
            modules += &format!("[submodule \"{p}\"]\n\tpath = {p}\n\turl = ../{p}.git\n");
        }
        self.write(".gitmodules", modules)
    }

    /// Commits the whole work tree (new, changed and deleted files) on the
    /// current branch; completes a merge begun with `begin_merge`.
    pub fn commit(&self, msg: &str) -> Oid {
        let when = EPOCH + self.count.get() * DAY;
        self.commit_at(msg, when)
    }

    /// `commit` with an explicit date (seconds since the Unix epoch, UTC).
    pub fn commit_at(&self, msg: &str, when: i64) -> Oid {
        let repo = self.repo.borrow();
        let mut index = repo.index().unwrap();
        index
            .add_all(["*"], IndexAddOption::DEFAULT | IndexAddOption::FORCE, None)
            .unwrap();
        index.update_all(["*"], None).unwrap();
        for (path, oid) in self.gitlinks.borrow().iter() {
            index.add(&gitlink_entry(path, *oid)).unwrap();
        }
        assert!(!index.has_conflicts(), "commit: unresolved conflicts");
        index.write().unwrap();
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = Signature::new(AUTHOR, EMAIL, &Time::new(when, 0)).unwrap();
        let mut parents = Vec::new();
        if let Ok(head) = repo.head() {
            parents.push(head.peel_to_commit().unwrap());
        }
        if let Some(other) = self.merging.take() {
            parents.push(repo.find_commit(other).unwrap());
        }
        let refs: Vec<&git2::Commit<'_>> = parents.iter().collect();
        let oid = repo
            .commit(Some("HEAD"), &sig, &sig, msg, &tree, &refs)
            .unwrap();
        repo.cleanup_state().unwrap();
        self.count.set(self.count.get() + 1);
        oid
    }

    /// Creates branch `name` at HEAD (does not switch to it).
    pub fn branch(&self, name: &str) -> &TempRepo {
        let repo = self.repo.borrow();
        let head = repo.head().unwrap().peel_to_commit().unwrap();
        repo.branch(name, &head, false).unwrap();
        self
    }

    /// Switches HEAD and the work tree to branch `name` (creating the branch at
    /// HEAD first if it does not exist). Uncommitted changes are discarded.
    pub fn checkout(&self, name: &str) -> &TempRepo {
        let exists = self
            .repo
            .borrow()
            .find_branch(name, git2::BranchType::Local)
            .is_ok();
        if !exists {
            self.branch(name);
        }
        let repo = self.repo.borrow();
        repo.set_head(&format!("refs/heads/{name}")).unwrap();
        repo.checkout_head(Some(CheckoutBuilder::new().force().remove_untracked(true)))
            .unwrap();
        self
    }

    /// Merges branch `name` into the current branch with a merge commit (even
    /// when a fast-forward would do). Panics on conflicts: use `begin_merge`.
    pub fn merge(&self, name: &str, msg: &str) -> Oid {
        let conflicts = self.begin_merge(name);
        assert!(
            conflicts.is_empty(),
            "merge of {name} conflicts in {conflicts:?}"
        );
        self.commit(msg)
    }

    /// Starts merging branch `name`: the work tree gets the merged result
    /// (with conflict markers where the sides conflict). Returns the
    /// conflicted paths. Edit files as you like (an "evil merge"), then
    /// `commit` records a merge commit with both parents.
    pub fn begin_merge(&self, name: &str) -> Vec<String> {
        let repo = self.repo.borrow();
        let other = repo
            .find_branch(name, git2::BranchType::Local)
            .unwrap()
            .get()
            .peel_to_commit()
            .unwrap();
        let annotated = repo.find_annotated_commit(other.id()).unwrap();
        let mut checkout = CheckoutBuilder::new();
        checkout
            .force()
            .allow_conflicts(true)
            .conflict_style_merge(true);
        repo.merge(&[&annotated], None, Some(&mut checkout))
            .unwrap();
        let mut index = repo.index().unwrap();
        let mut conflicted = Vec::new();
        for c in index.conflicts().unwrap() {
            let c = c.unwrap();
            let entry = c.our.or(c.their).or(c.ancestor).unwrap();
            conflicted.push(String::from_utf8_lossy(&entry.path).into_owned());
        }
        // `commit` stages the work tree, which resolves every conflict.
        for p in &conflicted {
            index.conflict_remove(Path::new(p)).unwrap();
        }
        index.write().unwrap();
        self.merging.set(Some(other.id()));
        conflicted
    }

    /// An annotated tag `name` on HEAD.
    pub fn tag(&self, name: &str) -> Oid {
        let repo = self.repo.borrow();
        let head = repo.head().unwrap().peel(ObjectType::Commit).unwrap();
        let sig = Signature::new(AUTHOR, EMAIL, &Time::new(EPOCH, 0)).unwrap();
        repo.tag(name, &head, &sig, name, false).unwrap()
    }

    /// Points reference `name` (e.g. `refs/remotes/origin/x`) at `oid`.
    pub fn set_ref(&self, name: &str, oid: Oid) -> &TempRepo {
        self.repo
            .borrow()
            .reference(name, oid, true, "test")
            .unwrap();
        self
    }

    /// Deletes reference `name` (e.g. `refs/heads/topic`), leaving its commits
    /// reachable only through other refs, if any.
    pub fn delete_ref(&self, name: &str) -> &TempRepo {
        self.repo
            .borrow()
            .find_reference(name)
            .unwrap()
            .delete()
            .unwrap();
        self
    }

    /// `git stash`: saves the work tree's changes (including untracked files)
    /// to `refs/stash` and resets the work tree. Returns the stash commit.
    pub fn stash(&self, msg: &str) -> Oid {
        let sig =
            Signature::new(AUTHOR, EMAIL, &Time::new(EPOCH + self.count.get() * DAY, 0)).unwrap();
        self.repo
            .borrow_mut()
            .stash_save(&sig, msg, Some(git2::StashFlags::INCLUDE_UNTRACKED))
            .unwrap()
    }

    /// The commit HEAD points at.
    pub fn head(&self) -> Oid {
        self.repo
            .borrow()
            .head()
            .unwrap()
            .peel_to_commit()
            .unwrap()
            .id()
    }

    /// The blob at `path` in commit `commit`.
    pub fn blob_at(&self, commit: Oid, path: &str) -> Oid {
        let repo = self.repo.borrow();
        let tree = repo.find_commit(commit).unwrap().tree().unwrap();
        tree.get_path(Path::new(path)).unwrap().id()
    }

    /// Where loose object `oid` lives (every object `TempRepo` writes is loose).
    pub fn object_path(&self, oid: Oid) -> PathBuf {
        let hex = oid.to_string();
        self.git_dir()
            .join("objects")
            .join(&hex[..2])
            .join(&hex[2..])
    }

    /// Deletes object `oid`, as in a damaged or partial clone.
    pub fn delete_object(&self, oid: Oid) -> &TempRepo {
        std::fs::remove_file(self.object_path(oid)).unwrap();
        self
    }

    /// Overwrites object `oid` with bytes that do not inflate.
    pub fn corrupt_object(&self, oid: Oid) -> &TempRepo {
        let p = self.object_path(oid);
        let mut perms = std::fs::metadata(&p).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        std::fs::set_permissions(&p, perms).unwrap();
        std::fs::write(&p, b"this is not a zlib stream").unwrap();
        self
    }

    /// Makes this a shallow clone cut at `boundary`: lists them in
    /// `.git/shallow` (as `git clone --depth` does) and deletes every commit
    /// object reachable only through their parents, so the history below the
    /// cut is really absent.
    pub fn make_shallow(&self, boundary: &[Oid]) -> &TempRepo {
        let mut doomed = Vec::new();
        {
            let repo = self.repo.borrow();
            let mut keep = std::collections::HashSet::new();
            let mut walk = repo.revwalk().unwrap();
            walk.push_glob("*").unwrap();
            walk.push_head().unwrap();
            for b in boundary {
                walk.hide(*b).unwrap();
            }
            for oid in walk {
                keep.insert(oid.unwrap());
            }
            keep.extend(boundary.iter().copied());
            let mut all = repo.revwalk().unwrap();
            all.push_glob("*").unwrap();
            all.push_head().unwrap();
            for oid in all {
                let oid = oid.unwrap();
                if !keep.contains(&oid) {
                    doomed.push(oid);
                }
            }
        }
        let list: String = boundary.iter().map(|b| format!("{b}\n")).collect();
        std::fs::write(self.git_dir().join("shallow"), list).unwrap();
        for oid in doomed {
            self.delete_object(oid);
        }
        // Reopen so libgit2 reads the shallow file afresh.
        *self.repo.borrow_mut() = Repository::open(self.path()).unwrap();
        self
    }

    /// A bare clone of this repository in a new temporary directory (every
    /// branch and tag, as `git clone --bare` makes).
    pub fn clone_bare(&self) -> TempDir {
        let dir = tempfile::Builder::new()
            .prefix("leakscan-bare")
            .tempdir()
            .unwrap();
        let url = format!("file://{}", self.path().display());
        RepoBuilder::new()
            .bare(true)
            .clone(&url, dir.path())
            .unwrap();
        dir
    }
}

fn gitlink_entry(path: &[u8], oid: Oid) -> IndexEntry {
    IndexEntry {
        ctime: IndexTime::new(0, 0),
        mtime: IndexTime::new(0, 0),
        dev: 0,
        ino: 0,
        mode: 0o160000,
        uid: 0,
        gid: 0,
        file_size: 0,
        id: oid,
        flags: path.len().min(0xfff) as u16,
        flags_extended: 0,
        path: path.to_vec(),
    }
}

#[test]
fn temp_repo_builds_history() {
    let r = TempRepo::new();
    r.write("a.txt", "one\n");
    let c1 = r.commit("first");
    r.checkout("side");
    r.write("b.txt", "side\n");
    let c2 = r.commit("side");
    r.checkout("main");
    assert!(!r.path().join("b.txt").exists());
    r.write("a.txt", "two\n");
    r.mv("a.txt", "dir/a.txt");
    let c3 = r.commit("move");
    let m = r.merge("side", "merge side");
    let repo = r.repo();
    let merge = repo.find_commit(m).unwrap();
    assert_eq!(merge.parent_ids().collect::<Vec<_>>(), vec![c3, c2]);
    assert_eq!(merge.time().seconds(), EPOCH + 3 * DAY);
    assert_eq!(
        repo.find_commit(c3)
            .unwrap()
            .parent_ids()
            .collect::<Vec<_>>(),
        vec![c1]
    );
    let tree = merge.tree().unwrap();
    assert!(tree.get_path(Path::new("dir/a.txt")).is_ok());
    assert!(tree.get_path(Path::new("b.txt")).is_ok());
    assert!(tree.get_path(Path::new("a.txt")).is_err());
}

#[test]
fn temp_repo_conflicted_merge_takes_the_resolution() {
    let r = TempRepo::new();
    r.write("f.txt", "base\n");
    r.commit("base");
    r.checkout("side");
    r.write("f.txt", "side\n");
    r.commit("side");
    r.checkout("main");
    r.write("f.txt", "main\n");
    r.commit("main");
    assert_eq!(r.begin_merge("side"), vec!["f.txt".to_string()]);
    r.write("f.txt", "resolved\n");
    let m = r.commit("merge");
    let blob = r.blob_at(m, "f.txt");
    let repo = r.repo();
    assert_eq!(repo.find_blob(blob).unwrap().content(), b"resolved\n");
    assert_eq!(repo.find_commit(m).unwrap().parent_count(), 2);
}

#[test]
fn temp_repo_damage_and_special_refs() {
    let r = TempRepo::new();
    r.write("a.txt", "one\n");
    let c1 = r.commit("first");
    r.write("a.txt", "two\n");
    let c2 = r.commit("second");
    r.submodule("vendor/lib", c1);
    let c3 = r.commit("add submodule");
    {
        let repo = r.repo();
        let tree = repo.find_commit(c3).unwrap().tree().unwrap();
        let entry = tree.get_path(Path::new("vendor/lib")).unwrap();
        assert_eq!(entry.filemode(), 0o160000);
        assert_eq!(entry.id(), c1);
    }
    r.write("a.txt", "stashed\n");
    let stash = r.stash("wip");
    assert_eq!(std::fs::read(r.path().join("a.txt")).unwrap(), b"two\n");
    assert_eq!(r.repo().refname_to_id("refs/stash").unwrap(), stash);

    let bare = r.clone_bare();
    let b = Repository::open(bare.path()).unwrap();
    assert!(b.is_bare());
    assert_eq!(b.refname_to_id("refs/heads/main").unwrap(), c3);

    r.make_shallow(&[c2]);
    assert!(r.repo().is_shallow());
    assert!(!r.object_path(c1).exists());
    assert!(r.object_path(c2).exists());
}
