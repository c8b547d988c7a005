//! What sweeping gives, per repository: the results a sweep keeps in its
//! state directory and a report is built from. Serialized as they are (the
//! `--state` files); `Meta`, `First`, `Status` and `Outside` also appear as
//! they are in the JSON report.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

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
