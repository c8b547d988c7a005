//! One module per subcommand. Each resolves its settings with `prepare`, runs
//! its source through the pipeline and hands the findings to `app::finish`.

pub mod baseline;
pub mod history;
pub mod hook;
pub mod rules;
pub mod scan;
pub mod staged;
pub mod sweep;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cli::CommonArgs;
use crate::config::Loaded;
use crate::error::Result;
use crate::rules::RuleSet;
use crate::settings::{self, ConfigChoice};
use crate::suppress::{self, Suppressor};

/// What every scanning command needs before it reads a byte.
pub struct Prepared {
    pub config: Option<Loaded>,
    pub rules: Arc<RuleSet>,
    pub suppressor: Suppressor,
}

/// Resolves configuration, rules and suppression for a run rooted at `root`
/// (the scanned directory or the repository's work tree). `repo` is the git
/// repository, if any, used by `--baseline-from REV`.
pub fn prepare(common: &CommonArgs, root: &Path, repo: Option<&Path>) -> Result<Prepared> {
    let choice = match &common.baseline_from {
        // The config must come from the same trusted revision as the baseline,
        // or a change could allowlist its own secret.
        Some(rev) if !common.no_config && common.config.is_none() => {
            suppress::baseline::config_from_rev(repo.unwrap_or(root), rev)?
        }
        _ => config_choice(common, root.to_path_buf()),
    };
    let config = settings::load_config(&choice)?;
    let rules = settings::build_rules(config.as_ref(), common.no_default_rules)?;
    let allowlist = settings::allowlist(config.as_ref())?;
    let baseline = suppress::baseline::load_for_run(common, root, repo, config.as_ref())?;
    Ok(Prepared {
        config,
        rules,
        suppressor: Suppressor::new(allowlist, baseline),
    })
}

pub fn config_choice(common: &CommonArgs, root: PathBuf) -> ConfigChoice {
    if common.no_config {
        ConfigChoice::None
    } else if let Some(p) = &common.config {
        ConfigChoice::File(p.clone())
    } else {
        ConfigChoice::Discover(root)
    }
}
