//! The sweep's report. Every report — a single-machine sweep, a shard, a
//! merge of shards or of state directories — is built by `Report::build`
//! from per-repository results (`model::RepoResult`), so the same results
//! give the same rows in the same order, whatever machine found them. The
//! writers are one per format (`json`, which also reads a report back for
//! `sweep merge`; `csv`; `text`).
//!
//! JSON shape (version 1, documented in the README and docs/sweep.md):
//! `{"version", "sweep": {...}, "secrets": [...], "repos": [...], "outside": {...}, "stats": {...}}`.

mod csv;
mod json;
mod model;
mod text;

pub use json::{parse, parse_shard};
pub use model::{merge_outside, First, Hit, Interruption, Meta, Outside, RepoResult, Status};

use std::collections::BTreeMap;

use crate::git::dates::parse_date;
use crate::report::rotation;

/// How severe a leak of `rule`'s secrets is, 0.0–10.0: the rule's
/// `security-severity` (as SARIF gives it to GitHub: its provider's, capped
/// at 7.0 for generic rules). Looked up in the built-in rules by id (so a
/// merged report orders rows exactly as the sweep did); a rule they lack
/// (from a `--config`) by its id's provider family.
fn severity(rule: &str) -> f32 {
    static BUILTIN: std::sync::OnceLock<Option<std::sync::Arc<crate::rules::RuleSet>>> =
        std::sync::OnceLock::new();
    let builtin = BUILTIN.get_or_init(|| {
        let mut b = crate::rules::RuleSetBuilder::new();
        b.add_builtin().ok()?;
        b.build().ok().map(std::sync::Arc::new)
    });
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
}

/// The first `n` characters of `s` (ids read from a merged file need not be ASCII).
fn prefix(s: &str, n: usize) -> &str {
    s.char_indices().nth(n).map_or(s, |(i, _)| &s[..i])
}
