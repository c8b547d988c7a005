//! Baselines: findings a team has recorded and (maybe) triaged, so that only
//! new ones fail a run. An entry is identified by its rule, its file and a
//! salted hash of its secret, never by line, so moving, reindenting or
//! rewriting history around a secret does not bring it back; a different
//! secret, or the same secret in another file, is new.
//!
//! - `format`: the JSON file (schema, located errors, deterministic writing);
//! - `matcher`: O(1) lookup per finding, hit counts for stale reporting;
//! - `import`: gitleaks and detect-secrets suppressions, parsed and mapped;
//! - `rev`: reading the baseline and config from another git revision.
//!
//! Finding which baseline applies to a run is here; creating, updating and
//! auditing baselines is `commands::baseline`.

pub mod format;
pub mod import;
mod matcher;
pub mod rev;

use std::path::{Component, Path, PathBuf};

pub use format::{Baseline, Entry, EntryPath, Status, DEFAULT_FILE};
pub use matcher::Matcher;

use crate::cli::CommonArgs;
use crate::config::{Loaded, CONFIG_FILE};
use crate::error::{Error, Result};
use crate::settings::ConfigChoice;
use rev::RevReader;

/// The baseline that applies to a run, if any: `--no-baseline` → none;
/// `--baseline-from REV` → the baseline as of REV (none if REV has none);
/// else `--baseline FILE` (must exist), the config's `baseline` key, or
/// `.leakscan-baseline.json` at `root`.
pub fn load_for_run(
    common: &CommonArgs,
    root: &Path,
    repo: Option<&Path>,
    cfg: Option<&Loaded>,
) -> Result<Option<Matcher>> {
    if common.no_baseline {
        return Ok(None);
    }
    if let Some(rev) = &common.baseline_from {
        return load_from_rev(common, rev, root, repo, cfg);
    }
    let (path, required) = match (&common.baseline, configured(cfg)) {
        (Some(p), _) => (p.clone(), true),
        (None, Some(p)) => (p, false),
        (None, None) => (in_root(root), false),
    };
    if !required && !path.is_file() {
        return Ok(None);
    }
    let baseline = Baseline::read(&path)?;
    let prefix = prefix_for(root, &path);
    Ok(Some(Matcher::new(baseline, path).with_prefix(prefix)))
}

/// `.leakscan-baseline.json` in `root` (without a leading `./`, for messages).
pub fn in_root(root: &Path) -> PathBuf {
    if root == Path::new(".") {
        PathBuf::from(DEFAULT_FILE)
    } else {
        root.join(DEFAULT_FILE)
    }
}

/// Where a baseline's paths start, seen from a scan of `root`: a scan's
/// paths are relative to its root, a baseline's to its own directory. When
/// `root` is below that directory (`scan src --baseline .leakscan-baseline.json`)
/// this is `src`, which is joined onto each finding's path before matching.
pub fn prefix_for(root: &Path, file: &Path) -> Option<Vec<u8>> {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    relative_below(&rev::absolute(root), &rev::absolute(dir))
}

/// The config's `baseline` key, relative to the config file's directory.
pub fn configured(cfg: Option<&Loaded>) -> Option<PathBuf> {
    let l = cfg?;
    let key = l.config.baseline.as_ref()?;
    Some(match l.path.parent() {
        Some(dir) => dir.join(key),
        None => PathBuf::from(key),
    })
}

fn load_from_rev(
    common: &CommonArgs,
    rev: &str,
    root: &Path,
    repo: Option<&Path>,
    cfg: Option<&Loaded>,
) -> Result<Option<Matcher>> {
    let reader = RevReader::open(repo.unwrap_or(root))?;
    let rel_root = reader.in_repo(root).unwrap_or_default();
    let outside = |p: &Path| {
        Error::Usage(format!(
            "{} is outside the repository, so it cannot be read from {rev}",
            p.display()
        ))
    };
    let in_repo = match (&common.baseline, cfg) {
        (Some(p), _) => reader.in_repo(p).ok_or_else(|| outside(p))?,
        (None, Some(l)) if l.config.baseline.is_some() => {
            let key = l.config.baseline.as_deref().unwrap_or_default();
            // A config read by `config_from_rev` is named `REV:path`.
            let shown = l.path.to_string_lossy();
            let dir = match shown.strip_prefix(&format!("{rev}:")) {
                Some(p) => p
                    .rsplit_once('/')
                    .map(|(d, _)| d.to_string())
                    .unwrap_or_default(),
                None => {
                    let d = l.path.parent().unwrap_or(Path::new("."));
                    reader.in_repo(d).ok_or_else(|| outside(d))?
                }
            };
            rev::join(&dir, key)
        }
        _ => rev::join(&rel_root, DEFAULT_FILE),
    };
    let name = PathBuf::from(format!("{rev}:{in_repo}"));
    let Some(bytes) = reader.read(rev, &in_repo)? else {
        if !common.quiet {
            eprintln!(
                "leakscan: note: no baseline at {}; every finding is new",
                name.display()
            );
        }
        return Ok(None);
    };
    let baseline = Baseline::parse(&bytes, &name)?;
    let dir = in_repo.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    let prefix = if dir.is_empty() {
        Some(rel_root.clone())
    } else {
        rel_root
            .strip_prefix(dir)
            .and_then(|r| r.strip_prefix('/'))
            .map(str::to_string)
    };
    Ok(Some(
        Matcher::new(baseline, name).with_prefix(prefix.map(String::into_bytes)),
    ))
}

/// `root` relative to `dir` as `/`-separated bytes, if `root` is strictly
/// below `dir` (both absolute).
fn relative_below(root: &Path, dir: &Path) -> Option<Vec<u8>> {
    let rel = slash_join(root.strip_prefix(dir).ok()?);
    (!rel.is_empty()).then(|| rel.into_bytes())
}

/// The normal components of a relative path, joined with `/`.
pub(super) fn slash_join(rel: &Path) -> String {
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    parts.join("/")
}

/// The configuration as of `rev` in the repository at `repo`: the
/// `.leakscan.toml` at the same place in REV's tree, or none if REV has none
/// (the working copy's config is then not trusted either).
pub fn config_from_rev(repo: &Path, rev: &str) -> Result<ConfigChoice> {
    let reader = RevReader::open(repo)?;
    let rel_root = reader.in_repo(repo).unwrap_or_default();
    let path = rev::join(&rel_root, CONFIG_FILE);
    match reader.read(rev, &path)? {
        None => Ok(ConfigChoice::None),
        Some(bytes) => {
            let name = PathBuf::from(format!("{rev}:{path}"));
            let text = String::from_utf8(bytes).map_err(|_| Error::Config {
                path: name.clone(),
                line: 1,
                col: 1,
                msg: "not UTF-8".into(),
            })?;
            Ok(ConfigChoice::Text { name, text })
        }
    }
}
