//! Which baseline judges a run, and the configuration as of a trusted
//! revision: `--baseline FILE`, the config's `baseline` key, the default file
//! at the scanned root, or (`--baseline-from REV`) both baseline and
//! configuration read through git from REV, so a change under review cannot
//! edit what judges it.

use std::path::{Path, PathBuf};

use crate::config::{Loaded, CONFIG_FILE};
use crate::error::{Error, Result};
use crate::git::rev::RevReader;
use crate::paths::{absolute, join, slash_join};
use crate::suppress::baseline::{Baseline, Lookup, DEFAULT_FILE};

use super::{BaselineChoice, ConfigChoice};

/// The baseline that applies to a run, if any: `--no-baseline` → none;
/// `--baseline-from REV` → the baseline as of REV (none if REV has none);
/// else `--baseline FILE` (must exist), the config's `baseline` key, or
/// `.leakscan-baseline.json` at `root`.
pub fn for_run(
    choice: &BaselineChoice,
    quiet: bool,
    root: &Path,
    home: &Path,
    repo: Option<&Path>,
    cfg: Option<&Loaded>,
) -> Result<Option<Lookup>> {
    let (path, required) = match (choice, configured(cfg)) {
        (BaselineChoice::Ignore, _) => return Ok(None),
        (
            BaselineChoice::FromRev {
                rev,
                file,
                asked_by,
            },
            _,
        ) => {
            let reader = RevReader::open(repo.unwrap_or(root), asked_by)?;
            return from_rev(&reader, rev, file.as_deref(), quiet, root, cfg);
        }
        (BaselineChoice::Read { path, bytes }, _) => {
            return match bytes {
                None => Ok(None),
                Some(b) => {
                    let baseline = Baseline::parse(b, path)?;
                    Ok(Some(lookup(baseline, path.clone(), root, home)))
                }
            };
        }
        (BaselineChoice::File(p), _) => (p.clone(), true),
        (BaselineChoice::Default, Some(p)) => (p, false),
        (BaselineChoice::Default, None) => (in_root(home), false),
    };
    if path.is_dir() {
        // Not a file to skip quietly: a run judged by no baseline at all.
        return Err(Error::Baseline {
            path,
            msg: "is a directory, not a baseline file".into(),
        });
    }
    if !required && !path.is_file() {
        return Ok(None);
    }
    let baseline = Baseline::read(&path)?;
    Ok(Some(lookup(baseline, path, root, home)))
}

/// The lookup of `baseline`, read from `path`, for a run of `root` in the
/// project at `home`.
fn lookup(baseline: Baseline, path: PathBuf, root: &Path, home: &Path) -> Lookup {
    let prefix = prefix_for(root, &path);
    let cmd = update_command(&baseline, (path != in_root(home)).then_some(&path));
    let mut lookup = Lookup::new(baseline, path).with_prefix(prefix);
    lookup.set_update_command(cmd);
    lookup
}

/// The command that brings `baseline` up to date: its recorded scope, and
/// `--out FILE` when it is not the default file.
fn update_command(baseline: &Baseline, out: Option<&Path>) -> String {
    let mut s = String::from("leakscan baseline update");
    if let Some(h) = &baseline.history {
        s += &h.flags();
    }
    if let Some(p) = out {
        s += &format!(" --out {}", p.display());
    }
    s
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
    relative_below(&absolute(root), &absolute(dir))
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

fn from_rev(
    reader: &RevReader,
    rev: &str,
    file: Option<&Path>,
    quiet: bool,
    root: &Path,
    cfg: Option<&Loaded>,
) -> Result<Option<Lookup>> {
    let rel_root = reader.in_repo(root).unwrap_or_default();
    let outside = |p: &Path| {
        Error::Usage(format!(
            "{} is outside the repository, so it cannot be read from {rev}",
            p.display()
        ))
    };
    let in_repo = match (file, cfg) {
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
            join(&dir, key)
        }
        _ => join(&rel_root, DEFAULT_FILE),
    };
    let name = PathBuf::from(format!("{rev}:{in_repo}"));
    let Some(bytes) = reader.read(rev, &in_repo)? else {
        if !quiet {
            eprintln!(
                "leakscan: note: no baseline at {}; every finding is new",
                name.display()
            );
        }
        return Ok(None);
    };
    let baseline = Baseline::parse(&bytes, &name)?;
    let default = join(&rel_root, DEFAULT_FILE);
    let cmd = format!(
        "git switch {rev} && {}",
        update_command(
            &baseline,
            (in_repo != default).then_some(Path::new(&in_repo))
        )
    );
    let dir = in_repo.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    let prefix = if dir.is_empty() {
        Some(rel_root.clone())
    } else {
        rel_root
            .strip_prefix(dir)
            .and_then(|r| r.strip_prefix('/'))
            .map(str::to_string)
    };
    let mut lookup = Lookup::new(baseline, name).with_prefix(prefix.map(String::into_bytes));
    lookup.set_update_command(cmd);
    Ok(Some(lookup))
}

/// `root` relative to `dir` as `/`-separated bytes, if `root` is strictly
/// below `dir` (both absolute).
fn relative_below(root: &Path, dir: &Path) -> Option<Vec<u8>> {
    let rel = slash_join(root.strip_prefix(dir).ok()?);
    (!rel.is_empty()).then(|| rel.into_bytes())
}

/// The configuration as of `rev` in the repository at `repo`: the
/// `.leakscan.toml` at the same place in REV's tree, or none if REV has none
/// (the working copy's config is then not trusted either). `asked_by`:
/// what chose REV, for messages.
pub fn config_from_rev(repo: &Path, rev: &str, asked_by: &str) -> Result<ConfigChoice> {
    let reader = RevReader::open(repo, asked_by)?;
    let rel_root = reader.in_repo(repo).unwrap_or_default();
    let path = join(&rel_root, CONFIG_FILE);
    match reader.read(rev, &path)? {
        None => Ok(ConfigChoice::None),
        Some(bytes) => ConfigChoice::from_bytes(PathBuf::from(format!("{rev}:{path}")), bytes),
    }
}
