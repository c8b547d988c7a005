//! `leakscan completions SHELL` and `leakscan man`: both generated from the
//! clap definitions in `cli`, so they never drift from the real flags.

use std::io::{self, Write};

use clap::CommandFactory;

use crate::cli::Cli;

/// The completion script for `shell`. Generated into memory first:
/// `clap_complete::generate` panics when its writer fails (a reader that
/// closed the pipe early), so the write error is ours to handle.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) -> io::Result<()> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "leakscan", &mut script);
    out.write_all(&script)
}

/// The manual page in roff: `leakscan(1)` with every subcommand's options
/// in its own section.
pub fn man(out: &mut dyn Write) -> io::Result<()> {
    let cmd = Cli::command();
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(out)?;
    man.render_name_section(out)?;
    man.render_synopsis_section(out)?;
    man.render_description_section(out)?;
    man.render_options_section(out)?;
    // Every subcommand in this same page (not in leakscan-scan(1) and so on).
    for sub in cmd.get_subcommands().filter(|s| shown(s)) {
        write_subcommand(out, "leakscan", sub)?;
    }
    man.render_extra_section(out)?;
    man.render_version_section(out)?;
    Ok(())
}

/// Not hidden, and not clap's own `help` subcommand.
fn shown(sub: &clap::Command) -> bool {
    !sub.is_hide_set() && sub.get_name() != "help"
}

/// One `.SH` section per subcommand (nested ones too): its synopsis, about
/// text and options.
fn write_subcommand(out: &mut dyn Write, parent: &str, sub: &clap::Command) -> io::Result<()> {
    let name = format!("{parent} {}", sub.get_name());
    writeln!(out, ".SH \"{}\"", name.to_uppercase().replace('-', "\\-"))?;
    // Render the subcommand's own page body through clap_mangen, minus its title.
    let sub = sub.clone().bin_name(name.clone());
    let man = clap_mangen::Man::new(sub.clone());
    let mut body = Vec::new();
    man.render_synopsis_section(&mut body)?;
    man.render_description_section(&mut body)?;
    man.render_options_section(&mut body)?;
    // Nested sections become subsections of this one.
    let body = String::from_utf8_lossy(&body).replace(".SH ", ".SS ");
    out.write_all(body.as_bytes())?;
    for nested in sub.get_subcommands().filter(|s| shown(s)) {
        write_subcommand(out, &name, nested)?;
    }
    Ok(())
}
