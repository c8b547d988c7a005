//! Reading files as of another git revision, for `--baseline-from REV`: a
//! change under review must not be able to edit the baseline or the
//! configuration that judges it, so both are read from the target branch.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::paths::absolute;

/// A repository and where the scanned root sits inside its work tree.
pub struct RevReader {
    reader: super::ObjectReader,
    /// The path the repository was found from (for messages).
    shown: PathBuf,
    /// Canonical work tree, if the repository has one.
    workdir: Option<PathBuf>,
}

fn git_err(repo: &Path, msg: impl std::fmt::Display) -> Error {
    Error::Git {
        repo: repo.to_path_buf(),
        msg: msg.to_string(),
    }
}

impl RevReader {
    /// Opens the repository containing `dir`.
    pub fn open(dir: &Path) -> Result<RevReader> {
        let repo = super::open(super::Locate::Discover(dir)).map_err(|e| match e {
            Error::Git { repo, msg } => Error::Git {
                repo,
                msg: format!("--baseline-from needs a git repository: {msg}"),
            },
            other => other,
        })?;
        let workdir = repo.workdir().and_then(|w| w.canonicalize().ok());
        Ok(RevReader {
            reader: super::ObjectReader::open(repo.path())?,
            shown: dir.to_path_buf(),
            workdir,
        })
    }

    /// `path` (absolute, or relative to the current directory) as a
    /// `/`-separated path inside the work tree, or `None` if it is outside.
    pub fn in_repo(&self, path: &Path) -> Option<String> {
        let abs = absolute(path);
        let workdir = self.workdir.as_ref()?;
        Some(crate::paths::slash_join(abs.strip_prefix(workdir).ok()?))
    }

    /// The bytes of `path` (repository-relative, `/`-separated) at `rev`, or
    /// `None` if the revision has no such file.
    pub fn read(&self, rev: &str, path: &str) -> Result<Option<Vec<u8>>> {
        let commit = super::revspec::commit(&self.reader, rev)
            .map_err(|e| git_err(&self.shown, format!("--baseline-from {rev}: {e}")))?;
        super::revspec::read_path(&self.reader, commit, path.as_bytes())
            .map_err(|e| git_err(&self.shown, format!("{rev}:{path}: {e}")))
    }
}
