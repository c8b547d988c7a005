//! Command-line syntax (clap derive types). No logic lives here; `app` turns
//! these raw values into settings and runs the command.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::report::{ColorWhen, Format};

#[derive(Debug, Parser)]
#[command(
    name = "leakscan",
    version,
    about = "Find leaked secrets in files, staged changes and git history",
    after_help = "Exit codes: 0 no new findings, 1 new findings, 2 error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Colour the text report: `auto` on a terminal unless NO_COLOR is set
    /// (to anything but the empty string).
    #[arg(
        long,
        global = true,
        value_enum,
        value_name = "WHEN",
        default_value = "auto"
    )]
    pub color: ColorWhen,
    /// No progress line and no summary on standard error (the push hooks:
    /// nothing at all when the push is clean; baseline commands: only
    /// errors). Accepted before or after the subcommand.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Scan files and directories (default `.`); `-` reads standard input.
    Scan(ScanArgs),
    /// Scan what `git commit` would record: lines added by the staged change.
    Staged(StagedArgs),
    /// Scan every commit reachable from the given revisions.
    History(HistoryArgs),
    /// Inspect and check the rule set.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Create, update, audit and import baselines of accepted findings.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Install a git pre-commit hook that runs `leakscan staged`.
    InstallHook(HookArgs),
    /// Remove the pre-commit hook installed by `install-hook`.
    UninstallHook(UninstallHookArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell) to standard output.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) to standard output.
    Man,
    /// Server-side git hook: refuse a push whose new commits add secrets
    /// (`hooks/pre-receive`: `exec leakscan pre-receive`).
    PreReceive(PreReceiveArgs),
    /// Client-side git hook: refuse to push commits that add secrets
    /// (`.git/hooks/pre-push`: `exec leakscan pre-push "$@"`).
    PrePush(PrePushArgs),
    /// Scan the whole history of every repository under the roots: one row
    /// per unique secret across all of them (`sweep merge` combines shards).
    Sweep(SweepCommand),
    /// Verification: `verify hosts` prints the egress manifest.
    #[command(subcommand)]
    Verify(VerifyCommand),
}

#[derive(Debug, Subcommand)]
pub enum VerifyCommand {
    /// Every host `--verify` may contact, with the rules that contact it.
    Hosts,
}

/// Options shared by every scanning mode.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Also write the report in another format to a file, from the same
    /// scan: `FORMAT=FILE` (e.g. `json=leakscan.json`); repeatable.
    #[arg(long, value_name = "FORMAT=FILE", value_parser = parse_also_output)]
    pub also_output: Vec<(Format, PathBuf)>,
    /// Print secrets in full (they are redacted by default).
    #[arg(long)]
    pub show_secrets: bool,
    /// Text report: no source line (redacted, `^^^` under the secret) after
    /// each finding.
    #[arg(long)]
    pub no_context: bool,
    /// The global `-q` (`Cli::quiet`), set by `commands::run`.
    #[arg(skip)]
    pub quiet: bool,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Ignore `.leakscan.toml`.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Baseline file (default: `.leakscan-baseline.json` at the root, or the
    /// config's `baseline` key).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Ignore any baseline.
    #[arg(long, conflicts_with = "baseline")]
    pub no_baseline: bool,
    /// Read the baseline and the configuration from this git revision (e.g. the
    /// target branch), so a change cannot silence its own findings.
    #[arg(long, value_name = "REV")]
    pub baseline_from: Option<String>,
    /// Also report suppressed findings, with why they were suppressed.
    #[arg(long)]
    pub show_suppressed: bool,
    /// Report only findings at least this sure: `high` (a provider format
    /// with a fixed prefix and, where it has one, a valid checksum),
    /// `medium` (a provider name next to a value of the right shape) or
    /// `low` (generic secret-named assignments; the default).
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub min_confidence: Option<MinConfidence>,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub archives: ArchiveArgs,
    #[command(flatten)]
    pub verify: VerifyArgs,
}

/// Where the rules come from (every command that builds rules).
#[derive(Debug, Clone, Default, Args)]
pub struct RuleArgs {
    /// Configuration file: rules, allowlist, settings (default: `.leakscan.toml`
    /// at the scanned root; push hooks: the one at the policy revision;
    /// `sweep`: none, repositories' own files are not read).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Use only the configuration's rules, not the built-in ones.
    #[arg(long)]
    pub no_default_rules: bool,
}

/// How a scan runs (every scanning command).
#[derive(Debug, Clone, Default, Args)]
pub struct RunArgs {
    /// Skip files and blobs larger than this many bytes (suffixes K, M, G
    /// allowed; default 10M, or the config's `max_file_size`; `staged`: no
    /// limit). Skipped ones are counted.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_file_size: Option<u64>,
    /// Worker threads (default: the number of CPUs).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
}

/// How archives, packages and images are opened (every scanning mode).
#[derive(Debug, Clone, Default, Args)]
pub struct ArchiveArgs {
    /// Do not open archives (zip, jar, wheel, tar.gz, images, …): scan
    /// their bytes as they are.
    #[arg(long)]
    pub no_archives: bool,
    /// Archives inside archives opened this deep (default 8).
    #[arg(long, value_name = "N")]
    pub archive_max_depth: Option<u32>,
    /// Entries read from one archive, nested ones included (default 1000000).
    #[arg(long, value_name = "N")]
    pub archive_max_entries: Option<u64>,
    /// Bytes decompressed from one archive, nested ones included (suffixes
    /// K, M, G allowed; default 8G).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub archive_max_bytes: Option<u64>,
    /// How many times its own size an archive may expand, past 64 MiB
    /// (default 200).
    #[arg(long, value_name = "N")]
    pub archive_max_ratio: Option<u64>,
}

/// `--verify` and what acts on its verdicts (scan, staged, history, sweep).
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// Check whether each new finding's secret is live with its provider
    /// (`leakscan verify hosts` lists every host); `=dry-run` prints each
    /// request instead (secret redacted) and sends nothing. Off by default:
    /// without it no network connection is ever made.
    #[arg(long, value_name = "MODE", num_args = 0..=1, require_equals = true,
          default_missing_value = "live", value_parser = ["live", "dry-run"])]
    pub verify: Option<String>,
    /// Contact only these hosts (a file, one a line, or a comma-separated
    /// list); the others are reported as skipped.
    #[arg(long, value_name = "FILE|LIST", requires = "verify")]
    pub verify_hosts: Option<String>,
    /// Seconds each verification request may take.
    #[arg(long, value_name = "SECS", default_value = "10", requires = "verify")]
    pub verify_timeout: u64,
    /// Report only findings verified live.
    #[arg(long, requires = "verify")]
    pub only_live: bool,
    /// `any` (default): new findings exit 1; `live`: only live ones do.
    #[arg(long, value_name = "WHAT", default_value = "any", value_parser = ["any", "live"],
          requires = "verify")]
    pub fail_on: String,
}

#[derive(Debug, Clone, Args)]
pub struct ScanArgs {
    /// Files or directories to scan; `-` for standard input.
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Do not honour .gitignore / .ignore files.
    #[arg(long)]
    pub no_ignore: bool,
    /// Scan hidden files and directories (the default: `.env`, `.npmrc` and CI
    /// files are where secrets leak most; `.git/` is never walked).
    #[arg(long, overrides_with = "no_hidden")]
    pub hidden: bool,
    /// Skip hidden files and directories.
    #[arg(long)]
    pub no_hidden: bool,
    /// Follow symbolic links.
    #[arg(long, short = 'L')]
    pub follow: bool,
}

#[derive(Debug, Clone, Args)]
pub struct StagedArgs {
    /// Only these files (as the pre-commit framework passes them): their
    /// staged changes, and, for a file the change does not touch (e.g.
    /// `pre-commit run --all-files`), the whole file.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// The repository (default: the one containing the current directory).
    #[arg(long, value_name = "PATH")]
    pub repo: Option<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    /// The repository (default: the one containing the current directory).
    #[arg(long, value_name = "PATH")]
    pub repo: Option<PathBuf>,
    /// Revisions or ranges (`REV`, `^REV`, `A..B`, `A...B`); default HEAD.
    #[arg(value_name = "REV")]
    pub revs: Vec<String>,
    /// A revision or range, as `baseline --history --rev` takes it
    /// (repeatable; the same as naming it as an argument).
    #[arg(long = "rev", value_name = "REV")]
    pub rev_flags: Vec<String>,
    /// Every ref: branches, tags, remotes, stash, notes (and HEAD).
    #[arg(long)]
    pub all: bool,
    /// Only commits whose committer date is on or after DATE (YYYY-MM-DD,
    /// midnight UTC, or RFC 3339).
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    /// Only commits whose committer date is on or before DATE (a bare
    /// YYYY-MM-DD includes that whole day, UTC).
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Only what commits after REV introduce (same as `REV..HEAD`).
    #[arg(long, value_name = "REV")]
    pub since_commit: Option<String>,
    /// List every commit and path that introduced a copy of each secret.
    #[arg(long)]
    pub all_occurrences: bool,
    /// In a partial clone (`git clone --filter=…`), first ask the promisor
    /// remote for exactly the objects the run needs and does not have, in
    /// one fetch. Without it such a run stops (exit 2) and says how many
    /// are missing.
    #[arg(long)]
    pub fetch_missing: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Prove every rule against its examples and negative examples.
    Check(RuleArgs),
    /// Print the active rules.
    List(RuleArgs),
}

#[derive(Debug, Subcommand)]
pub enum BaselineCommand {
    /// Record the current findings as a new baseline.
    Create(BaselineCreateArgs),
    /// Add new findings as untriaged and prune entries that no longer occur.
    Update(BaselineUpdateArgs),
    /// Triage untriaged entries (interactive on a terminal, or with flags).
    Audit(BaselineAuditArgs),
    /// Import gitleaks or detect-secrets suppressions into a baseline.
    Import(BaselineImportArgs),
}

/// What a baseline command scans: like `scan`, or like `history` with `--history`.
#[derive(Debug, Clone, Args)]
pub struct BaselineScanArgs {
    /// Baseline file (default: the config's `baseline` key, else
    /// `.leakscan-baseline.json` at the scanned root). `--out` is an older
    /// spelling.
    #[arg(long = "file", alias = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Scan git history (`--repo`, `--all`, `--rev`) instead of files.
    #[arg(long)]
    pub history: bool,
    /// Repository for `--history` (default: the one containing the current directory).
    #[arg(long, value_name = "PATH", requires = "history")]
    pub repo: Option<PathBuf>,
    /// With `--history`: every ref.
    #[arg(long, requires = "history")]
    pub all: bool,
    /// With `--history`: revisions or ranges to scan (default HEAD); repeatable.
    #[arg(long = "rev", value_name = "REV", requires = "history")]
    pub revs: Vec<String>,
    /// Paths to scan (without `--history`).
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Ignore `.leakscan.toml`.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Do not honour .gitignore / .ignore files.
    #[arg(long)]
    pub no_ignore: bool,
    #[command(flatten)]
    pub run: RunArgs,
    /// The global `-q` (`Cli::quiet`), set by `commands::run`.
    #[arg(skip)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Args)]
pub struct BaselineCreateArgs {
    #[command(flatten)]
    pub scan: BaselineScanArgs,
    /// Replace an existing baseline (its triage decisions are lost; prefer `update`).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Args)]
pub struct BaselineUpdateArgs {
    #[command(flatten)]
    pub scan: BaselineScanArgs,
    /// Change nothing; exit 1 if the file is out of date (new or stale entries).
    #[arg(long)]
    pub check: bool,
}

#[derive(Debug, Clone, Args)]
pub struct BaselineAuditArgs {
    /// Baseline file.
    #[arg(long, value_name = "FILE", default_value = ".leakscan-baseline.json")]
    pub file: PathBuf,
    /// The scanned root its paths are relative to (default: the file's directory).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Set this status on the selected entries without asking.
    #[arg(long, value_name = "STATUS",
          value_parser = ["untriaged", "false-positive", "accepted-risk", "revoked"])]
    pub set_status: Option<String>,
    /// Select entries of this rule (a glob over rule ids).
    #[arg(long, value_name = "ID")]
    pub rule: Option<String>,
    /// Select entries whose path matches this glob.
    #[arg(long, value_name = "GLOB")]
    pub path: Option<String>,
    /// Reason recorded with the decision.
    #[arg(long)]
    pub reason: Option<String>,
    /// Who decided (default: git's user.email, else $USER).
    #[arg(long)]
    pub by: Option<String>,
    /// Include entries that already have a status.
    #[arg(long)]
    pub all: bool,
    /// Ask even when standard input is not a terminal.
    #[arg(long, conflicts_with = "set_status")]
    pub interactive: bool,
}

#[derive(Debug, Clone, Args)]
pub struct BaselineImportArgs {
    /// A gitleaks or Betterleaks JSON report, a `.gitleaksignore`, a Betterleaks 2
    /// `.betterleaksignore` (SHA-256 of each secret), or a detect-secrets `.secrets.baseline`.
    #[arg(value_name = "FILE")]
    pub from: PathBuf,
    /// Baseline file to write, merged with it if it exists (default:
    /// `.leakscan-baseline.json` in the root). `--out` is an older spelling.
    #[arg(long = "file", alias = "out", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The scanned root (or repository) the imported paths are relative to.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub root: PathBuf,
    #[command(flatten)]
    pub rules: RuleArgs,
    /// Also record, as untriaged entries, what leakscan finds that the
    /// imported file did not (one step to adopt leakscan without failing CI).
    #[arg(long)]
    pub also_accept_current: bool,
}

#[derive(Debug, Clone, Args)]
pub struct HookArgs {
    /// The repository (default: the one containing the current directory).
    #[arg(long, value_name = "PATH")]
    pub repo: Option<PathBuf>,
    /// Replace an existing hook that is not ours (it is kept as pre-commit.local and chained).
    #[arg(long)]
    pub force: bool,
    /// The pre-push hook (`leakscan pre-push`) instead of the pre-commit hook.
    #[arg(long)]
    pub pre_push: bool,
}

/// Where a push hook's rules, allowlist and baseline come from.
#[derive(Debug, Clone, Args)]
pub struct PushPolicyArgs {
    #[command(flatten)]
    pub rules: RuleArgs,
    /// No `.leakscan.toml` at all.
    #[arg(long, conflicts_with = "config")]
    pub no_config: bool,
    /// Ignore any baseline.
    #[arg(long)]
    pub no_baseline: bool,
    /// Read the baseline and `.leakscan.toml` from this revision (pre-receive:
    /// default HEAD, the default branch as it is before the push; pre-push:
    /// default none, the work tree's files).
    #[arg(long, value_name = "REV")]
    pub baseline_from: Option<String>,
    /// Set by pre-receive when `baseline_from` is its default (the default
    /// branch), not the flag: messages then do not name a flag never given.
    #[arg(skip)]
    pub baseline_from_default: bool,
    #[command(flatten)]
    pub run: RunArgs,
    /// The global `-q` (`Cli::quiet`), set by `commands::run`.
    #[arg(skip)]
    pub quiet: bool,
    #[command(flatten)]
    pub archives: ArchiveArgs,
    /// `--verify`: only the secrets that refuse the push are checked; see
    /// docs/push-protection.md.
    #[command(flatten)]
    pub verify: VerifyArgs,
    /// With --verify: the most seconds the push waits for the answers
    /// (cut to what remains of --timeout); unanswered ones are unknown.
    #[arg(long, value_name = "SECS", default_value = "10", requires = "verify")]
    pub verify_deadline: u64,
}

#[derive(Debug, Clone, Args)]
pub struct PreReceiveArgs {
    /// The repository (default: $GIT_DIR, else the current directory).
    #[arg(long, value_name = "PATH")]
    pub repo: Option<PathBuf>,
    /// Give up after this many seconds (default: git config `leakscan.timeout`,
    /// else 120); the push is then refused unless fail-open is configured.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Accept the push, with a loud warning, when the scan cannot finish (time
    /// out, unreadable objects); default: git config `leakscan.failOpen`, else refuse.
    #[arg(long)]
    pub fail_open: bool,
    /// Honour `git push -o leakscan.skip="reason"` (default: git config
    /// `leakscan.allowSkip`); every bypass is logged to the audit log.
    #[arg(long)]
    pub allow_skip: bool,
    /// Where bypasses are logged: a file (JSON lines), `syslog`, or
    /// `syslog:SOCKET` (default: git config `leakscan.auditLog`).
    #[arg(long, value_name = "DEST")]
    pub audit_log: Option<String>,
    #[command(flatten)]
    pub policy: PushPolicyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct PrePushArgs {
    /// The remote's name (git passes it; the URL when pushing to a URL).
    #[arg(value_name = "REMOTE")]
    pub remote: Option<String>,
    /// The remote's URL (git passes it).
    #[arg(value_name = "URL")]
    pub url: Option<String>,
    /// The repository (default: the one containing the current directory).
    #[arg(long, value_name = "PATH")]
    pub repo: Option<PathBuf>,
    #[command(flatten)]
    pub policy: PushPolicyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct UninstallHookArgs {
    /// The repository (default: the one containing the current directory).
    #[arg(long, value_name = "PATH")]
    pub repo: Option<PathBuf>,
    /// The pre-push hook instead of the pre-commit hook.
    #[arg(long)]
    pub pre_push: bool,
}

/// `--also-output FORMAT=FILE`.
fn parse_also_output(s: &str) -> Result<(Format, PathBuf), String> {
    use clap::ValueEnum;
    let (format, file) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}`: expected FORMAT=FILE (e.g. json=leakscan.json)"))?;
    let format = Format::from_str(format, true)
        .map_err(|_| format!("`{format}` is not a format (text, json, sarif, html)"))?;
    if file.is_empty() {
        return Err(format!("`{s}`: no FILE after `=`"));
    }
    Ok((format, PathBuf::from(file)))
}

/// `--format`'s values: the report formats by their command-line names.
impl clap::ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &[Format::Text, Format::Json, Format::Sarif, Format::Html]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Html => "html",
        }))
    }
}

/// `--color`'s values.
impl clap::ValueEnum for ColorWhen {
    fn value_variants<'a>() -> &'a [Self] {
        &[ColorWhen::Auto, ColorWhen::Always, ColorWhen::Never]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(match self {
            // No per-value help: it made `--color` an 8-line block in every
            // subcommand's --help; the flag's own line says what `auto` does.
            ColorWhen::Auto => clap::builder::PossibleValue::new("auto"),
            ColorWhen::Always => clap::builder::PossibleValue::new("always"),
            ColorWhen::Never => clap::builder::PossibleValue::new("never"),
        })
    }
}

/// `leakscan sweep ROOT...`, or `leakscan sweep merge FILE|DIR...`.
#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SweepCommand {
    #[command(subcommand)]
    pub merge: Option<SweepSub>,
    #[command(flatten)]
    pub args: SweepArgs,
}

#[derive(Debug, Clone, Subcommand)]
pub enum SweepSub {
    /// Combine shard reports (JSON) or state directories into the report a
    /// single-machine sweep gives.
    Merge(SweepMergeArgs),
}

/// Output of a sweep or a merge.
#[derive(Debug, Clone, Args)]
pub struct SweepOutput {
    /// Output format: text (summary first), JSON, or CSV (one row per secret
    /// and repository).
    #[arg(long, value_enum, default_value = "text")]
    pub format: SweepFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Print secrets in full (they are redacted by default).
    #[arg(long)]
    pub show_secrets: bool,
    /// The global `-q` (`Cli::quiet`), set by `commands::run`.
    #[arg(skip)]
    pub quiet: bool,
}

/// `--min-confidence` levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MinConfidence {
    Low,
    Medium,
    High,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SweepFormat {
    Text,
    Json,
    Csv,
}

#[derive(Debug, Clone, Args)]
pub struct SweepArgs {
    /// Directories to search for repositories (work trees and bare
    /// repositories, at any depth).
    #[arg(value_name = "ROOT")]
    pub roots: Vec<PathBuf>,
    /// Also sweep the repositories listed in FILE (one path per line; `#`
    /// starts a comment).
    #[arg(long, value_name = "FILE")]
    pub repo_list: Option<PathBuf>,
    /// Keep one result file per repository here; a rerun skips repositories
    /// whose refs and rules did not change.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// The HMAC key (the file's bytes), to share one key across shards and
    /// machines (default: random, kept in the state directory).
    #[arg(long, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Take only share I of N (0-based; forks stay together).
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<(u32, u32)>,
    #[command(flatten)]
    pub rules: RuleArgs,
    #[command(flatten)]
    pub run: RunArgs,
    #[command(flatten)]
    pub archives: ArchiveArgs,
    #[command(flatten)]
    pub out: SweepOutput,
    #[command(flatten)]
    pub verify: VerifyArgs,
}

#[derive(Debug, Clone, Args)]
pub struct SweepMergeArgs {
    /// Shard reports (`--format json`) and state directories.
    #[arg(value_name = "FILE|DIR", required = true)]
    pub inputs: Vec<PathBuf>,
    #[command(flatten)]
    pub out: SweepOutput,
}

/// Parses `--shard I/N`: share `I` of `N`, `0 <= I < N`.
fn parse_shard(s: &str) -> Result<(u32, u32), String> {
    crate::report::sweep::parse_shard(s)
        .ok_or_else(|| "expected I/N with 0 <= I < N (e.g. 0/4)".to_string())
}

/// Parses `10485760`, `10M`, `10MiB`, `512K`, `1G`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits);
    let n: u64 = num.parse().map_err(|_| format!("`{s}` is not a size"))?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        other => return Err(format!("unknown size unit `{other}`")),
    };
    n.checked_mul(mult)
        .ok_or_else(|| format!("`{s}` is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn shard_of(arg: &str) -> Result<Option<(u32, u32)>, String> {
        let flag = format!("--shard={arg}");
        match Cli::try_parse_from(["leakscan", "sweep", flag.as_str(), "."]) {
            Ok(Cli {
                command: Command::Sweep(cmd),
                ..
            }) => Ok(cmd.args.shard),
            Ok(_) => panic!("not a sweep"),
            Err(e) => Err(e.to_string()),
        }
    }

    #[test]
    fn shard_flag_parses_i_of_n() {
        assert_eq!(shard_of("0/4"), Ok(Some((0, 4))));
        assert_eq!(shard_of("3/4"), Ok(Some((3, 4))));
        assert_eq!(shard_of(" 1 / 2 "), Ok(Some((1, 2))));
    }

    #[test]
    fn shard_flag_refuses_what_is_not_a_share_naming_the_flag() {
        for bad in ["4/4", "1/0", "0/0", "-1/4", "a/b", "3", "1/2/3", ""] {
            let err = shard_of(bad).expect_err(bad);
            assert!(err.contains("--shard"), "{bad}: {err}");
            assert!(err.contains("expected I/N with 0 <= I < N"), "{bad}: {err}");
        }
    }
}
