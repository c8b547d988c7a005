//! One module per subcommand. `run` dispatches; each scanning command turns
//! its flags into a `settings::Request`, resolves it into `Settings`, runs
//! its source through the pipeline and hands the findings to
//! `outcome::finish`.

pub mod baseline;
pub mod history;
pub mod hook;
pub mod rules;
pub mod scan;
pub mod staged;

use crate::cli::{Cli, Command, RulesCommand};
use crate::error::Result;
use crate::exit::Exit;

/// Runs the command the user asked for.
pub fn run(cli: Cli) -> Result<Exit> {
    match cli.command {
        Command::Scan(args) => scan::run(args),
        Command::Rules(RulesCommand::Check {
            config,
            no_default_rules,
        }) => rules::check(config, no_default_rules),
        Command::Rules(RulesCommand::List {
            config,
            no_default_rules,
        }) => rules::list(config, no_default_rules),
        Command::Staged(args) => staged::run(args),
        Command::History(args) => history::run(args),
        Command::Baseline(cmd) => baseline::run(cmd),
        Command::InstallHook(args) => hook::install(args),
        Command::UninstallHook(args) => hook::uninstall(args),
    }
}
