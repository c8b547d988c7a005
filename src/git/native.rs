//! A repository read entirely by our own readers, for the formats libgit2
//! cannot open (SHA-256 object ids): where it is (`locate`, as git finds it
//! from a directory or from the hook's environment), its refs (loose files
//! and `packed-refs`, or the reftable stack) and its objects (`store`),
//! commits' trees and trees' entries. Nothing here runs `git`.

use std::cell::OnceCell;
use std::path::{Path, PathBuf};

use git2::ObjectType;

use super::format::{common_dir, Format, RefStorage};
use super::oid::{HashKind, ObjectId};
use super::reftable::{RefValue, Refs};
use super::store::Store;

/// Symbolic refs pointing at symbolic refs: git stops after five.
const MAX_SYMREF_DEPTH: usize = 5;

/// One tree entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeItem {
    pub name: Vec<u8>,
    pub mode: u32,
    pub id: ObjectId,
}

/// A repository opened without libgit2, and its work tree (`None`: bare).
pub type Found = (Native, Option<PathBuf>);

/// A repository opened without libgit2.
pub struct Native {
    pub git_dir: PathBuf,
    pub common: PathBuf,
    pub format: Format,
    store: Store,
    reftable: OnceCell<Result<Refs, String>>,
}

/// The git directory and work tree git would use from `start` (a directory
/// inside a work tree, a `.git` directory or a bare repository): the first
/// directory upward holding a `.git` (a directory, or a file naming one),
/// or itself a git directory. `GIT_DIR`/`GIT_WORK_TREE` win when `env`.
pub fn locate(start: &Path, env: bool) -> Option<(PathBuf, Option<PathBuf>)> {
    if env {
        if let Some(dir) = std::env::var_os("GIT_DIR").filter(|d| !d.is_empty()) {
            let git_dir = crate::paths::absolute(Path::new(&dir));
            let work = std::env::var_os("GIT_WORK_TREE")
                .filter(|d| !d.is_empty())
                .map(|w| crate::paths::absolute(Path::new(&w)))
                .or_else(|| std::env::current_dir().ok());
            return Some((git_dir, work));
        }
    }
    let start = crate::paths::absolute(start);
    for dir in start.ancestors() {
        let dot = dir.join(".git");
        if dot.is_dir() && is_git_dir(&dot) {
            return Some((dot, Some(dir.to_path_buf())));
        }
        if dot.is_file() {
            let text = std::fs::read_to_string(&dot).ok()?;
            let target = text.trim().strip_prefix("gitdir:")?.trim();
            let git_dir = dir.join(target);
            return is_git_dir(&git_dir).then(|| (git_dir, Some(dir.to_path_buf())));
        }
        if is_git_dir(dir) {
            return Some((dir.to_path_buf(), None));
        }
    }
    None
}

/// What git checks: `HEAD`, and `objects/` and `refs/` in the common directory.
fn is_git_dir(d: &Path) -> bool {
    let common = common_dir(d);
    d.join("HEAD").is_file() && common.join("objects").is_dir() && common.join("refs").exists()
}

impl Native {
    /// The repository found from `start` (see `locate`) when its format is
    /// one libgit2 cannot read (SHA-256 ids, reftable refs), with its work
    /// tree; `Ok(None)` for a SHA-1 repository with files refs (read
    /// through libgit2) or no repository at all (libgit2 then says why).
    pub fn open_if_needed(start: &Path, env: bool) -> Result<Option<Found>, (PathBuf, String)> {
        let Some((git_dir, workdir)) = locate(start, env) else {
            return Ok(None);
        };
        let format = Format::read(&git_dir).map_err(|e| (git_dir.clone(), e.0))?;
        if format.objects == HashKind::Sha1 && format.refs == RefStorage::Files {
            return Ok(None);
        }
        Ok(Some((Native::open(git_dir, format), workdir)))
    }

    pub fn open(git_dir: PathBuf, format: Format) -> Native {
        let common = common_dir(&git_dir);
        Native {
            store: Store::open(&common, format.objects),
            git_dir,
            common,
            format,
            reftable: OnceCell::new(),
        }
    }

    pub fn kind(&self) -> HashKind {
        self.format.objects
    }

    fn reftable(&self) -> Result<&Refs, String> {
        self.reftable
            .get_or_init(|| Refs::read(&self.git_dir, self.kind()).map_err(|e| e.0))
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The peeled ids its reftable records store (see `Refs::peeled`);
    /// `None` for `files` refs.
    pub fn reftable_peeled(&self) -> Option<super::OidMap<ObjectId>> {
        (self.format.refs == RefStorage::Reftable)
            .then(|| self.reftable().ok().map(Refs::peeled))
            .flatten()
    }

    /// What ref `name` holds, without following symbolic refs.
    fn lookup(&self, name: &str) -> Result<Option<RefValue>, String> {
        if self.format.refs == RefStorage::Reftable {
            return Ok(self.reftable()?.get(name.as_bytes()).cloned());
        }
        let per_worktree = name == "HEAD"
            || name.starts_with("refs/bisect/")
            || name.starts_with("refs/worktree/")
            || name.starts_with("refs/rewritten/");
        let base = if per_worktree {
            &self.git_dir
        } else {
            &self.common
        };
        match std::fs::read_to_string(base.join(name)) {
            Ok(text) => {
                let text = text.trim_end();
                if let Some(target) = text.strip_prefix("ref:") {
                    return Ok(Some(RefValue::Symbolic(target.trim().as_bytes().to_vec())));
                }
                return ObjectId::from_hex_of(self.kind(), text.as_bytes())
                    .map(|id| Some(RefValue::Direct { id, peeled: None }))
                    .ok_or_else(|| format!("ref {name}: not an object id: {text:?}"));
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::IsADirectory
                ) => {}
            Err(e) => return Err(format!("ref {name}: {e}")),
        }
        let packed = match std::fs::read(self.common.join("packed-refs")) {
            Ok(p) => p,
            Err(_) => return Ok(None),
        };
        for line in packed.split(|&b| b == b'\n') {
            if let Some((hex, refname)) = line.split_once_byte(b' ') {
                if refname == name.as_bytes() {
                    return ObjectId::from_hex_of(self.kind(), hex)
                        .map(|id| Some(RefValue::Direct { id, peeled: None }))
                        .ok_or_else(|| format!("packed-refs: bad id for {name}"));
                }
            }
        }
        Ok(None)
    }

    /// Follows `name` through symbolic refs: the ref reached and its id
    /// (`None`: it does not exist, e.g. the branch of a new repository).
    pub fn resolve(&self, name: &str) -> Result<(String, Option<ObjectId>), String> {
        let mut name = name.to_string();
        for _ in 0..=MAX_SYMREF_DEPTH {
            match self.lookup(&name)? {
                None => return Ok((name, None)),
                Some(RefValue::Direct { id, .. }) => return Ok((name, Some(id))),
                Some(RefValue::Symbolic(t)) => name = String::from_utf8_lossy(&t).into_owned(),
            }
        }
        Err(format!("{name}: symbolic refs nested too deep"))
    }

    /// Ref `name` (full name) as `git::Ref`; `None` when there is none.
    pub fn reference(&self, name: &str) -> Result<Option<super::repo::Ref>, String> {
        let Some(value) = self.lookup(name)? else {
            return Ok(None);
        };
        let (symbolic, direct) = match value {
            RefValue::Symbolic(t) => (Some(t), None),
            RefValue::Direct { id, .. } => (None, Some(id)),
        };
        Ok(Some(super::repo::Ref {
            name: name.as_bytes().to_vec(),
            symbolic,
            direct,
            resolved: self.resolve(name)?.1,
        }))
    }

    /// Every ref under `refs/` whose name starts with `prefix`, in name
    /// order (as git lists them); a ref that cannot be read is an `Err` in
    /// its place.
    pub fn list(&self, prefix: &str) -> Result<Vec<Result<super::repo::Ref, String>>, String> {
        if self.format.refs == RefStorage::Reftable {
            return Ok(self.reftable()?.list(prefix).into_iter().map(Ok).collect());
        }
        let mut names = std::collections::BTreeSet::new();
        if let Ok(packed) = std::fs::read(self.common.join("packed-refs")) {
            for line in packed.split(|&b| b == b'\n') {
                if let Some((_, name)) = line.split_once_byte(b' ') {
                    if name.starts_with(b"refs/") {
                        names.insert(String::from_utf8_lossy(name).into_owned());
                    }
                }
            }
        }
        let mut stack = vec![(self.common.join("refs"), "refs".to_string())];
        while let Some((dir, name)) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let Ok(file) = e.file_name().into_string() else {
                    continue;
                };
                let full = format!("{name}/{file}");
                match e.file_type() {
                    Ok(t) if t.is_dir() => stack.push((e.path(), full)),
                    Ok(_) if !file.ends_with(".lock") => {
                        names.insert(full);
                    }
                    _ => {}
                }
            }
        }
        Ok(names
            .into_iter()
            .filter(|n| n.starts_with(prefix))
            .filter_map(|n| match self.reference(&n) {
                Ok(Some(r)) => Some(Ok(r)),
                Ok(None) => None,
                Err(e) => Some(Err(e)),
            })
            .collect())
    }

    /// A short name (`main`, `v1`, `origin/main`) in git's order, without
    /// reading any object.
    pub fn short_name(&self, name: &str) -> Option<ObjectId> {
        for candidate in ref_candidates(name) {
            if let Ok((_, Some(id))) = self.resolve(&candidate) {
                return Some(id);
            }
        }
        None
    }

    /// The commit HEAD points to; `None` before the first commit.
    pub fn head(&self) -> Result<Option<ObjectId>, String> {
        Ok(self.resolve("HEAD")?.1)
    }

    /// The commit a revision names: a ref (`main`, `origin/main`, `v1`,
    /// `refs/...`, looked up in git's order), a full id, then any number of
    /// `~N` / `^N` steps; annotated tags are peeled. Abbreviated ids and the
    /// rarer forms (`@{…}`, `^{…}`, `:/text`) are refused with a message.
    pub fn rev(&self, spec: &str) -> Result<ObjectId, String> {
        let at = spec
            .find(['~', '^'])
            .filter(|&i| i > 0)
            .unwrap_or(spec.len());
        let (base, mut rest) = spec.split_at(at);
        let mut id = self
            .lookup_name(base)?
            .ok_or_else(|| format!("unknown revision `{base}`"))?;
        id = self.peel_commit(id, base)?;
        while let Some(c) = rest.chars().next() {
            rest = &rest[1..];
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let n: usize = if digits == 0 {
                1
            } else {
                rest[..digits]
                    .parse()
                    .map_err(|_| format!("`{spec}`: bad number"))?
            };
            rest = &rest[digits..];
            // `~N`: the first parent N times; `^N`: the N-th parent (`^0`: itself).
            let (times, nth) = match c {
                '~' => (n, 1),
                '^' => (1, n),
                _ => return Err(format!("`{spec}`: only `~N` and `^N` are read here")),
            };
            for _ in 0..times {
                if nth == 0 {
                    break;
                }
                let parents = self.parents(&id)?;
                id = *parents
                    .get(nth - 1)
                    .ok_or_else(|| format!("`{spec}`: commit {id} has no parent {nth}"))?;
            }
        }
        Ok(id)
    }

    /// A ref name (in git's order of prefixes) or a full id.
    fn lookup_name(&self, name: &str) -> Result<Option<ObjectId>, String> {
        for candidate in ref_candidates(name) {
            if let (_, Some(id)) = self.resolve(&candidate)? {
                return Ok(Some(id));
            }
        }
        Ok(ObjectId::from_hex_of(self.kind(), name.as_bytes()))
    }

    /// Follows annotated tags down to a commit.
    fn peel_commit(&self, mut id: ObjectId, what: &str) -> Result<ObjectId, String> {
        for _ in 0..64 {
            match self.read(&id)? {
                (ObjectType::Commit, _) => return Ok(id),
                (ObjectType::Tag, data) => {
                    id = data
                        .split(|&b| b == b'\n')
                        .next()
                        .and_then(|l| l.strip_prefix(b"object "))
                        .and_then(|hex| ObjectId::from_hex_of(self.kind(), hex))
                        .ok_or_else(|| format!("tag {id}: malformed"))?;
                }
                (other, _) => return Err(format!("`{what}` is a {other}, not a commit")),
            }
        }
        Err(format!("`{what}`: tags nested too deep"))
    }

    /// The parents of commit `id`.
    pub fn parents(&self, id: &ObjectId) -> Result<Vec<ObjectId>, String> {
        match self.read(id)? {
            (ObjectType::Commit, data) => Ok(data
                .split(|&b| b == b'\n')
                .take_while(|l| !l.is_empty())
                .filter_map(|l| l.strip_prefix(b"parent "))
                .filter_map(|hex| ObjectId::from_hex_of(self.kind(), hex))
                .collect()),
            (other, _) => Err(format!("object {id}: expected a commit, found a {other}")),
        }
    }

    /// The bytes of the file at `path` of `commit`, if it has one.
    pub fn blob_at(&self, commit: &ObjectId, path: &[u8]) -> Result<Option<Vec<u8>>, String> {
        match self.entry_at(commit, path)? {
            Some(e) if e.mode & super::MODE_TYPE == super::MODE_FILE => match self.read(&e.id)? {
                (ObjectType::Blob, data) => Ok(Some(data)),
                (other, _) => Err(format!("object {}: a {other}, not a blob", e.id)),
            },
            _ => Ok(None),
        }
    }

    /// The object store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// An object's type and bytes.
    pub fn read(&self, id: &ObjectId) -> Result<(ObjectType, Vec<u8>), String> {
        self.store.read(id).map_err(|e| e.0)
    }

    /// The tree of commit `id`.
    pub fn commit_tree(&self, id: &ObjectId) -> Result<ObjectId, String> {
        match self.read(id)? {
            (ObjectType::Commit, data) => data
                .split(|&b| b == b'\n')
                .next()
                .and_then(|l| l.strip_prefix(b"tree "))
                .and_then(|hex| ObjectId::from_hex_of(self.kind(), hex))
                .ok_or_else(|| format!("commit {id}: malformed (no tree)")),
            (other, _) => Err(format!("object {id}: expected a commit, found a {other}")),
        }
    }

    /// The entries of tree `id`.
    pub fn tree(&self, id: &ObjectId) -> Result<Vec<TreeItem>, String> {
        let data = match self.read(id)? {
            (ObjectType::Tree, data) => data,
            (other, _) => return Err(format!("object {id}: expected a tree, found a {other}")),
        };
        let mut out = Vec::new();
        let mut entries = super::trees::Entries::with_hash(&data, self.kind().len());
        let mut used = 0;
        for e in entries.by_ref() {
            used += e.raw.len();
            out.push(TreeItem {
                name: e.name.to_vec(),
                mode: e.mode,
                id: ObjectId::from_bytes(e.oid).expect("hash length"),
            });
        }
        if used != data.len() {
            return Err(format!(
                "tree {id}: malformed entry after {} entries",
                out.len()
            ));
        }
        Ok(out)
    }

    /// The entry at `path` (`/`-separated) of commit `commit`'s tree.
    pub fn entry_at(&self, commit: &ObjectId, path: &[u8]) -> Result<Option<TreeItem>, String> {
        let mut tree = self.commit_tree(commit)?;
        let mut parts = path.split(|&b| b == b'/').peekable();
        while let Some(part) = parts.next() {
            let Some(e) = self.tree(&tree)?.into_iter().find(|e| e.name == part) else {
                return Ok(None);
            };
            if parts.peek().is_none() {
                return Ok(Some(e));
            }
            if e.mode != super::MODE_TREE {
                return Ok(None);
            }
            tree = e.id;
        }
        Ok(None)
    }
}

trait SplitOnce {
    fn split_once_byte(&self, b: u8) -> Option<(&[u8], &[u8])>;
}

impl SplitOnce for [u8] {
    fn split_once_byte(&self, b: u8) -> Option<(&[u8], &[u8])> {
        let i = memchr::memchr(b, self)?;
        Some((&self[..i], &self[i + 1..]))
    }
}

/// The full names a short ref name may stand for, in git's order (`NAME`,
/// `refs/NAME`, tags, heads, remotes, a remote's `HEAD`).
fn ref_candidates(name: &str) -> [String; 6] {
    [
        name.to_string(),
        format!("refs/{name}"),
        format!("refs/tags/{name}"),
        format!("refs/heads/{name}"),
        format!("refs/remotes/{name}"),
        format!("refs/remotes/{name}/HEAD"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::test_git::run as git;

    #[test]
    fn head_trees_and_entries_as_git_sees_them() {
        for refs in ["files", "reftable"] {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path();
            git(
                dir,
                &[
                    "init",
                    "-q",
                    "--object-format=sha256",
                    &format!("--ref-format={refs}"),
                ],
            );
            let (git_dir, work) = locate(&dir.join("sub"), false).unwrap_or_else(|| {
                std::fs::create_dir(dir.join("sub")).unwrap();
                locate(&dir.join("sub"), false).unwrap()
            });
            assert_eq!(work.as_deref(), Some(&*crate::paths::absolute(dir)));
            let format = Format::read(&git_dir).unwrap();
            let repo = Native::open(git_dir, format);
            assert_eq!(repo.head().unwrap(), None);
            std::fs::create_dir_all(dir.join("d/e")).unwrap();
            std::fs::write(dir.join("d/e/f"), "x\n").unwrap();
            std::fs::write(dir.join("top"), "y\n").unwrap();
            git(dir, &["add", "-A"]);
            git(dir, &["commit", "-q", "-m", "one"]);
            git(dir, &["pack-refs", "--all"]);
            let repo = Native::open(repo.git_dir, repo.format);
            let head = repo.head().unwrap().unwrap();
            assert_eq!(head.to_string(), git(dir, &["rev-parse", "HEAD"]).trim());
            let tree = repo.commit_tree(&head).unwrap();
            assert_eq!(
                tree.to_string(),
                git(dir, &["rev-parse", "HEAD^{tree}"]).trim()
            );
            let e = repo.entry_at(&head, b"d/e/f").unwrap().unwrap();
            assert_eq!(
                e.id.to_string(),
                git(dir, &["rev-parse", "HEAD:d/e/f"]).trim()
            );
            assert_eq!(repo.entry_at(&head, b"d/x").unwrap(), None);
            assert_eq!(repo.tree(&tree).unwrap().len(), 2);
        }
    }
}
