//! `leakscan verify hosts`: the egress manifest, every host `--verify` may
//! contact and the rules that contact it, for an approver to read.

use std::io::Write;

use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::verify::{manifest, spec};

pub fn hosts() -> Result<Exit> {
    let specs = spec::builtin()?;
    let m = manifest::hosts(&specs);
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::new(stdout.lock());
    let write = |w: &mut dyn Write| -> std::io::Result<()> {
        for (host, rules) in &m {
            writeln!(w, "{host}\t{}", rules.join(","))?;
        }
        w.flush()
    };
    match write(&mut w) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::io("<stdout>", e)),
        _ => {
            eprintln!(
                "leakscan: {} hosts, {} verifiers (contacted only with --verify)",
                m.len(),
                specs.len()
            );
            Ok(Exit::Clean)
        }
    }
}
