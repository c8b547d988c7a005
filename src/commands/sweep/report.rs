//! The sweep's results and report. Every report — a single-machine sweep, a
//! shard, a merge of shards or of state directories — is built by
//! `Report::build` from per-repository results (`RepoResult`), so the same
//! results give the same rows in the same order, whatever machine found them.
//!
//! JSON shape (version 1, documented in the README and docs/sweep.md):
//! `{"version", "sweep": {...}, "secrets": [...], "repos": [...], "outside": {...}, "stats": {...}}`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use crate::finding::redact;
use crate::git::dates::parse_date;
use crate::report::rotation;

/// What every input of a merge must agree on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    /// leakscan's version.
    pub leakscan: String,
    /// Digest of the rules and scan settings.
    pub rules: String,
    /// Names the HMAC key (`Key::id`).
    pub key_id: String,
}

/// The commit that introduced a secret in one repository: the earliest in
/// topological order, as `history` attributes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct First {
    pub commit: String,
    pub author: String,
    pub email: String,
    /// RFC 3339.
    pub date: String,
    /// `/`-separated; not valid UTF-8 paths are written lossily.
    pub path: String,
    pub line: u64,
}

/// One secret in one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hit {
    pub rule: String,
    /// HMAC-SHA256 of the secret, hex.
    pub key: String,
    /// The redacted secret (`ghp_…(40)`).
    pub redacted: String,
    /// The secret itself: only when the scan ran with `--show-secrets`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plaintext: Option<String>,
    /// In the tree of the repository's HEAD today.
    pub at_head: bool,
    pub first: First,
    /// Commits that introduced it (at any path).
    pub commits: u64,
    /// The finding's confidence (`high`, `medium`, `low`); absent in state
    /// files and reports written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Failed,
    /// Its scan was cut short by Ctrl-C: what it found so far, never saved
    /// to `--state` (a rerun scans it again).
    Interrupted,
}

impl Status {
    /// The CSV `status` column and the text report's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Interrupted => "interrupted",
        }
    }
}

/// How severe a leak of `rule`'s secrets is, 0.0–10.0: the rule's
/// `security-severity` (as SARIF gives it to GitHub: its provider's, capped
/// at 7.0 for generic rules). Looked up in the built-in rules by id (so a
/// merged report orders rows exactly as the sweep did); a rule they lack
/// (from a `--config`) by its id's provider family.
fn severity(rule: &str) -> f32 {
    static BUILTIN: std::sync::OnceLock<Option<std::sync::Arc<crate::rules::RuleSet>>> =
        std::sync::OnceLock::new();
    let builtin = BUILTIN.get_or_init(|| crate::settings::build_rules(None, false).ok());
    match builtin
        .as_ref()
        .and_then(|rs| rs.rules.iter().find(|r| r.id == rule))
    {
        Some(r) => rotation::help(r).severity,
        None => rotation::family(rule).map_or(8.0, |f| f.severity),
    }
}

/// A confidence's place in the triage order: high 3, medium 2, low 1. One
/// not recorded (a report or state from before) counts as high, so such rows
/// keep the order severity alone gave them.
fn confidence_rank(c: Option<&str>) -> u8 {
    match c {
        Some("low") => 1,
        Some("medium") => 2,
        _ => 3,
    }
}

/// The triage order of rows, in one place: severity (tenths, descending),
/// then the finding's confidence (descending), then still at HEAD, then
/// spread (repositories, descending), then newest first, then key.
fn triage_key(
    r: &Row,
) -> (
    std::cmp::Reverse<u32>,
    std::cmp::Reverse<u8>,
    bool,
    std::cmp::Reverse<usize>,
    std::cmp::Reverse<i64>,
    String,
) {
    (
        std::cmp::Reverse((severity(&r.rule) * 10.0).round() as u32),
        std::cmp::Reverse(confidence_rank(r.confidence.as_deref())),
        !r.at_head(),
        std::cmp::Reverse(r.repos.len()),
        std::cmp::Reverse(r.newest()),
        r.key.clone(),
    )
}

/// A sweep stopped by Ctrl-C: how far it got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interruption {
    /// Repositories finished (their results are complete).
    pub finished: usize,
    /// Repositories the sweep was to cover.
    pub planned: usize,
}

impl Interruption {
    /// The line the text report and standard error carry.
    pub fn describe(&self) -> String {
        format!(
            "INCOMPLETE: interrupted (Ctrl-C) after {} of {} repositor{}; \
             the rows cover only those (and what the interrupted one gave)",
            self.finished,
            self.planned,
            if self.planned == 1 { "y" } else { "ies" }
        )
    }
}

/// What sweeping one repository gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoResult {
    pub repo: String,
    pub status: Status,
    /// Why it failed (the first errors), for `Status::Failed`.
    pub error: Option<String>,
    pub commits: u64,
    /// Distinct blobs in its history, and the bytes of those scanned.
    pub blobs: u64,
    pub bytes: u64,
    /// Sorted by key.
    pub secrets: Vec<Hit>,
}

impl RepoResult {
    /// A failure: nothing was read from `repo`, for `why`.
    pub fn failed(repo: &str, why: &str) -> RepoResult {
        RepoResult {
            repo: repo.to_string(),
            status: Status::Failed,
            error: Some(why.to_string()),
            commits: 0,
            blobs: 0,
            bytes: 0,
            secrets: Vec::new(),
        }
    }
}

/// Files under the roots that belong to no repository.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outside {
    pub files: u64,
    /// The first names, sorted.
    pub paths: Vec<String>,
}

/// One repository's entry in a row.
#[derive(Debug, Clone)]
struct RowRepo {
    repo: String,
    at_head: bool,
    first: First,
    commits: u64,
}

/// One unique secret across the sweep.
#[derive(Debug, Clone)]
struct Row {
    rule: String,
    key: String,
    redacted: String,
    plaintext: Option<String>,
    /// The highest confidence any repository's finding of it had.
    confidence: Option<String>,
    repos: Vec<RowRepo>,
}

impl Row {
    fn at_head(&self) -> bool {
        self.repos.iter().any(|r| r.at_head)
    }

    /// The newest introduction (Unix seconds), for ordering.
    fn newest(&self) -> i64 {
        self.repos
            .iter()
            .filter_map(|r| parse_date(&r.first.date, false))
            .max()
            .unwrap_or(i64::MIN)
    }
}

/// Live secrets named on the summary line (the report lists them all).
const SHOWN: usize = 10;

/// A whole report.
pub struct Report {
    pub meta: Meta,
    /// Plaintext secrets are shown (and were kept by the scans).
    pub show_secrets: bool,
    /// `I/N` for a shard's report.
    pub shard: Option<(u32, u32)>,
    rows: Vec<Row>,
    pub repos: Vec<RepoResult>,
    pub outside: Outside,
    pub elapsed_ms: u64,
    /// `--verify`: the verdict per secret (HMAC key).
    pub verification: BTreeMap<String, crate::verify::Verification>,
    /// The sweep verified (or merged verified reports): the CSV gets the
    /// verdict columns.
    pub verified: bool,
    /// Set when Ctrl-C stopped the sweep: the report is incomplete.
    pub interrupted: Option<Interruption>,
}

impl Report {
    /// Groups per-repository results into rows, in triage order
    /// (`triage_key`): most severe first, then still at HEAD, then by how many
    /// repositories hold the secret, then newest first (then by key, so the
    /// order is total).
    pub fn build(
        meta: Meta,
        show_secrets: bool,
        shard: Option<(u32, u32)>,
        mut repos: Vec<RepoResult>,
        outside: Outside,
    ) -> Report {
        repos.sort_by(|a, b| a.repo.cmp(&b.repo));
        let mut by_key: BTreeMap<String, Row> = BTreeMap::new();
        for r in &repos {
            for h in &r.secrets {
                let row = by_key.entry(h.key.clone()).or_insert_with(|| Row {
                    rule: h.rule.clone(),
                    key: h.key.clone(),
                    redacted: h.redacted.clone(),
                    plaintext: None,
                    confidence: None,
                    repos: Vec::new(),
                });
                if confidence_rank(h.confidence.as_deref())
                    > confidence_rank(row.confidence.as_deref())
                    || row.confidence.is_none()
                {
                    row.confidence = h.confidence.clone().or(row.confidence.take());
                }
                if h.rule < row.rule {
                    row.rule = h.rule.clone();
                }
                if row.plaintext.is_none() {
                    row.plaintext = h.plaintext.clone();
                }
                row.repos.push(RowRepo {
                    repo: r.repo.clone(),
                    at_head: h.at_head,
                    first: h.first.clone(),
                    commits: h.commits,
                });
            }
        }
        let mut rows: Vec<Row> = by_key.into_values().collect();
        for row in &mut rows {
            row.repos
                .sort_by(|a, b| b.at_head.cmp(&a.at_head).then_with(|| a.repo.cmp(&b.repo)));
        }
        rows.sort_by_cached_key(triage_key);
        Report {
            meta,
            show_secrets,
            shard,
            rows,
            repos,
            outside,
            elapsed_ms: 0,
            verification: BTreeMap::new(),
            verified: false,
            interrupted: None,
        }
    }

    fn is_live(&self, row: &Row) -> bool {
        self.verification.get(&row.key).map(|v| v.status) == Some(crate::verify::Status::Live)
    }

    /// Every secret's HMAC key.
    pub fn keys(&self) -> Vec<String> {
        self.rows.iter().map(|r| r.key.clone()).collect()
    }

    /// Secrets verified live.
    pub fn live(&self) -> usize {
        self.rows.iter().filter(|r| self.is_live(r)).count()
    }

    /// `--only-live`: drops every row not verified live.
    pub fn retain_live(&mut self) {
        let rows = std::mem::take(&mut self.rows);
        self.rows = rows.into_iter().filter(|r| self.is_live(r)).collect();
    }

    /// "3 of 9 secrets are live — rotate these now: rule (repo), …".
    pub fn live_line(&self) -> String {
        let live: Vec<String> = self
            .rows
            .iter()
            .filter(|r| self.is_live(r))
            .map(|r| {
                let repos: Vec<&str> = r.repos.iter().map(|x| x.repo.as_str()).collect();
                format!(
                    "{} key {} ({})",
                    r.rule,
                    prefix(&r.key, 12),
                    repos.join(", ")
                )
            })
            .collect();
        let n = self.rows.len();
        let mut s = format!(
            "{} of {n} secret{} {} live",
            live.len(),
            if n == 1 { "" } else { "s" },
            if n == 1 { "is" } else { "are" }
        );
        if !live.is_empty() {
            s += " — rotate these now: ";
            s += &live[..live.len().min(SHOWN)].join(", ");
            if live.len() > SHOWN {
                s += &format!(" and {} more (see the report)", live.len() - SHOWN);
            }
        }
        s
    }

    pub fn failed(&self) -> usize {
        self.repos
            .iter()
            .filter(|r| r.status == Status::Failed)
            .count()
    }

    pub fn secrets(&self) -> usize {
        self.rows.len()
    }

    pub fn at_head(&self) -> usize {
        self.rows.iter().filter(|r| r.at_head()).count()
    }

    /// Repositories holding at least one secret.
    pub fn leaking_repos(&self) -> usize {
        self.repos.iter().filter(|r| !r.secrets.is_empty()).count()
    }

    /// Whether `--show-secrets` was asked for but some secret was swept
    /// without it (it is shown redacted).
    pub fn missing_plaintext(&self) -> bool {
        self.show_secrets && self.rows.iter().any(|r| r.plaintext.is_none())
    }

    fn secret_text(&self, row: &Row) -> String {
        match (&row.plaintext, self.show_secrets) {
            (Some(p), true) => p.clone(),
            _ => row.redacted.clone(),
        }
    }

    /// The summary line: N unique secrets in M repositories, K still at HEAD.
    pub fn headline(&self) -> String {
        let n = self.secrets();
        let k = self.at_head();
        let mut s = format!(
            "{n} unique secret{} in {} of {} repositor{}",
            if n == 1 { "" } else { "s" },
            self.leaking_repos(),
            self.repos.len(),
            if self.repos.len() == 1 { "y" } else { "ies" }
        );
        if n > 0 {
            s += &format!(", {k} still at HEAD");
            if k > 0 {
                s += " — rotate those first";
            }
        }
        s
    }

    /// The JSON document (fields in the documented order).
    pub fn to_json(&self) -> JsonOut<'_> {
        let sum = |f: fn(&RepoResult) -> u64| self.repos.iter().map(f).sum::<u64>();
        JsonOut {
            version: 1,
            sweep: JsonSweepOut {
                leakscan: &self.meta.leakscan,
                rules: &self.meta.rules,
                key_id: &self.meta.key_id,
                show_secrets: self.show_secrets && !self.missing_plaintext(),
                shard: self.shard.map(|(i, n)| format!("{i}/{n}")),
                complete: self.interrupted.map(|_| false),
                planned: self.interrupted.map(|i| i.planned),
            },
            secrets: self
                .rows
                .iter()
                .map(|r| JsonRowOut {
                    rule: &r.rule,
                    secret: self.secret_text(r),
                    key: &r.key,
                    confidence: r.confidence.as_deref(),
                    verification: self
                        .verification
                        .get(&r.key)
                        .map(crate::report::json_verification),
                    repos: r
                        .repos
                        .iter()
                        .map(|x| JsonRowRepoOut {
                            repo: &x.repo,
                            at_head: x.at_head,
                            first: &x.first,
                            commits: x.commits,
                        })
                        .collect(),
                })
                .collect(),
            repos: self
                .repos
                .iter()
                .map(|r| JsonRepoOut {
                    repo: &r.repo,
                    status: r.status,
                    error: r.error.as_deref(),
                    commits: r.commits,
                    blobs: r.blobs,
                    bytes: r.bytes,
                })
                .collect(),
            outside: &self.outside,
            stats: JsonStatsOut {
                repos: self.repos.len(),
                failed: self.failed(),
                secrets: self.secrets(),
                at_head: self.at_head(),
                commits: sum(|r| r.commits),
                blobs: sum(|r| r.blobs),
                bytes: sum(|r| r.bytes),
                elapsed_ms: self.elapsed_ms,
            },
        }
    }

    pub fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, &self.to_json())?;
        writeln!(out)
    }

    /// One row per secret and repository.
    pub fn write_csv(&self, out: &mut dyn Write) -> io::Result<()> {
        self.write_csv_rows(out).map_err(|e| {
            if !e.is_io_error() {
                return io::Error::other(e);
            }
            // The writer's own error as it was (a closed pipe stays a
            // BrokenPipe, which the caller treats as a normal end).
            match e.into_kind() {
                csv::ErrorKind::Io(e) => e,
                kind => io::Error::other(format!("{kind:?}")),
            }
        })
    }

    fn write_csv_rows(&self, out: &mut dyn Write) -> csv::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        let mut header = vec![
            "key", "rule", "secret", "repo", "at_head", "commit", "author", "email", "date",
            "path", "line", "commits", "repos", "status",
        ];
        // With --verify: the verdict, when it was checked, and the identity
        // the provider named (never the secret or the answer).
        if self.verified {
            header.extend(["verification", "checked_at", "identity"]);
        }
        w.write_record(&header)?;
        // Each row says whether its repository was read completely: a
        // failed or interrupted one's rows are what was found before it
        // stopped.
        let status: BTreeMap<&str, Status> = self
            .repos
            .iter()
            .map(|r| (r.repo.as_str(), r.status))
            .collect();
        for r in &self.rows {
            let secret = self.secret_text(r);
            let n = r.repos.len().to_string();
            let verdict = self.verification.get(&r.key);
            let verdict_cols = [
                verdict.map_or("", |v| v.status.as_str()).to_string(),
                verdict
                    .and_then(|v| v.checked_at.clone())
                    .unwrap_or_default(),
                verdict
                    .map(|v| {
                        v.identity
                            .iter()
                            .map(|(k, x)| format!("{k}={x}"))
                            .collect::<Vec<_>>()
                            .join(";")
                    })
                    .unwrap_or_default(),
            ];
            let extra: &[String] = if self.verified { &verdict_cols } else { &[] };
            for x in &r.repos {
                let base = [
                    r.key.as_str(),
                    &r.rule,
                    &secret,
                    &x.repo,
                    if x.at_head { "true" } else { "false" },
                    &x.first.commit,
                    &x.first.author,
                    &x.first.email,
                    &x.first.date,
                    &x.first.path,
                    &x.first.line.to_string(),
                    &x.commits.to_string(),
                    &n,
                    status.get(x.repo.as_str()).map_or("ok", |s| s.as_str()),
                ];
                w.write_record(base.iter().copied().chain(extra.iter().map(String::as_str)))?;
            }
        }
        w.flush()?;
        Ok(())
    }

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

#[derive(Serialize)]
pub struct JsonOut<'a> {
    version: u32,
    sweep: JsonSweepOut<'a>,
    secrets: Vec<JsonRowOut<'a>>,
    repos: Vec<JsonRepoOut<'a>>,
    outside: &'a Outside,
    stats: JsonStatsOut,
}

#[derive(Serialize)]
struct JsonSweepOut<'a> {
    leakscan: &'a str,
    rules: &'a str,
    key_id: &'a str,
    show_secrets: bool,
    shard: Option<String>,
    /// `false` when Ctrl-C stopped the sweep (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    complete: Option<bool>,
    /// With `complete: false`: how many repositories the sweep was to cover.
    #[serde(skip_serializing_if = "Option::is_none")]
    planned: Option<usize>,
}

#[derive(Serialize)]
struct JsonRowOut<'a> {
    rule: &'a str,
    secret: String,
    key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    confidence: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    verification: Option<serde_json::Value>,
    repos: Vec<JsonRowRepoOut<'a>>,
}

#[derive(Serialize)]
struct JsonRowRepoOut<'a> {
    repo: &'a str,
    at_head: bool,
    first: &'a First,
    commits: u64,
}

#[derive(Serialize)]
struct JsonRepoOut<'a> {
    repo: &'a str,
    status: Status,
    error: Option<&'a str>,
    commits: u64,
    blobs: u64,
    bytes: u64,
}

#[derive(Serialize)]
struct JsonStatsOut {
    repos: usize,
    failed: usize,
    secrets: usize,
    at_head: usize,
    commits: u64,
    blobs: u64,
    bytes: u64,
    elapsed_ms: u64,
}

/// The first `n` characters of `s` (ids read from a merged file need not be ASCII).
fn prefix(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}

/// A report read back (a shard's JSON report): its results and how it was made.
pub struct Parsed {
    pub meta: Meta,
    pub shard: Option<(u32, u32)>,
    pub repos: Vec<RepoResult>,
    pub outside: Outside,
    /// `--verify` verdicts by HMAC key; `None`: the report has none.
    pub verdicts: Option<BTreeMap<String, crate::verify::Verification>>,
}

#[derive(Deserialize)]
struct JsonReport {
    version: u32,
    sweep: JsonSweep,
    secrets: Vec<JsonRow>,
    repos: Vec<JsonRepo>,
    #[serde(default)]
    outside: Outside,
}

#[derive(Deserialize)]
struct JsonSweep {
    leakscan: String,
    rules: String,
    key_id: String,
    #[serde(default)]
    show_secrets: bool,
    shard: Option<String>,
    #[serde(default)]
    complete: Option<bool>,
}

#[derive(Deserialize)]
struct JsonRow {
    rule: String,
    secret: String,
    key: String,
    #[serde(default)]
    verification: Option<JsonVerdict>,
    confidence: Option<String>,
    repos: Vec<JsonRowRepo>,
}

#[derive(Deserialize)]
struct JsonVerdict {
    status: String,
    #[serde(default)]
    identity: BTreeMap<String, String>,
    #[serde(default)]
    checked_at: Option<String>,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Deserialize)]
struct JsonRowRepo {
    repo: String,
    at_head: bool,
    first: First,
    commits: u64,
}

#[derive(Deserialize)]
struct JsonRepo {
    repo: String,
    status: Status,
    error: Option<String>,
    commits: u64,
    blobs: u64,
    bytes: u64,
}

/// Parses `I/N` with `I < N`.
pub fn parse_shard(s: &str) -> Option<(u32, u32)> {
    let (i, n) = s.split_once('/')?;
    let (i, n): (u32, u32) = (i.trim().parse().ok()?, n.trim().parse().ok()?);
    (n > 0 && i < n).then_some((i, n))
}

/// Reads a JSON sweep report back into per-repository results.
pub fn parse(text: &str) -> Result<Parsed, String> {
    let doc: JsonReport = serde_json::from_str(text)
        .map_err(|e| format!("not a sweep report in JSON (`leakscan sweep --format json`): {e}"))?;
    if doc.version != 1 {
        return Err(format!("report version {} is not supported", doc.version));
    }
    if doc.sweep.complete == Some(false)
        || doc.repos.iter().any(|r| r.status == Status::Interrupted)
    {
        return Err(
            "the sweep that wrote it was interrupted (Ctrl-C), so it lacks repositories; \
             finish it (run it again with --state DIR to resume) and merge the finished report"
                .to_string(),
        );
    }
    let shard = match &doc.sweep.shard {
        None => None,
        Some(s) => Some(parse_shard(s).ok_or_else(|| format!("bad shard `{s}`"))?),
    };
    let mut repos: BTreeMap<String, RepoResult> = BTreeMap::new();
    for r in doc.repos {
        let name = r.repo.clone();
        let result = RepoResult {
            repo: r.repo,
            status: r.status,
            error: r.error,
            commits: r.commits,
            blobs: r.blobs,
            bytes: r.bytes,
            secrets: Vec::new(),
        };
        if repos.insert(name.clone(), result).is_some() {
            return Err(format!("repository `{name}` is listed twice"));
        }
    }
    let show = doc.sweep.show_secrets;
    let mut verdicts: Option<BTreeMap<String, crate::verify::Verification>> = None;
    for row in &doc.secrets {
        if let Some(v) = &row.verification {
            let status = crate::verify::Status::parse(&v.status).ok_or_else(|| {
                format!(
                    "secret {}: unknown verification status `{}`",
                    row.key, v.status
                )
            })?;
            verdicts.get_or_insert_with(BTreeMap::new).insert(
                row.key.clone(),
                crate::verify::Verification {
                    status,
                    identity: v.identity.clone(),
                    checked_at: v.checked_at.clone(),
                    reason: v.reason.clone(),
                },
            );
        }
    }
    for row in doc.secrets {
        for x in row.repos {
            let r = repos.get_mut(&x.repo).ok_or_else(|| {
                format!(
                    "a secret names repository `{}`, which is not listed",
                    x.repo
                )
            })?;
            r.secrets.push(Hit {
                rule: row.rule.clone(),
                key: row.key.clone(),
                redacted: if show {
                    redact(row.secret.as_bytes())
                } else {
                    row.secret.clone()
                },
                plaintext: show.then(|| row.secret.clone()),
                at_head: x.at_head,
                first: x.first,
                commits: x.commits,
                confidence: row.confidence.clone(),
            });
        }
    }
    let mut repos: Vec<RepoResult> = repos.into_values().collect();
    for r in &mut repos {
        r.secrets.sort_by(|a, b| a.key.cmp(&b.key));
    }
    Ok(Parsed {
        meta: Meta {
            leakscan: doc.sweep.leakscan,
            rules: doc.sweep.rules,
            key_id: doc.sweep.key_id,
        },
        shard,
        repos,
        outside: doc.outside,
        verdicts,
    })
}

/// Combines the `outside` parts of several inputs (each shard lists the
/// same files; state directories list none).
pub fn merge_outside(parts: impl IntoIterator<Item = Outside>, keep: usize) -> Outside {
    let mut files = 0;
    let mut names = BTreeSet::new();
    for p in parts {
        files = files.max(p.files);
        names.extend(p.paths);
    }
    Outside {
        files,
        paths: names.into_iter().take(keep).collect(),
    }
}
