//! `leakscan baseline create|update|audit|import`: writes and maintains the
//! file that `suppress::baseline` reads. `create` and `update` scan like
//! `scan` (or like `history` with `--history`), with the configuration's
//! allowlists and inline markers applied and no baseline, and record what is
//! left. Triage lives in `audit`, other scanners' suppressions in `import`.
//! Nothing here runs in the pre-commit hook: `leakscan staged` never writes
//! the baseline.

mod audit;
mod import;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cli::{BaselineCommand, BaselineCreateArgs, BaselineScanArgs, BaselineUpdateArgs};
use crate::error::Error;
use crate::error::Result;
use crate::exit::Exit;
use crate::finding::Secret;
use crate::git::revwalk::Selection;
use crate::git::Repo;
use crate::outcome;
use crate::paths::PathBytes;
use crate::pipeline;
use crate::report::Format;
use crate::rules::RuleSet;
use crate::settings::{self, baseline as which, BaselineChoice, Output, Request, Settings};
use crate::stats::{Stats, SuppressReason};
use crate::suppress::baseline::format::{self, FileLock, Key};
use crate::suppress::baseline::{
    Baseline, Entry, EntryPath, HistoryScope, Lookup, RunScope, Status,
};
use crate::suppress::Verdict;

pub fn run(cmd: BaselineCommand) -> Result<Exit> {
    if matches!(cmd, BaselineCommand::Create(_) | BaselineCommand::Update(_)) {
        crate::progress::catch_interrupts();
    }
    match cmd {
        BaselineCommand::Create(a) => create(a),
        BaselineCommand::Update(a) => update(a),
        BaselineCommand::Audit(a) => audit::run(a),
        BaselineCommand::Import(a) => import::run(a),
    }
}

/// One place a secret was found and not allowed by config or inline marker.
struct Seen {
    rule: String,
    /// As the scan reported it: relative to the scanned root.
    path: Vec<u8>,
    secret: Secret,
    line: usize,
}

/// A baseline command's scan, set up but not yet run.
struct BaselineRun {
    args: BaselineScanArgs,
    root: PathBuf,
    settings: Settings,
    /// The baseline file.
    file: PathBuf,
    /// The root relative to the baseline's directory (see `baseline::prefix_for`).
    prefix: Option<Vec<u8>>,
}

/// What the scan found, ready to compare with a baseline.
struct Collected {
    seen: Vec<Seen>,
    stats: Stats,
    total: usize,
}

fn plan(args: &BaselineScanArgs) -> Result<BaselineRun> {
    let request = Request {
        config: args.config.clone(),
        no_config: args.no_config,
        no_default_rules: args.no_default_rules,
        // A baseline must record findings, not judge them by itself.
        baseline: BaselineChoice::Ignore,
        output: Output {
            format: Format::Text,
            path: None,
            also: Vec::new(),
            shown_root: None,
            context: false,
            show_secrets: false,
            quiet: args.quiet,
            show_suppressed: false,
            verify: Default::default(),
        },
        threads: args.threads,
        min_confidence: None,
    };
    let root = if args.history {
        let dir = args.repo.clone().unwrap_or_else(|| PathBuf::from("."));
        Repo::discover(&dir)?.root().to_path_buf()
    } else {
        for p in &args.paths {
            settings::check_path(p)?;
        }
        settings::scan_root(&args.paths)
    };
    let repo = args.history.then_some(root.as_path());
    let settings = Settings::resolve(request, &root, repo)?;
    let file = args
        .out
        .clone()
        .or_else(|| which::configured(settings.config.as_ref()))
        .unwrap_or_else(|| which::in_root(&root));
    let prefix = which::prefix_for(&root, &file);
    Ok(BaselineRun {
        args: args.clone(),
        root,
        settings,
        file,
        prefix,
    })
}

impl BaselineRun {
    fn collect(&self) -> Result<Collected> {
        let a = &self.args;
        let scanned = if a.history {
            let repo = Repo::discover(&self.root)?;
            let selection = Selection {
                revs: a.revs.clone(),
                all: a.all,
                ..Selection::default()
            };
            pipeline::history::run(
                &repo.git_dir,
                &selection,
                // Every path a secret occurs at gets its own entry.
                &self.settings.history_options(a.max_file_size, true),
                self.settings.rules.clone(),
                self.settings.output.progress(),
            )?
        } else {
            let opts = self
                .settings
                .walk_options(a.no_ignore, true, false, a.max_file_size);
            pipeline::scan_target(
                &a.paths,
                &opts,
                self.settings.rules.clone(),
                self.settings.archives.clone(),
                self.settings.output.progress(),
            )?
        };
        let mut stats = scanned.stats;
        let total = scanned.findings.len();
        let own_name = self
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned().into_bytes());
        let mut seen = Vec::with_capacity(total);
        for f in scanned.findings {
            if let Verdict::Suppressed(reason, _) = self.settings.suppressor.judge(&f) {
                *stats.suppressed.entry(reason).or_default() += 1;
                continue;
            }
            // Inside an archive, the names through it follow the path.
            let at = |p: &PathBytes| match &f.archive {
                Some(a) => crate::finding::join_archive_path(p, &a.inner).0,
                None => p.0.clone(),
            };
            let mut places = vec![(at(&f.path), f.line)];
            places.extend(f.occurrences.iter().map(|o| (at(&o.path), o.line)));
            for (path, line) in places {
                // The baseline stores no secret, so nothing a rule finds in
                // it can be one; recording it would change it on every update.
                if own_name.as_deref() == Some(&joined(self.prefix.as_deref(), &path)[..]) {
                    continue;
                }
                seen.push(Seen {
                    rule: f.rule.clone(),
                    path,
                    secret: f.secret.clone(),
                    line,
                });
            }
        }
        outcome::print_problems(&stats);
        Ok(Collected { seen, stats, total })
    }

    fn entry(&self, key: &Key, s: &Seen, date: &str) -> Entry {
        let secret = s.secret.expose();
        let preview = format::preview(secret);
        Entry {
            path: EntryPath::literal(&joined(self.prefix.as_deref(), &s.path)),
            rule: s.rule.clone(),
            hash: Some(key.hash(secret)),
            sha1: None,
            line: Some(s.line as u64),
            preview: (!preview.is_empty()).then_some(preview),
            length: Some(secret.len() as u64),
            status: Status::Untriaged,
            reason: None,
            by: None,
            date: Some(date.to_string()),
        }
    }
}

/// `prefix/path`, or `path` without a prefix.
fn joined(prefix: Option<&[u8]>, path: &[u8]) -> Vec<u8> {
    match prefix {
        Some(p) => [p, b"/", path].concat(),
        None => path.to_vec(),
    }
}

/// "3 allowed inline, 1 allowlisted by config" (or "none suppressed").
fn suppressed_words(stats: &Stats) -> String {
    let mut parts = Vec::new();
    for (reason, label) in [
        (SuppressReason::Inline, "allowed inline"),
        (SuppressReason::Allowlist, "allowlisted by config"),
    ] {
        if let Some(n) = stats.suppressed.get(&reason) {
            parts.push(format!("{n} {label}"));
        }
    }
    if parts.is_empty() {
        "none suppressed".into()
    } else {
        parts.join(", ")
    }
}

fn exit_for(stats: &Stats, otherwise: Exit) -> Exit {
    if stats.errors.is_empty() {
        otherwise
    } else {
        Exit::Error
    }
}

fn create(args: BaselineCreateArgs) -> Result<Exit> {
    let plan = plan(&args.scan)?;
    if plan.file.is_dir() {
        return Err(is_a_directory(&plan.file));
    }
    let _lock = FileLock::acquire(&plan.file)?;
    if plan.file.exists() && !args.force {
        return Err(Error::Usage(format!(
            "{} exists; `{}` refreshes it and keeps its triage \
             (or pass --force to replace it)",
            plan.file.display(),
            command(&args.scan, "update")
        )));
    }
    write_new(&plan)
}

/// `create`'s work, also `update`'s when there is no baseline yet.
fn write_new(plan: &BaselineRun) -> Result<Exit> {
    let found = plan.collect()?;
    if found.stats.interrupted {
        return Ok(interrupted(&plan.file));
    }
    let mut b = Baseline::new();
    b.history = plan.history_scope();
    let key = b.key();
    let date = format::today();
    b.entries = found
        .seen
        .iter()
        .map(|s| plan.entry(&key, s, &date))
        .collect();
    b.normalize();
    b.write(&plan.file)?;
    if !plan.args.quiet {
        eprintln!(
            "leakscan: {} finding{} ({}); wrote {} entr{} to {}",
            found.total,
            if found.total == 1 { "" } else { "s" },
            suppressed_words(&found.stats),
            b.entries.len(),
            if b.entries.len() == 1 { "y" } else { "ies" },
            plan.file.display()
        );
        eprintln!("{}", commit_hint(&plan.file));
    }
    Ok(exit_for(&found.stats, Exit::Clean))
}

/// A baseline is never written from part of a scan.
fn interrupted(file: &Path) -> Exit {
    eprintln!("leakscan: interrupted: {} was not changed", file.display());
    Exit::Interrupted
}

fn is_a_directory(file: &Path) -> Error {
    Error::Baseline {
        path: file.to_path_buf(),
        msg: "is a directory, not a baseline file".into(),
    }
}

/// The next step once the baseline file changed: it judges nothing until
/// it is committed (and, for `--baseline-from`, merged).
fn commit_hint(file: &Path) -> String {
    let f = quote(&file.display().to_string());
    format!(
        "leakscan: next: commit it (`git add {f} && git commit -m \"Update leakscan baseline\"`); \
         CI runs that read the baseline with --baseline-from REV see it once it is on REV"
    )
}

/// The exact `leakscan baseline SUB ...` command for these scan flags.
fn command(a: &BaselineScanArgs, sub: &str) -> String {
    let mut s = format!("leakscan baseline {sub}");
    let mut flag = |f: &str, v: Option<String>| {
        s += " ";
        s += f;
        if let Some(v) = v {
            s += " ";
            s += &quote(&v);
        }
    };
    if let Some(o) = &a.out {
        flag("--out", Some(o.display().to_string()));
    }
    if let Some(c) = &a.config {
        flag("--config", Some(c.display().to_string()));
    }
    if a.no_config {
        flag("--no-config", None);
    }
    if a.no_default_rules {
        flag("--no-default-rules", None);
    }
    if a.no_ignore {
        flag("--no-ignore", None);
    }
    if let Some(m) = a.max_file_size {
        flag("--max-file-size", Some(m.to_string()));
    }
    if a.history {
        flag("--history", None);
        if let Some(r) = &a.repo {
            flag("--repo", Some(r.display().to_string()));
        }
        if a.all {
            flag("--all", None);
        }
    }
    for r in &a.revs {
        s += " ";
        s += &quote(r);
    }
    for p in a
        .paths
        .iter()
        .filter(|_| !a.history && !default_paths(&a.paths))
    {
        s += " ";
        s += &quote(&p.display().to_string());
    }
    s
}

/// No paths, or just `.` (the default).
fn default_paths(paths: &[PathBuf]) -> bool {
    matches!(paths, []) || matches!(paths, [one] if one.as_os_str() == ".")
}

/// Single-quotes a shell word when it needs it.
fn quote(w: &str) -> String {
    let plain = !w.is_empty()
        && w.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b));
    if plain {
        w.to_string()
    } else {
        format!("'{}'", w.replace('\'', r"'\''"))
    }
}

impl BaselineRun {
    /// The history this run scans, as a baseline records it.
    fn history_scope(&self) -> Option<HistoryScope> {
        self.args.history.then(|| HistoryScope {
            all: self.args.all,
            revs: self.args.revs.clone(),
        })
    }

    /// What this run covers, to judge staleness with.
    fn run_scope(&self) -> RunScope {
        match self.history_scope() {
            Some(h) => RunScope::History(h),
            None => match self.args.paths.as_slice() {
                [] => RunScope::Worktree,
                [one] if one.is_dir() => RunScope::Worktree,
                _ => RunScope::Partial,
            },
        }
    }
}

/// The wider of two recorded scopes (working tree < some revisions < all).
fn wider(cur: Option<HistoryScope>, new: Option<HistoryScope>) -> Option<HistoryScope> {
    match (cur, new) {
        (None, n) => n,
        (c, None) => c,
        (Some(c), Some(n)) if n.covers(&c) => Some(n),
        (Some(c), Some(n)) if c.covers(&n) => Some(c),
        (Some(c), Some(n)) => {
            let head = || vec!["HEAD".to_string()];
            let mut revs = if c.revs.is_empty() { head() } else { c.revs };
            for r in if n.revs.is_empty() { head() } else { n.revs } {
                if !revs.contains(&r) {
                    revs.push(r);
                }
            }
            Some(HistoryScope { all: false, revs })
        }
    }
}

fn update(args: BaselineUpdateArgs) -> Result<Exit> {
    let mut scan = args.scan.clone();
    let first = plan(&scan)?;
    if first.file.is_dir() {
        return Err(is_a_directory(&first.file));
    }
    let _lock = FileLock::acquire(&first.file)?;
    if !first.file.is_file() {
        if args.check {
            eprintln!(
                "leakscan: no baseline at {}; create it with `{}`",
                first.file.display(),
                command(&scan, "create")
            );
            return Ok(Exit::Findings);
        }
        if !scan.quiet {
            eprintln!(
                "leakscan: no baseline at {}; creating it",
                first.file.display()
            );
        }
        return write_new(&first);
    }
    let before = std::fs::read(&first.file).map_err(|e| Error::io(&first.file, e))?;
    let current = Baseline::parse(&before, &first.file)?;
    // Without flags saying what to scan, scan what the baseline was
    // recorded from: a history baseline is checked against history.
    let no_scope_flags =
        !scan.history && !scan.all && scan.revs.is_empty() && default_paths(&scan.paths);
    let plan = match (&current.history, no_scope_flags) {
        (Some(h), true) => {
            scan.history = true;
            scan.all = h.all;
            scan.revs = h.revs.clone();
            scan.paths.clear();
            let mut p = plan(&scan)?;
            p.prefix = which::prefix_for(&p.root, &first.file);
            p.file = first.file.clone();
            p
        }
        _ => first,
    };
    let found = plan.collect()?;
    if found.stats.interrupted {
        return Ok(interrupted(&plan.file));
    }
    let run_scope = plan.run_scope();
    let covers = run_scope.covers(current.history.as_ref());
    let Changes {
        mut added,
        mut removed,
        mut tied,
        mut kept,
        mut next,
    } = changes(&plan, &current, &found, run_scope);
    // A file or object the scan could not read may hold what an entry
    // records: its triage is kept, and the run still fails (exit 2).
    let unread = if found.stats.errors.is_empty() {
        0
    } else {
        let n = removed.len();
        next.entries.extend(removed.iter().map(|e| (*e).clone()));
        kept.append(&mut removed);
        n
    };
    next.history = wider(current.history.clone(), plan.history_scope());
    let after = next.to_bytes();
    let cmd = command(&scan, "update");

    added.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    tied.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    // The changes on standard output; a reader that closed the pipe early
    // (`| head`) ends the listing, not the update.
    let _ = (|| -> std::io::Result<()> {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        for e in &added {
            writeln!(out, "added    {}", e.describe())?;
        }
        for e in &removed {
            writeln!(out, "removed  {}  ({})", e.describe(), e.status)?;
        }
        for e in &tied {
            writeln!(
                out,
                "tied     {}  ({}; imported SHA-1 replaced by a salted hash)",
                e.describe(),
                e.status
            )?;
        }
        Ok(())
    })();
    let widened = next.history != current.history;
    let changed = !added.is_empty() || !removed.is_empty() || !tied.is_empty() || widened;
    let reformatted = !changed && after != before;
    let name = plan.file.display();
    if !scan.quiet {
        if unread > 0 {
            eprintln!(
                "leakscan: kept {unread} entr{} that matched nothing: the scan could not read \
                 everything (errors above), so they may be in what it missed",
                if unread == 1 { "y" } else { "ies" }
            );
        }
        if !covers {
            let recorded = match &current.history {
                Some(h) => format!("history ({})", h.flags().trim_start()),
                None => "the working tree".into(),
            };
            let full = match &current.history {
                Some(h) => format!("leakscan baseline update{}", h.flags()),
                None => "leakscan baseline update".into(),
            };
            eprintln!(
                "leakscan: note: {name} was recorded from {recorded}; this scan does not cover \
                 all of it, so no entry is called stale (`{full}` checks them all)"
            );
        }
    }
    if args.check {
        if !scan.quiet {
            if changed {
                eprintln!(
                    "leakscan: {name} is out of date: {} new finding{}, {} stale entr{}{}{}; \
                     run `{cmd}`",
                    added.len(),
                    if added.len() == 1 { "" } else { "s" },
                    removed.len(),
                    if removed.len() == 1 { "y" } else { "ies" },
                    if tied.is_empty() {
                        String::new()
                    } else {
                        format!(", {} imported to tie", tied.len())
                    },
                    if widened { ", scope widened" } else { "" },
                );
            } else if reformatted {
                eprintln!(
                    "leakscan: {name} is not in canonical form (sorted, formatted); \
                     run `{cmd}`"
                );
            } else {
                eprintln!(
                    "leakscan: {name} is up to date ({} entries)",
                    next.entries.len()
                );
            }
        }
        let out = if changed || reformatted {
            Exit::Findings
        } else {
            Exit::Clean
        };
        return Ok(exit_for(&found.stats, out));
    }
    if after != before {
        next.write(&plan.file)?;
    }
    if !scan.quiet {
        eprintln!(
            "leakscan: {name}: {} added, {} removed, {} tied, {} kept ({} finding{}; {})",
            added.len(),
            removed.len(),
            tied.len(),
            kept.len(),
            found.total,
            if found.total == 1 { "" } else { "s" },
            suppressed_words(&found.stats)
        );
        if after != before {
            eprintln!("{}", commit_hint(&plan.file));
        }
    }
    Ok(exit_for(&found.stats, Exit::Clean))
}

/// What `update` would change: the baseline's entries against what the scan found.
struct Changes<'a> {
    added: Vec<Entry>,
    /// Stale: they matched nothing.
    removed: Vec<&'a Entry>,
    /// Imported SHA-1 entries replaced by salted ones with the same triage.
    tied: Vec<Entry>,
    kept: Vec<&'a Entry>,
    next: Baseline,
}

fn changes<'a>(
    plan: &BaselineRun,
    current: &'a Baseline,
    found: &Collected,
    run: RunScope,
) -> Changes<'a> {
    let mut lookup = Lookup::new(current.clone(), &plan.file).with_prefix(plan.prefix.clone());
    lookup.set_run_scope(run);
    let key = current.key();
    let date = format::today();
    let mut added: Vec<Entry> = Vec::new();
    // Imported SHA-1 entries (detect-secrets) whose secret is found again are
    // replaced by salted entries with the same triage: the unsalted hash is
    // the one thing in the file a dictionary could be run against.
    let mut tied: Vec<Entry> = Vec::new();
    let mut replaced = HashSet::new();
    let mut keys = HashSet::new();
    for s in &found.seen {
        if let Some(i) = lookup.find(&s.rule, &s.path, s.secret.expose()) {
            let old = &current.entries[i];
            if old.sha1.is_some() && old.path.glob().is_none() {
                let e = Entry {
                    status: old.status,
                    reason: old.reason.clone(),
                    by: old.by.clone(),
                    date: old.date.clone(),
                    ..plan.entry(&key, s, &date)
                };
                if keys.insert((e.path.clone(), e.rule.clone(), e.hash)) {
                    tied.push(e);
                }
                replaced.insert(i);
            }
            continue;
        }
        let e = plan.entry(&key, s, &date);
        let k = (e.path.clone(), e.rule.clone(), e.hash);
        if keys.insert(k) {
            added.push(e);
        }
    }
    let (mut removed, mut kept) = (Vec::new(), Vec::new());
    for (i, e) in current.entries.iter().enumerate() {
        if lookup.is_stale(i) {
            removed.push(e);
        } else if !replaced.contains(&i) {
            kept.push(e);
        }
    }
    let mut next = Baseline {
        version: format::VERSION,
        salt: current.salt.clone(),
        history: current.history.clone(),
        entries: kept.iter().map(|e| (*e).clone()).collect(),
    };
    next.entries.extend(added.iter().cloned());
    next.entries.extend(tied.iter().cloned());
    Changes {
        added,
        removed,
        tied,
        kept,
        next,
    }
}

/// The rules and config a command uses to look inside files under `root`
/// (audit, import): `.leakscan.toml` there unless `config` is given.
fn rules_for(root: &Path, config: Option<&Path>, no_default: bool) -> Result<Arc<RuleSet>> {
    let choice = match config {
        Some(p) => settings::ConfigChoice::File(p.to_path_buf()),
        None => settings::ConfigChoice::Discover(root.to_path_buf()),
    };
    let cfg = settings::load_config(&choice)?;
    settings::build_rules(cfg.as_ref(), no_default)
}

/// Who is triaging: `user.email` as git sees it in the repository holding
/// `dir` (its own config first, then the global and system ones), else the
/// global one outside a repository, else `$USER`, else "unknown".
fn default_by(dir: &Path) -> String {
    let from_repo = crate::git::Repo::discover(dir)
        .ok()
        .and_then(|r| r.config_string("user.email").ok().flatten());
    from_repo
        .or_else(|| crate::git::repo::global_config_string("user.email"))
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("USERNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}
