//! `Repo`: an opened repository, the door to git for everything outside
//! `src/git/`. It owns the checked reader (`ObjectReader`: the guard, then
//! libgit2) and answers the questions commands and drivers ask — HEAD, refs,
//! tags peeled, the file at a path in a commit, a few git config values —
//! in object ids (`git::Oid`) and plain data; no libgit2 type leaves this
//! module. Objects are read through the checks (`guard`), never by libgit2
//! alone.

use std::path::{Path, PathBuf};

use git2::{ErrorCode, ObjectType};

use super::error::ReadError;
use super::odb::ObjectReader;
use super::oid::ObjectId as Oid;
use super::{Locate, MODE_FILE, MODE_SYMLINK, MODE_TYPE};
use crate::error::{Error, Result};

/// The type of a git object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Commit,
    Tree,
    Blob,
    Tag,
}

impl Kind {
    /// The kind of a type libgit2 (or `ObjectReader::with_object`) names.
    pub fn of(t: ObjectType) -> Kind {
        match t {
            ObjectType::Commit => Kind::Commit,
            ObjectType::Tree => Kind::Tree,
            ObjectType::Tag => Kind::Tag,
            _ => Kind::Blob,
        }
    }

    /// git's name for it (`commit`, `tree`, `blob`, `tag`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Commit => "commit",
            Kind::Tree => "tree",
            Kind::Blob => "blob",
            Kind::Tag => "tag",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reference as git stores it.
#[derive(Debug, Clone)]
pub struct Ref {
    /// The full name (`refs/heads/main`, `HEAD`), as bytes.
    pub name: Vec<u8>,
    /// For a symbolic ref, the name it points to.
    pub symbolic: Option<Vec<u8>>,
    /// For a direct ref, the id it holds.
    pub direct: Option<Oid>,
    /// The id at the end of the chain of symbolic refs; `None` when it
    /// leads nowhere (a branch not born yet).
    pub resolved: Option<Oid>,
}

/// An entry of a tree: its mode and object id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub mode: u32,
    pub id: Oid,
}

impl Entry {
    /// A file or symlink (a blob), not a directory or submodule.
    pub fn is_blob(&self) -> bool {
        matches!(self.mode & MODE_TYPE, MODE_FILE | MODE_SYMLINK)
    }
}

/// An opened repository (see the module's `//!`).
pub struct Repo {
    /// The git directory: `.git`, or the repository itself when bare.
    pub git_dir: PathBuf,
    /// The work tree; `None` for a bare repository.
    pub workdir: Option<PathBuf>,
    reader: ObjectReader,
}

impl Repo {
    /// Opens a repository (see `Locate`); errors name the path and say when
    /// it is not a repository at all.
    pub fn open(how: Locate<'_>) -> Result<Repo> {
        // libgit2 hashes every object it reads (SHA-1 with collision
        // detection) to check its id; a scanner needs the content, and a
        // damaged object still fails to inflate. Process-wide.
        git2::opts::strict_hash_verification(false);
        let reader = ObjectReader::locate(how)?;
        Ok(Repo {
            git_dir: reader.git_dir().to_path_buf(),
            workdir: reader.workdir().map(Path::to_path_buf),
            reader,
        })
    }

    /// Finds the repository containing `path`, as git does from a directory.
    pub fn discover(path: &Path) -> Result<Repo> {
        Repo::open(Locate::Discover(path))
    }

    /// Where configuration and baseline are looked for: the work tree, or
    /// the repository itself when bare.
    pub fn root(&self) -> &Path {
        self.workdir.as_deref().unwrap_or(&self.git_dir)
    }

    /// The common git directory (a linked work tree's main one), where refs
    /// and objects live.
    pub fn common_dir(&self) -> &Path {
        self.reader.common_dir()
    }

    /// The hash that names this repository's objects.
    pub fn hash_kind(&self) -> super::oid::HashKind {
        self.reader.kind()
    }

    /// For a partial clone (`remote.<name>.promisor`, `extensions.partialClone`):
    /// the promisor remote and the objects `sel` covers that are not here
    /// (listed by git without fetching). `None` for a complete clone.
    pub fn missing_objects(
        &self,
        sel: &super::revwalk::Selection,
    ) -> Result<Option<(String, Vec<String>)>> {
        let format = super::format::Format::read(&self.git_dir).map_err(|e| Error::Git {
            repo: self.git_dir.clone(),
            msg: e.0,
        })?;
        let Some(remote) = format.promisors.first() else {
            return Ok(None);
        };
        let mut revs: Vec<std::ffi::OsString> = Vec::new();
        if sel.all {
            revs.push("--all".into());
        }
        revs.extend(sel.revs.iter().map(Into::into));
        revs.extend(sel.exclude.iter().map(|r| format!("^{r}").into()));
        revs.extend(sel.hide.iter().map(|id| format!("^{id}").into()));
        if !sel.all && !sel.revs.iter().any(|r| !r.starts_with('^')) {
            revs.push("HEAD".into());
        }
        if let Some(t) = sel.since {
            revs.push(format!("--max-age={t}").into());
        }
        if let Some(t) = sel.until {
            revs.push(format!("--min-age={t}").into());
        }
        let missing = super::promisor::missing(&self.git_dir, &revs).map_err(|msg| Error::Git {
            repo: self.git_dir.clone(),
            msg,
        })?;
        Ok(Some((remote.clone(), missing)))
    }

    /// Fetches exactly `ids` from `remote`, in one request (`--fetch-missing`).
    pub fn fetch_missing(&self, remote: &str, ids: &[String]) -> Result<()> {
        super::promisor::fetch(&self.git_dir, remote, ids).map_err(|msg| Error::Git {
            repo: self.git_dir.clone(),
            msg,
        })
    }

    /// What to tell the user when a partial clone lacks `n` objects.
    pub fn missing_advice(n: usize, remote: &str) -> String {
        super::promisor::advice(n, remote)
    }

    /// Whether this is a shallow clone (its history is cut).
    pub fn is_shallow(&self) -> bool {
        match self.reader.repo() {
            Some(repo) => repo.is_shallow(),
            None => std::fs::metadata(self.common_dir().join("shallow")).is_ok_and(|m| m.len() > 0),
        }
    }

    /// The checked object reader.
    pub fn reader(&self) -> &ObjectReader {
        &self.reader
    }

    /// One reference by full name (`HEAD`, `refs/remotes/origin/HEAD`);
    /// `None` when there is no such ref.
    pub fn reference(&self, name: &str) -> Option<Ref> {
        if let Some(refs) = self.reader.reftable() {
            return refs.to_ref(name.as_bytes());
        }
        match (self.reader.repo(), self.reader.native()) {
            (Some(repo), _) => Some(to_ref(&repo.find_reference(name).ok()?)),
            (None, Some(n)) => n.reference(name).ok().flatten(),
            (None, None) => None,
        }
    }

    /// Every reference (HEAD aside), or those whose name starts with
    /// `prefix`, in the order git lists them; a ref that cannot be read is
    /// an `Err` in its place.
    pub fn refs(&self, prefix: Option<&str>) -> Result<Vec<Result<Ref, String>>> {
        if let Some(refs) = self.reader.reftable() {
            return Ok(refs
                .list(prefix.unwrap_or(""))
                .into_iter()
                .map(Ok)
                .collect());
        }
        let repo = match (self.reader.repo(), self.reader.native()) {
            (Some(repo), _) => repo,
            (None, n) => {
                return n
                    .map_or(Ok(Vec::new()), |n| n.list(prefix.unwrap_or("refs/")))
                    .map_err(|msg| Error::Git {
                        repo: self.git_dir.clone(),
                        msg: format!("cannot list refs: {msg}"),
                    })
            }
        };
        let refs = match prefix {
            Some(p) => repo.references_glob(&format!("{p}*")),
            None => repo.references(),
        }
        .map_err(|e| Error::Git {
            repo: self.git_dir.clone(),
            msg: format!("cannot list refs: {}", e.message()),
        })?;
        Ok(refs
            .map(|r| r.map(|r| to_ref(&r)).map_err(|e| e.message().to_string()))
            .collect())
    }

    /// The id HEAD leads to; `None` when HEAD is missing or its branch has
    /// no commit yet.
    pub fn head(&self) -> Result<Option<Oid>, String> {
        if let Some(refs) = self.reader.reftable() {
            return Ok(refs.resolve_id(b"HEAD"));
        }
        let repo = match (self.reader.repo(), self.reader.native()) {
            (Some(repo), _) => repo,
            (None, Some(n)) => return n.head(),
            (None, None) => return Ok(None),
        };
        match repo.head() {
            Ok(h) => Ok(h.target().map(Oid::from)),
            Err(e) if matches!(e.code(), ErrorCode::UnbornBranch | ErrorCode::NotFound) => Ok(None),
            Err(e) => Err(e.message().to_string()),
        }
    }

    /// The tree of HEAD's commit (tags peeled); `None` when there is no
    /// HEAD commit.
    pub fn head_tree(&self) -> Result<Option<Oid>, String> {
        let Some(id) = self.head()? else {
            return Ok(None);
        };
        let c = super::revspec::peel_commit(&self.reader, "HEAD", id)?;
        let data = self.reader.commit(c).map_err(|e| format!("HEAD: {e}"))?;
        Ok(Some(data.tree))
    }

    /// A commit's tree and parents.
    pub fn commit(&self, id: Oid) -> Result<(Oid, Vec<Oid>), ReadError> {
        let c = self.reader.commit(id)?;
        Ok((c.tree, c.parents))
    }

    /// The commit a revision argument names (`main`, `HEAD~2`, an id).
    pub fn rev(&self, spec: &str) -> Result<Oid, String> {
        super::revspec::commit(&self.reader, spec)
    }

    /// Follows annotated tags from `id` to a commit; anything else at the
    /// end is an error naming `what`.
    pub fn peel_commit(&self, what: &str, id: Oid) -> Result<Oid, String> {
        super::revspec::peel_commit(&self.reader, what, id)
    }

    /// Annotated tag id → the object it finally peels to, as the ref store
    /// records it: `packed-refs`' `^` lines, or the reftable records' peeled
    /// ids. Tags are immutable, so a recorded peel holds while the tag
    /// exists; a tag not listed here is read (`peel`).
    pub fn peeled_tags(&self) -> super::OidMap<Oid> {
        if let Some(refs) = self.reader.reftable() {
            return refs.peeled();
        }
        if let Some(p) = self.reader.native().and_then(|n| n.reftable_peeled()) {
            return p;
        }
        super::packed_refs::peeled(self.common_dir())
    }

    /// Follows annotated tags from `id`: the object at the end and its
    /// type. Only tags are read; anything else is known by its header
    /// (reading every tagged commit in full would cost a third of a
    /// one-commit push's check with ~1,000 refs).
    pub fn peel(&self, mut id: Oid) -> Result<(Oid, Kind), ReadError> {
        // Tags of tags are legal; a chain longer than this is not worth following.
        for _ in 0..64 {
            let (kind, _) = self.reader.header(id)?;
            if kind != ObjectType::Tag {
                return Ok((id, Kind::of(kind)));
            }
            id = match super::revspec::peel_once(&self.reader, id)? {
                Some(target) => target,
                None => return Err(ReadError(format!("tag {id}: no `object` line"))),
            };
        }
        Err(ReadError(format!("{id}: a chain of more than 64 tags")))
    }

    /// Whether the object store holds `id` (nothing is read).
    pub fn has(&self, id: Oid) -> bool {
        self.reader.exists(id)
    }

    /// A blob's bytes.
    pub fn blob(&self, id: Oid) -> Result<Vec<u8>, ReadError> {
        self.reader.with_object(id, |kind, data| match kind {
            ObjectType::Blob => Ok(data.to_vec()),
            other => Err(ReadError(format!(
                "object {id} is a {}, not a blob",
                Kind::of(other)
            ))),
        })?
    }

    /// The entry at `path` (`/`-separated bytes) in `tree`; `None` when
    /// nothing is there.
    pub fn entry_in(&self, tree: Oid, path: &[u8]) -> Result<Option<Entry>, String> {
        super::revspec::entry_in(&self.reader, tree, path)
    }

    /// The entry at `path` in `commit`'s tree; `None` when nothing is there.
    pub fn entry_at(&self, commit: Oid, path: &[u8]) -> Result<Option<Entry>, String> {
        let tree = self
            .reader
            .commit(commit)
            .map_err(|e| format!("commit {commit}: {e}"))?
            .tree;
        self.entry_in(tree, path)
    }

    /// The bytes of the file at `path` in `commit`, or `None` when there is
    /// no regular file there (a missing name, a directory, a submodule, a
    /// symlink).
    pub fn blob_at(&self, commit: Oid, path: &[u8]) -> Result<Option<Vec<u8>>, String> {
        super::revspec::read_path(&self.reader, commit, path)
    }

    /// Whether `name` is a valid remote name that this repository has.
    pub fn has_remote(&self, name: &str) -> bool {
        if !git2::Remote::is_valid_name(name) {
            return false;
        }
        match self.reader.repo() {
            Some(repo) => repo.find_remote(name).is_ok(),
            None => self
                .config_string(&format!("remote.{name}.url"))
                .is_ok_and(|u| u.is_some()),
        }
    }

    /// A git config value of this repository (its own config, then the
    /// global and system ones); `None` when unset.
    pub fn config_string(&self, key: &str) -> Result<Option<String>> {
        self.config(|c| c.get_string(key))
    }

    /// A boolean git config value; `None` when unset.
    pub fn config_bool(&self, key: &str) -> Result<Option<bool>> {
        self.config(|c| c.get_bool(key))
    }

    /// An integer git config value; `None` when unset.
    pub fn config_i64(&self, key: &str) -> Result<Option<i64>> {
        self.config(|c| c.get_i64(key))
    }

    fn config<T>(
        &self,
        get: impl FnOnce(&git2::Config) -> std::result::Result<T, git2::Error>,
    ) -> Result<Option<T>> {
        let err = |e: git2::Error| Error::Git {
            repo: self.git_dir.clone(),
            msg: format!("git config: {}", e.message()),
        };
        let cfg = match self.reader.repo() {
            Some(repo) => repo.config().map_err(err)?,
            // A repository libgit2 cannot open: the global and system files,
            // then its own.
            None => {
                let mut cfg = git2::Config::open_default().map_err(err)?;
                let own = self.common_dir().join("config");
                if own.is_file() {
                    cfg.add_file(&own, git2::ConfigLevel::Local, false)
                        .map_err(err)?;
                }
                cfg
            }
        };
        match get(&cfg) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(err(e)),
        }
    }
}

/// A git config value from the global and system files (outside any
/// repository); `None` when unset or unreadable.
pub fn global_config_string(key: &str) -> Option<String> {
    git2::Config::open_default()
        .and_then(|c| c.get_string(key))
        .ok()
}

fn to_ref(r: &git2::Reference<'_>) -> Ref {
    let direct = r.target().map(Oid::from);
    Ref {
        name: r.name_bytes().to_vec(),
        symbolic: r.symbolic_target_bytes().map(<[u8]>::to_vec),
        direct,
        // A direct ref is its own end: libgit2's `resolve` would look it up
        // by name again (reading a loose ref's file a second time; ~3.5k
        // instructions a ref, a third of listing a server's ~1,000 refs).
        resolved: direct.or_else(|| r.resolve().ok().and_then(|r| r.target()).map(Oid::from)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) -> String {
        super::super::test_git::run(dir, args).trim().to_string()
    }

    fn id(hex: &str) -> Oid {
        Oid::from_str(hex).unwrap()
    }

    /// The peels git records (packed-refs `^` lines, reftable records) are
    /// what peeling the tags gives, in all four formats; loose tags are not
    /// listed (they are read).
    #[test]
    fn recorded_peels_agree_with_git_in_every_format() {
        for (objects, refs) in [
            ("sha1", "files"),
            ("sha1", "reftable"),
            ("sha256", "files"),
            ("sha256", "reftable"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let d = dir.path();
            git(
                d,
                &[
                    "init",
                    "-q",
                    &format!("--object-format={objects}"),
                    &format!("--ref-format={refs}"),
                ],
            );
            std::fs::write(d.join("f"), "x").unwrap();
            git(d, &["add", "f"]);
            git(d, &["commit", "-q", "-m", "one"]);
            git(d, &["tag", "-a", "-m", "t", "v1"]);
            git(d, &["tag", "-a", "-m", "t of t", "v1-again", "v1"]);
            git(d, &["tag", "light"]);
            let what = format!("{objects}/{refs}");
            let repo = Repo::discover(d).unwrap();
            if refs == "files" {
                assert!(repo.peeled_tags().is_empty(), "{what}: loose tags");
                git(d, &["pack-refs", "--all"]);
            }
            let repo = Repo::discover(d).unwrap();
            let peeled = repo.peeled_tags();
            let head = id(&git(d, &["rev-parse", "HEAD"]));
            for tag in ["v1", "v1-again"] {
                let t = id(&git(d, &["rev-parse", tag]));
                assert_eq!(peeled.get(&t), Some(&head), "{what}: {tag}");
                assert_eq!(repo.peel(t).unwrap(), (head, Kind::Commit), "{what}: {tag}");
            }
            assert_eq!(peeled.len(), 2, "{what}");
        }
    }

    /// What commands ask of the door, answered as git answers it: files
    /// at a commit (not directories, symlinks or missing names), entries,
    /// HEAD and its tree, refs (symbolic ones too), tags peeled by header.
    #[test]
    fn answers_as_git_does() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"]);
        let unborn = Repo::discover(d).unwrap();
        assert_eq!(unborn.head().unwrap(), None);
        assert_eq!(unborn.head_tree().unwrap(), None);
        std::fs::create_dir_all(d.join("a/b")).unwrap();
        std::fs::write(d.join("a/b/f.txt"), "one\n").unwrap();
        std::os::unix::fs::symlink("b/f.txt", d.join("a/link")).unwrap();
        git(d, &["add", "."]);
        git(d, &["commit", "-q", "-m", "one"]);
        let first = id(&git(d, &["rev-parse", "HEAD"]));
        std::fs::write(d.join("a/b/f.txt"), "two\n").unwrap();
        git(d, &["commit", "-q", "-am", "two"]);
        git(d, &["tag", "-a", "-m", "t", "v1", "HEAD~1"]);
        git(d, &["tag", "-a", "-m", "t of t", "v1-again", "v1"]);
        git(
            d,
            &["tag", "blobtag", &git(d, &["rev-parse", "HEAD:a/b/f.txt"])],
        );
        git(
            d,
            &[
                "symbolic-ref",
                "refs/remotes/origin/HEAD",
                "refs/heads/main",
            ],
        );

        let repo = Repo::discover(&d.join("a")).unwrap();
        let head = id(&git(d, &["rev-parse", "HEAD"]));
        assert_eq!(repo.head().unwrap(), Some(head));
        assert_eq!(
            repo.head_tree().unwrap(),
            Some(id(&git(d, &["rev-parse", "HEAD^{tree}"])))
        );
        assert_eq!(repo.commit(head).unwrap().1, vec![first]);
        assert_eq!(repo.rev("v1-again").unwrap(), first);

        assert_eq!(
            repo.blob_at(first, b"a/b/f.txt").unwrap().unwrap(),
            b"one\n"
        );
        assert_eq!(repo.blob_at(head, b"a/b/f.txt").unwrap().unwrap(), b"two\n");
        for nothing in [&b"a/b"[..], b"a/link", b"a/b/missing", b"a/b/f.txt/x", b""] {
            assert_eq!(repo.blob_at(head, nothing).unwrap(), None, "{nothing:?}");
        }
        let link = repo.entry_at(head, b"a/link").unwrap().unwrap();
        assert!(link.is_blob());
        assert_eq!(repo.blob(link.id).unwrap(), b"b/f.txt");
        let sub = repo.entry_at(head, b"a/b").unwrap().unwrap();
        assert!(!sub.is_blob());
        assert_eq!(
            repo.entry_in(sub.id, b"f.txt").unwrap().map(|e| e.id),
            Some(id(&git(d, &["rev-parse", "HEAD:a/b/f.txt"])))
        );

        let tag = |name: &str| id(&git(d, &["rev-parse", name]));
        assert_eq!(repo.peel(tag("v1-again")).unwrap(), (first, Kind::Commit));
        assert_eq!(
            repo.peel(tag("blobtag")).unwrap(),
            (tag("HEAD:a/b/f.txt"), Kind::Blob)
        );
        assert!(repo.has(first) && !repo.has(Oid::zero()));

        let origin = repo.reference("refs/remotes/origin/HEAD").unwrap();
        assert_eq!(origin.symbolic.as_deref(), Some(&b"refs/heads/main"[..]));
        assert_eq!((origin.direct, origin.resolved), (None, Some(head)));
        let names: Vec<Vec<u8>> = repo
            .refs(Some("refs/tags/"))
            .unwrap()
            .into_iter()
            .map(|r| r.unwrap().name)
            .collect();
        assert_eq!(names.len(), 3);
        assert!(names.contains(&b"refs/tags/v1-again".to_vec()));
        assert!(repo.reference("refs/heads/nothing").is_none());
    }

    #[test]
    fn config_values_and_their_absence() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        git(d, &["init", "-q"]);
        git(d, &["config", "leakscan.timeout", "7"]);
        git(d, &["config", "leakscan.failOpen", "true"]);
        git(d, &["config", "leakscan.auditLog", "syslog"]);
        let repo = Repo::open(Locate::GitDir(&d.join(".git"))).unwrap();
        assert_eq!(repo.config_i64("leakscan.timeout").unwrap(), Some(7));
        assert_eq!(repo.config_bool("leakscan.failOpen").unwrap(), Some(true));
        assert_eq!(
            repo.config_string("leakscan.auditLog").unwrap().as_deref(),
            Some("syslog")
        );
        assert_eq!(repo.config_bool("leakscan.allowSkip").unwrap(), None);
        git(d, &["config", "leakscan.allowSkip", "maybe"]);
        assert!(repo.config_bool("leakscan.allowSkip").is_err());
    }
}
