//! Resolves the command line, the configuration file and the defaults into
//! one `Settings`: the rule set, the suppressor, output choices, threads and
//! limits. The only place that knows how the three layers combine, and the
//! one factory every command builds its run from.
//!
//! A command turns its flags into a `Request` (what was asked, not yet
//! checked), then `Settings::resolve` reads the configuration (from the
//! scanned root, a file, or a trusted git revision), builds the rules and
//! the suppressor, and finds the baseline (`baseline`).

pub mod baseline;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::archive;
use crate::cli::{ArchiveArgs, CommonArgs};
use crate::config::{self, Loaded};
use crate::error::{Error, Result};
use crate::pipeline::history::HistoryOptions;
use crate::report::Format;
use crate::rules::{Allowlist, RuleSet, RuleSetBuilder};
use crate::source::worktree::WalkOptions;
use crate::suppress::Suppressor;

/// Most worker threads a run starts, whatever `-j` says: each thread keeps
/// its own matcher scratch and buffers, so `-j 100000` would otherwise take
/// gigabytes before reading a byte.
pub const MAX_THREADS: usize = 256;

/// Where the report goes and what it shows.
#[derive(Debug, Clone)]
pub struct Output {
    pub format: Format,
    /// A file instead of standard output.
    pub path: Option<PathBuf>,
    /// More reports of the same run: `--also-output FORMAT=FILE`.
    pub also: Vec<(Format, PathBuf)>,
    /// The scanned directory as given, when findings' paths are relative to
    /// it and it is not `.`: the text report shows paths under it.
    pub shown_root: Option<PathBuf>,
    /// The text report's source line under each finding (`--no-context`).
    pub context: bool,
    pub show_secrets: bool,
    /// No progress line and no summary on standard error.
    pub quiet: bool,
    /// Suppressed findings are reported too, with why.
    pub show_suppressed: bool,
    /// `--verify`, `--only-live`, `--fail-on` (default: off).
    pub verify: Verifying,
}

/// What the run does about verification.
#[derive(Debug, Clone, Default)]
pub struct Verifying {
    /// `--verify[=dry-run]`; `None`: no network at all.
    pub options: Option<crate::verify::Options>,
    pub only_live: bool,
    /// `--fail-on live`: only live findings exit 1.
    pub fail_on_live: bool,
}

impl Output {
    /// A progress line is drawn only for text output to a terminal.
    pub fn progress(&self) -> bool {
        !self.quiet && self.format == Format::Text && std::io::stderr().is_terminal()
    }
}

/// `BaselineChoice::FromRev::asked_by` when the flag chose the revision.
pub const BASELINE_FROM: &str = "--baseline-from";

/// Which baseline judges the run.
#[derive(Debug, Clone)]
pub enum BaselineChoice {
    /// `--no-baseline` (and every baseline command's own scan).
    Ignore,
    /// `--baseline FILE`: must exist.
    File(PathBuf),
    /// `--baseline-from REV`: the baseline (and the configuration) as of REV;
    /// `file` is `--baseline FILE`, read from REV too. `asked_by` names what
    /// chose REV in messages: `--baseline-from`, or a hook's default.
    FromRev {
        rev: String,
        file: Option<PathBuf>,
        asked_by: &'static str,
    },
    /// The config's `baseline` key, else `.leakscan-baseline.json` at the root.
    Default,
    /// The default baseline already read (`staged`: from the index), shown
    /// as `path`; `bytes` is `None` when there is none.
    Read {
        path: PathBuf,
        bytes: Option<Vec<u8>>,
    },
}

/// A file as the index holds it (what `git commit` would record): its
/// content at a `/`-separated path from the top of the work tree, `None`
/// when the index has no file there.
pub type IndexReader<'a> = &'a dyn Fn(&str) -> Result<Option<Vec<u8>>>;

/// What a command asked for, before anything is read or checked.
#[derive(Debug, Clone)]
pub struct Request {
    /// `--config FILE`.
    pub config: Option<PathBuf>,
    /// `--no-config`.
    pub no_config: bool,
    pub no_default_rules: bool,
    pub baseline: BaselineChoice,
    pub output: Output,
    /// `-j N`.
    pub threads: Option<usize>,
    /// `--min-confidence`.
    pub min_confidence: Option<crate::rules::Confidence>,
}

impl Request {
    /// The options every scanning command shares.
    pub fn from_cli(c: &CommonArgs) -> Request {
        let baseline = if c.no_baseline {
            BaselineChoice::Ignore
        } else if let Some(rev) = &c.baseline_from {
            BaselineChoice::FromRev {
                rev: rev.clone(),
                file: c.baseline.clone(),
                asked_by: BASELINE_FROM,
            }
        } else if let Some(p) = &c.baseline {
            BaselineChoice::File(p.clone())
        } else {
            BaselineChoice::Default
        };
        Request {
            config: c.rules.config.clone(),
            no_config: c.no_config,
            no_default_rules: c.rules.no_default_rules,
            baseline,
            output: Output {
                format: c.format,
                path: c.output.clone(),
                also: c.also_output.clone(),
                shown_root: None,
                context: !c.no_context,
                show_secrets: c.show_secrets,
                quiet: c.quiet,
                show_suppressed: c.show_suppressed,
                verify: verifying(&c.verify),
            },
            threads: c.run.threads,
            min_confidence: c.min_confidence.map(|m| match m {
                crate::cli::MinConfidence::Low => crate::rules::Confidence::Low,
                crate::cli::MinConfidence::Medium => crate::rules::Confidence::Medium,
                crate::cli::MinConfidence::High => crate::rules::Confidence::High,
            }),
        }
    }
}

/// `--verify` and friends, resolved (scan, staged, history, sweep).
pub fn verifying(c: &crate::cli::VerifyArgs) -> Verifying {
    use crate::verify::{Mode, Options};
    let options = c.verify.as_deref().map(|m| {
        let mut o = Options::new(if m == "dry-run" {
            Mode::DryRun
        } else {
            Mode::Live
        });
        o.hosts_arg = c.verify_hosts.clone();
        o.timeout = std::time::Duration::from_secs(c.verify_timeout.max(1));
        o
    });
    Verifying {
        options,
        only_live: c.only_live,
        fail_on_live: c.fail_on == "live",
    }
}

/// Everything a run needs, resolved.
pub struct Settings {
    pub config: Option<Loaded>,
    pub rules: Arc<RuleSet>,
    pub suppressor: Suppressor,
    pub output: Output,
    /// Worker threads (at least 1, at most `MAX_THREADS`).
    pub threads: usize,
    /// How archives are opened; `None` with `--no-archives`.
    pub archives: Option<archive::Limits>,
    /// The environment's switches, read once.
    pub switches: Switches,
}

/// Switches set in the environment for tests and diagnosis, read once per
/// run (here) and carried to the code they steer.
#[derive(Debug, Clone, Copy)]
pub struct Switches {
    /// `LEAKSCAN_TRACE` (set to anything): the time and volume of each
    /// history phase on standard error.
    pub trace: bool,
    /// `LEAKSCAN_PACK_READER=on|off`: force the one-pass pack reader on or
    /// off (otherwise `git::pack::worth_a_pass` decides).
    pub pack_reader: Option<bool>,
    /// `LEAKSCAN_PROGRESS_AFTER_MS`: how long a run goes before the
    /// progress line is first drawn (default one second, so short runs
    /// print nothing). Handed to `progress` when read.
    pub progress_after: Duration,
    /// `LEAKSCAN_STATE_HINT_SECS`: how long a sweep without `--state` runs
    /// before it says that Ctrl-C would keep nothing to resume from
    /// (default a minute; the tests set 0).
    pub state_hint_after: Duration,
}

impl Default for Switches {
    fn default() -> Switches {
        Switches {
            trace: false,
            pack_reader: None,
            progress_after: crate::progress::FIRST_DRAW,
            state_hint_after: Duration::from_secs(60),
        }
    }
}

impl Switches {
    /// Reads the environment, once per run, and tells `progress` when to
    /// draw its first line.
    pub fn from_env() -> Switches {
        let number = |name: &str| -> Option<u64> {
            std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
        };
        let defaults = Switches::default();
        let progress_after = number("LEAKSCAN_PROGRESS_AFTER_MS")
            .map_or(defaults.progress_after, Duration::from_millis);
        crate::progress::set_first_draw(progress_after);
        Switches {
            progress_after,
            state_hint_after: number("LEAKSCAN_STATE_HINT_SECS")
                .map_or(defaults.state_hint_after, Duration::from_secs),
            trace: std::env::var_os("LEAKSCAN_TRACE").is_some(),
            pack_reader: match std::env::var("LEAKSCAN_PACK_READER").as_deref() {
                Ok("on") => Some(true),
                Ok("off") => Some(false),
                _ => None,
            },
        }
    }
}

impl Settings {
    /// Resolves configuration, rules and suppression for a run rooted at
    /// `root` (the scanned directory or the repository's work tree). `repo`
    /// is the git repository, if any, used by `--baseline-from REV`.
    pub fn resolve(req: Request, root: &Path, repo: Option<&Path>) -> Result<Settings> {
        Settings::resolve_from(req, root, root, repo, None)
    }

    /// `resolve` for `staged`: `.leakscan.toml` and the default baseline
    /// (the config's `baseline` key, else `.leakscan-baseline.json`) are
    /// read as the index holds them at the top of the work tree `workdir`,
    /// through `read`: the commit is judged by the configuration it records,
    /// so an edit not staged (or a file never added) cannot loosen the hook.
    /// `--config FILE`, `--no-config`, `--baseline FILE`, `--no-baseline`
    /// and `--baseline-from REV` mean what they mean everywhere. When the
    /// work tree's copy differs from the staged one, a note says which judged
    /// the commit.
    pub fn resolve_staged(req: Request, workdir: &Path, read: IndexReader) -> Result<Settings> {
        let quiet = req.output.quiet;
        let staged = Staged {
            read,
            quiet,
            names: Default::default(),
        };
        Settings::resolve_from(req, workdir, workdir, Some(workdir), Some(&staged)).map_err(|e| {
            // Say which version of the file failed: the staged one, which
            // may differ from the file in the editor.
            const STAGED: &str = "(in the staged version of the file; `git add` it after fixing)";
            match e {
                Error::Config {
                    path,
                    line,
                    col,
                    msg,
                } if staged.names(&path) => Error::Config {
                    path,
                    line,
                    col,
                    msg: format!("{msg} {STAGED}"),
                },
                Error::Baseline { path, msg } if staged.names(&path) => Error::Baseline {
                    path,
                    msg: format!("{msg} {STAGED}"),
                },
                e => e,
            }
        })
    }

    /// `resolve` for a scan of `root` inside a project whose top directory
    /// is `home` (the repository's work tree): the configuration and the
    /// default baseline are looked for in `home`, and the baseline's paths
    /// (relative to `home`) are matched against `root`'s findings.
    pub fn resolve_in(
        req: Request,
        root: &Path,
        home: &Path,
        repo: Option<&Path>,
    ) -> Result<Settings> {
        Settings::resolve_from(req, root, home, repo, None)
    }

    fn resolve_from(
        req: Request,
        root: &Path,
        home: &Path,
        repo: Option<&Path>,
        staged: Option<&Staged>,
    ) -> Result<Settings> {
        check_output(&req.output)?;
        let discover = !req.no_config && req.config.is_none();
        let choice = match (&req.baseline, staged) {
            // The config must come from the same trusted revision as the
            // baseline, or a change could allowlist its own secret.
            (BaselineChoice::FromRev { rev, asked_by, .. }, _) if discover => {
                baseline::config_from_rev(repo.unwrap_or(root), rev, asked_by)?
            }
            (_, Some(s)) if discover => s.config(home)?,
            _ => req.config_choice(home),
        };
        let config = load_config(&choice)?;
        let rules = build_rules(config.as_ref(), req.no_default_rules)?;
        let allowlist = allowlist(config.as_ref())?;
        let chosen = match (&req.baseline, staged) {
            (BaselineChoice::Default, Some(s)) => s.baseline(home, config.as_ref())?,
            (b, _) => b.clone(),
        };
        let found =
            baseline::for_run(&chosen, req.output.quiet, root, home, repo, config.as_ref())?;
        let mut suppressor = Suppressor::new(allowlist, found);
        suppressor.min_confidence = req.min_confidence;
        Ok(Settings {
            config,
            rules,
            suppressor,
            output: req.output,
            threads: threads(req.threads),
            archives: Some(archive::Limits::default()),
            switches: Switches::from_env(),
        })
    }

    /// Applies `--no-archives` and the `--archive-max-*` flags.
    pub fn set_archives(&mut self, a: &ArchiveArgs) {
        self.archives = archive_limits(a);
    }

    /// The size limit: the command line's, then the config's, then the default.
    pub fn max_file_size(&self, flag: Option<u64>) -> u64 {
        max_file_size(flag, self.config.as_ref())
    }

    /// How a walk of files runs under these settings (`--max-file-size`
    /// given as `max_file_size`).
    pub fn walk_options(
        &self,
        no_ignore: bool,
        hidden: bool,
        follow: bool,
        max_file_size: Option<u64>,
    ) -> WalkOptions {
        WalkOptions {
            no_ignore,
            hidden,
            follow,
            threads: self.threads,
            max_file_size: self.max_file_size(max_file_size),
        }
    }

    /// How a history scan runs under these settings.
    pub fn history_options(
        &self,
        max_file_size: Option<u64>,
        all_occurrences: bool,
    ) -> HistoryOptions {
        HistoryOptions {
            threads: self.threads,
            max_file_size: self.max_file_size(max_file_size),
            all_occurrences,
            cache: None,
            archives: self.archives.clone(),
            trace: self.switches.trace,
            pack_reader: self.switches.pack_reader,
        }
    }
}

/// `staged`'s view of the configuration files: the index's.
struct Staged<'a> {
    read: IndexReader<'a>,
    quiet: bool,
    /// The names of the files read from the index.
    names: std::cell::RefCell<Vec<PathBuf>>,
}

impl Staged<'_> {
    /// `.leakscan.toml` as staged at the top of the work tree `top`.
    fn config(&self, top: &Path) -> Result<ConfigChoice> {
        let name = top.join(config::CONFIG_FILE);
        let bytes = (self.read)(config::CONFIG_FILE)?;
        self.note_unstaged(&name, bytes.as_deref());
        self.names.borrow_mut().push(name.clone());
        let Some(bytes) = bytes else {
            return Ok(ConfigChoice::None);
        };
        ConfigChoice::from_bytes(name, bytes)
    }

    /// The default baseline (the config's `baseline` key, else
    /// `.leakscan-baseline.json` at `top`) as staged. One outside the work
    /// tree (`--config` elsewhere naming it) is not in the index: read from
    /// disk, as in every mode.
    fn baseline(&self, top: &Path, cfg: Option<&Loaded>) -> Result<BaselineChoice> {
        let path = baseline::configured(cfg).unwrap_or_else(|| baseline::in_root(top));
        let abs = crate::paths::absolute(&path);
        let Ok(rel) = abs.strip_prefix(crate::paths::absolute(top)) else {
            return Ok(BaselineChoice::Default);
        };
        let rel = crate::paths::slash_join(rel);
        let bytes = (self.read)(&rel)?;
        self.note_unstaged(&path, bytes.as_deref());
        self.names.borrow_mut().push(path.clone());
        Ok(BaselineChoice::Read { path, bytes })
    }

    /// Whether `path` is one of the files read from the index (errors in
    /// it are the staged version's).
    fn names(&self, path: &Path) -> bool {
        self.names.borrow().iter().any(|n| n == path)
    }

    /// Says so when the work tree's `path` differs from its staged version
    /// (edited and not added, or not staged at all, or removed): the staged
    /// one judges the commit.
    fn note_unstaged(&self, path: &Path, staged: Option<&[u8]>) {
        if self.quiet {
            return;
        }
        let on_disk = std::fs::read(path).ok();
        let shown = path.display();
        match (staged, on_disk.as_deref()) {
            (Some(s), Some(d)) if s != d => eprintln!(
                "leakscan: note: {shown} has changes not staged for commit; the staged version \
                 judges this commit (`git add` it to use your edits)"
            ),
            (None, Some(_)) => eprintln!(
                "leakscan: note: {shown} is not staged (not added, or removed from the index); \
                 this commit is judged without it (`git add` it to use it)"
            ),
            (Some(_), None) => eprintln!(
                "leakscan: note: {shown} is staged but missing from the work tree; the staged \
                 version judges this commit"
            ),
            _ => {}
        }
    }
}

impl Request {
    fn config_choice(&self, root: &Path) -> ConfigChoice {
        if self.no_config {
            ConfigChoice::None
        } else if let Some(p) = &self.config {
            ConfigChoice::File(p.clone())
        } else {
            ConfigChoice::Discover(root.to_path_buf())
        }
    }
}

/// Default `--max-file-size`: 10 MiB. Larger walked files are nearly always
/// data dumps, archives or generated bundles; they are counted, not scanned.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 << 20;

/// Where the configuration comes from.
#[derive(Debug, Clone)]
pub enum ConfigChoice {
    /// `.leakscan.toml` in this directory, if present.
    Discover(PathBuf),
    /// An explicit file (error if missing).
    File(PathBuf),
    /// Already-read text (e.g. from another git revision), with a display name.
    Text {
        name: PathBuf,
        text: String,
    },
    None,
}

impl ConfigChoice {
    /// Config bytes read from somewhere other than a file (the index, a
    /// revision), shown as `name`; not UTF-8 is an error at its line 1.
    pub fn from_bytes(name: PathBuf, bytes: Vec<u8>) -> Result<ConfigChoice> {
        let text = String::from_utf8(bytes).map_err(|_| Error::Config {
            path: name.clone(),
            line: 1,
            col: 1,
            msg: "not UTF-8".into(),
        })?;
        Ok(ConfigChoice::Text { name, text })
    }
}

/// Loads the configuration according to `choice`.
pub fn load_config(choice: &ConfigChoice) -> Result<Option<Loaded>> {
    match choice {
        ConfigChoice::Discover(dir) => config::discover(dir),
        ConfigChoice::File(p) => config::load(p).map(Some),
        ConfigChoice::Text { name, text } => Ok(Some(Loaded {
            config: config::parse(text, name)?,
            path: name.clone(),
            text: text.clone(),
        })),
        ConfigChoice::None => Ok(None),
    }
}

/// Builds the rule set: built-in rules (unless `no_default`), then the
/// config's rules, disabled ids and entropy overrides.
/// The rules of a command that builds no other settings (`rules`, baseline
/// audit and import): the configuration `choice` names, then its rules.
pub fn rules_for(choice: &ConfigChoice, no_default: bool) -> Result<Arc<RuleSet>> {
    let cfg = load_config(choice)?;
    build_rules(cfg.as_ref(), no_default)
}

pub fn build_rules(cfg: Option<&Loaded>, no_default: bool) -> Result<Arc<RuleSet>> {
    let mut b = RuleSetBuilder::new();
    if !no_default {
        b.add_builtin()?;
    }
    if let Some(l) = cfg {
        let origin = l.path.display().to_string();
        let mut specs = l.config.rules.clone();
        for (id, min) in &l.config.entropy {
            if !(0.0..=8.0).contains(min) {
                return Err(config_error(
                    l,
                    "entropy",
                    format!("entropy for `{id}` must be within 0.0..=8.0"),
                ));
            }
            // An override may name a built-in rule or one of the config's own.
            if let Some(s) = specs.iter_mut().find(|s| &s.id == id) {
                s.entropy = Some(*min);
            } else {
                b.set_entropy(id, *min)
                    .map_err(|msg| config_error(l, id, msg))?;
            }
        }
        // A config rule with a built-in's id replaces it: said once, with
        // where, so a copy-pasted rule does not quietly weaken a built-in.
        for spec in &specs {
            if !no_default && b.has(&spec.id) {
                eprintln!(
                    "leakscan: warning: {}: rule `{}` replaces the built-in rule with the same id \
                     (rename it to add a rule; `disable = [\"{}\"]` to turn the built-in off)",
                    location(l, &spec.id),
                    spec.id,
                    spec.id
                );
            }
        }
        b.add_file(specs, &origin)?;
        for id in &l.config.disable {
            if !b.has(id) {
                return Err(config_error(
                    l,
                    id,
                    format!("cannot disable rule `{id}`: no rule has that id"),
                ));
            }
        }
        b.disable(&l.config.disable);
    }
    let set = b.build()?;
    if set.is_empty() {
        return Err(Error::Usage(
            "no rules are active (check --no-default-rules and the config's `disable`)".into(),
        ));
    }
    Ok(Arc::new(set))
}

/// `file:line:col` of the `id = "ID"` line of a config rule (or the file's
/// start if it cannot be found).
fn location(l: &Loaded, id: &str) -> String {
    let quoted = [format!("\"{id}\""), format!("'{id}'")];
    let offset = l
        .text
        .match_indices(&quoted[0])
        .chain(l.text.match_indices(&quoted[1]))
        .map(|(i, _)| i)
        .find(|&i| {
            let line_start = l.text[..i].rfind('\n').map_or(0, |n| n + 1);
            l.text[line_start..i].trim_start().starts_with("id")
        })
        .unwrap_or(0);
    let (line, col) = crate::error::line_col(l.text.as_bytes(), offset);
    format!("{}:{line}:{col}", l.path.display())
}

/// An error pointing at where `needle` first appears in the config text.
fn config_error(l: &Loaded, needle: &str, msg: String) -> Error {
    let offset = l.text.find(needle).unwrap_or(0);
    Error::config_at(&l.path, &l.text, offset, msg)
}

/// The global allowlist from the config (empty without one).
pub fn allowlist(cfg: Option<&Loaded>) -> Result<Allowlist> {
    match cfg {
        Some(l) => Allowlist::compile(
            &l.config.allowlist,
            &l.path.display().to_string(),
            "allowlist",
            false,
        )
        .map_err(|e| match e {
            Error::Rule { msg, .. } => config_error(l, "allowlist", msg),
            other => other,
        }),
        None => Ok(Allowlist::default()),
    }
}

/// The walk size limit: command line, then config, then the default.
pub fn max_file_size(cli: Option<u64>, cfg: Option<&Loaded>) -> u64 {
    cli.or(cfg.and_then(|l| l.config.max_file_size))
        .unwrap_or(DEFAULT_MAX_FILE_SIZE)
}

/// The directory a scan of `paths` treats as its root (config discovery,
/// baseline location): the first directory given, else the current directory.
pub fn scan_root(paths: &[PathBuf]) -> PathBuf {
    paths
        .iter()
        .find(|p| p.is_dir())
        .cloned()
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The top of the project a scan of `root` belongs to: the work tree of
/// the git repository containing it (found as git finds it), else `root`.
/// A scan of a subdirectory then uses the repository's `.leakscan.toml` and
/// baseline.
pub fn project_root(root: &Path) -> PathBuf {
    let top = crate::git::Repo::discover(root)
        .ok()
        .and_then(|r| r.workdir)
        .map(|w| crate::paths::absolute(&w));
    match top {
        Some(top) if crate::paths::absolute(root).starts_with(&top) => {
            if crate::paths::absolute(root) == top {
                root.to_path_buf()
            } else {
                top
            }
        }
        _ => root.to_path_buf(),
    }
}

/// Threads: the flag, else the number of CPUs; never more than `MAX_THREADS`.
pub fn threads(flag: Option<usize>) -> usize {
    flag.filter(|&n| n > 0)
        .unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
        .min(MAX_THREADS)
}

/// Checks, before a scan starts, that `--output` can be written: an
/// existing file is opened for writing (not truncated), a new one is
/// created and removed again, so a typo costs no scan.
pub fn check_output(output: &Output) -> Result<()> {
    let Some(path) = &output.path else {
        return Ok(());
    };
    if path.is_dir() {
        return Err(Error::Usage(format!(
            "--output {}: is a directory",
            path.display()
        )));
    }
    let result = if path.exists() {
        std::fs::OpenOptions::new().write(true).open(path).map(drop)
    } else {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .and_then(|_| std::fs::remove_file(path))
    };
    result.map_err(|e| Error::io(path, e))
}

/// Whether `p` exists, as a friendly error for paths named on the command line.
pub fn check_path(p: &Path) -> Result<()> {
    if p.as_os_str() == "-" {
        return Ok(());
    }
    std::fs::symlink_metadata(p)
        .map(|_| ())
        .map_err(|e| Error::io(p, e))
}

/// The archive limits the flags ask for (`None`: `--no-archives`).
pub fn archive_limits(a: &ArchiveArgs) -> Option<archive::Limits> {
    if a.no_archives {
        return None;
    }
    let mut l = archive::Limits::default();
    if let Some(n) = a.archive_max_depth {
        l.max_depth = n;
    }
    if let Some(n) = a.archive_max_entries {
        l.max_entries = n;
    }
    if let Some(n) = a.archive_max_bytes {
        l.max_bytes = n;
    }
    if let Some(n) = a.archive_max_ratio {
        l.max_ratio = n;
    }
    Some(l)
}
