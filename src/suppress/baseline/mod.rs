//! Baselines of accepted findings. (Being built: #4.)

use std::path::Path;

use crate::cli::CommonArgs;
use crate::config::Loaded;
use crate::error::{Error, Result};
use crate::finding::Finding;
use crate::settings::ConfigChoice;

/// Matches findings against a loaded baseline.
pub struct Matcher {}

impl Matcher {
    /// The entry's status if the finding is in the baseline.
    pub fn judge(&self, _f: &Finding) -> Option<String> {
        None
    }
}

/// The baseline that applies to a run, if any.
pub fn load_for_run(
    _common: &CommonArgs,
    _root: &Path,
    _repo: Option<&Path>,
    _cfg: Option<&Loaded>,
) -> Result<Option<Matcher>> {
    Ok(None)
}

/// The configuration as of `rev` in the repository at `repo`.
pub fn config_from_rev(_repo: &Path, rev: &str) -> Result<ConfigChoice> {
    Err(Error::Usage(format!("--baseline-from {rev}: not available yet")))
}
