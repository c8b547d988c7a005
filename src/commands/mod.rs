//! One module per subcommand. `run` dispatches; each scanning command turns
//! its flags into a `settings::Request`, resolves it into `Settings`, runs
//! its source through the pipeline and hands the findings to
//! `outcome::finish`.

pub mod baseline;
pub mod history;
pub mod hook;
mod manual;
pub mod push;
pub mod rules;
pub mod scan;
pub mod staged;
pub mod sweep;
mod verify;

use std::io::Write;

use crate::cli::{Cli, Command, HookArgs, RulesCommand, VerifyCommand};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::report;

/// Runs the command the user asked for.
pub fn run(cli: Cli) -> Result<Exit> {
    report::set_color(cli.color);
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
        Command::UninstallHook(args) => hook::uninstall(HookArgs {
            repo: args.repo,
            force: false,
            pre_push: args.pre_push,
        }),
        Command::PreReceive(args) => push::receive::run(args),
        Command::PrePush(args) => push::client::run(args),
        Command::Sweep(cmd) => sweep::run(cmd),
        Command::Verify(VerifyCommand::Hosts) => verify::hosts(),
        Command::Completions { shell } => print_with(|w| manual::completions(shell, w)),
        Command::Man => print_with(manual::man),
    }
}

/// Runs `write` on buffered standard output (completions, man page).
fn print_with(write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<Exit> {
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    match write(&mut w).and_then(|_| w.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::io("<stdout>", e)),
        _ => Ok(Exit::Clean),
    }
}
