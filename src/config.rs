//! The user's `.leakscan.toml`: extra rules, disabled rules, global allowlists,
//! thresholds and the baseline path, layered on the built-in rules. Parsing
//! only; `settings` combines it with the command line. Every error names the
//! file, line and column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::rules::syntax::{AllowlistSpec, RuleSpec};

pub const CONFIG_FILE: &str = ".leakscan.toml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Rule ids to turn off.
    #[serde(default)]
    pub disable: Vec<String>,
    /// Global allowlist, applied to every rule's findings.
    #[serde(default)]
    pub allowlist: AllowlistSpec,
    /// Per-rule minimum entropy overrides: `{ "generic-password" = 3.8 }`.
    #[serde(default)]
    pub entropy: BTreeMap<String, f64>,
    /// Largest file scanned when walking, in bytes.
    #[serde(default)]
    pub max_file_size: Option<u64>,
    /// Baseline file, relative to the config file's directory.
    #[serde(default)]
    pub baseline: Option<String>,
    /// Extra rules, in the same format as `rules.toml`.
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
}

/// A config and where it came from.
pub struct Loaded {
    pub config: Config,
    pub path: PathBuf,
    pub text: String,
}

/// Parses `text` read from `path`.
pub fn parse(text: &str, path: &Path) -> Result<Config> {
    toml::from_str(text).map_err(|e| Error::from_toml(path, text, &e))
}

/// Reads and parses the config at `path`.
pub fn load(path: &Path) -> Result<Loaded> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let config = parse(&text, path)?;
    Ok(Loaded {
        config,
        path: path.to_path_buf(),
        text,
    })
}

/// `.leakscan.toml` in `dir`, if there is one.
pub fn discover(dir: &Path) -> Result<Option<Loaded>> {
    let p = dir.join(CONFIG_FILE);
    if p.is_file() {
        load(&p).map(Some)
    } else {
        Ok(None)
    }
}
