//! Resolves the command line, the configuration file and the defaults into
//! the objects a run needs: the rule set, the suppressor, limits. The only
//! place that knows how the three layers combine.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::{self, Loaded};
use crate::error::{Error, Result};
use crate::rules::{self, Allowlist, RuleSet, RuleSetBuilder};

/// Default `--max-file-size`: 10 MiB. Larger walked files are nearly always
/// data dumps, archives or generated bundles; they are counted, not scanned.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 << 20;

/// Where the configuration comes from.
#[derive(Debug, Clone)]
pub enum ConfigChoice {
    /// `.leakscan.toml` in this directory, if present.
    Discover(PathBuf),
    /// An explicit file (error if missing).
    File(PathBuf),
    /// Already-read text (e.g. from another git revision), with a display name.
    Text {
        name: PathBuf,
        text: String,
    },
    None,
}

/// Loads the configuration according to `choice`.
pub fn load_config(choice: &ConfigChoice) -> Result<Option<Loaded>> {
    match choice {
        ConfigChoice::Discover(dir) => config::discover(dir),
        ConfigChoice::File(p) => config::load(p).map(Some),
        ConfigChoice::Text { name, text } => Ok(Some(Loaded {
            config: config::parse(text, name)?,
            path: name.clone(),
            text: text.clone(),
        })),
        ConfigChoice::None => Ok(None),
    }
}

/// Builds the rule set: built-in rules (unless `no_default`), then the
/// config's rules, disabled ids and entropy overrides.
pub fn build_rules(cfg: Option<&Loaded>, no_default: bool) -> Result<Arc<RuleSet>> {
    let mut b = RuleSetBuilder::new();
    if !no_default {
        b.add_file(rules::parse_builtin()?, rules::DEFAULT_RULES_NAME)?;
        b.trust(rules::DEFAULT_RULES_NAME);
    }
    if let Some(l) = cfg {
        let origin = l.path.display().to_string();
        let mut specs = l.config.rules.clone();
        for (id, min) in &l.config.entropy {
            if !(0.0..=8.0).contains(min) {
                return Err(config_error(
                    l,
                    "entropy",
                    format!("entropy for `{id}` must be within 0.0..=8.0"),
                ));
            }
            // An override may name a built-in rule or one of the config's own.
            if let Some(s) = specs.iter_mut().find(|s| &s.id == id) {
                s.entropy = Some(*min);
            } else {
                b.set_entropy(id, *min)
                    .map_err(|msg| config_error(l, id, msg))?;
            }
        }
        b.add_file(specs, &origin)?;
        for id in &l.config.disable {
            if !b.has(id) {
                return Err(config_error(
                    l,
                    id,
                    format!("cannot disable rule `{id}`: no rule has that id"),
                ));
            }
        }
        b.disable(&l.config.disable);
    }
    let set = b.build()?;
    if set.is_empty() {
        return Err(Error::Usage(
            "no rules are active (check --no-default-rules and the config's `disable`)".into(),
        ));
    }
    Ok(Arc::new(set))
}

/// An error pointing at where `needle` first appears in the config text.
fn config_error(l: &Loaded, needle: &str, msg: String) -> Error {
    let offset = l.text.find(needle).unwrap_or(0);
    Error::config_at(&l.path, &l.text, offset, msg)
}

/// The global allowlist from the config (empty without one).
pub fn allowlist(cfg: Option<&Loaded>) -> Result<Allowlist> {
    match cfg {
        Some(l) => Allowlist::compile(
            &l.config.allowlist,
            &l.path.display().to_string(),
            "allowlist",
            false,
        )
        .map_err(|e| match e {
            Error::Rule { msg, .. } => config_error(l, "allowlist", msg),
            other => other,
        }),
        None => Ok(Allowlist::default()),
    }
}

/// The walk size limit: command line, then config, then the default.
pub fn max_file_size(cli: Option<u64>, cfg: Option<&Loaded>) -> u64 {
    cli.or(cfg.and_then(|l| l.config.max_file_size))
        .unwrap_or(DEFAULT_MAX_FILE_SIZE)
}

/// The directory a scan of `paths` treats as its root (config discovery,
/// baseline location): the first directory given, else the current directory.
pub fn scan_root(paths: &[PathBuf]) -> PathBuf {
    paths
        .iter()
        .find(|p| p.is_dir())
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."))
}

/// Threads: the flag, else the number of CPUs.
pub fn threads(flag: Option<usize>) -> usize {
    flag.filter(|&n| n > 0).unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    })
}

/// Whether `p` exists, as a friendly error for paths named on the command line.
pub fn check_path(p: &Path) -> Result<()> {
    if p.as_os_str() == "-" {
        return Ok(());
    }
    std::fs::symlink_metadata(p)
        .map(|_| ())
        .map_err(|e| Error::io(p, e))
}
