//! Finding the repositories of a sweep (`leakscan sweep`): every work tree (a directory with a
//! `.git` directory or file) and bare repository (`HEAD`, `objects/`,
//! `refs/`) under the roots, at any depth, without descending into a git
//! directory; or the paths of a list file. Files under a root that belong to
//! no repository are counted and a few named, never silently ignored; a
//! directory that cannot be listed is an error (it may hold repositories).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// How many files outside any repository are named (all are counted).
pub const OUTSIDE_NAMED: usize = 100;

/// `--repo-list` files larger than this are refused (read whole).
const MAX_LIST: u64 = 64 << 20;

/// A repository to sweep.
#[derive(Debug, Clone)]
pub struct Found {
    /// Its name in reports: the path relative to its root, with `/` (the
    /// root's own name when the root is the repository; prefixed with the
    /// root's name when several roots are swept).
    pub name: String,
    /// The directory to open (work tree or bare repository).
    pub path: PathBuf,
}

#[derive(Debug, Default)]
pub struct Discovered {
    pub repos: Vec<Found>,
    /// Files under a root that belong to no repository.
    pub outside_files: u64,
    /// The first `OUTSIDE_NAMED` of them, by name.
    pub outside_named: BTreeSet<String>,
    /// Directories (or entries) under a root that could not be examined:
    /// (name in reports, why). Repositories may hide in them, so each is a
    /// failure of the sweep, reported like a repository that failed.
    pub errors: Vec<(String, String)>,
}

/// Is `dir` a bare repository (as git recognises one, roughly)?
fn is_bare(dir: &Path) -> bool {
    dir.join("HEAD").is_file() && dir.join("objects").is_dir() && dir.join("refs").is_dir()
}

fn file_name(p: &Path) -> String {
    p.canonicalize()
        .ok()
        .and_then(|c| c.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| p.display().to_string())
}

/// Walks `roots` and reads `list`. Names are unique (an error otherwise).
pub fn discover(roots: &[PathBuf], list: Option<&Path>) -> Result<Discovered> {
    let mut out = Discovered::default();
    let prefix_roots = roots.len() > 1;
    for root in roots {
        let meta = std::fs::metadata(root).map_err(|e| Error::io(root, e))?;
        if !meta.is_dir() {
            return Err(Error::Usage(format!(
                "{}: not a directory (sweep takes directories holding repositories)",
                root.display()
            )));
        }
        let prefix = if prefix_roots {
            Some(file_name(root))
        } else {
            None
        };
        walk(root, prefix.as_deref(), &mut out);
    }
    if let Some(list) = list {
        let size = std::fs::metadata(list)
            .map_err(|e| Error::io(list, e))?
            .len();
        if size > MAX_LIST {
            return Err(Error::Usage(format!(
                "{}: larger than {} MiB; not a list of repositories",
                list.display(),
                MAX_LIST >> 20
            )));
        }
        let text = std::fs::read_to_string(list).map_err(|e| Error::io(list, e))?;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let path = PathBuf::from(line);
            if !path.exists() {
                return Err(Error::Usage(format!(
                    "{}:{}: `{line}` does not exist",
                    list.display(),
                    n + 1
                )));
            }
            out.repos.push(Found {
                name: line.trim_end_matches('/').replace('\\', "/"),
                path,
            });
        }
    }
    out.repos.sort_by(|a, b| a.name.cmp(&b.name));
    for w in out.repos.windows(2) {
        if w[0].name == w[1].name {
            return Err(Error::Usage(format!(
                "two repositories would both be reported as `{}` ({} and {}); sweep them in separate runs",
                w[0].name,
                w[0].path.display(),
                w[1].path.display()
            )));
        }
    }
    Ok(out)
}

/// Depth-first walk of one root; symbolic links are not followed.
fn walk(root: &Path, prefix: Option<&str>, out: &mut Discovered) {
    // (directory, relative path, inside a work tree)
    let mut stack: Vec<(PathBuf, String, bool)> = vec![(root.to_path_buf(), String::new(), false)];
    let name_of = |rel: &str| -> String {
        match (prefix, rel.is_empty()) {
            (Some(p), true) => p.to_string(),
            (Some(p), false) => format!("{p}/{rel}"),
            (None, true) => file_name(root),
            (None, false) => rel.to_string(),
        }
    };
    while let Some((dir, rel, mut inside)) = stack.pop() {
        if dir.join(".git").exists() {
            out.repos.push(Found {
                name: name_of(&rel),
                path: dir.clone(),
            });
            inside = true;
        } else if is_bare(&dir) {
            out.repos.push(Found {
                name: name_of(&rel),
                path: dir.clone(),
            });
            continue;
        }
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) => {
                out.errors.push((
                    name_of(&rel),
                    format!("{}: cannot be listed: {e}", dir.display()),
                ));
                continue;
            }
        };
        for entry in entries {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    out.errors.push((
                        name_of(&rel),
                        format!("{}: cannot be listed: {e}", dir.display()),
                    ));
                    continue;
                }
            };
            let name = entry.file_name();
            if name == ".git" {
                continue;
            }
            let child_rel = if rel.is_empty() {
                name.to_string_lossy().into_owned()
            } else {
                format!("{rel}/{}", name.to_string_lossy())
            };
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push((entry.path(), child_rel, inside)),
                Ok(_) if !inside => {
                    out.outside_files += 1;
                    // Keep the first names in sorted order, whatever the
                    // order directories list in.
                    out.outside_named.insert(name_of(&child_rel));
                    if out.outside_named.len() > OUTSIDE_NAMED {
                        out.outside_named.pop_last();
                    }
                }
                Ok(_) => {}
                Err(e) => out.errors.push((
                    name_of(&child_rel),
                    format!("{}: cannot be examined: {e}", entry.path().display()),
                )),
            }
        }
    }
}
