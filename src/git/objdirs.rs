//! Object directories besides the repository's own `objects/`: where git
//! keeps a push's objects while the `pre-receive` hook runs. Git receives a
//! push into a quarantine directory (`objects/tmp_objdir-incoming-*`) and
//! tells the hook through `GIT_OBJECT_DIRECTORY` (the quarantine) and
//! `GIT_ALTERNATE_OBJECT_DIRECTORIES` (the repository's objects, and any
//! alternates of its own); the objects move into the repository only once
//! every hook accepts the push, and are deleted otherwise.
//!
//! `ObjectReader` (libgit2) adds these directories as alternates, the guard
//! checks (and streams huge blobs from) them before libgit2 reads them, and
//! the pack reader and `store` list them too, so a scan sees exactly the
//! objects git's own commands in the hook would. They are set once per
//! process, by the command that runs as a hook (`leakscan pre-receive`);
//! every other command leaves them empty and reads only the repository.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

static EXTRA: OnceLock<Vec<PathBuf>> = OnceLock::new();

/// The extra object directories of this process (empty unless `set`).
pub fn extra() -> &'static [PathBuf] {
    EXTRA.get().map_or(&[], Vec::as_slice)
}

/// Sets this process's extra object directories (once; later calls are
/// ignored). Returns the directories in effect.
pub fn set(dirs: Vec<PathBuf>) -> &'static [PathBuf] {
    EXTRA.get_or_init(|| dirs)
}

/// Adds this process's extra object directories to `repo`'s object
/// database, as alternates.
pub fn attach(repo: &git2::Repository) -> crate::error::Result<()> {
    for dir in extra() {
        let err = |e: git2::Error| crate::error::Error::Git {
            repo: dir.clone(),
            msg: format!("cannot read objects from here: {}", e.message()),
        };
        repo.odb()
            .and_then(|odb| odb.add_disk_alternate(&dir.to_string_lossy()))
            .map_err(err)?;
    }
    Ok(())
}

/// The object directories git's environment names for the repository at
/// `git_dir`, other than its own `objects/`: `GIT_OBJECT_DIRECTORY`
/// first (the quarantine during a push), then each entry of
/// `GIT_ALTERNATE_OBJECT_DIRECTORIES`. Relative paths are taken from the
/// current directory, as git does; directories that do not exist, and
/// duplicates, are dropped.
pub fn from_env(git_dir: &Path) -> Vec<PathBuf> {
    from_values(
        git_dir,
        std::env::var_os("GIT_OBJECT_DIRECTORY"),
        std::env::var_os("GIT_ALTERNATE_OBJECT_DIRECTORIES"),
    )
}

fn from_values(
    git_dir: &Path,
    object_dir: Option<OsString>,
    alternates: Option<OsString>,
) -> Vec<PathBuf> {
    let own = canonical(&git_dir.join("objects"));
    let mut seen = vec![own];
    let mut out = Vec::new();
    let mut candidates: Vec<PathBuf> = object_dir
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .into_iter()
        .collect();
    if let Some(alt) = alternates {
        candidates.extend(split_alternates(&alt.to_string_lossy()));
    }
    for dir in candidates {
        if !dir.is_dir() {
            continue;
        }
        let c = canonical(&dir);
        if !seen.contains(&c) {
            seen.push(c.clone());
            out.push(c);
        }
    }
    out
}

fn canonical(p: &Path) -> PathBuf {
    p.canonicalize().unwrap_or_else(|_| p.to_path_buf())
}

/// Splits a `GIT_ALTERNATE_OBJECT_DIRECTORIES` value: entries separated by
/// `:` (`;` on Windows); an entry that starts with `"` is C-quoted, as git
/// writes paths that themselves contain the separator.
fn split_alternates(v: &str) -> Vec<PathBuf> {
    let sep = if cfg!(windows) { ';' } else { ':' };
    let mut out = Vec::new();
    let mut rest = v;
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            let (path, after) = unquote(quoted);
            out.push(PathBuf::from(path));
            rest = after.strip_prefix(sep).unwrap_or(after);
            // Anything between the closing quote and the separator is
            // not part of a valid entry; skip to the separator.
            if !after.starts_with(sep) && !after.is_empty() {
                rest = after.split_once(sep).map_or("", |(_, r)| r);
            }
        } else {
            let (entry, after) = rest.split_once(sep).unwrap_or((rest, ""));
            if !entry.is_empty() {
                out.push(PathBuf::from(entry));
            }
            rest = after;
        }
    }
    out
}

/// A C-quoted string's content (after the opening quote) and what follows
/// the closing quote.
fn unquote(s: &str) -> (String, &str) {
    let mut out: Vec<u8> = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => return (String::from_utf8_lossy(&out).into_owned(), &s[i + 1..]),
            b'\\' if i + 1 < b.len() => {
                let c = b[i + 1];
                i += 2;
                match c {
                    b'n' => out.push(b'\n'),
                    b't' => out.push(b'\t'),
                    b'r' => out.push(b'\r'),
                    b'a' => out.push(7),
                    b'b' => out.push(8),
                    b'f' => out.push(12),
                    b'v' => out.push(11),
                    b'0'..=b'3'
                        if i + 1 < b.len()
                            && (b'0'..=b'7').contains(&b[i])
                            && (b'0'..=b'7').contains(&b[i + 1]) =>
                    {
                        out.push((c - b'0') * 64 + (b[i] - b'0') * 8 + (b[i + 1] - b'0'));
                        i += 2;
                    }
                    other => out.push(other),
                }
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    (String::from_utf8_lossy(&out).into_owned(), "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternates_are_split_and_unquoted() {
        assert_eq!(
            split_alternates("/a/objects:/b/objects"),
            vec![PathBuf::from("/a/objects"), PathBuf::from("/b/objects")]
        );
        assert_eq!(
            split_alternates("\"/x:y/objects\":/b\\q"),
            vec![PathBuf::from("/x:y/objects"), PathBuf::from("/b\\q")]
        );
        assert_eq!(
            split_alternates("\"/tab\\there\\101\""),
            vec![PathBuf::from("/tab\there\u{41}")]
        );
        assert!(split_alternates("").is_empty());
        assert_eq!(split_alternates("::/c"), vec![PathBuf::from("/c")]);
    }

    #[test]
    fn own_objects_and_missing_directories_are_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let git = tmp.path().join("repo.git");
        let q = git.join("objects").join("tmp_objdir-incoming-x");
        std::fs::create_dir_all(&q).unwrap();
        let alt = format!(
            "{}:{}",
            git.join("objects").display(),
            tmp.path().join("gone").display()
        );
        let dirs = from_values(&git, Some(q.clone().into()), Some(alt.into()));
        assert_eq!(dirs, vec![q.canonicalize().unwrap()]);
        assert!(from_values(&git, None, None).is_empty());
    }
}
