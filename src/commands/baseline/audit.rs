//! `leakscan baseline audit`: triage. With `--set-status` it sets the status
//! of the selected entries (untriaged ones unless `--all`; narrowed with
//! `--rule` and `--path` globs) for scripts. On a terminal (or with
//! `--interactive`) it walks the selected entries one by one: it finds each
//! entry's secret in the working tree again (the file stores no secret and
//! no line text), shows the lines around it with every secret in them
//! redacted, and asks for a decision. Otherwise it lists the selection.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobMatcher};

use crate::blob;
use crate::cli::BaselineAuditArgs;
use crate::error::{Error, Result};
use crate::exit::Exit;
use crate::finding::{redact, Finding};
use crate::pipeline;
use crate::rules::RuleSet;
use crate::suppress::baseline::format::{self, Key};
use crate::suppress::baseline::{Baseline, Entry, Status};

/// Lines shown before and after the secret's line.
const CONTEXT: usize = 2;

fn glob(flag: &str, pattern: &str) -> Result<GlobMatcher> {
    GlobBuilder::new(pattern)
        .literal_separator(false)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| Error::Usage(format!("{flag} {pattern}: {e}")))
}

pub fn run(args: BaselineAuditArgs) -> Result<Exit> {
    // Held until the last decision is written: an `update` started meanwhile
    // waits for nothing and is refused, rather than writing over the triage.
    let _lock = if args.set_status.is_some() || args.interactive || std::io::stdin().is_terminal() {
        Some(format::FileLock::acquire(&args.file)?)
    } else {
        None
    };
    // Every decision is written as it is made, so Ctrl-C loses nothing; it
    // must not leave the lock behind either.
    let _ = ctrlc::set_handler(|| {
        format::FileLock::release_all();
        std::process::exit(130);
    });
    let mut b = Baseline::read(&args.file)?;
    let rule = args
        .rule
        .as_deref()
        .map(|r| glob("--rule", r))
        .transpose()?;
    let path = args
        .path
        .as_deref()
        .map(|p| glob("--path", p))
        .transpose()?;
    let selected: Vec<usize> = b
        .entries
        .iter()
        .enumerate()
        .filter(|(_, e)| args.all || e.status == Status::Untriaged)
        .filter(|(_, e)| rule.as_ref().map_or(true, |g| g.is_match(&e.rule)))
        .filter(|(_, e)| {
            path.as_ref()
                .map_or(true, |g| g.is_match(e.path.display().as_ref()))
        })
        .map(|(i, _)| i)
        .collect();
    if let Some(s) = &args.set_status {
        let status = Status::parse(s).ok_or_else(|| {
            Error::Usage(format!(
                "--set-status {s}: expected one of {}",
                Status::ALL.map(Status::as_str).join(", ")
            ))
        })?;
        let by = args
            .by
            .clone()
            .unwrap_or_else(|| super::default_by(&file_dir(&args.file)));
        let date = format::today();
        for &i in &selected {
            decide(&mut b.entries[i], status, args.reason.clone(), &by, &date);
        }
        if !selected.is_empty() {
            b.write(&args.file)?;
        }
        eprintln!(
            "leakscan: {} entr{} set to {status} in {}",
            selected.len(),
            if selected.len() == 1 { "y" } else { "ies" },
            args.file.display()
        );
        return Ok(Exit::Clean);
    }
    if args.interactive || std::io::stdin().is_terminal() {
        return interactive(&args, b, &selected);
    }
    let mut out = std::io::stdout().lock();
    for &i in &selected {
        let e = &b.entries[i];
        let _ = writeln!(out, "{}  {}", e.describe(), e.status);
    }
    eprintln!(
        "leakscan: {} entr{} selected; triage them on a terminal or with --set-status",
        selected.len(),
        if selected.len() == 1 { "y" } else { "ies" }
    );
    Ok(Exit::Clean)
}

/// The directory holding the baseline file (`.` for a bare name).
fn file_dir(file: &Path) -> PathBuf {
    match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn decide(e: &mut Entry, status: Status, reason: Option<String>, by: &str, date: &str) {
    e.status = status;
    e.reason = reason.filter(|r| !r.trim().is_empty());
    e.by = Some(by.to_string());
    e.date = Some(date.to_string());
}

fn interactive(args: &BaselineAuditArgs, mut b: Baseline, selected: &[usize]) -> Result<Exit> {
    let root = match &args.root {
        Some(r) => r.clone(),
        None => match args.file.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        },
    };
    let rules = super::rules_for(&root, None, false)?;
    let key = b.key();
    let by = args
        .by
        .clone()
        .unwrap_or_else(|| super::default_by(&file_dir(&args.file)));
    let date = format::today();
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| Error::io("<stdout>", e);
    let mut decided = 0;
    for (n, &i) in selected.iter().enumerate() {
        let e = &b.entries[i];
        writeln!(
            out,
            "\n[{}/{}] {}  ({})",
            n + 1,
            selected.len(),
            e.describe(),
            e.status
        )
        .map_err(io)?;
        if let Some(r) = &e.reason {
            writeln!(out, "  reason: {r}").map_err(io)?;
        }
        for l in show(e, &key, &root, &rules) {
            writeln!(out, "{l}").map_err(io)?;
        }
        let choice = loop {
            write!(
                out,
                "[f] false-positive  [a] accepted-risk  [r] revoked  [s] skip  [q] quit > "
            )
            .map_err(io)?;
            out.flush().map_err(io)?;
            let Some(answer) = read_line(&mut input) else {
                break None;
            };
            match answer.trim() {
                "f" => break Some(Status::FalsePositive),
                "a" => break Some(Status::AcceptedRisk),
                "r" => break Some(Status::Revoked),
                "s" | "" => break Some(Status::Untriaged),
                "q" => break None,
                other => writeln!(out, "  `{other}`? answer f, a, r, s or q").map_err(io)?,
            }
        };
        let Some(status) = choice else { break };
        if status == Status::Untriaged {
            continue;
        }
        write!(out, "reason (optional) > ").map_err(io)?;
        out.flush().map_err(io)?;
        let reason = read_line(&mut input).or_else(|| args.reason.clone());
        decide(&mut b.entries[i], status, reason, &by, &date);
        // Save after every decision, so quitting (or ^C) loses nothing.
        b.write(&args.file)?;
        decided += 1;
    }
    writeln!(out).map_err(io)?;
    eprintln!(
        "leakscan: triaged {decided} of {} entr{} in {}",
        selected.len(),
        if selected.len() == 1 { "y" } else { "ies" },
        args.file.display()
    );
    Ok(Exit::Clean)
}

/// One line of input without its newline; `None` at end of input.
fn read_line(input: &mut impl BufRead) -> Option<String> {
    let mut s = String::new();
    match input.read_line(&mut s) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(s.trim_end_matches(['\n', '\r']).to_string()),
    }
}

/// The entry's current place in the working tree, with context lines in
/// which every secret is redacted; or why it cannot be shown.
fn show(e: &Entry, key: &Key, root: &Path, rules: &std::sync::Arc<RuleSet>) -> Vec<String> {
    let hint = e
        .line
        .map(|l| format!(" (recorded at line {l})"))
        .unwrap_or_default();
    if e.path.glob().is_some() {
        return vec![format!("  matches any path like `{}`", e.path.display())];
    }
    let Some(rel) = std::str::from_utf8(&e.path.0).ok().map(PathBuf::from) else {
        return vec![format!("  cannot open a non-UTF-8 path{hint}")];
    };
    let Ok(bytes) = std::fs::read(root.join(&rel)) else {
        return vec![format!(
            "  {} is not in the working tree{hint}; the secret may be only in history",
            rel.display()
        )];
    };
    let text = blob::decode(&bytes).into_owned();
    let findings = pipeline::scan_blob(rules.clone(), &text, &rel);
    let ours = findings.iter().find(|f| {
        e.hash.is_some_and(|h| h == key.hash(f.secret.expose()))
            || e.sha1.is_some_and(|h| h == format::sha1(f.secret.expose()))
    });
    let Some(f) = ours else {
        return vec![format!(
            "  no longer found in {}{hint}; `leakscan baseline update` would prune it",
            rel.display()
        )];
    };
    let lines: Vec<&[u8]> = text.split(|&b| b == b'\n').collect();
    let first = f.line.saturating_sub(CONTEXT).max(1);
    let last = (f.end_line + CONTEXT).min(lines.len());
    let mut out = vec![format!("  now at {}:{}", rel.display(), f.line)];
    for n in first..=last {
        let line = redact_line(lines[n - 1], n, &findings);
        let mark = if n >= f.line && n <= f.end_line {
            '>'
        } else {
            ' '
        };
        out.push(format!(
            "  {mark}{n:>6} | {}",
            String::from_utf8_lossy(&line)
        ));
    }
    out
}

/// Line `n` with the part of every finding's secret that lies on it replaced
/// by its redacted form.
fn redact_line(line: &[u8], n: usize, findings: &[Finding]) -> Vec<u8> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut spans: Vec<(usize, usize, &Finding)> = findings
        .iter()
        .filter(|f| f.line <= n && n <= f.end_line)
        .map(|f| {
            let start = if f.line == n { f.column - 1 } else { 0 };
            let end = if f.end_line == n {
                f.end_column - 1
            } else {
                line.len()
            };
            (start.min(line.len()), end.min(line.len()), f)
        })
        .collect();
    spans.sort_by_key(|s| s.0);
    let mut out = Vec::with_capacity(line.len());
    let mut at = 0;
    for (start, end, f) in spans {
        if end <= at {
            continue;
        }
        out.extend_from_slice(&line[at..start.max(at)]);
        if start >= at {
            out.extend_from_slice(redact(f.secret.expose()).as_bytes());
        }
        at = end;
    }
    out.extend_from_slice(&line[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{InlineAllow, Secret};
    use crate::paths::PathBytes;

    fn finding(line: usize, col: usize, secret: &str) -> Finding {
        Finding {
            rule: "r".into(),
            description: String::new(),
            path: PathBytes::from("a"),
            line,
            column: col,
            end_line: line,
            end_column: col + secret.len(),
            secret: Secret::new(secret.as_bytes().to_vec()),
            entropy: 0.0,
            commit: None,
            inline: InlineAllow::None,
            line_text: Vec::new(),
            occurrences: Vec::new(),
            encoding: None,
            archive: None,
            near: None,
            confidence: crate::rules::Confidence::Low,
            public: false,
        }
    }

    #[test]
    fn redacts_every_secret_on_the_line() {
        let fs = [finding(3, 5, "abcdefgh12"), finding(3, 20, "zyxwvuts98")];
        let line = b"k = abcdefgh12 and zyxwvuts98;";
        let got = String::from_utf8(redact_line(line, 3, &fs)).unwrap();
        assert_eq!(got, "k = abcd…(10) and zyxw…(10);");
        assert_eq!(redact_line(b"other", 4, &fs), b"other");
    }
}
