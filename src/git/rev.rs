//! Reading files as of another git revision, for `--baseline-from REV`: a
//! change under review must not be able to edit the baseline or the
//! configuration that judges it, so both are read from the target branch.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::paths::absolute;

/// A repository and where the scanned root sits inside its work tree.
pub struct RevReader {
    /// libgit2 behind the guard, or our own readers for the formats it
    /// cannot read (SHA-256 ids, reftable refs).
    reader: Reader,
    /// The path the repository was found from (for messages).
    shown: PathBuf,
    /// Canonical work tree, if the repository has one.
    workdir: Option<PathBuf>,
    /// What asked for the revision, as messages name it (the caller's
    /// flag: `--baseline-from`, or the push policy's default).
    asked_by: String,
}

enum Reader {
    Lg(super::ObjectReader),
    Native(super::native::Native),
}

fn git_err(repo: &Path, msg: impl std::fmt::Display) -> Error {
    Error::Git {
        repo: repo.to_path_buf(),
        msg: msg.to_string(),
    }
}

impl RevReader {
    /// Opens the repository containing `dir`, for `asked_by` (the flag or
    /// default that named the revision; errors say it).
    pub fn open(dir: &Path, asked_by: &str) -> Result<RevReader> {
        if let Some((native, workdir)) = super::native::Native::open_if_needed(dir, false)
            .map_err(|(repo, msg)| git_err(&repo, msg))?
        {
            return Ok(RevReader {
                reader: Reader::Native(native),
                shown: dir.to_path_buf(),
                workdir: workdir.and_then(|w| w.canonicalize().ok()),
                asked_by: asked_by.to_string(),
            });
        }
        let repo = super::open(super::Locate::Discover(dir)).map_err(|e| match e {
            Error::Git { repo, msg } => Error::Git {
                repo,
                msg: format!("{asked_by} needs a git repository: {msg}"),
            },
            other => other,
        })?;
        let workdir = repo.workdir().and_then(|w| w.canonicalize().ok());
        Ok(RevReader {
            reader: Reader::Lg(super::ObjectReader::open(repo.path())?),
            shown: dir.to_path_buf(),
            workdir,
            asked_by: asked_by.to_string(),
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
        let reader = match &self.reader {
            Reader::Lg(r) => r,
            Reader::Native(n) => {
                let commit = n
                    .rev(rev)
                    .map_err(|e| git_err(&self.shown, format!("{} {rev}: {e}", self.asked_by)))?;
                return n
                    .blob_at(&commit, path.as_bytes())
                    .map_err(|e| git_err(&self.shown, format!("{rev}:{path}: {e}")));
            }
        };
        let commit = super::revspec::commit(reader, rev)
            .map_err(|e| git_err(&self.shown, format!("{} {rev}: {e}", self.asked_by)))?;
        super::revspec::read_path(reader, commit, path.as_bytes())
            .map_err(|e| git_err(&self.shown, format!("{rev}:{path}: {e}")))
    }
}
