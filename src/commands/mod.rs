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

use crate::cli::{BaselineCommand, Cli, Command, HookArgs, RulesCommand, SweepSub, VerifyCommand};
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::report;

/// Runs the command the user asked for.
pub fn run(cli: Cli) -> Result<Exit> {
    report::set_color(cli.color);
    let quiet = cli.quiet;
    match cli.command {
        Command::Scan(mut args) => {
            args.common.quiet = quiet;
            scan::run(args)
        }
        Command::Rules(RulesCommand::Check(r)) => rules::check(r.config, r.no_default_rules),
        Command::Rules(RulesCommand::List(r)) => rules::list(r.config, r.no_default_rules),
        Command::Staged(mut args) => {
            args.common.quiet = quiet;
            staged::run(args)
        }
        Command::History(mut args) => {
            args.common.quiet = quiet;
            history::run(args)
        }
        Command::Baseline(mut cmd) => {
            match &mut cmd {
                BaselineCommand::Create(a) => a.scan.quiet = quiet,
                BaselineCommand::Update(a) => a.scan.quiet = quiet,
                BaselineCommand::Audit(_) | BaselineCommand::Import(_) => {}
            }
            baseline::run(cmd)
        }
        Command::InstallHook(args) => hook::install(args),
        Command::UninstallHook(args) => hook::uninstall(HookArgs {
            repo: args.repo,
            force: false,
            pre_push: args.pre_push,
        }),
        Command::PreReceive(mut args) => {
            args.policy.quiet = quiet;
            push::receive::run(args)
        }
        Command::PrePush(mut args) => {
            args.policy.quiet = quiet;
            push::client::run(args)
        }
        Command::Sweep(mut cmd) => {
            cmd.args.out.quiet = quiet;
            if let Some(SweepSub::Merge(m)) = &mut cmd.merge {
                m.out.quiet = quiet;
            }
            sweep::run(cmd)
        }
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
