//! The sweep report as text: the headline, then one block per secret
//! (forks that got it from the same commit on one line), then failed
//! repositories and files outside any repository.

use std::io::{self, Write};

use super::{prefix, Report, RowRepo, Status};

impl Report {
    pub fn write_text(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "{}", self.headline())?;
        if let Some(i) = self.interrupted {
            writeln!(out, "{}", i.describe())?;
        }
        let failed = self.failed();
        if failed > 0 {
            writeln!(
                out,
                "{failed} repositor{} could not be read completely (listed below)",
                if failed == 1 { "y" } else { "ies" }
            )?;
        }
        if self.outside.files > 0 {
            writeln!(
                out,
                "not in any repository: {} file{}; scan them with `leakscan scan`",
                self.outside.files,
                if self.outside.files == 1 { "" } else { "s" }
            )?;
        }
        for r in &self.rows {
            writeln!(out)?;
            let verdict = match self.verification.get(&r.key) {
                Some(v) => format!("  [{}]", v.status.as_str().to_uppercase()),
                None => String::new(),
            };
            writeln!(
                out,
                "{}{}  {}  key {}  in {} repositor{}{verdict}",
                if r.at_head() { "AT HEAD  " } else { "" },
                r.rule,
                self.secret_text(r),
                prefix(&r.key, 16),
                r.repos.len(),
                if r.repos.len() == 1 { "y" } else { "ies" }
            )?;
            // Forks, clones and mirrors of one project got the secret from
            // the same commit at the same place: one line for all of them.
            let mut groups: Vec<Vec<&RowRepo>> = Vec::new();
            for x in &r.repos {
                let same = |g: &Vec<&RowRepo>| {
                    let f = &g[0].first;
                    f.commit == x.first.commit && f.path == x.first.path && f.line == x.first.line
                };
                match groups.iter_mut().find(|g| same(g)) {
                    Some(g) => g.push(x),
                    None => groups.push(vec![x]),
                }
            }
            for g in &groups {
                let x = g[0];
                let names = if g.len() == 1 {
                    x.repo.clone()
                } else {
                    let others: Vec<&str> = g[1..].iter().map(|y| y.repo.as_str()).collect();
                    format!(
                        "{} and {} fork{} ({})",
                        x.repo,
                        others.len(),
                        if others.len() == 1 { "" } else { "s" },
                        others.join(", ")
                    )
                };
                let heads = g.iter().filter(|y| y.at_head).count();
                let at_head = match (heads, g.len()) {
                    (0, _) => String::new(),
                    (1, 1) => " [at HEAD]".to_string(),
                    (h, n) if h == n => " [at HEAD in all]".to_string(),
                    (h, _) => format!(" [at HEAD in {h}]"),
                };
                let commits = g.iter().map(|y| y.commits).max().unwrap_or(0);
                writeln!(
                    out,
                    "    {names}{at_head}  {}:{}  commit {} ({}, {} <{}>), {} commit{}",
                    x.first.path,
                    x.first.line,
                    prefix(&x.first.commit, 12),
                    x.first.date,
                    x.first.author,
                    x.first.email,
                    commits,
                    if commits == 1 { "" } else { "s" }
                )?;
            }
        }
        if failed > 0 {
            writeln!(out)?;
            writeln!(out, "Failed repositories:")?;
            for r in self.repos.iter().filter(|r| r.status == Status::Failed) {
                writeln!(
                    out,
                    "    {}: {}",
                    r.repo,
                    r.error.as_deref().unwrap_or("unknown error")
                )?;
            }
        }
        if self.outside.files > 0 {
            writeln!(out)?;
            writeln!(
                out,
                "Not in any repository ({} file{}{}):",
                self.outside.files,
                if self.outside.files == 1 { "" } else { "s" },
                if (self.outside.paths.len() as u64) < self.outside.files {
                    format!(", first {}", self.outside.paths.len())
                } else {
                    String::new()
                }
            )?;
            for p in &self.outside.paths {
                writeln!(out, "    {p}")?;
            }
        }
        Ok(())
    }
}
