//! Phase 3 of the history scan: per-blob findings become per-(rule, secret,
//! path) findings at the earliest commit that introduced them, with the
//! commit's author, date and message.

use std::collections::HashMap;
use std::path::Path;

use crate::finding::{CommitInfo, Finding, Occurrence};
use crate::git::dates::rfc3339;
use crate::git::revwalk::Plan;
use crate::git::ObjectReader;
use crate::paths::PathBytes;
use crate::stats::Stats;

use super::enumerate::Enumerated;

/// One reported secret while attribution runs.
struct Attributed {
    finding: Finding,
    commit: u32,
    /// (commit, path, line) of every introduction carrying it.
    seen: Vec<(u32, u32, usize)>,
}

/// Turns per-blob findings into per-(rule, secret, path, place in an
/// archive) findings at their earliest introducing commit.
pub(super) fn attribute(
    git_dir: &Path,
    plan: &Plan,
    en: &Enumerated,
    by_blob: Vec<(u32, Vec<Finding>)>,
    all_occurrences: bool,
    stats: &mut Stats,
) -> Vec<Finding> {
    if by_blob.is_empty() {
        return Vec::new();
    }
    let found: HashMap<u32, Vec<Finding>> = by_blob.into_iter().collect();
    type Key = (String, Vec<u8>, u32, Option<Vec<PathBytes>>);
    let mut keyed: HashMap<Key, usize> = HashMap::new();
    let mut out: Vec<Attributed> = Vec::new();
    // Introductions are sorted by commit index, i.e. topological order, so the
    // first one to carry a key is the earliest.
    for intro in &en.intros {
        let Some(fs) = found.get(&intro.blob) else {
            continue;
        };
        for f in fs {
            let key = (
                f.rule.clone(),
                f.secret.expose().to_vec(),
                intro.path,
                f.archive.as_ref().map(|a| a.inner.clone()),
            );
            match keyed.get(&key) {
                Some(&i) => out[i].seen.push((intro.commit, intro.path, f.line)),
                None => {
                    let mut finding = f.clone();
                    finding.path = PathBytes(en.paths[intro.path as usize].to_vec());
                    keyed.insert(key, out.len());
                    out.push(Attributed {
                        finding,
                        commit: intro.commit,
                        seen: vec![(intro.commit, intro.path, f.line)],
                    });
                }
            }
        }
    }
    let reader = ObjectReader::open(git_dir);
    let mut infos: HashMap<u32, CommitInfo> = HashMap::new();
    let mut info_of = |c: u32, stats: &mut Stats| -> CommitInfo {
        infos
            .entry(c)
            .or_insert_with(|| {
                let id = plan.commits[c as usize].id;
                let meta = reader
                    .as_ref()
                    .map_err(|e| e.to_string())
                    .and_then(|r| r.commit_meta(id).map_err(|e| e.0));
                match meta {
                    Ok(m) => CommitInfo {
                        id: id.to_string(),
                        author: m.author,
                        email: m.email,
                        date: rfc3339(m.time, m.offset_minutes),
                        summary: m.summary,
                    },
                    Err(e) => {
                        stats.warnings.push(format!(
                            "commit {id}: cannot read its author and message: {e}"
                        ));
                        CommitInfo {
                            id: id.to_string(),
                            author: String::new(),
                            email: String::new(),
                            date: String::new(),
                            summary: String::new(),
                        }
                    }
                }
            })
            .clone()
    };
    out.into_iter()
        .map(|a| {
            let mut f = a.finding;
            f.commit = Some(info_of(a.commit, stats));
            if all_occurrences {
                // Each place with its commit's author and date (the HTML
                // report shows them on every place).
                f.occurrences = a
                    .seen
                    .iter()
                    .map(|&(c, p, line)| Occurrence {
                        commit: plan.commits[c as usize].id.to_string(),
                        path: PathBytes(en.paths[p as usize].to_vec()),
                        line,
                        info: Some(info_of(c, stats)),
                    })
                    .collect();
            }
            f
        })
        .collect()
}
