//! The sweep report as JSON, both ways: `Report::write_json` writes the
//! `Document`, and `parse` reads one back into per-repository results (a
//! shard's report, for `sweep merge`). One set of types serves both, so
//! what is written is what is read.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use super::{First, Meta, Outside, RepoResult, Report, Status};
use crate::finding::redact;

/// The whole JSON report, version 1 (fields in the documented order).
#[derive(Debug, Serialize, Deserialize)]
pub struct Document {
    pub version: u32,
    pub sweep: SweepInfo,
    pub secrets: Vec<SecretRow>,
    pub repos: Vec<RepoLine>,
    #[serde(default)]
    pub outside: Outside,
    /// Totals: written, never read back (they follow from the rest).
    #[serde(default, skip_deserializing)]
    pub stats: Totals,
}

/// How the report was made.
#[derive(Debug, Serialize, Deserialize)]
pub struct SweepInfo {
    pub leakscan: String,
    pub rules: String,
    pub key_id: String,
    #[serde(default)]
    pub show_secrets: bool,
    /// `I/N` for a shard's report.
    pub shard: Option<String>,
    /// `false` when Ctrl-C stopped the sweep (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complete: Option<bool>,
    /// With `complete: false`: how many repositories the sweep was to cover.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned: Option<usize>,
}

/// One unique secret and the repositories holding it.
#[derive(Debug, Serialize, Deserialize)]
pub struct SecretRow {
    pub rule: String,
    /// Plaintext with `show_secrets`, else redacted.
    pub secret: String,
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verdict>,
    pub repos: Vec<RowRepoLine>,
}

/// A `--verify` verdict (fields in the order the scan report's JSON gives
/// them: alphabetical).
#[derive(Debug, Serialize, Deserialize)]
pub struct Verdict {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<String>,
    #[serde(default)]
    pub identity: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub status: String,
}

/// One repository holding a secret.
#[derive(Debug, Serialize, Deserialize)]
pub struct RowRepoLine {
    pub repo: String,
    pub at_head: bool,
    pub first: First,
    pub commits: u64,
}

/// One repository swept.
#[derive(Debug, Serialize, Deserialize)]
pub struct RepoLine {
    pub repo: String,
    pub status: Status,
    pub error: Option<String>,
    pub commits: u64,
    pub blobs: u64,
    pub bytes: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Totals {
    pub repos: usize,
    pub failed: usize,
    pub secrets: usize,
    pub at_head: usize,
    pub commits: u64,
    pub blobs: u64,
    pub bytes: u64,
    pub elapsed_ms: u64,
}

impl Verdict {
    fn of(v: &crate::verify::Verification) -> Verdict {
        Verdict {
            checked_at: v.checked_at.clone(),
            identity: v.identity.clone(),
            reason: v.reason.clone(),
            status: v.status.as_str().to_string(),
        }
    }
}

impl Report {
    /// The JSON document.
    pub fn to_json(&self) -> Document {
        let sum = |f: fn(&RepoResult) -> u64| self.repos.iter().map(f).sum::<u64>();
        Document {
            version: 1,
            sweep: SweepInfo {
                leakscan: self.meta.leakscan.clone(),
                rules: self.meta.rules.clone(),
                key_id: self.meta.key_id.clone(),
                show_secrets: self.show_secrets && !self.missing_plaintext(),
                shard: self.shard.map(|(i, n)| format!("{i}/{n}")),
                complete: self.interrupted.map(|_| false),
                planned: self.interrupted.map(|i| i.planned),
            },
            secrets: self
                .rows
                .iter()
                .map(|r| SecretRow {
                    rule: r.rule.clone(),
                    secret: self.secret_text(r),
                    key: r.key.clone(),
                    confidence: r.confidence.clone(),
                    verification: self.verification.get(&r.key).map(Verdict::of),
                    repos: r
                        .repos
                        .iter()
                        .map(|x| RowRepoLine {
                            repo: x.repo.clone(),
                            at_head: x.at_head,
                            first: x.first.clone(),
                            commits: x.commits,
                        })
                        .collect(),
                })
                .collect(),
            repos: self
                .repos
                .iter()
                .map(|r| RepoLine {
                    repo: r.repo.clone(),
                    status: r.status,
                    error: r.error.clone(),
                    commits: r.commits,
                    blobs: r.blobs,
                    bytes: r.bytes,
                })
                .collect(),
            outside: self.outside.clone(),
            stats: Totals {
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

/// Parses `I/N` with `I < N`.
pub fn parse_shard(s: &str) -> Option<(u32, u32)> {
    let (i, n) = s.split_once('/')?;
    let (i, n): (u32, u32) = (i.trim().parse().ok()?, n.trim().parse().ok()?);
    (n > 0 && i < n).then_some((i, n))
}

/// Reads a JSON sweep report back into per-repository results.
pub fn parse(text: &str) -> Result<Parsed, String> {
    let doc: Document = serde_json::from_str(text)
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
            r.secrets.push(super::Hit {
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
